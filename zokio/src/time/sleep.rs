//! `sleep`, `sleep_until` and the `Sleep` future.
//!
//! A `Sleep` is only a deadline until it is first polled and found not yet due:
//! creating one reads the clock, dropping an unpolled one does nothing. On that
//! first `Pending` it allocates its shared entry and registers it with the current
//! worker's `TimeDriver`, and it remembers that driver, so that a drop or reset on
//! any other thread reaches the right wheel. It must never touch a driver before
//! that point, nor hold a driver's lock while running a waker.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use super::driver::TimeDriver;
use super::entry::{EntryState, TimerShared};
use super::Instant;
use crate::task::coop;

const NO_TIMER: &str = "there is no timer running, must be called from the context of a Zokio \
     runtime: await the timer inside `Runtime::block_on` or a task spawned on a runtime";

const SHUTTING_DOWN: &str = "A Zokio runtime was found, but it is being shut down: its timers \
     no longer fire";

/// Wait until `duration` has elapsed.
///
/// Equivalent to `sleep_until(Instant::now() + duration)`; a duration too large to
/// represent waits practically forever (about 30 years) instead of panicking.
///
/// Unlike tokio's, which panics outside a runtime when called, creating a `Sleep`
/// anywhere is fine: it is only a deadline until its first poll, and it is that poll,
/// outside a Zokio runtime, which panics, naming the fix.
/// Timers have 1 ms resolution: the sleep ends at, or up to about a millisecond
/// after, its deadline, never before.
///
/// # Panics
/// When polled outside a Zokio runtime, or after that runtime shut down.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    // Saturating: see `Instant + Duration`.
    Sleep::new(Instant::now() + duration)
}

/// Wait until `deadline`.
///
/// # Panics
/// When polled outside a Zokio runtime, or after that runtime shut down.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// Future returned by [`sleep`] and [`sleep_until`].
///
/// It may be created anywhere, also outside a runtime, where tokio's panics; polled
/// outside a Zokio runtime it panics with a message that says where to await it.
///
/// Unlike tokio's, it is `Unpin` (it holds its timer entry behind an `Arc`), so
/// `tokio::pin!`/`zokio::pin!` is optional; code that pins it works unchanged.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    /// Completed: polls answer `Ready` until a reset.
    elapsed: bool,
    registration: Option<Registration>,
    /// The sleep's spans; taken out only for the length of a poll.
    #[cfg(feature = "tracing")]
    trace: Option<super::sleep_trace::SleepTrace>,
}

struct Registration {
    /// The driver whose wheel holds (or last held) `entry`.
    driver: Arc<TimeDriver>,
    entry: Arc<TimerShared>,
}

