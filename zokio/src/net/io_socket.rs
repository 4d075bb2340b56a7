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
//! The rest of the socket lives beside this file: its readiness (`readiness.rs`),
//! its borrowed-buffer system calls (`borrowed.rs`), its poll-based reader
//! (`read_ahead.rs`) and, for a listener, accepting (`accept.rs`). Must never block
//! a worker, and never hand the kernel a borrowed buffer to keep:
//! borrowed buffers only ever meet synchronous system calls.

use std::future::poll_fn;
use std::io;
#[cfg(unix)]
use std::mem::ManuallyDrop;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd};
#[cfg(windows)]
use std::os::windows::io::{AsRawSocket, AsSocket, BorrowedSocket};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{ready, Context, Poll};

use crate::driver::op::addr::RawAddr;
use crate::driver::op::keep_fd::KeepFd;
use crate::driver::op::{connect, recv, recv_from, send, send_to, Op, OpKind, OwnedSock, RawSock};
use crate::io::{until_done, BufResult, Interest, IoBuf, IoBufMut};
use crate::task::coop;

use super::accept::ListenerState;
use super::read_ahead::{Ahead, ReadSide};
use super::readiness::{lock, would_block, Direction, ReadinessCache, ReadinessOp};

/// The readiness waits poll-based callers keep between polls, one per direction,
/// so only the last task to poll a direction is woken, as in tokio: the reading
/// one serves `poll_read_ready`, `poll_recv*`, `poll_peek*` (`poll_read` keeps its
/// own, in `ReadSide`), the writing one `poll_write*`, `poll_send*` and
/// `poll_write_ready`.
#[derive(Default)]
pub(crate) struct Waits {
    read: Mutex<Option<ReadinessOp>>,
    write: Mutex<Option<ReadinessOp>>,
}

#[doc(hidden)]
pub struct IoSocket {
    /// The poll-based reader's state (`poll_read`), kept between polls.
    read_side: Mutex<ReadSide>,
    /// The readiness waits of the other poll-based callers, kept between polls
    /// (made the first time one has to wait, which many sockets never do).
    waits: OnceLock<Box<Waits>>,
    /// What the last readiness waits reported (see `readiness.rs`).
    cache: ReadinessCache,
    /// A listener's state (made on first use).
    listener: OnceLock<Box<ListenerState>>,
    /// Shared with every operation on the socket, so the descriptor closes only
    /// when the last one is over (see `driver/op/keep_fd.rs`).
    #[cfg(unix)]
    fd: Arc<OwnedSock>,
    /// The same on Windows, where closing also forgets which port it reports to.
    #[cfg(windows)]
    fd: Arc<super::tie::TiedSocket>,
    /// Windows: the driver whose completion port the socket reports to, for life;
    /// every operation on it goes there, from wherever its task runs.
    #[cfg(windows)]
    driver: Arc<crate::driver::DriverShared>,
    /// Windows: the send that took bytes a full send buffer could not (see
    /// `send_behind.rs`).
    #[cfg(windows)]
    behind: super::send_behind::SendBehind,
    /// The last receive took less than it had room for, so it emptied the socket:
    /// the next ring receive waits for data before its first try (`Recv::poll_first`).
    /// A hint, so relaxed.
    drained: AtomicBool,
}

impl IoSocket {
    /// Take `fd`, switching it to non-blocking mode (the readiness path relies on it).
    pub(crate) fn new(fd: OwnedSock) -> io::Result<IoSocket> {
        socket2::SockRef::from(&fd).set_nonblocking(true)?;
        IoSocket::from_nonblocking(fd)
    }

    /// Take `fd`, which is already non-blocking (accepted or created so). On
    /// Windows this ties it to this thread's driver, so it needs a runtime there.
    pub(crate) fn from_nonblocking(fd: OwnedSock) -> io::Result<IoSocket> {
        #[cfg(unix)]
        return Ok(IoSocket::from_nonblocking_fd(fd));
        #[cfg(windows)]
        let (fd, driver) = super::tie::TiedSocket::tie(fd)?;
        #[cfg(windows)]
        Ok(IoSocket {
            read_side: Mutex::new(ReadSide::new()),
            waits: OnceLock::new(),
            cache: ReadinessCache::new(),
            listener: OnceLock::new(),
            fd: Arc::new(fd),
            driver,
            behind: Default::default(),
            drained: AtomicBool::new(false),
        })
    }

    /// `from_nonblocking` on Unix, where nothing can fail.
    #[cfg(unix)]
    pub(crate) fn from_nonblocking_fd(fd: OwnedSock) -> IoSocket {
        IoSocket {
            read_side: Mutex::new(ReadSide::new()),
            waits: OnceLock::new(),
            cache: ReadinessCache::new(),
            listener: OnceLock::new(),
            fd: Arc::new(fd),
            drained: AtomicBool::new(false),
        }
    }

    /// Take a descriptor known to be ready for `directions` now (an accepted
    /// connection, one end of a fresh pair), so its first operations need no
    /// readiness wait, as in tokio.
    pub(crate) fn assume_ready(self, directions: &[Direction]) -> IoSocket {
        for direction in directions {
            self.cache.assume(*direction);
        }
        self
    }

