//! `Instant`: a point in time as the runtime's clock sees it, tokio's type under
//! Zokio's name.
//!
//! It wraps `std::time::Instant`, so converting is free; the only difference is
//! `Instant::now()`, which reads the current runtime's clock when some runtime has
//! a paused clock, so that tests using `time::pause` see virtual time. This file
//! must never take a lock or look up the runtime while no clock is paused: reading
//! the time is on every `sleep` and `timeout` hot path.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// How far "never" is: the stand-in for a deadline too far away to represent, about
/// 30 years (tokio's choice too). Every deadline computed from a user's duration
/// saturates to it instead of panicking.
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(86400 * 365 * 30);

/// A measurement of a monotonically nondecreasing clock, opaque like
/// `std::time::Instant`.
///
/// Under a paused runtime clock ([`pause`](crate::time::pause)) `Instant::now()`
/// returns the paused time; otherwise it is `std::time::Instant::now()`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// The current time, from the current runtime's clock when that clock is
    /// paused, else from the system's monotonic clock.
    pub fn now() -> Instant {
        super::clock::now()
    }

    /// Wrap a `std::time::Instant`.
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The `std::time::Instant` this wraps.
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// Time from `earlier` to `self`, or zero if `earlier` is later (tokio saturates
    /// here, unlike older std).
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// Time from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// Time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// Time passed since `self`, by [`Instant::now`]; zero if `self` is in the future.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` if that is not representable.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` if that is not representable.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }

    /// `self + duration`, or, where that is not representable, [`FAR_FUTURE`] after
    /// the later of `self` and now (or `self` itself, if even that overflows).
    fn saturating_add(self, duration: Duration) -> Instant {
        if let Some(sum) = self.std.checked_add(duration) {
            return Instant::from_std(sum);
        }
        let base = self.std.max(std::time::Instant::now());
        Instant::from_std(base.checked_add(FAR_FUTURE).unwrap_or(self.std))
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// A sum too large to represent saturates to about 30 years after the later of
    /// `self` and now, like every deadline Zokio computes from a duration. tokio's
    /// and std's `+` panic there; use [`checked_add`](Instant::checked_add) to tell
    /// the two cases apart.
    fn add(self, rhs: Duration) -> Instant {
        self.saturating_add(rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// If the result is not representable, like `std::time::Instant`.
    fn sub(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturates at zero when `rhs` is later, as tokio's does.
    fn sub(self, rhs: Instant) -> Duration {
        self.std.saturating_duration_since(rhs.std)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_matches_std_and_saturates_like_tokio() {
        let a = Instant::now();
        let b = a + Duration::from_millis(5);
        assert_eq!(b - a, Duration::from_millis(5));
        assert_eq!(a - b, Duration::ZERO);
        assert_eq!(a.duration_since(b), Duration::ZERO);
        assert_eq!(a.checked_duration_since(b), None);
        assert_eq!(b.checked_duration_since(a), Some(Duration::from_millis(5)));
        assert_eq!(b.checked_sub(Duration::from_millis(5)), Some(a));
        let mut c = a;
        c += Duration::from_millis(5);
        assert_eq!(c, b);
        c -= Duration::from_millis(5);
        assert_eq!(c, a);
        assert_eq!(Instant::from_std(a.into_std()), a);
        assert!(a.checked_add(Duration::MAX).is_none());
    }

    #[test]
    fn adding_a_duration_too_large_saturates_to_the_far_future() {
        let a = Instant::now();
        let far = a + Duration::MAX;
        assert!(
            far >= a + FAR_FUTURE,
            "{far:?} is not the far future of {a:?}"
        );
        let mut b = a;
        b += Duration::MAX;
        assert!(b >= a + FAR_FUTURE);
        // Saturated instants still add and compare without panicking.
        assert!(far + Duration::MAX >= far);
    }
}
