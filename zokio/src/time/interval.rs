//! `interval`, `interval_at`, `Interval` and `MissedTickBehavior`: ticks at a fixed
//! period, with tokio's rules for catching up after missed ticks.
//!
//! An `Interval` is a `Sleep` reset to the next tick each time it completes; this
//! file only computes that next tick and must not know about drivers.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use super::sleep::{sleep_until, Sleep};
use super::Instant;

/// How late a tick may come before it counts as missed (as in tokio).
const MISSED_AFTER: Duration = Duration::from_millis(5);

/// Ticks every `period`, the first at once.
///
/// # Examples
///
/// Unlike a `sleep(period)` in a loop, the ticks keep their schedule whatever the
/// work between them takes (up to a period):
///
/// ```
/// use std::time::Duration;
/// use zokio::time::{interval, Instant, MissedTickBehavior};
///
/// let rt = zokio::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut ticks = interval(Duration::from_millis(100));
///     // A tick that comes late moves the schedule on rather than firing a burst.
///     ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
///     ticks.tick().await; // the first tick is at once
///     for _ in 0..3 {
///         ticks.tick().await;
///     }
///     assert_eq!(start.elapsed(), Duration::from_millis(300));
/// });
/// ```
///
/// # Panics
/// If `period` is zero.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    Interval::new(Instant::now(), period)
}

/// Ticks every `period`, the first at `start`.
///
/// # Panics
/// If `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    Interval::new(start, period)
}

/// What an [`Interval`] does after ticks were missed (the task was busy past them).
///
/// With a period of 50 ms, a start at 0 and the task busy from 100 ms to 260 ms:
/// - `Burst` (default): ticks at 100, then 150, 200, 250 at once at 260, then 300,
///   350, …: the missed ticks are caught up and the schedule kept.
/// - `Delay`: ticks at 100, 260, then 310, 360, …: the schedule restarts from the
///   late tick.
/// - `Skip`: ticks at 100, 260, then 300, 350, …: missed ticks are dropped and the
///   original schedule kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Tick as fast as possible until caught up.
    #[default]
    Burst,
    /// Tick once now, then every `period` from now.
    Delay,
    /// Tick once now, then at the next multiple of `period` from the start.
    Skip,
}

impl MissedTickBehavior {
    /// The tick after a missed one that was due at `timeout` and is taken at `now`.
    fn next_timeout(self, timeout: Instant, now: Instant, period: Duration) -> Instant {
        // Each sum saturates (see `Instant + Duration`).
        match self {
            MissedTickBehavior::Burst => timeout + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let behind = (now - timeout).as_nanos() % period.as_nanos();
                // `behind` < `period`, so it fits a `Duration`.
                let behind = Duration::from_nanos(u64::try_from(behind).unwrap_or(u64::MAX));
                now + (period - behind)
            }
        }
    }
}

/// Ticks at a fixed period; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    fn new(start: Instant, period: Duration) -> Interval {
        Interval {
            delay: sleep_until(start),
            period,
            missed_tick_behavior: MissedTickBehavior::default(),
        }
    }

    /// Wait for the next tick; returns the instant it was scheduled for.
    ///
    /// Cancel safe: dropping the future loses no tick.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Poll for the next tick; returns the instant it was scheduled for.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.delay).poll(cx));
        let timeout = self.delay.deadline();
        let now = Instant::now();
        let next = if now > timeout + MISSED_AFTER {
            self.missed_tick_behavior
                .next_timeout(timeout, now, self.period)
        } else {
            timeout + self.period
        };
        self.delay.reset_without_reregister(next);
        Poll::Ready(timeout)
    }

    /// Restart the schedule: the next tick comes one period from now (or, for a
    /// period too long to represent, practically never).
    pub fn reset(&mut self) {
        self.reset_after(self.period);
    }

    /// Restart the schedule: the next tick comes at once.
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restart the schedule: the next tick comes `after` from now (saturating, as
    /// every deadline from a duration does).
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(Instant::now() + after);
    }

    /// Restart the schedule: the next tick comes at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.delay).reset(deadline);
    }

    /// What happens after missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Choose what happens after missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_tick_rules_match_tokio() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let (timeout, now, period) = (t0 + ms(100), t0 + ms(260), ms(50));
        let next = |b: MissedTickBehavior| b.next_timeout(timeout, now, period) - t0;
        assert_eq!(next(MissedTickBehavior::Burst), ms(150));
        assert_eq!(next(MissedTickBehavior::Delay), ms(310));
        assert_eq!(next(MissedTickBehavior::Skip), ms(300));
    }

    #[test]
    #[should_panic(expected = "`period` must be non-zero.")]
    fn zero_period_panics() {
        let _ = interval(Duration::ZERO);
    }
}