    pub(crate) fn listener(&self) -> &OnceLock<Box<ListenerState>> {
        &self.listener
    }

    pub(crate) fn cache(&self) -> &ReadinessCache {
        &self.cache
    }

    /// The slot a poll-based caller of `direction` keeps its wait in, if the
    /// socket has had one.
    pub(crate) fn kept_wait_slot(
        &self,
        direction: Direction,
    ) -> Option<&Mutex<Option<ReadinessOp>>> {
        let waits = self.waits.get()?;
        Some(match direction {
            Direction::Read => &waits.read,
            Direction::Write => &waits.write,
        })
    }

    /// The slot a poll-based caller of `direction` keeps its wait in.
    pub(crate) fn wait_slot(&self, direction: Direction) -> &Mutex<Option<ReadinessOp>> {
        let waits = self.waits.get_or_init(Box::default);
        match direction {
            Direction::Read => &waits.read,
            Direction::Write => &waits.write,
        }
    }

    pub(crate) fn raw(&self) -> RawSock {
        #[cfg(unix)]
        return self.fd.as_raw_fd();
        #[cfg(windows)]
        self.fd.as_raw_socket()
    }

    /// The socket for `socket2`'s option setters and getters.
    pub(crate) fn sock(&self) -> socket2::SockRef<'_> {
        socket2::SockRef::from(&*self.fd)
    }

    /// Run `f` on a `std` view of the descriptor (for what `socket2` lacks, such as
    /// Unix socket addresses). The view never closes the descriptor.
    #[cfg(unix)]
    pub(crate) fn with_std<T: FromRawFd + IntoRawFd, R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: the view borrows a descriptor that `self` keeps open for the whole
        // call, and `ManuallyDrop` keeps the view from closing it.
        let view = ManuallyDrop::new(unsafe { T::from_raw_fd(self.raw()) });
        f(&view)
    }

    /// Give the descriptor back, after cancelling any readiness wait.
    pub(crate) fn into_fd(self) -> io::Result<OwnedSock> {
        let IoSocket {
            read_side,
            waits,
            listener,
            fd,
            cache: _,
            drained: _,
            #[cfg(windows)]
                driver: _,
            // A send still in flight goes on by itself (it holds a share of the
            // socket); the system keeps later sends behind it.
            #[cfg(windows)]
                behind: _,
        } = self;
        drop((read_side, waits, listener));
        // An operation dropped early may still hold a share for a moment; then the
        // caller gets a duplicate of the same socket.
        #[cfg(unix)]
        return Arc::try_unwrap(fd).or_else(|shared| shared.try_clone());
        #[cfg(windows)]
        match Arc::try_unwrap(fd) {
            Ok(tied) => Ok(tied.into_inner()),
            Err(shared) => shared.duplicate(),
        }
    }

    /// An operation on this socket, holding the descriptor open until it is over.
    pub(crate) fn op<K: OpKind>(&self, kind: K) -> Op<KeepFd<K>> {
        let kind = KeepFd {
            kind,
            _fd: self.fd.clone(),
        };
        #[cfg(windows)]
        return Op::on_port(kind, self.driver.clone());
        #[cfg(unix)]
        Op::new(kind)
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
        let mut side = self.lock_read_side();
        let result = ready!(side.poll_read(self, cx, dst));
        restore.made_progress();
        Poll::Ready(result)
    }

    // ---- native operations with owned buffers ----

    /// Receive into `buf` (at most its capacity).
    pub(crate) async fn recv_owned<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
        let mut buf = buf;
        // Bytes the poll-based reader already took from the kernel come first.
        let ahead = poll_fn(|cx| {
            let mut side = self.lock_read_side();
            if side.settle(self, Some(cx)) == Ahead::InFlight {
                return Poll::Pending;
            }
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
        make: impl Fn(RawSock, B) -> K,
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
            if let Err(e) = self.wait_after_would_block(interest).await {
                return (Err(e), buf);
            }
        }
    }

    /// Windows: the send that took what a full send buffer could not.
    #[cfg(windows)]
    pub(crate) fn behind(&self) -> &super::send_behind::SendBehind {
        &self.behind
    }

    pub(crate) fn lock_read_side(&self) -> std::sync::MutexGuard<'_, ReadSide> {
        lock(&self.read_side)
    }

    /// Send some of `buf`'s bytes (on Windows after a send of the socket's own
    /// still in flight, so bytes never pass each other).
    pub(crate) async fn send_owned<B: IoBuf>(&self, buf: B, datagram: bool) -> BufResult<usize, B> {
        #[cfg(windows)]
        if let Err(err) = poll_fn(|cx| self.behind.poll_idle(self, cx)).await {
            return (Err(err), buf);
        }
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

    /// Connect to `addr`, waiting for the handshake to finish: `ConnectEx` on
    /// Windows, which completes only then.
    #[cfg(windows)]
    pub(crate) async fn connect(&self, addr: RawAddr) -> io::Result<()> {
        self.op(connect::Connect::new(self.raw(), addr)).await
    }

    /// Connect to `addr`, waiting for the handshake to finish.
    #[cfg(unix)]
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

#[cfg(unix)]
impl AsFd for IoSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(windows)]
impl AsSocket for IoSocket {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.fd.as_socket()
    }
}
