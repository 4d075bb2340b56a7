//! `IoSocket`: the one piece every socket type is built on. It owns the descriptor
//! (always non-blocking) and offers the two ways of doing I/O on it:
//!
//! - native operations with owned buffers (`recv`, `send`, `accept`, `connect`...),
//!   which on io_uring are ring operations and on epoll a system call once the
//!   socket is ready;
//! - readiness-based calls for borrowed buffers and for the poll-based `AsyncRead` /
//!   `AsyncWrite` traits: try the system call, and when it would block wait for
//!   readiness (a poll operation on either driver) and try again.
//!
//! Must never block a worker, and never hand the kernel a borrowed buffer to keep:
//! borrowed buffers only ever meet synchronous system calls.

use std::future::{poll_fn, Future};
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use crate::driver::op::accept::Stash;
use crate::driver::op::addr::RawAddr;
use crate::driver::op::keep_fd::KeepFd;
use crate::driver::op::poll::PollReady;
use crate::driver::op::{accept, connect, os_code, recv, recv_from, send, send_to, Op, OpKind};
use crate::io::{until_done, BufResult, Interest, IoBuf, IoBufMut, Ready};
use crate::task::coop;

use super::read_ahead::ReadSide;

#[doc(hidden)]
pub struct IoSocket {
    /// The poll-based reader's state (`poll_read`), kept between polls.
    read_side: Mutex<ReadSide>,
    /// The same for the poll-based writer.
    write_wait: Mutex<Option<Op<KeepFd<PollReady>>>>,
    /// Connections a dropped `accept` took from the kernel (listeners only; made on
    /// first use).
    stash: OnceLock<Stash>,
    /// Shared with every operation on the socket, so the descriptor closes only
    /// when the last one is over (see `driver/op/keep_fd.rs`).
    fd: Arc<OwnedFd>,
    /// The last receive took less than it had room for, so it emptied the socket:
    /// the next ring receive waits for data before its first try (`Recv::poll_first`).
    /// A hint, so relaxed.
    drained: AtomicBool,
}

/// The first pause of `accept` after running out of descriptors, and the longest.
const ACCEPT_BACKOFF_START: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_millis(500);

