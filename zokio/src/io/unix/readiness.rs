//! `Registration`: the readiness one `AsyncFd` has seen, and the waits that learn
//! more of it.
//!
//! tokio's reactor tells a registration about every edge (not ready to ready) of its
//! descriptor and caches what it was told until the user clears it. Zokio keeps the
//! same cache (the readiness seen, with a tick that counts sightings so that a stale
//! guard cannot clear a newer one), but learns readiness with poll operations on the
//! driver of the worker that waits (an io_uring `POLL_ADD`, or the epoll driver's
//! readiness), submitted only while someone waits, and a `poll(2)` when `try_io`
//! finds nothing cached. A poll operation reports the level, not an edge: once a
//! readiness is cleared, the next wait returns as soon as the descriptor is ready,
//! including at once if it still is.
//!
//! Every wait is an operation owned by its future (or, for `poll_read_ready` and
//! `poll_write_ready`, by the registration): dropping it cancels it, so nothing
//! stays registered with a driver. Must never read or write the descriptor.

use crate::io::{InterestExt as _, ReadyExt as _};
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::AcqRel, Ordering::Acquire};
use std::sync::{Mutex, PoisonError};
use std::task::{ready, Context, Poll};

use crate::driver::op::poll::PollReady;
use crate::driver::op::Op;
use crate::io::{Interest, Ready};
use crate::runtime::Handle;
use crate::task::coop;

/// A readiness handed to a guard, with the tick it was seen at.
#[derive(Clone, Copy, Debug)]
pub(super) struct ReadyEvent {
    pub(super) ready: Ready,
    tick: u32,
}

impl ReadyEvent {
    /// The same sighting, narrowed to `ready`.
    pub(super) fn with_ready(self, ready: Ready) -> ReadyEvent {
        ReadyEvent { ready, ..self }
    }
}

/// The readiness seen and not cleared (low 32 bits) and the number of sightings so
/// far (high 32 bits), in one word so that both change together.
struct ReadyCache(AtomicU64);

impl ReadyCache {
    fn unpack(word: u64) -> (Ready, u32) {
        (Ready::from_bits(word as u32 as usize), (word >> 32) as u32)
    }

    fn pack(ready: Ready, tick: u32) -> u64 {
        (u64::from(tick) << 32) | ready.to_bits() as u64
    }

    /// What is cached for `interest`, and the current tick.
    fn event(&self, interest: Interest) -> ReadyEvent {
        let (ready, tick) = Self::unpack(self.0.load(Acquire));
        ReadyEvent {
            ready: ready.answering(interest),
            tick,
        }
    }

    /// A wait saw `seen`: add it, as a new sighting.
    fn record(&self, seen: Ready) {
        let _ = self.0.fetch_update(AcqRel, Acquire, |word| {
            let (ready, tick) = Self::unpack(word);
            Some(Self::pack(ready | seen, tick.wrapping_add(1)))
        });
    }

    /// Forget `event`'s readiness, unless something was seen since it was handed
    /// out. Closed states stay: a closed side never opens again.
    fn clear(&self, event: ReadyEvent) {
        let gone = event.ready - Ready::READ_CLOSED - Ready::WRITE_CLOSED;
        let _ = self.0.fetch_update(AcqRel, Acquire, |word| {
            let (ready, tick) = Self::unpack(word);
            (tick == event.tick).then(|| Self::pack(ready - gone, tick))
        });
    }
}

/// A readiness wait kept between calls of `poll_read_ready` or `poll_write_ready`.
type Slot = Mutex<Option<Op<PollReady>>>;

/// The readiness state of one registered descriptor.
pub(super) struct Registration {
    fd: RawFd,
    interest: Interest,
    /// The runtime the descriptor was registered with: waits from threads outside
    /// every runtime go to it, and once it shut down every wait fails, as tokio's.
    handle: Handle,
    cache: ReadyCache,
    read_wait: Slot,
    write_wait: Slot,
}

fn runtime_gone() -> io::Error {
    io::Error::other(
        "the Zokio runtime this AsyncFd was registered with has shut down, so its \
         readiness can no longer be waited for; register the descriptor again with a \
         running runtime",
    )
}

impl Registration {
    pub(super) fn new(fd: RawFd, interest: Interest, handle: Handle) -> Registration {
        Registration {
            fd,
            interest,
            handle,
            cache: ReadyCache(AtomicU64::new(0)),
            read_wait: Mutex::new(None),
            write_wait: Mutex::new(None),
        }
    }

    fn is_gone(&self) -> bool {
        self.handle.drivers.is_shut_down()
    }

    /// What to ask the kernel when waiting for `interest`: only what was registered
    /// (errors always count). A descriptor registered for reading only, asked to be
    /// writable, waits for an error or a hang-up, as on tokio.
    fn asked(&self, interest: Interest) -> Interest {
        interest
            .common_with(self.interest | Interest::ERROR)
            .unwrap_or(Interest::ERROR)
    }

    fn wait_for(&self, interest: Interest) -> Op<PollReady> {
        Op::new(PollReady {
            fd: self.fd,
            interest: self.asked(interest),
        })
    }

    /// Poll a wait. On a thread with no runtime of its own, the wait is submitted to
    /// the registration's runtime, as tokio's registration is tied to its reactor.
    fn poll_wait(&self, wait: &mut Op<PollReady>, cx: &mut Context<'_>) -> Poll<io::Result<Ready>> {
        let _entered = crate::driver::context::current_kind()
            .is_err()
            .then(|| self.handle.enter());
        Pin::new(wait).poll(cx)
    }

