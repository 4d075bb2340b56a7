//! `timeout`, `timeout_at` and the `Timeout` future: a future raced against a
//! `Sleep`.
//!
//! As in tokio, the deadline is fixed when `timeout` is called (one clock read)
//! and the inner future is polled first: a `Timeout` whose future is ready costs
//! that clock read and nothing else (no allocation, no atomic, no driver). It must
//! never register its sleep before the inner future has answered `Pending`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::error::Elapsed;
use super::sleep::Sleep;
use super::Instant;
use crate::task::coop;

/// Require `future` to complete within `duration`, or give [`Elapsed`].
///
/// The duration is counted from this call, as in tokio. A duration too large to
/// represent means no practical deadline. A future that is ready when polled wins
/// even if the deadline has passed.
///
/// ```
/// # let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// use std::time::Duration;
/// let fast = zokio::time::timeout(Duration::from_secs(1), async { 7 }).await;
/// assert_eq!(fast, Ok(7));
/// # });
/// ```
///
/// # Panics
/// When the inner future is pending and the timeout is polled outside a Zokio
/// runtime.
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    // Saturating: see `Instant + Duration`.
    let deadline = Instant::now() + duration;
    Timeout {
        value: future.into_future(),
        delay: Sleep::new(deadline),
    }
}

/// Require `future` to complete before `deadline`, or give [`Elapsed`].
///
/// # Panics
/// When the inner future is pending and the timeout is polled outside a Zokio
/// runtime.
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        value: future.into_future(),
        delay: Sleep::new(deadline),
    }
}

/// Future returned by [`timeout`] and [`timeout_at`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<T> {
    value: T,
    delay: Sleep,
}

impl<T> Timeout<T> {
    /// The inner future.
    pub fn get_ref(&self) -> &T {
        &self.value
    }

    /// The inner future, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// The inner future, giving up the deadline.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: Future> Future for Timeout<T> {
    type Output = Result<T::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `value` is structurally pinned: it is only ever reached through
        // `Pin` here, never moved out while pinned (`into_inner` and `get_mut` need
        // an unpinned `Timeout`), and `Timeout` has no `Drop` impl. `delay` is
        // `Unpin` and not pinned structurally, so a plain `&mut` to it is fine.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `value` stays where it is for as long as `self` does.
        let value = unsafe { Pin::new_unchecked(&mut this.value) };
        if let Poll::Ready(output) = value.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // An inner future that spent the whole budget must not keep the deadline
        // from being noticed forever (tokio does the same).
        let delay = if coop::has_budget_remaining() {
            Pin::new(&mut this.delay).poll(cx)
        } else {
            this.delay.poll_unbudgeted(cx)
        };
        delay.map(|()| Err(Elapsed::new()))
    }
}