impl Sleep {
    #[track_caller]
    pub(crate) fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            elapsed: false,
            registration: None,
            #[cfg(feature = "tracing")]
            trace: Some(super::sleep_trace::SleepTrace::new(
                std::panic::Location::caller(),
            )),
        }
    }

    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the sleep has completed: a poll found it due, or its timer fired.
    ///
    /// As in tokio, a sleep nobody has polled yet reports `false` even when its
    /// deadline has passed (`sleep(Duration::ZERO)` included): the answer comes from
    /// the timer, not from the clock.
    pub fn is_elapsed(&self) -> bool {
        self.elapsed
            || self
                .registration
                .as_ref()
                .is_some_and(|reg| reg.entry.state() == EntryState::Fired)
    }

    /// Move the deadline, before or after completion; the sleep is pending again
    /// until the new deadline. The task last polling it is woken then, without
    /// having to poll it again first, as in tokio. A deadline that has already
    /// passed completes the sleep at once: its next poll is ready.
    ///
    /// # Examples
    ///
    /// An idle timeout that every message pushes back, with one timer for the whole
    /// loop:
    ///
    /// ```
    /// # let rt = zokio::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// # rt.block_on(async {
    /// use std::time::Duration;
    /// use zokio::time::{sleep, Instant};
    ///
    /// let idle = Duration::from_secs(5);
    /// let (tx, mut rx) = zokio::sync::mpsc::channel::<u32>(8);
    /// zokio::spawn(async move {
    ///     for n in 0..3 {
    ///         sleep(Duration::from_secs(1)).await;
    ///         tx.send(n).await.unwrap();
    ///     }
    ///     // Keeps the channel open but quiet: the idle timeout must end the loop.
    ///     sleep(Duration::from_secs(3600)).await;
    /// });
    ///
    /// let start = Instant::now();
    /// let timer = sleep(idle);
    /// zokio::pin!(timer);
    /// let mut received = 0;
    /// loop {
    ///     zokio::select! {
    ///         Some(_) = rx.recv() => {
    ///             received += 1;
    ///             timer.as_mut().reset(Instant::now() + idle);
    ///         }
    ///         _ = &mut timer => break,
    ///     }
    /// }
    /// assert_eq!(received, 3);
    /// assert_eq!(start.elapsed(), Duration::from_secs(3 + 5));
    /// # });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        this.elapsed = false;
        #[cfg(feature = "tracing")]
        if let Some(trace) = &this.trace {
            trace.deadline_set(deadline);
        }
        if let Some(reg) = &this.registration {
            // Kept on its driver: one lock hold, and right for a sleep reset from
            // any thread. A refusal (shutdown) marks the entry, so the next poll
            // panics as the first one would have.
            let _ = if deadline <= Instant::now() {
                reg.driver.fire_now(&reg.entry)
            } else {
                reg.driver.reset(&reg.entry, deadline)
            };
        }
    }

    /// Move the deadline but leave registration to the next poll (for `Interval`,
    /// which polls again right away or not for a long while).
    pub(crate) fn reset_without_reregister(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.elapsed = false;
        if let Some(reg) = &self.registration {
            match reg.entry.state() {
                EntryState::Pending => reg.driver.remove(&reg.entry),
                // No wheel holds a fired entry: only this sleep can touch it.
                EntryState::Fired => reg.entry.set_idle(),
                EntryState::Idle | EntryState::Shutdown => {}
            }
        }
    }

    /// `poll`, with the cooperative budget.
    fn poll_budgeted(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(coop::poll_proceed(cx));
        let poll = self.poll_unbudgeted(cx);
        if poll.is_ready() {
            coop.made_progress();
        }
        poll
    }

    /// `poll`, without the cooperative budget (for `Timeout`, whose inner future
    /// may have spent it all).
    pub(crate) fn poll_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.elapsed {
            return Poll::Ready(());
        }
        if let Some(reg) = &self.registration {
            // Waker first, state second: a firing between the two is seen by the
            // state check, one after it wakes the new waker.
            reg.entry.register_waker(cx.waker());
            match reg.entry.state() {
                EntryState::Fired => {
                    self.elapsed = true;
                    return Poll::Ready(());
                }
                EntryState::Pending => return Poll::Pending,
                EntryState::Shutdown => panic!("{SHUTTING_DOWN}"),
                // Taken out by `reset_without_reregister`: register again below.
                EntryState::Idle => {}
            }
        }
        if self.deadline <= Instant::now() {
            self.elapsed = true;
            return Poll::Ready(());
        }
        self.register(cx);
        Poll::Pending
    }

    /// Enter the entry into the current worker's wheel (creating it on first use).
    fn register(&mut self, cx: &mut Context<'_>) {
        let current = crate::driver::current_time_driver();
        let inserted = match (&mut self.registration, current) {
            (Some(reg), current) => {
                // Prefer the wheel of the worker the task now runs on.
                if let Some(driver) = current {
                    reg.driver = driver;
                }
                reg.driver.insert(&reg.entry, self.deadline)
            }
            (None, Some(driver)) => {
                let entry = super::entry::take_entry();
                entry.register_waker(cx.waker());
                let inserted = driver.insert(&entry, self.deadline);
                self.registration = Some(Registration { driver, entry });
                inserted
            }
            (None, None) => panic!("{NO_TIMER}"),
        };
        if inserted.is_err() {
            panic!("{SHUTTING_DOWN}");
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        #[cfg(feature = "tracing")]
        if let Some(trace) = this.trace.take() {
            let unregistered = this.registration.is_none();
            let poll = trace.poll(|| this.poll_budgeted(cx));
            if unregistered && this.registration.is_some() {
                trace.deadline_set(this.deadline);
            }
            this.trace = Some(trace);
            return poll;
        }
        this.poll_budgeted(cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(reg) = self.registration.take() {
            // Only the driver moves an entry out of `Pending`, and only this sleep
            // moves it in, so any other state means no wheel holds it.
            if reg.entry.state() == EntryState::Pending {
                reg.driver.remove(&reg.entry);
            }
            super::entry::recycle_entry(reg.entry);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("elapsed", &self.elapsed)
            .field("registered", &self.registration.is_some())
            .finish()
    }
}
