//! The runtime's clock: real time, or virtual time while paused (`time::pause`,
//! `time::advance`, `time::resume`), plus the process-wide fast path behind
//! `Instant::now()`.
//!
//! One `Clock` per runtime, shared by every `TimeDriver` of that runtime, whose
//! `origin` is tick zero for all their wheels. While no clock in the process has
//! ever left real time, `Instant::now()` is one relaxed load plus the system clock;
//! only then does it look up the current runtime. Nothing here may know about the
//! wheel or wake a task itself: moving the clock fires nothing, and `advance` asks
//! the current driver to fire what became due.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::Instant;

/// Clocks in this process whose time is not the system's: paused now, or paused
/// once and resumed (they then run from the paused time on, offset from real time).
/// While it is zero, every clock reads the system clock and nobody need be asked.
static PAUSED_CLOCKS: AtomicUsize = AtomicUsize::new(0);

/// `Instant::now()`.
#[inline]
pub(crate) fn now() -> Instant {
    if PAUSED_CLOCKS.load(Ordering::Relaxed) == 0 {
        return Instant::from_std(std::time::Instant::now());
    }
    now_virtual()
}

#[cold]
fn now_virtual() -> Instant {
    match crate::driver::current_time_driver() {
        Some(driver) => driver.clock().now(),
        // A thread outside every runtime has no virtual time to see.
        None => Instant::from_std(std::time::Instant::now()),
    }
}

/// A runtime's source of time.
pub(crate) struct Clock {
    /// Tick zero of every wheel on this runtime.
    origin: std::time::Instant,
    /// Mirrors `state.unfrozen.is_none()` so that schedulers can ask without the lock.
    paused: AtomicBool,
    /// Set once this clock first pauses, never cleared: its time has left the
    /// system's, so `now()` must read `state`. Counted in `PAUSED_CLOCKS` meanwhile.
    virtual_time: AtomicBool,
    state: Mutex<State>,
    /// Blocking-pool closures spawned while paused and not finished yet: time must
    /// not jump while one runs, or a timer would beat work that takes real time.
    inhibitors: AtomicUsize,
    /// The drivers that sleep on this clock: woken when the last inhibitor ends, since
    /// one asleep because auto-advance was held off would otherwise sleep on (nothing
    /// else wakes it when nobody awaits the blocking closure).
    sleepers: Mutex<Vec<crate::driver::Unparker>>,
}

/// Keeps a paused clock from auto-advancing while it lives.
pub(crate) struct InhibitAutoAdvance(Arc<Clock>);

impl Drop for InhibitAutoAdvance {
    fn drop(&mut self) {
        if self.0.inhibitors.fetch_sub(1, Ordering::AcqRel) == 1 && self.0.is_paused() {
            let sleepers = self
                .0
                .sleepers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for sleeper in sleepers.iter() {
                sleeper.unpark();
            }
        }
    }
}

/// Whether any clock in the process is (or was) paused: lets hot paths skip asking.
pub(crate) fn any_paused() -> bool {
    PAUSED_CLOCKS.load(Ordering::Relaxed) != 0
}

struct State {
    /// Time at `unfrozen` (or the frozen time while paused).
    base: std::time::Instant,
    /// When the clock last started running; `None` while paused.
    unfrozen: Option<std::time::Instant>,
}

impl Clock {
    /// A clock reading real time, or paused at its creation when `start_paused`.
    pub(crate) fn new(start_paused: bool) -> Arc<Clock> {
        let origin = std::time::Instant::now();
        if start_paused {
            PAUSED_CLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        Arc::new(Clock {
            origin,
            paused: AtomicBool::new(start_paused),
            virtual_time: AtomicBool::new(start_paused),
            state: Mutex::new(State {
                base: origin,
                unfrozen: (!start_paused).then_some(origin),
            }),
            inhibitors: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::new()),
        })
    }

