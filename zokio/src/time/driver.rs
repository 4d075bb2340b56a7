//! `TimeDriver`: one worker's timers. It owns a wheel behind its own lock, tells
//! the worker how long it may park, fires what is due, moves a paused clock to the
//! next timer, and cuts every timer off at shutdown.
//!
//! There is one driver per worker thread and no lock shared between workers: a
//! `Sleep` registers on the driver of the worker that polls it first and, wherever
//! it later moves, is removed or reset through that same driver. A registration
//! from another thread that makes the driver's next deadline earlier unparks the
//! owner so it can re-compute its park timeout. Wakers are never called under the
//! wheel lock, and this file must never block or sleep itself: parking is the
//! scheduler's business.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::clock::Clock;
use super::entry::TimerShared;
use super::wheel::Wheel;
use super::Instant;
use crate::driver::Unparker;

/// Entries woken per lock hold: long enough to amortise the lock, short enough
/// that other threads removing timers are not kept waiting behind a burst.
const WAKE_BATCH: usize = 32;

pub(crate) struct TimeDriver {
    clock: Arc<Clock>,
    unparker: Unparker,
    inner: Mutex<Inner>,
    /// Identity (see `this_thread`) of the thread that last asked for a park
    /// timeout: the one that may be parked on this driver right now.
    owner: AtomicUsize,
    /// How many entries the wheel holds, stored at every release of its lock
    /// (`Locked`): lets `process` skip the clock and the lock when there is nothing,
    /// which is every driver turn of a worker without timers.
    pending: AtomicUsize,
}

/// The wheel's lock, held: on release it publishes the wheel's size to `pending`.
struct Locked<'a> {
    guard: MutexGuard<'a, Inner>,
    pending: &'a AtomicUsize,
}

impl std::ops::Deref for Locked<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.guard
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.guard
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        // Release, paired with the Acquire in `process`: a timer another thread
        // inserted is seen with its entry. One inserted after `process` looked is
        // announced by that thread's unpark, as before this shortcut.
        self.pending
            .store(self.guard.wheel.len(), Ordering::Release);
    }
}

struct Inner {
    wheel: Wheel<Arc<TimerShared>>,
    shutdown: bool,
}

/// The driver was shut down with its runtime; the timer cannot be registered.
#[derive(Debug)]
pub(crate) struct ShutDown;

impl TimeDriver {
    pub(crate) fn new(clock: Arc<Clock>, unparker: Unparker) -> Arc<TimeDriver> {
        clock.add_sleeper(unparker.clone());
        Arc::new(TimeDriver {
            clock,
            unparker,
            inner: Mutex::new(Inner {
                wheel: Wheel::new(),
                shutdown: false,
            }),
            owner: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
        })
    }

