//! The cooperative budget (`zokio::task::coop`, tokio's `tokio::task::coop`): how many
//! runtime resources (I/O operations, timers, channel and lock operations) one task poll
//! may use before those resources start answering `Pending`.
//!
//! # Why
//!
//! A task whose every operation is ready at once (a channel that is never empty, a
//! socket that always has data, a lock nobody else holds) would otherwise never return
//! to its worker, starving every other task queued there, and the timers and I/O that
//! worker drives. Rust has no preemption, so the runtime asks its resources to yield
//! instead: before each poll the task harness gives the task a budget of 128 units; each
//! resource calls [`poll_proceed`] before doing its work, which takes one unit, and once
//! none is left it wakes the task and answers `Pending`. The task then goes to the back
//! of its worker's queue and gets a fresh budget on its next poll.
//!
//! # Using it in your own code
//!
//! - [`consume_budget`] in a loop of pure computation, or over a resource that does not
//!   know about the budget, gives the loop a yield point that only yields when needed.
//! - [`cooperative`] wraps a whole future, and [`poll_proceed`] serves a hand-written
//!   `poll` function, so that a foreign resource spends the budget as Zokio's own do.
//! - [`unconstrained`] switches the budget off for one future.
//! - [`has_budget_remaining`] tells whether the current poll still has units left.
//!
//! Outside a task (a plain thread, a blocking closure) there is no budget: everything
//! proceeds and nothing ever yields on its account.
//!
//! This file must not know about schedulers or drivers: the harness calls
//! `with_budget` around each poll, blocking closures run under `without_budget`, and
//! that is the whole interface.

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Units one task poll may spend before its resources make it yield (tokio's figure).
const INITIAL: u8 = 128;

thread_local! {
    /// `None`: unconstrained (outside a task, or inside `unconstrained`).
    static BUDGET: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Run `f` with a fresh budget, restoring the previous one afterwards (a task polled
/// from inside another, as `block_on` does, must not inherit or clobber it).
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    with_value(Some(INITIAL), f)
}

/// Run `f` with no budget (blocking closures, which cannot yield).
pub(crate) fn without_budget<R>(f: impl FnOnce() -> R) -> R {
    with_value(None, f)
}

#[inline]
fn with_value<R>(value: Option<u8>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = BUDGET.try_with(|b| b.set(self.0));
        }
    }
    let previous = BUDGET.try_with(|b| b.replace(value)).unwrap_or(None);
    let _restore = Restore(previous);
    f()
}

/// The unit of budget [`poll_proceed`] took, handed back when dropped unless
/// [`made_progress`](RestoreOnPending::made_progress) was called.
///
/// Dropping it without `made_progress` puts the budget back to what it was **before**
/// that `poll_proceed`, so a resource that ends up `Pending` costs nothing; changes to
/// the budget made in between (other resources' units) are undone with it. It belongs
/// to the thread whose budget it restores, so it is neither `Send` nor `Sync`.
#[derive(Debug)]
#[must_use = "dropping it at once hands the unit back: call `made_progress` once the resource did its work"]
pub struct RestoreOnPending {
    /// The budget before the unit was taken; `None` once progress was made, or when
    /// the budget was unconstrained (there is nothing to restore in either case).
    before: Cell<Option<u8>>,
    _not_send: PhantomData<*mut ()>,
}

impl RestoreOnPending {
    fn new(before: Option<u8>) -> Self {
        RestoreOnPending {
            before: Cell::new(before),
            _not_send: PhantomData,
        }
    }

    /// The resource did its work: keep the unit spent instead of handing it back when
    /// this value is dropped.
    pub fn made_progress(&self) {
        self.before.set(None);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if let Some(before) = self.before.get() {
            let _ = BUDGET.try_with(|b| b.set(Some(before)));
        }
    }
}

