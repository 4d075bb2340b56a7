//! Accepting connections on a listening socket, for `TcpListener` and
//! `UnixListener`: the `accept` future (any number of tasks may wait at once) and
//! tokio's `poll_accept` (one waiter, its state kept in the listener).
//!
//! Running out of descriptors or memory is not an error here: the listener waits
//! (5 ms, doubling up to 500 ms) and tries again, saying so once at `warn` level, so
//! that a server keeps serving the connections it has instead of dying or spinning.
//! A connection the peer aborted before it was accepted is skipped. Must never lose
//! a connection the kernel handed over: one accepted for a dropped future waits in
//! the stash for the next caller.

use crate::driver::op::OwnedSock as OwnedFd;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll, Wake, Waker};
use std::time::Duration;

use super::io_socket::IoSocket;
use super::readiness::{lock, ReadinessOp};
use crate::driver::op::accept::{self, Accept, Stash};
use crate::driver::op::addr::RawAddr;
use crate::driver::op::keep_fd::KeepFd;
use crate::driver::op::{os_code, Op};
use crate::io::Interest;
use crate::task::coop;
use crate::time::Sleep;

/// The errors accepting meets, as each system names them.
#[cfg(unix)]
mod errors {
    /// The peer gave up on the connection before it was accepted.
    pub(super) fn aborted(code: i32) -> bool {
        code == libc::ECONNABORTED
    }

    /// Out of descriptors or memory.
    pub(super) fn exhausted(code: i32) -> bool {
        matches!(
            code,
            libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM
        )
    }
}

/// See the Unix definition.
#[cfg(windows)]
mod errors {
    use windows_sys::Win32::Foundation::ERROR_NOT_ENOUGH_MEMORY;
    use windows_sys::Win32::Networking::WinSock::{
        WSAECONNABORTED, WSAECONNRESET, WSAEMFILE, WSAENOBUFS,
    };

    /// The peer gave up on the connection before it was accepted.
    pub(super) fn aborted(code: i32) -> bool {
        matches!(code, WSAECONNABORTED | WSAECONNRESET)
    }

    /// Out of sockets or memory.
    pub(super) fn exhausted(code: i32) -> bool {
        matches!(code, WSAEMFILE | WSAENOBUFS) || code == ERROR_NOT_ENOUGH_MEMORY as i32
    }
}

/// The first pause after running out of descriptors, and the longest.
const BACKOFF_START: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_millis(500);

/// What only a listening socket needs.
#[derive(Default)]
pub(crate) struct ListenerState {
    /// Connections a dropped `accept` took from the kernel.
    stash: Stash,
    /// `poll_accept`'s wait, kept between polls.
    polled: Mutex<PollAccept>,
    /// The tasks waiting in `accept`: a completed ring accept wakes them all.
    waiters: Arc<AcceptWaiters>,
}

/// Every task waiting in `accept` on one listener. On io_uring each waiter has an
/// accept operation of its own, and a connection completes only one of them; tokio's
/// readiness wakes every waiter when a connection comes, and code written for it may
/// count on that (a task that stops waiting once anything happened). So every accept
/// operation of the listener wakes this list, which wakes each waiting task: the
/// others find their operation still in flight and wait again.
#[derive(Default)]
struct AcceptWaiters(Mutex<Vec<Waker>>);

impl AcceptWaiters {
    fn register(&self, waker: &Waker) {
        let mut wakers = lock(&self.0);
        if !wakers.iter().any(|w| w.will_wake(waker)) {
            wakers.push(waker.clone());
        }
    }
}

impl Wake for AcceptWaiters {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let wakers = std::mem::take(&mut *lock(&self.0));
        for waker in wakers {
            waker.wake();
        }
    }
}

/// An accept operation whose completion wakes every waiter of its listener.
struct WakeAllWaiters<'a> {
    op: Op<KeepFd<Accept>>,
    waiters: &'a Arc<AcceptWaiters>,
}

impl Future for WakeAllWaiters<'_> {
    type Output = io::Result<(OwnedFd, RawAddr)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.waiters.register(cx.waker());
        let waker = Waker::from(self.waiters.clone());
        Pin::new(&mut self.op).poll(&mut Context::from_waker(&waker))
    }
}

#[derive(Default)]
struct PollAccept {
    step: Step,
    backoff: Backoff,
}

#[derive(Default)]
enum Step {
    /// Nothing in flight: try `accept4(2)` first.
    #[default]
    Idle,
    /// An accept operation (a ring `accept`, or epoll readiness then `accept4`).
    Accepting(Op<KeepFd<Accept>>),
    /// A ring whose `accept` answered `EAGAIN`: wait for readiness.
    Waiting(ReadinessOp),
    /// Out of descriptors or memory: pausing before the next try.
    Pausing(Sleep),
}

