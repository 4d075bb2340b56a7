//! The cooperative budget: how many runtime resources (I/O operations, timers) one
//! task poll may use before those resources start answering `Pending`.
//!
//! A task whose every operation is ready at once would otherwise never return to its
//! worker, starving every other task queued there. The budget lives in a thread-local
//! that the harness refills before each poll; a resource asks `poll_proceed` before
//! doing work, and an exhausted budget wakes the task and yields. This file must not
//! know about schedulers or drivers.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Operations one task poll may complete before it must yield (tokio uses the same).
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

/// Undoes one unit of budget if the resource that took it ends up `Pending` after all.
pub(crate) struct RestoreOnPending(Cell<Option<u8>>);

impl RestoreOnPending {
    /// The resource made progress: keep the unit spent.
    pub(crate) fn made_progress(&self) {
        self.0.set(None);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if let Some(value) = self.0.get() {
            let _ = BUDGET.try_with(|b| b.set(Some(value)));
        }
    }
}

/// Take one unit of budget, or wake the task and answer `Pending` when none is left.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    let before = BUDGET.try_with(|b| b.get()).unwrap_or(None);
    match before {
        None => Poll::Ready(RestoreOnPending(Cell::new(None))),
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(left) => {
            let _ = BUDGET.try_with(|b| b.set(Some(left - 1)));
            Poll::Ready(RestoreOnPending(Cell::new(Some(left))))
        }
    }
}

/// Whether the current task still has budget (for tests and diagnostics).
pub(crate) fn has_budget_remaining() -> bool {
    BUDGET.try_with(|b| b.get() != Some(0)).unwrap_or(true)
}

/// Spend one unit of the task's budget, yielding to the scheduler when it is used up.
///
/// Call this in a loop that does a lot of work without touching any Zokio resource
/// (pure computation, or channels that are always ready), so that the other tasks on
/// the worker still get their turn. It returns at once while budget is left.
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
pub fn unconstrained<F: Future>(inner: F) -> Unconstrained<F> {
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
