//! A socket's readiness, as tokio's readiness API sees it (`ready`, `readable`,
//! `poll_read_ready`, `try_io`, `async_io`...).
//!
//! Each wait is a real poll operation on the driver (a ring `POLL_ADD` on io_uring,
//! `epoll` on the other), and what it reports is remembered in a small cache, as
//! tokio's registration does: a socket stays "ready" for a direction until an
//! operation in that direction answers `WouldBlock`. So `readable()` right after a
//! read that drained the socket answers at once (a false positive, which tokio
//! allows and documents: the next `try_read` says `WouldBlock` and clears it), and a
//! socket known to be ready (accepted, or one end of a fresh pair) needs no driver
//! round trip before its first read or write. Clearing too much is harmless: the
//! poll operation is level-triggered, so a later wait sees what is really there.
//!
//! Must never move data: the caller's system calls do that.

#[cfg(unix)]
use crate::io::InterestExt as _;
use crate::io::ReadyExt as _;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::task::{ready, Context, Poll};

use super::io_socket::IoSocket;
use super::read_ahead::Ahead;
use crate::driver::op::keep_fd::KeepFd;
use crate::driver::op::poll::PollReady;
use crate::driver::op::Op;
use crate::io::{Interest, Ready};
use crate::task::coop;

/// The two directions a poll-based caller waits in; each keeps one waiting
/// operation between polls, so only the last task to poll a direction is woken (as
/// in tokio).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    pub(crate) fn interest(self) -> Interest {
        match self {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        }
    }

    fn ready(self) -> Ready {
        match self {
            Direction::Read => Ready::READABLE,
            Direction::Write => Ready::WRITABLE,
        }
    }
}

/// The readiness last reported for a socket and not yet cleared.
pub(crate) struct ReadinessCache(AtomicUsize);

impl ReadinessCache {
    pub(crate) fn new() -> ReadinessCache {
        ReadinessCache(AtomicUsize::new(Ready::EMPTY.to_bits()))
    }

    /// What is cached for `interest`, if anything.
    fn get(&self, interest: Interest) -> Option<Ready> {
        let cached = Ready::from_bits(self.0.load(Relaxed)).answering(interest);
        (!cached.is_empty()).then_some(cached)
    }

    fn set(&self, seen: Ready) {
        self.0.fetch_or(seen.to_bits(), Relaxed);
    }

    /// Mark `interest`'s directions not ready after an operation in them answered
    /// `WouldBlock` (which also says no error is pending). Closed sides stay: they
    /// do not reopen. Clearing what a wait just reported costs one more poll
    /// operation, never a lost wake-up: the next wait sees the level.
    pub(crate) fn clear(&self, interest: Interest) {
        let open = Ready::answering_set(interest) - Ready::READ_CLOSED - Ready::WRITE_CLOSED;
        let gone = open | Ready::ERROR;
        self.0.fetch_and(!gone.to_bits(), Relaxed);
    }

    pub(crate) fn assume(&self, direction: Direction) {
        self.set(direction.ready());
    }
}

/// A readiness wait on a socket, kept between polls.
pub(crate) type ReadinessOp = Op<KeepFd<PollReady>>;