/// Take one unit of the current task's budget, or, when none is left, wake the task
/// and answer `Pending` so that it yields to its worker.
///
/// On `Ready`, the returned [`RestoreOnPending`] holds the unit: call
/// [`made_progress`](RestoreOnPending::made_progress) on it once the resource did its
/// work, or drop it as it is to hand the unit back (the resource turned out not to be
/// ready). Outside a task, or inside [`unconstrained`], this is always `Ready` and
/// spends nothing.
///
/// ```
/// use std::pin::Pin;
/// use std::task::{ready, Context, Poll};
/// use zokio::task::coop;
///
/// /// A counter that is always ready, made to yield like Zokio's own resources.
/// struct Ticks(u64);
///
/// impl futures_core::Stream for Ticks {
///     type Item = u64;
///     fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u64>> {
///         let restore = ready!(coop::poll_proceed(cx));
///         self.0 += 1;
///         restore.made_progress();
///         Poll::Ready(Some(self.0))
///     }
/// }
/// # let _ = Ticks(0);
/// ```
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    match take_unit() {
        Taken::Unconstrained => Poll::Ready(RestoreOnPending::new(None)),
        Taken::Exhausted => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Taken::From(left) => Poll::Ready(RestoreOnPending::new(Some(left))),
    }
}

/// What taking a unit of budget found.
enum Taken {
    /// No budget applies (outside a task, or `unconstrained`).
    Unconstrained,
    Exhausted,
    /// A unit was taken; this many were left before.
    From(u8),
}

/// Take one unit, in one access to the thread-local.
#[inline]
fn take_unit() -> Taken {
    BUDGET
        .try_with(|b| match b.get() {
            None => Taken::Unconstrained,
            Some(0) => {
                // Every caller that finds the budget used up yields.
                crate::runtime::metrics::count_budget_forced_yield();
                Taken::Exhausted
            }
            Some(left) => {
                b.set(Some(left - 1));
                Taken::From(left)
            }
        })
        .unwrap_or(Taken::Unconstrained)
}

/// Spend one unit now if one is left (or none applies), without yielding: the fast
/// path of an operation that spends its unit after it succeeded. `false`: the budget
/// is used up, and the caller yields (`consume_budget`).
#[inline]
pub(crate) fn spend_now() -> bool {
    !matches!(take_unit(), Taken::Exhausted)
}

/// Whether the current task poll still has budget left; always `true` outside a task
/// and inside [`unconstrained`].
///
/// A combinator that polls an inner future and then a resource of its own (a timeout,
/// say) uses it to tell whether the inner future used up the budget, and if so to poll
/// its own resource [`unconstrained`] so that the inner future cannot starve it.
pub fn has_budget_remaining() -> bool {
    BUDGET.try_with(|b| b.get() != Some(0)).unwrap_or(true)
}

/// Spend one unit of the task's budget, yielding to the scheduler first when it is used
/// up.
///
/// Put it in a loop that does a lot of work without touching any Zokio resource (pure
/// computation, or a channel of another library), so that the other tasks on the
/// worker still get their turn. It returns at once while budget is left.
///
/// # Examples
///
/// ```
/// # let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// // Summing a long iterator never waits, so without the budget this task would keep
/// // its worker (and the worker's timers and I/O) until the end.
/// let mut sum = 0u64;
/// for n in 0..100_000u64 {
///     sum += n;
///     zokio::task::consume_budget().await;
/// }
/// assert_eq!(sum, 4_999_950_000);
/// # });
/// ```
pub async fn consume_budget() {
    std::future::poll_fn(|cx| {
        let restore = ready!(poll_proceed(cx));
        restore.made_progress();
        Poll::Ready(())
    })
    .await
}

/// Run `inner` without a cooperative budget: its resources never yield on their own.
///
/// Use it for a future that must not be interrupted mid-burst; it can then starve the
/// other tasks on its worker, exactly as it could on a runtime without budgets.
pub fn unconstrained<F>(inner: F) -> Unconstrained<F> {
    Unconstrained { inner }
}

