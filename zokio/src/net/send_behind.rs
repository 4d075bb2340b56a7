//! Windows: the writes a stream socket accepts while its send buffer is full.
//!
//! IOCP has no "room to write" event, so a writer that waited for one would spin.
//! Instead, when a non-blocking send answers `WouldBlock`, the bytes are copied
//! (up to `CHUNK`) into an overlapped `WSASend` of the socket's own, and the write
//! reports them written, as the kernel's buffer would have. That send is the
//! socket's only one in flight: until it finishes, every other write (`try_write`,
//! `poll_write`, the owned `write_owned`) waits for it or says `WouldBlock`, so
//! bytes never pass each other, and waiting to write (`writable`, `poll_write_ready`,
//! `poll_flush`) waits for it. An error it meets is reported by the next write or
//! flush. A socket dropped with a send in flight lets it finish (the driver frees
//! it), as a kernel sends what it buffered after a close. Must never hold more than
//! one send, nor lose or reorder a byte it reported written.

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{ready, Context, Poll, Wake, Waker};

use super::io_socket::IoSocket;
use super::readiness::lock;
use crate::driver::op::keep_fd::KeepFd;
use crate::driver::op::send::Send;
use crate::driver::op::Op;

/// The most one write copies: what a socket's send buffer takes at a time.
const CHUNK: usize = 256 * 1024;

type SendOp = Op<KeepFd<Send<Vec<u8>>>>;

#[derive(Default)]
pub(crate) struct SendBehind(Mutex<Behind>);

#[derive(Default)]
enum Behind {
    #[default]
    Idle,
    Sending(SendOp),
    /// The send in flight failed: the next write or flush reports it.
    Failed(io::Error),
}

impl SendBehind {
    /// Wait until no send of `io`'s is in flight; its error, once, if it failed.
    pub(crate) fn poll_idle(&self, io: &IoSocket, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut behind = lock(&self.0);
        loop {
            match &mut *behind {
                Behind::Idle => return Poll::Ready(Ok(())),
                Behind::Failed(_) => {
                    let Behind::Failed(err) = std::mem::take(&mut *behind) else {
                        unreachable!("matched just above")
                    };
                    return Poll::Ready(Err(err));
                }
                Behind::Sending(op) => {
                    let done = ready!(std::pin::Pin::new(op).poll(cx));
                    *behind = after(io, done);
                }
            }
        }
    }

    /// Whether no send is in flight now, without waiting or registering a waker
    /// (a task that waits on the send stays the one woken); its error, once.
    pub(crate) fn idle_now(&self, io: &IoSocket) -> io::Result<bool> {
        let mut behind = lock(&self.0);
        loop {
            match &mut *behind {
                Behind::Idle => return Ok(true),
                Behind::Failed(_) => {
                    let Behind::Failed(err) = std::mem::take(&mut *behind) else {
                        unreachable!("matched just above")
                    };
                    return Err(err);
                }
                Behind::Sending(op) => match op.try_output() {
                    Some(done) => *behind = after(io, done),
                    None => return Ok(false),
                },
            }
        }
    }

    /// Send a copy of (the start of) `bytes` on `io` behind the caller's back; how
    /// many bytes it took. `Pending` when the task's budget is spent before the
    /// send could start (then nothing was taken, and the task is woken to try
    /// again).
    pub(crate) fn start(
        &self,
        io: &IoSocket,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let taken = bytes.len().min(CHUNK);
        let mut op = send_op(io, bytes[..taken].to_vec());
        let mut behind = lock(&self.0);
        debug_assert!(matches!(*behind, Behind::Idle), "one send at a time");
        match std::pin::Pin::new(&mut op).poll(cx) {
            // Refused before it started (no runtime, or shutting down): nothing sent.
            Poll::Ready((Err(err), _)) => Poll::Ready(Err(err)),
            Poll::Ready(done) => {
                *behind = after(io, done);
                Poll::Ready(Ok(taken))
            }
            Poll::Pending if op.is_submitted() => {
                *behind = Behind::Sending(op);
                Poll::Ready(Ok(taken))
            }
            // The budget is spent: the operation never left; try again when woken.
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A waker that wakes nobody, for the polls that only start a send.
fn nobody() -> &'static Waker {
    struct Nobody;
    impl Wake for Nobody {
        fn wake(self: Arc<Self>) {}
    }
    static NOBODY: OnceLock<Waker> = OnceLock::new();
    NOBODY.get_or_init(|| Waker::from(Arc::new(Nobody)))
}

fn send_op(io: &IoSocket, bytes: Vec<u8>) -> SendOp {
    io.op(Send::new(io.raw(), bytes, false))
}

/// The state after a send finished: idle, its error, or the rest of a partial send
/// going out (a stream send over IOCP normally takes everything). The rest is
/// polled once to start it; whoever waits polls it again with their own waker.
fn after(io: &IoSocket, (result, mut bytes): (io::Result<usize>, Vec<u8>)) -> Behind {
    match result {
        Ok(n) if n >= bytes.len() => Behind::Idle,
        Ok(0) => Behind::Failed(io::Error::new(
            io::ErrorKind::WriteZero,
            "the socket accepted none of the bytes it was handed",
        )),
        Ok(n) => {
            bytes.drain(..n);
            let mut rest = send_op(io, bytes);
            match std::pin::Pin::new(&mut rest).poll(&mut Context::from_waker(nobody())) {
                Poll::Ready(done) => after(io, done),
                Poll::Pending => Behind::Sending(rest),
            }
        }
        Err(err) => Behind::Failed(err),
    }
}

impl Drop for SendBehind {
    fn drop(&mut self) {
        if let Behind::Sending(op) =
            std::mem::take(self.0.get_mut().unwrap_or_else(|e| e.into_inner()))
        {
            op.detach();
        }
    }
}

impl IoSocket {
    /// `try_write` on Windows: `WouldBlock` only while a send of the socket's own
    /// is in flight; a full send buffer otherwise hands the bytes to one.
    pub(crate) fn write_behind_now(&self, bytes: &[u8]) -> io::Result<usize> {
        if !self.behind().idle_now(self)? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match self.sys_send(bytes) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                match self
                    .behind()
                    .start(self, &mut Context::from_waker(nobody()), bytes)
                {
                    Poll::Ready(result) => result,
                    // The budget is spent: nothing taken.
                    Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
                }
            }
            other => other,
        }
    }

    /// `poll_write` on Windows: wait for a send of the socket's own, then write
    /// what fits, handing the bytes to a new one when the send buffer is full.
    pub(crate) fn poll_write_behind(
        &self,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let restore = ready!(crate::task::coop::poll_proceed(cx));
        ready!(self.behind().poll_idle(self, cx))?;
        let result = loop {
            match self.sys_send(bytes) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    break ready!(self.behind().start(self, cx, bytes));
                }
                other => break other,
            }
        };
        restore.made_progress();
        Poll::Ready(result)
    }
}

/// The first `CHUNK` bytes of `bufs`, in one buffer: what a vectored write hands
/// to a send of its own.
pub(crate) fn gather(bufs: &[io::IoSlice<'_>]) -> Vec<u8> {
    let mut all = Vec::new();
    for buf in bufs {
        let room = CHUNK - all.len();
        all.extend_from_slice(&buf[..buf.len().min(room)]);
        if all.len() == CHUNK {
            break;
        }
    }
    all
}