    /// Wake `driver` whenever auto-advance may resume after being held off.
    pub(crate) fn add_sleeper(&self, driver: crate::driver::Unparker) {
        self.sleepers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(driver);
    }

    /// Hold auto-advance off until the guard is dropped (as tokio does while a
    /// `spawn_blocking` closure runs on a paused runtime).
    pub(crate) fn inhibit_auto_advance(self: &Arc<Self>) -> InhibitAutoAdvance {
        self.inhibitors.fetch_add(1, Ordering::AcqRel);
        InhibitAutoAdvance(self.clone())
    }

    /// Whether an idle scheduler may move this paused clock to the next timer.
    pub(crate) fn can_auto_advance(&self) -> bool {
        self.is_paused() && self.inhibitors.load(Ordering::Acquire) == 0
    }

    /// The current time of this clock.
    pub(crate) fn now(&self) -> Instant {
        if !self.virtual_time.load(Ordering::Acquire) {
            return Instant::from_std(std::time::Instant::now());
        }
        let state = self.lock();
        Instant::from_std(match state.unfrozen {
            Some(unfrozen) => state.base + unfrozen.elapsed(),
            None => state.base,
        })
    }

    /// Whether time stands still until `advance` (or the scheduler's auto-advance).
    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Tick zero of the wheels.
    pub(crate) fn origin(&self) -> std::time::Instant {
        self.origin
    }

    /// Freeze time.
    ///
    /// The frozen time is rounded up to a whole millisecond after `origin` (a jump
    /// forward of under 1 ms), so that `sleep(d)` followed by `advance(d)` with whole
    /// milliseconds lands exactly on the sleep's wheel tick and fires it.
    pub(crate) fn pause(&self) -> Result<(), &'static str> {
        let mut state = self.lock();
        let Some(unfrozen) = state.unfrozen else {
            return Err("time is already frozen: `time::pause()` was called twice");
        };
        let now = state.base + unfrozen.elapsed();
        state.base = align_up_to_ms(self.origin, now);
        state.unfrozen = None;
        self.paused.store(true, Ordering::Release);
        if !self.virtual_time.swap(true, Ordering::AcqRel) {
            PAUSED_CLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Let time run again, from the paused time on.
    pub(crate) fn resume(&self) -> Result<(), &'static str> {
        let mut state = self.lock();
        if state.unfrozen.is_some() {
            return Err("time is not frozen: `time::resume()` needs a paused clock");
        }
        state.unfrozen = Some(std::time::Instant::now());
        self.paused.store(false, Ordering::Release);
        Ok(())
    }

    /// Move paused time forward by `duration`.
    pub(crate) fn advance(&self, duration: Duration) -> Result<(), &'static str> {
        let mut state = self.lock();
        if state.unfrozen.is_some() {
            return Err("time is not frozen: `time::advance()` needs a paused clock");
        }
        // Saturate rather than panic: a test advancing "forever" means "past
        // every timer", which a thousand years is.
        state.base = state
            .base
            .checked_add(duration)
            .or_else(|| {
                state
                    .base
                    .checked_add(Duration::from_secs(86400 * 365 * 1000))
            })
            .unwrap_or(state.base);
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two plain values, consistent after every statement.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        if *self.virtual_time.get_mut() {
            PAUSED_CLOCKS.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("paused", &self.is_paused())
            .finish_non_exhaustive()
    }
}

/// The first whole millisecond after `origin` at or after `t`.
fn align_up_to_ms(origin: std::time::Instant, t: std::time::Instant) -> std::time::Instant {
    let since = t.saturating_duration_since(origin);
    let ms = since.as_nanos().div_ceil(1_000_000);
    let ms = u64::try_from(ms).unwrap_or(u64::MAX);
    origin.checked_add(Duration::from_millis(ms)).unwrap_or(t)
}