/// Errors that mean "not now": the process, the system or the kernel ran out of
/// something that closing connections gives back.
fn out_of_resources(e: &io::Error) -> bool {
    matches!(
        os_code(e),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Whether a result says "try again once ready".
fn would_block<T>(result: &io::Result<T>) -> bool {
    matches!(result, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

impl IoSocket {
    /// Take `fd`, switching it to non-blocking mode (the readiness path relies on it).
    pub(crate) fn new(fd: OwnedFd) -> io::Result<IoSocket> {
        socket2::SockRef::from(&fd).set_nonblocking(true)?;
        Ok(IoSocket::from_nonblocking(fd))
    }

    /// Take `fd`, which is already non-blocking (accepted or created so).
    pub(crate) fn from_nonblocking(fd: OwnedFd) -> IoSocket {
        IoSocket {
            read_side: Mutex::new(ReadSide::new()),
            write_wait: Mutex::new(None),
            stash: OnceLock::new(),
            fd: Arc::new(fd),
            drained: AtomicBool::new(false),
        }
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The socket for `socket2`'s option setters and getters.
    pub(crate) fn sock(&self) -> socket2::SockRef<'_> {
        socket2::SockRef::from(&*self.fd)
    }

    /// Run `f` on a `std` view of the descriptor (for what `socket2` lacks, such as
    /// Unix socket addresses). The view never closes the descriptor.
    pub(crate) fn with_std<T: FromRawFd + IntoRawFd, R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: the view borrows a descriptor that `self` keeps open for the whole
        // call, and `ManuallyDrop` keeps the view from closing it.
        let view = ManuallyDrop::new(unsafe { T::from_raw_fd(self.raw()) });
        f(&view)
    }

    /// Give the descriptor back, after cancelling any readiness wait.
    pub(crate) fn into_fd(self) -> io::Result<OwnedFd> {
        let IoSocket {
            read_side,
            write_wait,
            stash,
            fd,
            drained: _,
        } = self;
        drop((read_side, write_wait, stash));
        // An operation dropped early may still hold a share for a moment; then the
        // caller gets a duplicate of the same socket.
        Arc::try_unwrap(fd).or_else(|shared| shared.try_clone())
    }

    /// Wait until the socket is ready for `interest`.
    pub(crate) fn ready(&self, interest: Interest) -> impl Future<Output = io::Result<Ready>> + '_ {
        self.readiness(interest)
    }

    /// Run the non-blocking call `f` until it does not block, waiting for
    /// `interest` in between. Each caller waits on its own, so any number of tasks
    /// may share the socket.
    pub(crate) async fn io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            match f() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result if would_block(&result) => {
                    self.ready(interest).await?;
                }
                result => return result,
            }
        }
    }

    /// A readiness wait, as an operation to keep between polls.
    pub(crate) fn readiness(&self, interest: Interest) -> Op<KeepFd<PollReady>> {
        self.op(PollReady {
            fd: self.raw(),
            interest,
        })
    }

    /// An operation on this socket, holding the descriptor open until it is over.
    pub(crate) fn op<K: OpKind>(&self, kind: K) -> Op<KeepFd<K>> {
        Op::new(KeepFd {
            kind,
            _fd: self.fd.clone(),
        })
    }

    /// The poll-based write: run the non-blocking call `f` until it does not block,
    /// keeping the readiness wait between polls (one waiter, as `AsyncWrite` allows).
    pub(crate) fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let restore = ready!(coop::poll_proceed(cx));
        let mut slot = self
            .write_wait
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(op) = slot.as_mut() {
                let readiness = ready!(Pin::new(op).poll(cx));
                *slot = None;
                if let Err(e) = readiness {
                    restore.made_progress();
                    return Poll::Ready(Err(e));
                }
            }
            match f() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result if would_block(&result) => {
                    *slot = Some(self.readiness(Interest::WRITABLE));
                }
                result => {
                    restore.made_progress();
                    return Poll::Ready(result);
                }
            }
        }
    }

    /// The poll-based read into possibly uninitialised memory (see `read_ahead.rs`).
    #[cfg_attr(
        not(any(feature = "tokio-io", feature = "futures-io")),
        allow(dead_code)
    )]
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        dst: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let restore = ready!(coop::poll_proceed(cx));
        let mut side = self
            .read_side
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let result = ready!(side.poll_read(self, cx, dst));
        restore.made_progress();
        Poll::Ready(result)
    }

    /// `recv(2)` into a borrowed buffer, never blocking.
    pub(crate) fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe {
            libc::recv(
                self.raw(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        crate::driver::op::cvt(n)
    }

    /// `recv(2)` into possibly uninitialised memory (the `ReadBuf` path).
    #[cfg_attr(
        not(any(feature = "tokio-io", feature = "futures-io")),
        allow(dead_code)
    )]
    pub(crate) fn try_recv_uninit(
        &self,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> io::Result<usize> {
        // SAFETY: the kernel only writes into `buf`, which is valid for its length;
        // the caller counts only the bytes reported as written as initialised.
        let n = unsafe {
            libc::recv(
                self.raw(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        crate::driver::op::cvt(n)
    }

    /// `send(2)` of a borrowed buffer, never blocking and never raising `SIGPIPE`.
    pub(crate) fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for reads of its length.
        let n = unsafe {
            libc::send(
                self.raw(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        crate::driver::op::cvt(n)
    }

    /// `sendmsg(2)` of several borrowed buffers, never blocking or raising `SIGPIPE`.
    pub(crate) fn try_send_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        // SAFETY: `msghdr` is plain data; all zeroes is an empty header.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        // `IoSlice` is guaranteed to have the layout of `iovec` on Unix.
        msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = bufs.len().min(libc::UIO_MAXIOV as usize) as _;
        // SAFETY: the header points at `bufs`, valid for reads for this call.
        let n = unsafe { libc::sendmsg(self.raw(), &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
        crate::driver::op::cvt(n)
    }

    // ---- native operations with owned buffers ----

    /// Receive into `buf` (at most its capacity).
    pub(crate) async fn recv_owned<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
        let mut buf = buf;
        // Bytes the poll-based reader already took from the kernel come first.
        let ahead = poll_fn(|cx| {
            let mut side = self.lock_read_side();
            ready!(side.poll_settle(self, cx));
            Poll::Ready(side.take_into(&mut buf))
        })
        .await;
        if let Some(result) = ahead {
            return (result, buf);
        }
        let room = buf.bytes_total();
        let poll_first = self.drained();
        let make = |fd, buf| recv::Recv::new(fd, buf).poll_first(poll_first);
        let (result, buf) = self.owned_op(Interest::READABLE, buf, make).await;
        self.note_received(&result, room);
        (result, buf)
    }

    /// Whether the last receive emptied the socket (see `drained`).
    pub(crate) fn drained(&self) -> bool {
        self.drained.load(Relaxed)
    }

    /// Remember whether a receive with `room` bytes of room emptied the socket.
    pub(crate) fn note_received(&self, result: &io::Result<usize>, room: usize) {
        let emptied = matches!(result, Ok(n) if *n < room);
        if self.drained.load(Relaxed) != emptied {
            self.drained.store(emptied, Relaxed);
        }
    }

    /// Run the native operation `make` builds around `buf`, waiting for `interest`
    /// and trying again while it answers "would block" (a kernel whose ring does so
    /// for non-blocking sockets; epoll's readiness may also be stale).
    async fn owned_op<B, T, K>(
        &self,
        interest: Interest,
        buf: B,
        make: impl Fn(RawFd, B) -> K,
    ) -> BufResult<T, B>
    where
        K: OpKind<Output = BufResult<T, B>>,
    {
        let mut buf = buf;
        loop {
            let (result, back) = self.op(make(self.raw(), buf)).await;
            buf = back;
            if !would_block(&result) {
                return (result, buf);
            }
            if let Err(e) = self.ready(interest).await {
                return (Err(e), buf);
            }
        }
    }

    fn lock_read_side(&self) -> std::sync::MutexGuard<'_, ReadSide> {
        self.read_side
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Send some of `buf`'s bytes.
    pub(crate) async fn send_owned<B: IoBuf>(&self, buf: B, datagram: bool) -> BufResult<usize, B> {
        let make = |fd, buf| send::Send::new(fd, buf, datagram);
        self.owned_op(Interest::WRITABLE, buf, make).await
    }

    /// Fill `buf` to its capacity; `UnexpectedEof` if the stream ends first.
    pub(crate) async fn recv_exact_owned<B: IoBufMut>(&self, buf: B) -> BufResult<(), B> {
        let total = buf.bytes_total();
        let message = |done, total| {
            format!("the peer closed the stream after {done} of {total} bytes were read")
        };
        until_done(
            buf,
            total,
            io::ErrorKind::UnexpectedEof,
            message,
            |tail, _| self.recv_owned(tail),
        )
        .await
    }

    /// Send all of `buf`'s bytes.
    pub(crate) async fn send_all_owned<B: IoBuf>(&self, buf: B) -> BufResult<(), B> {
        let total = buf.bytes_init();
        let message =
            |done, total| format!("the socket accepted no more bytes after {done} of {total}");
        until_done(buf, total, io::ErrorKind::WriteZero, message, |tail, _| {
            self.send_owned(tail, false)
        })
        .await
    }

    /// Receive one datagram into `buf`, with the sender's address.
    pub(crate) async fn recv_from_owned<B: IoBufMut>(
        &self,
        buf: B,
    ) -> BufResult<(usize, RawAddr), B> {
        self.owned_op(Interest::READABLE, buf, recv_from::RecvFrom::new)
            .await
    }

    /// Send `buf` as one datagram to `to`.
    pub(crate) async fn send_to_owned<B: IoBuf>(&self, buf: B, to: RawAddr) -> BufResult<usize, B> {
        let make = |fd, buf| send_to::SendTo::new(fd, buf, to);
        self.owned_op(Interest::WRITABLE, buf, make).await
    }

    /// Accept one connection: a non-blocking descriptor and the peer's address.
    ///
    /// Running out of descriptors or memory is not an error here: the listener
    /// waits (5 ms, doubling up to 500 ms) and tries again, saying so once at `warn`
    /// level, so that a server keeps serving the connections it has instead of
    /// dying or spinning. A connection the peer aborted before it was accepted is
    /// skipped.
    pub(crate) async fn accept(&self) -> io::Result<(OwnedFd, RawAddr)> {
        let mut backoff = ACCEPT_BACKOFF_START;
        loop {
            let stash = self.stash.get_or_init(Stash::default);
            let kept = stash.lock().unwrap_or_else(PoisonError::into_inner).pop();
            if let Some(accepted) = kept {
                return Ok(accepted);
            }
            // A connection already waiting is taken at once (a burst drains without a
            // ring round trip per connection); otherwise the ring operation waits.
            // The budget is spent first, like an operation does, so a flood of
            // connections cannot monopolise the worker, and before anything is
            // taken, so that yielding here never loses a connection.
            coop::consume_budget().await;
            let result = match accept::accept_now(self.raw()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.op(accept::Accept::new(self.raw(), stash.clone()))
                        .await
                }
                other => other,
            };
            match result {
                Ok(accepted) => return Ok(accepted),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.ready(Interest::READABLE).await?;
                }
                Err(e) if out_of_resources(&e) => {
                    if backoff == ACCEPT_BACKOFF_START {
                        log::warn!(
                            "accept: {e}; pausing new connections and retrying \
                             (raise `ulimit -n` if this persists)"
                        );
                    }
                    crate::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                }
                Err(e) if os_code(&e) == Some(libc::ECONNABORTED) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Connect to `addr`, waiting for the handshake to finish.
    pub(crate) async fn connect(&self, addr: RawAddr) -> io::Result<()> {
        match self.op(connect::Connect::new(self.raw(), addr)).await {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EISCONN) => Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EALREADY)) => {
                // Under way: writable means finished, and `SO_ERROR` says how.
                self.ready(Interest::WRITABLE).await?;
                match self.sock().take_error()? {
                    None => Ok(()),
                    Some(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

impl AsFd for IoSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