    /// How many timers the wheel holds, as of the last release of its lock.
    pub(crate) fn entries(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    pub(crate) fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    /// How long the owning worker may sleep before a timer is due: `None` = no
    /// timers; `Some(ZERO)` = due now. Measured on the clock, paused or not.
    ///
    /// The caller becomes the driver's owner: registrations from other threads that
    /// need an earlier wake-up unpark it from now on.
    pub(crate) fn park_timeout(&self) -> Option<Duration> {
        // Recorded before reading the wheel, so that a registration ordered after
        // our read (by the lock) sees us as owner and unparks us.
        self.owner.store(this_thread(), Ordering::Relaxed);
        let next = self.lock().wheel.next_expiration()?;
        Some(self.until_tick(next))
    }

    /// Fire (wake) every timer whose deadline <= `clock.now()`; returns how many
    /// fired. Deadlines are rounded up to whole milliseconds, so a timer fires
    /// at or up to ~1 ms after its deadline, never before.
    pub(crate) fn process(&self) -> usize {
        if self.pending.load(Ordering::Acquire) == 0 {
            return 0;
        }
        let now = self.now_tick();
        let mut fired = 0;
        loop {
            let mut batch: [Option<Arc<TimerShared>>; WAKE_BATCH] = Default::default();
            let mut taken = 0;
            {
                let mut inner = self.lock();
                while taken < WAKE_BATCH {
                    let Some(entry) = inner.wheel.pop_expired(now) else {
                        break;
                    };
                    entry.set_fired();
                    batch[taken] = Some(entry);
                    taken += 1;
                }
            }
            for entry in batch.iter().take(taken).flatten() {
                entry.wake();
            }
            fired += taken;
            if taken < WAKE_BATCH {
                return fired;
            }
        }
    }

    /// Paused clock only: if a timer is pending, move the clock forward to the
    /// earliest deadline (rounded up to its millisecond tick), fire what is then
    /// due, and return true. False when the clock runs or no timer is pending.
    pub(crate) fn auto_advance(&self) -> bool {
        if !self.clock.can_auto_advance() {
            return false;
        }
        let mut moved = false;
        // Each round either fires something or moves entries down a level (or out
        // of the overflow list), so this ends after a few rounds.
        loop {
            let Some(next) = self.lock().wheel.next_expiration() else {
                return moved;
            };
            let wait = self.until_tick(next);
            if !wait.is_zero() {
                if self.clock.advance(wait).is_err() {
                    // Resumed meanwhile: real time takes over.
                    return moved;
                }
                moved = true;
            }
            if self.process() > 0 {
                return true;
            }
        }
    }

    /// Runtime shutdown: remove every entry and wake its task, which then panics
    /// if it polls the timer again; later registrations are refused.
    pub(crate) fn shutdown(&self) {
        let entries = {
            let mut inner = self.lock();
            inner.shutdown = true;
            let entries = inner.wheel.drain();
            for entry in &entries {
                entry.set_shutdown();
            }
            entries
        };
        for entry in entries {
            entry.wake();
        }
    }

    /// Register an entry that no wheel holds (its waker already set), due at
    /// `deadline`.
    pub(crate) fn insert(
        &self,
        entry: &Arc<TimerShared>,
        deadline: Instant,
    ) -> Result<(), ShutDown> {
        let tick = self.deadline_tick(deadline);
        let earlier = {
            let mut inner = self.lock();
            if inner.shutdown {
                return Err(ShutDown);
            }
            debug_assert!(entry.key().is_none(), "timer entry inserted twice");
            let remote = self.owner.load(Ordering::Relaxed) != this_thread();
            Self::insert_locked(&mut inner, entry, tick, remote)
        };
        if earlier {
            self.unparker.unpark();
        }
        Ok(())
    }

    /// Take an entry out of this driver's wheel, if it is still there.
    pub(crate) fn remove(&self, entry: &TimerShared) {
        let mut inner = self.lock();
        Self::remove_locked(&mut inner, entry);
    }

    /// Move an entry of this driver (in the wheel or not) to `deadline`, in one
    /// lock hold.
    pub(crate) fn reset(
        &self,
        entry: &Arc<TimerShared>,
        deadline: Instant,
    ) -> Result<(), ShutDown> {
        let tick = self.deadline_tick(deadline);
        let earlier = {
            let mut inner = self.lock();
            Self::remove_locked(&mut inner, entry);
            if inner.shutdown {
                entry.set_shutdown();
                return Err(ShutDown);
            }
            let remote = self.owner.load(Ordering::Relaxed) != this_thread();
            Self::insert_locked(&mut inner, entry, tick, remote)
        };
        if earlier {
            self.unparker.unpark();
        }
        Ok(())
    }

    /// Complete an entry of this driver now, whatever its deadline was (a reset to a
    /// deadline already past): out of the wheel, fired, its task woken.
    pub(crate) fn fire_now(&self, entry: &Arc<TimerShared>) -> Result<(), ShutDown> {
        let fired = {
            let mut inner = self.lock();
            Self::remove_locked(&mut inner, entry);
            if inner.shutdown {
                entry.set_shutdown();
                Err(ShutDown)
            } else {
                entry.set_fired();
                Ok(())
            }
        };
        entry.wake();
        fired
    }

    /// Insert under the lock. With `remote` (the caller is not the thread that parks
    /// on this driver), return whether the wheel's next expiration got earlier, so the
    /// owner must be woken to re-compute its park timeout; the owner itself asks for
    /// that timeout before it parks, so for it the two scans of the wheel are skipped.
    fn insert_locked(inner: &mut Inner, entry: &Arc<TimerShared>, tick: u64, remote: bool) -> bool {
        let before = remote.then(|| inner.wheel.next_expiration());
        let key = inner.wheel.insert(tick, Arc::clone(entry));
        entry.set_pending(key);
        let Some(before) = before else {
            return false;
        };
        let after = inner.wheel.next_expiration();
        before.is_none_or(|before| after.is_some_and(|after| after < before))
    }

    fn remove_locked(inner: &mut Inner, entry: &TimerShared) {
        if let Some(key) = entry.key() {
            let held = inner.wheel.remove(key);
            debug_assert!(std::ptr::eq(Arc::as_ptr(&held), entry));
            entry.set_idle();
        }
    }

    /// The tick at which `deadline` is due: whole milliseconds since the clock's
    /// origin, rounded up so that nothing fires early.
    fn deadline_tick(&self, deadline: Instant) -> u64 {
        let since = deadline
            .into_std()
            .saturating_duration_since(self.clock.origin());
        u64::try_from(since.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
    }

    /// The last tick that has fully begun, rounded down.
    fn now_tick(&self) -> u64 {
        let since = self
            .clock
            .now()
            .into_std()
            .saturating_duration_since(self.clock.origin());
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    }

    /// Time from now until `tick` begins; zero if it has.
    fn until_tick(&self, tick: u64) -> Duration {
        let now = self
            .clock
            .now()
            .into_std()
            .saturating_duration_since(self.clock.origin());
        Duration::from_millis(tick).saturating_sub(now)
    }

    fn lock(&self) -> Locked<'_> {
        // Nothing panics while the wheel is half-updated (wakers run unlocked), so
        // a poisoned lock still guards a consistent wheel.
        Locked {
            guard: self.inner.lock().unwrap_or_else(PoisonError::into_inner),
            pending: &self.pending,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().wheel.len()
    }
}

impl fmt::Debug for TimeDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("TimeDriver")
            .field("timers", &inner.wheel.len())
            .field("shutdown", &inner.shutdown)
            .field("clock", &self.clock)
            .finish()
    }
}