/// Lock a slot, whatever a panicking holder left in it (an operation or `None`,
/// both valid).
pub(crate) fn lock<T>(slot: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether a result says "try again once ready".
pub(crate) fn would_block<T>(result: &io::Result<T>) -> bool {
    matches!(result, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

impl IoSocket {
    /// A readiness wait for `interest`, as an operation to keep between polls.
    pub(crate) fn readiness(&self, interest: Interest) -> ReadinessOp {
        self.op(PollReady::new(self.raw(), interest))
    }

    /// Poll a readiness wait; what it reports goes into the cache. The answer is
    /// what answers `interest`, plus a pending error whatever was asked: the
    /// caller's next system call reports that error (an ICMP error on a datagram
    /// socket comes as nothing else).
    pub(crate) fn poll_wait(
        &self,
        op: &mut ReadinessOp,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<Ready>> {
        let seen = ready!(Pin::new(op).poll(cx))?;
        self.cache().set(seen);
        Poll::Ready(Ok(seen.answering(interest) | (seen & Ready::ERROR)))
    }

    /// Wait until the socket is ready for `interest`: at once when the cache says
    /// so, or when bytes read ahead are waiting (see `read_ahead.rs`); else after a
    /// poll operation. Any number of tasks may wait at once, each on its own.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        let mut op: Option<ReadinessOp> = None;
        poll_fn(|cx| {
            if interest.is_readable() && self.poll_read_ahead(cx) == Ahead::Holds {
                return Poll::Ready(Ok(self.ready_now(interest, Ready::READABLE)));
            }
            #[cfg(windows)]
            if interest == Interest::WRITABLE {
                ready!(self.behind().poll_idle(self, cx))?;
            }
            if let Some(cached) = self.cached(interest) {
                return Poll::Ready(Ok(cached));
            }
            let op = op.get_or_insert_with(|| self.readiness(interest));
            self.poll_wait(op, cx, interest)
        })
        .await
    }

    /// What is known ready for `interest` now, plus `extra`.
    fn ready_now(&self, interest: Interest, extra: Ready) -> Ready {
        self.cached(interest).unwrap_or(Ready::EMPTY) | extra
    }

    /// What the cache holds for `interest`, if anything, brought up to date first.
    /// tokio's reactor adds what happens to a descriptor while nobody waits (a
    /// peer's close); Zokio's waits only run while someone waits, so a readiness
    /// about to be handed out again is refreshed with one `poll(2)` (`WSAPoll` and a peek on Windows), unless the
    /// side asked for is already closed (nothing can follow that). What was cached
    /// stays: a false positive is cleared by the `WouldBlock` it causes, as in
    /// tokio, never by a look.
    fn cached(&self, interest: Interest) -> Option<Ready> {
        let cached = self.cache().get(interest)?;
        let open = (interest.is_readable() && !cached.is_read_closed())
            || (interest.is_writable() && !cached.is_write_closed());
        #[cfg(unix)]
        if open {
            if let Some(bits) = crate::driver::poll_now(self.raw(), interest.poll_events()) {
                self.cache().set(Ready::from_poll_events(bits));
            }
        }
        #[cfg(windows)]
        if open {
            if let Some(ready) = crate::driver::op::poll::ready_now(self.raw(), interest) {
                self.cache().set(ready);
            }
        }
        self.cache().get(interest)
    }

    /// The poll-based wait of one direction (`poll_read_ready`, `poll_send_ready`...):
    /// the same as `ready`, but keeping the wait in the socket, so only the last
    /// task to poll is woken.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<Ready>> {
        let interest = direction.interest();
        if direction == Direction::Read && self.poll_read_ahead(cx) == Ahead::Holds {
            return Poll::Ready(Ok(self.ready_now(interest, Ready::READABLE)));
        }
        // Windows: a send of the socket's own in flight is what writing waits for.
        #[cfg(windows)]
        if direction == Direction::Write {
            ready!(self.behind().poll_idle(self, cx))?;
        }
        if let Some(cached) = self.cached(interest) {
            return Poll::Ready(Ok(cached));
        }
        let mut slot = lock(self.wait_slot(direction));
        let op = slot.get_or_insert_with(|| self.readiness(interest));
        let result = ready!(self.poll_wait(op, cx, interest));
        *slot = None;
        Poll::Ready(result)
    }

    /// The poll-based operation of one direction (`poll_write`, `poll_recv`,
    /// `poll_peek`...): run the non-blocking call `f` until it does not block,
    /// keeping the wait in the socket between polls (one waiter per direction, as
    /// tokio's poll methods allow).
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let restore = ready!(coop::poll_proceed(cx));
        let interest = direction.interest();
        loop {
            // A wait kept from an earlier poll goes first.
            if let Some(slot) = self.kept_wait_slot(direction) {
                let mut slot = lock(slot);
                if let Some(op) = slot.as_mut() {
                    let readiness = ready!(self.poll_wait(op, cx, interest));
                    *slot = None;
                    if let Err(e) = readiness {
                        restore.made_progress();
                        return Poll::Ready(Err(e));
                    }
                }
            }
            match f() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result if would_block(&result) => {
                    self.cache().clear(interest);
                    if direction == Direction::Read && self.poll_read_ahead(cx) == Ahead::InFlight {
                        // The next bytes belong to a read-ahead still in flight,
                        // which wakes this task when it lands.
                        return Poll::Pending;
                    }
                    *lock(self.wait_slot(direction)) = Some(self.readiness(interest));
                }
                result => {
                    restore.made_progress();
                    return Poll::Ready(result);
                }
            }
        }
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
                    self.cache().clear(interest);
                    self.ready(interest).await?;
                }
                result => return result,
            }
        }
    }

    /// Wait for `interest` after an operation answered `WouldBlock`.
    pub(crate) async fn wait_after_would_block(&self, interest: Interest) -> io::Result<Ready> {
        self.cache().clear(interest);
        self.ready(interest).await
    }

    /// tokio's `try_io`: run `f` if the socket is thought ready for `interest`,
    /// else answer `WouldBlock` without calling it; a `WouldBlock` from `f` clears
    /// the readiness.
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        if self.cache().get(interest).is_none() {
            return Err(not_ready());
        }
        let result = f();
        if would_block(&result) {
            self.cache().clear(interest);
        }
        result
    }

    /// tokio's `async_io`: wait for `interest`, run `f`, and wait again while it
    /// answers `WouldBlock`.
    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            self.ready(interest).await?;
            match f() {
                result if would_block(&result) => self.cache().clear(interest),
                result => return result,
            }
        }
    }
}

/// The `WouldBlock` of a call made while the socket is not ready.
pub(crate) fn not_ready() -> io::Error {
    io::Error::from(io::ErrorKind::WouldBlock)
}