/// Future returned by [`unconstrained`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Unconstrained<F> {
    inner: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of `self`, and
        // `Unconstrained` has no `Drop` impl and no other way to reach it by value.
        let inner = unsafe { self.map_unchecked_mut(|u| &mut u.inner) };
        with_value(None, || inner.poll(cx))
    }
}

/// Make `fut` spend the task's budget as Zokio's own resources do: each poll first
/// takes a unit (yielding instead when none is left), and keeps it only if `fut`
/// completes on that poll.
///
/// For a future of another library that can be ready over and over (a `futures`
/// channel, say), so that a loop over it lets the worker's other tasks run.
///
/// ```
/// use zokio::task::coop::cooperative;
///
/// async fn next_job(jobs: &mut futures::channel::mpsc::Receiver<u32>) -> Option<u32> {
///     use futures::StreamExt;
///     cooperative(jobs.next()).await
/// }
/// # let _ = next_job;
/// ```
pub fn cooperative<F: Future>(fut: F) -> Coop<F> {
    Coop { fut }
}

/// Future returned by [`cooperative`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Coop<F: Future> {
    fut: F,
}

impl<F: Future> Future for Coop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let restore = ready!(poll_proceed(cx));
        // SAFETY: `fut` is structurally pinned: it is never moved out of `self`, and
        // `Coop` has no `Drop` impl and no other way to reach it by value.
        let fut = unsafe { self.map_unchecked_mut(|c| &mut c.fut) };
        let output = ready!(fut.poll(cx));
        restore.made_progress();
        Poll::Ready(output)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    fn budget() -> Option<u8> {
        BUDGET.with(|b| b.get())
    }

    fn proceed() -> Poll<RestoreOnPending> {
        poll_proceed(&mut Context::from_waker(futures::task::noop_waker_ref()))
    }

    #[test]
    fn outside_a_task_nothing_is_counted() {
        assert_eq!(budget(), None);
        let Poll::Ready(restore) = proceed() else {
            panic!("an unconstrained poll_proceed was Pending")
        };
        restore.made_progress();
        assert_eq!(budget(), None);
        assert!(has_budget_remaining());
    }

    #[test]
    fn a_unit_is_kept_only_after_progress() {
        with_budget(|| {
            let Poll::Ready(restore) = proceed() else {
                panic!("Pending with a full budget")
            };
            assert_eq!(budget(), Some(INITIAL - 1));
            drop(restore);
            assert_eq!(budget(), Some(INITIAL), "a dropped unit is handed back");

            let Poll::Ready(restore) = proceed() else {
                panic!("Pending with a full budget")
            };
            restore.made_progress();
            drop(restore);
            assert_eq!(budget(), Some(INITIAL - 1), "a used unit stays spent");
        });
        assert_eq!(budget(), None, "the outer (absent) budget is restored");
    }

    #[test]
    fn restore_puts_back_the_value_before_its_own_proceed() {
        with_budget(|| {
            let Poll::Ready(first) = proceed() else {
                panic!("Pending with a full budget")
            };
            let Poll::Ready(second) = proceed() else {
                panic!("Pending with a full budget")
            };
            second.made_progress();
            drop(second);
            assert_eq!(budget(), Some(INITIAL - 2));
            drop(first);
            assert_eq!(budget(), Some(INITIAL), "the later unit is undone with it");
        });
    }

    #[test]
    fn an_empty_budget_is_pending_until_refilled() {
        with_budget(|| {
            for _ in 0..INITIAL {
                let Poll::Ready(restore) = proceed() else {
                    panic!("Pending before the budget ran out")
                };
                restore.made_progress();
            }
            assert!(!has_budget_remaining());
            assert!(proceed().is_pending());
            with_budget(|| assert!(proceed().is_ready(), "a nested poll gets its own"));
            assert!(
                proceed().is_pending(),
                "and the outer one is left as it was"
            );
            without_budget(|| assert!(proceed().is_ready()));
        });
    }
}