    /// Wait until the cache answers `interest`, then hand out what it holds for it.
    pub(super) async fn readiness(&self, interest: Interest) -> io::Result<ReadyEvent> {
        let mut wait = None;
        poll_fn(|cx| loop {
            if self.is_gone() {
                return Poll::Ready(Err(runtime_gone()));
            }
            let event = self.cache.event(interest);
            if !event.ready.is_empty() {
                return Poll::Ready(Ok(event));
            }
            let op = wait.get_or_insert_with(|| self.wait_for(interest));
            let seen = ready!(self.poll_wait(op, cx));
            wait = None;
            // A sighting that does not answer `interest` (an error while waiting to
            // read) is kept for other waiters, and this one waits again.
            self.record(seen?);
        })
        .await
    }

    fn record(&self, seen: Ready) {
        if !seen.is_empty() {
            self.cache.record(seen);
        }
    }

    /// `poll_read_ready` (`direction` readable) or `poll_write_ready` (writable): one
    /// wait per direction, kept here between calls and woken through the latest
    /// caller's waker only. Spends a unit of the cooperative budget, as tokio's.
    pub(super) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Interest,
    ) -> Poll<io::Result<ReadyEvent>> {
        let unit = ready!(coop::poll_proceed(cx));
        let slot = if direction.is_readable() {
            &self.read_wait
        } else {
            &self.write_wait
        };
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        let result = loop {
            if self.is_gone() {
                break Err(runtime_gone());
            }
            let event = self.cache.event(direction);
            if !event.ready.is_empty() {
                break Ok(event);
            }
            let op = slot.get_or_insert_with(|| self.wait_for(direction));
            let seen = ready!(self.poll_wait(op, cx));
            *slot = None;
            match seen {
                Ok(seen) => self.record(seen),
                Err(e) => break Err(e),
            }
        };
        *slot = None;
        unit.made_progress();
        Poll::Ready(result)
    }

    /// Run `f` if the cache (or, when it holds nothing for `interest`, the kernel
    /// right now) says the descriptor is ready; clear the readiness if `f` would
    /// block. tokio's reactor learns readiness while nobody waits; Zokio's waits
    /// only run while someone waits, so the `poll(2)` stands in for that.
    pub(super) fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let mut event = self.cache.event(interest);
        if event.ready.is_empty() {
            let seen = poll_now(self.fd, self.asked(interest));
            if seen.answering(interest).is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.cache.record(seen);
            event = self.cache.event(interest);
        }
        match f() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear(event);
                Err(io::ErrorKind::WouldBlock.into())
            }
            result => result,
        }
    }

    /// Wait for `interest` and run `f`, until `f` does not block; each time it would,
    /// the readiness it was run on is cleared. A unit of the cooperative budget is
    /// spent before each run, and kept when `f` ends the loop, as tokio's.
    pub(super) async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let event = self.readiness(interest).await?;
            let unit = poll_fn(coop::poll_proceed).await;
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear(event),
                result => {
                    unit.made_progress();
                    return result;
                }
            }
        }
    }

    pub(super) fn clear(&self, event: ReadyEvent) {
        self.cache.clear(event);
    }

    /// Cancel the kept waits (before the descriptor is handed back or closed).
    pub(super) fn cancel_waits(&mut self) {
        for slot in [&mut self.read_wait, &mut self.write_wait] {
            *slot.get_mut().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }
}

/// What `fd` is ready for right now, among `interest` (and errors and hang-ups),
/// without waiting. A descriptor `poll(2)` rejects is ready for nothing.
fn poll_now(fd: RawFd, interest: Interest) -> Ready {
    match crate::driver::poll_now(fd, interest.poll_events()) {
        Some(bits) if bits & libc::POLLNVAL as u32 == 0 => Ready::from_poll_events(bits),
        _ => Ready::EMPTY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> ReadyCache {
        ReadyCache(AtomicU64::new(0))
    }

    #[test]
    fn miri_a_stale_event_clears_nothing() {
        let cache = cache();
        cache.record(Ready::READABLE);
        let old = cache.event(Interest::READABLE);
        cache.record(Ready::WRITABLE);
        cache.clear(old);
        assert_eq!(cache.event(Interest::READABLE).ready, Ready::READABLE);
        let current = cache.event(Interest::READABLE);
        cache.clear(current);
        assert!(cache.event(Interest::READABLE).ready.is_empty());
        assert_eq!(cache.event(Interest::WRITABLE).ready, Ready::WRITABLE);
    }

    #[test]
    fn miri_closed_states_survive_a_clear() {
        let cache = cache();
        cache.record(Ready::READABLE | Ready::READ_CLOSED);
        let event = cache.event(Interest::READABLE);
        assert_eq!(event.ready, Ready::READABLE | Ready::READ_CLOSED);
        cache.clear(event);
        assert_eq!(cache.event(Interest::READABLE).ready, Ready::READ_CLOSED);
    }

    #[test]
    fn miri_the_tick_wraps_without_disturbing_the_states() {
        let cache = ReadyCache(AtomicU64::new(ReadyCache::pack(Ready::EMPTY, u32::MAX)));
        cache.record(Ready::ERROR);
        let event = cache.event(Interest::ERROR);
        assert_eq!((event.ready, event.tick), (Ready::ERROR, 0));
        cache.clear(event.with_ready(Ready::ERROR));
        assert!(cache.event(Interest::ERROR).ready.is_empty());
    }
}