/// A number unique to each live thread (the address of a thread-local), cheaper
/// than `thread::current().id()`, which clones an `Arc`.
fn this_thread() -> usize {
    thread_local! {
        static MARK: u8 = const { 0 };
    }
    MARK.try_with(|mark| mark as *const u8 as usize)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::entry::EntryState;
    use std::sync::atomic::AtomicUsize;
    use std::task::{Wake, Waker};

    struct CountWaker(AtomicUsize);
    impl Wake for CountWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counted() -> (Arc<CountWaker>, Waker) {
        let count = Arc::new(CountWaker(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    fn paused_driver() -> (Arc<TimeDriver>, Arc<AtomicUsize>) {
        let unparks = Arc::new(AtomicUsize::new(0));
        let counter = unparks.clone();
        let unparker = Unparker::from_fn(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        (TimeDriver::new(Clock::new(true), unparker), unparks)
    }

    fn entry_with(waker: &Waker) -> Arc<TimerShared> {
        let entry = Arc::new(TimerShared::new());
        entry.register_waker(waker);
        entry
    }

    #[test]
    fn fires_at_the_deadline_on_a_paused_clock() {
        let (driver, _) = paused_driver();
        assert_eq!(driver.park_timeout(), None);
        let (count, waker) = counted();
        let entry = entry_with(&waker);
        let start = driver.clock().now();
        driver
            .insert(&entry, start + Duration::from_millis(10))
            .unwrap();
        assert_eq!(driver.park_timeout(), Some(Duration::from_millis(10)));
        driver.clock().advance(Duration::from_millis(9)).unwrap();
        assert_eq!(driver.process(), 0);
        assert_eq!(entry.state(), EntryState::Pending);
        assert_eq!(driver.park_timeout(), Some(Duration::from_millis(1)));
        driver.clock().advance(Duration::from_millis(1)).unwrap();
        assert_eq!(driver.park_timeout(), Some(Duration::ZERO));
        assert_eq!(driver.process(), 1);
        assert_eq!(entry.state(), EntryState::Fired);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(driver.park_timeout(), None);
    }

    #[test]
    fn sub_millisecond_deadlines_round_up_never_early() {
        let (driver, _) = paused_driver();
        let (_, waker) = counted();
        let entry = entry_with(&waker);
        let start = driver.clock().now();
        driver
            .insert(&entry, start + Duration::from_micros(1500))
            .unwrap();
        driver.clock().advance(Duration::from_micros(1499)).unwrap();
        assert_eq!(driver.process(), 0);
        driver.clock().advance(Duration::from_micros(1)).unwrap();
        // Deadline reached, but its tick (2 ms) not yet: up to 1 ms late, not early.
        assert_eq!(driver.process(), 0);
        driver.clock().advance(Duration::from_micros(500)).unwrap();
        assert_eq!(driver.process(), 1);
    }

    #[test]
    fn auto_advance_jumps_to_each_timer_in_turn() {
        let (driver, _) = paused_driver();
        let (_, waker) = counted();
        let start = driver.clock().now();
        let deadlines = [5u64, 100, 10_000, 5_000_000];
        let entries: Vec<_> = deadlines
            .iter()
            .map(|&ms| {
                let entry = entry_with(&waker);
                driver
                    .insert(&entry, start + Duration::from_millis(ms))
                    .unwrap();
                entry
            })
            .collect();
        for (i, &ms) in deadlines.iter().enumerate() {
            assert!(driver.auto_advance());
            assert_eq!(driver.clock().now() - start, Duration::from_millis(ms));
            assert_eq!(entries[i].state(), EntryState::Fired);
            assert!(entries[i + 1..]
                .iter()
                .all(|e| e.state() == EntryState::Pending));
        }
        assert!(!driver.auto_advance());
    }

    #[test]
    fn auto_advance_needs_a_paused_clock() {
        let driver = TimeDriver::new(Clock::new(false), Unparker::from_fn(|| {}));
        let (_, waker) = counted();
        let entry = entry_with(&waker);
        driver
            .insert(&entry, Instant::now() + Duration::from_secs(60))
            .unwrap();
        assert!(!driver.auto_advance());
        driver.remove(&entry);
    }

    #[test]
    fn removed_timers_leave_nothing_behind() {
        let (driver, _) = paused_driver();
        let (count, waker) = counted();
        let start = driver.clock().now();
        let entries: Vec<_> = (0..100_000u64)
            .map(|i| {
                let entry = entry_with(&waker);
                driver
                    .insert(&entry, start + Duration::from_millis(1 + i * 37 % 100_000))
                    .unwrap();
                entry
            })
            .collect();
        assert_eq!(driver.len(), 100_000);
        for entry in &entries {
            driver.remove(entry);
            assert_eq!(entry.state(), EntryState::Idle);
        }
        assert_eq!(driver.len(), 0);
        assert_eq!(driver.park_timeout(), None);
        driver.clock().advance(Duration::from_secs(200)).unwrap();
        assert_eq!(driver.process(), 0);
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        assert!(entries.iter().all(|e| Arc::strong_count(e) == 1));
    }

    #[test]
    fn reset_moves_the_deadline_both_ways() {
        let (driver, _) = paused_driver();
        let (_, waker) = counted();
        let entry = entry_with(&waker);
        let start = driver.clock().now();
        driver
            .insert(&entry, start + Duration::from_millis(50))
            .unwrap();
        driver
            .reset(&entry, start + Duration::from_millis(10))
            .unwrap();
        assert_eq!(driver.park_timeout(), Some(Duration::from_millis(10)));
        driver
            .reset(&entry, start + Duration::from_millis(80))
            .unwrap();
        assert_eq!(driver.len(), 1);
        driver.clock().advance(Duration::from_millis(79)).unwrap();
        assert_eq!(driver.process(), 0);
        driver.clock().advance(Duration::from_millis(1)).unwrap();
        assert_eq!(driver.process(), 1);
        // A fired entry can be reset and fires again.
        driver
            .reset(&entry, start + Duration::from_millis(81))
            .unwrap();
        assert_eq!(entry.state(), EntryState::Pending);
        assert!(driver.auto_advance());
        assert_eq!(entry.state(), EntryState::Fired);
    }

    #[test]
    fn far_future_deadlines_stay_pending_and_are_removable() {
        let (driver, _) = paused_driver();
        let (_, waker) = counted();
        let start = driver.clock().now();
        let century = start + Duration::from_secs(100 * 365 * 86400);
        let far = entry_with(&waker);
        driver.insert(&far, century).unwrap();
        let beyond = entry_with(&waker);
        driver
            .insert(&beyond, century + Duration::from_secs(1 << 40))
            .unwrap();
        assert!(driver.park_timeout().unwrap() > Duration::from_secs(86400));
        driver
            .clock()
            .advance(Duration::from_secs(99 * 365 * 86400))
            .unwrap();
        assert_eq!(driver.process(), 0);
        assert!(driver.auto_advance());
        assert_eq!(far.state(), EntryState::Fired);
        assert!(driver.clock().now() >= century);
        assert!(driver.clock().now() - century < Duration::from_millis(1));
        driver.remove(&beyond);
        assert_eq!(driver.len(), 0);
    }

    #[test]
    fn past_deadlines_are_due_at_once() {
        let (driver, _) = paused_driver();
        let (_, waker) = counted();
        driver.clock().advance(Duration::from_secs(1)).unwrap();
        let entry = entry_with(&waker);
        driver
            .insert(&entry, driver.clock().now() - Duration::from_millis(500))
            .unwrap();
        assert_eq!(driver.park_timeout(), Some(Duration::ZERO));
        assert_eq!(driver.process(), 1);
    }

    #[test]
    fn only_an_earlier_remote_registration_unparks_the_owner() {
        let (driver, unparks) = paused_driver();
        let (_, waker) = counted();
        let start = driver.clock().now();
        assert_eq!(driver.park_timeout(), None); // this thread owns the driver now
        let local = entry_with(&waker);
        driver
            .insert(&local, start + Duration::from_millis(100))
            .unwrap();
        assert_eq!(
            unparks.load(Ordering::SeqCst),
            0,
            "the owner needs no unpark"
        );
        let remote = |ms: u64| {
            let driver = driver.clone();
            let waker = waker.clone();
            std::thread::spawn(move || {
                let entry = entry_with(&waker);
                driver
                    .insert(&entry, start + Duration::from_millis(ms))
                    .unwrap();
                entry
            })
            .join()
            .unwrap()
        };
        let later = remote(200);
        assert_eq!(unparks.load(Ordering::SeqCst), 0);
        let earlier = remote(20);
        assert_eq!(unparks.load(Ordering::SeqCst), 1);
        for entry in [&local, &later, &earlier] {
            driver.remove(entry);
        }
    }

    #[test]
    fn shutdown_wakes_everything_and_refuses_more() {
        let (driver, _) = paused_driver();
        let (count, waker) = counted();
        let start = driver.clock().now();
        let entries: Vec<_> = (1..=40u64)
            .map(|ms| {
                let entry = entry_with(&waker);
                driver
                    .insert(&entry, start + Duration::from_millis(ms))
                    .unwrap();
                entry
            })
            .collect();
        driver.shutdown();
        assert_eq!(count.0.load(Ordering::SeqCst), 40);
        assert!(entries.iter().all(|e| e.state() == EntryState::Shutdown));
        assert_eq!(driver.len(), 0);
        let late = entry_with(&waker);
        assert!(driver
            .insert(&late, start + Duration::from_millis(5))
            .is_err());
        assert!(driver.reset(&entries[0], start).is_err());
        driver.remove(&entries[1]);
        assert!(!driver.auto_advance());
    }

    #[test]
    fn bursts_larger_than_a_batch_all_fire() {
        let (driver, _) = paused_driver();
        let (count, waker) = counted();
        let start = driver.clock().now();
        let entries: Vec<_> = (0..1000)
            .map(|_| {
                let entry = entry_with(&waker);
                driver
                    .insert(&entry, start + Duration::from_millis(3))
                    .unwrap();
                entry
            })
            .collect();
        driver.clock().advance(Duration::from_millis(3)).unwrap();
        assert_eq!(driver.process(), 1000);
        assert_eq!(count.0.load(Ordering::SeqCst), 1000);
        drop(entries);
    }
}