/// The pause before the next try while descriptors or memory run out.
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff(BACKOFF_START)
    }
}

impl Backoff {
    /// The next pause, saying why once per run of failures.
    fn next(&mut self, e: &io::Error) -> Duration {
        if self.0 == BACKOFF_START {
            log::warn!(
                "accept: {e}; pausing new connections and retrying (raise `ulimit -n` if \
                 this persists)"
            );
        }
        let pause = self.0;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
        pause
    }
}

/// What an accept attempt calls for.
enum Next {
    Accepted(OwnedFd, RawAddr),
    /// Try again at once (interrupted, or the peer aborted).
    Again,
    /// Nothing to accept: wait until the listener is readable.
    Wait,
    /// Out of descriptors or memory: pause, then try again.
    Pause(io::Error),
    Fail(io::Error),
}

fn next(result: io::Result<(OwnedFd, RawAddr)>) -> Next {
    match result {
        Ok((fd, peer)) => Next::Accepted(fd, peer),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Next::Again,
        Err(e) if os_code(&e).is_some_and(errors::aborted) => Next::Again,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Next::Wait,
        Err(e) if os_code(&e).is_some_and(errors::exhausted) => Next::Pause(e),
        Err(e) => Next::Fail(e),
    }
}

impl IoSocket {
    fn listener_state(&self) -> &ListenerState {
        self.listener().get_or_init(Box::default)
    }

    fn take_stashed(&self) -> Option<(OwnedFd, RawAddr)> {
        lock(&self.listener_state().stash).pop()
    }

    fn accept_op(&self) -> Op<KeepFd<Accept>> {
        self.op(Accept::new(self.raw(), self.listener_state().stash.clone()))
    }

    /// Accept one connection: a non-blocking descriptor and the peer's address.
    pub(crate) async fn accept(&self) -> io::Result<(OwnedFd, RawAddr)> {
        let mut backoff = Backoff::default();
        loop {
            if let Some(accepted) = self.take_stashed() {
                return Ok(accepted);
            }
            // A connection already waiting is taken at once (a burst drains without a
            // ring round trip per connection); otherwise the operation waits. The
            // budget is spent first, like an operation does, so a flood of
            // connections cannot monopolise the worker, and before anything is
            // taken, so that yielding here never loses a connection.
            coop::consume_budget().await;
            let result = match accept::accept_now(self.raw()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    WakeAllWaiters {
                        op: self.accept_op(),
                        waiters: &self.listener_state().waiters,
                    }
                    .await
                }
                other => other,
            };
            match next(result) {
                Next::Accepted(fd, peer) => return Ok((fd, peer)),
                Next::Again => {}
                Next::Wait => {
                    self.wait_after_would_block(Interest::READABLE).await?;
                }
                Next::Pause(e) => crate::time::sleep(backoff.next(&e)).await,
                Next::Fail(e) => return Err(e),
            }
        }
    }

    /// tokio's `poll_accept`: the same as `accept`, with the wait kept in the
    /// listener between polls, so only the last task to poll is woken.
    pub(crate) fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(OwnedFd, RawAddr)>> {
        let restore = ready!(coop::poll_proceed(cx));
        let mut polled = lock(&self.listener_state().polled);
        loop {
            let result = match &mut polled.step {
                Step::Pausing(sleep) => {
                    ready!(Pin::new(sleep).poll(cx));
                    polled.step = Step::Idle;
                    continue;
                }
                Step::Waiting(op) => {
                    let readiness = ready!(self.poll_wait(op, cx, Interest::READABLE));
                    polled.step = Step::Idle;
                    if let Err(e) = readiness {
                        restore.made_progress();
                        return Poll::Ready(Err(e));
                    }
                    continue;
                }
                Step::Accepting(op) => {
                    let result = ready!(Pin::new(op).poll(cx));
                    polled.step = Step::Idle;
                    result
                }
                Step::Idle => {
                    if let Some(accepted) = self.take_stashed() {
                        restore.made_progress();
                        return Poll::Ready(Ok(accepted));
                    }
                    match accept::accept_now(self.raw()) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            polled.step = Step::Accepting(self.accept_op());
                            continue;
                        }
                        other => other,
                    }
                }
            };
            match next(result) {
                Next::Accepted(fd, peer) => {
                    polled.backoff = Backoff::default();
                    restore.made_progress();
                    return Poll::Ready(Ok((fd, peer)));
                }
                Next::Again => {}
                Next::Wait => {
                    self.cache().clear(Interest::READABLE);
                    polled.step = Step::Waiting(self.readiness(Interest::READABLE));
                }
                Next::Pause(e) => {
                    let pause = polled.backoff.next(&e);
                    polled.step = Step::Pausing(crate::time::sleep(pause));
                }
                Next::Fail(e) => {
                    restore.made_progress();
                    return Poll::Ready(Err(e));
                }
            }
        }
    }
}