/// The clock of the current runtime, for the public pause/advance functions.
#[track_caller]
fn current_clock(what: &str) -> Arc<Clock> {
    match crate::driver::current_time_driver() {
        Some(driver) => driver.clock().clone(),
        None => panic!(
            "`zokio::time::{what}` called outside of a Zokio runtime: time can only be \
             frozen and advanced from inside `Runtime::block_on` or a task"
        ),
    }
}

/// Pause time on the current runtime: `Instant::now()` stands still and timers
/// fire only as time is moved with [`advance`], or automatically when the runtime
/// has nothing else to do (it then jumps to the next timer), as in tokio.
///
/// # Panics
/// Outside a runtime, on a runtime other than current-thread (tests use
/// `#[zokio::test]`, which is current-thread), or if time is already paused.
#[track_caller]
pub fn pause() {
    use crate::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::CurrentThread => {}
        Ok(handle) => panic!(
            "`zokio::time::pause()` requires the current-thread runtime (the default of \
             `#[zokio::test]`), but this runtime is {:?}: build it with \
             `Builder::new_current_thread()`",
            handle.runtime_flavor()
        ),
        Err(err) => panic!("`zokio::time::pause()` {err}"),
    }
    if let Err(msg) = current_clock("pause()").pause() {
        panic!("{msg}");
    }
}

/// Resume time after [`pause`]: the clock runs again from the paused time on.
///
/// # Panics
/// Outside a runtime, or if time is not paused.
#[track_caller]
pub fn resume() {
    if let Err(msg) = current_clock("resume()").resume() {
        panic!("{msg}");
    }
}

/// Move paused time forward by `duration` at once, firing every timer now due on
/// this thread's driver, then yield so that the tasks they woke run before the
/// caller continues.
///
/// # Examples
///
/// Testing a retry loop's back-off without waiting for it:
///
/// ```
/// use std::time::Duration;
/// use zokio::time::{advance, pause, sleep, Instant};
///
/// let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     pause();
///     let start = Instant::now();
///     let backoff = zokio::spawn(sleep(Duration::from_secs(30)));
///     advance(Duration::from_secs(29)).await;
///     assert!(!backoff.is_finished());
///     advance(Duration::from_secs(1)).await;
///     backoff.await.unwrap();
///     assert_eq!(start.elapsed(), Duration::from_secs(30));
/// });
/// ```
///
/// # Panics
/// Outside a runtime, or if time is not paused.
pub async fn advance(duration: Duration) {
    {
        let driver = crate::driver::current_time_driver();
        let Some(driver) = driver else {
            panic!(
                "`zokio::time::advance()` called outside of a Zokio runtime: time can only \
                 be advanced from inside `Runtime::block_on` or a task"
            );
        };
        if let Err(msg) = driver.clock().advance(duration) {
            panic!("{msg}");
        }
        driver.process();
    }
    crate::task::yield_now().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_clock_stands_still_and_advances_exactly() {
        let clock = Clock::new(true);
        assert!(clock.is_paused());
        let t0 = clock.now();
        assert_eq!(t0.into_std(), clock.origin());
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_millis(7)).unwrap();
        assert_eq!(clock.now() - t0, Duration::from_millis(7));
        assert!(clock.pause().is_err());
        clock.resume().unwrap();
        assert!(!clock.is_paused());
        assert!(clock.advance(Duration::from_millis(1)).is_err());
        // Resumed time continues from the paused time, never jumping back.
        assert!(clock.now() >= t0 + Duration::from_millis(7));
    }

    #[test]
    fn pause_lands_on_a_whole_millisecond() {
        let clock = Clock::new(false);
        std::thread::sleep(Duration::from_micros(1500));
        let before = clock.now();
        clock.pause().unwrap();
        let since = clock.now().into_std() - clock.origin();
        assert_eq!(since.subsec_nanos() % 1_000_000, 0);
        assert!(clock.now() >= before);
    }

    #[test]
    fn advance_far_beyond_representable_saturates() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        clock.advance(Duration::MAX).unwrap();
        assert!(clock.now() > t0);
    }
}
