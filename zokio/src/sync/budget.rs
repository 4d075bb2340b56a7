//! How the wrappers of `zokio::sync` spend the task's cooperative budget: the two
//! patterns tokio's primitives follow with tokio's budget, applied to Zokio's.
//!
//! - *Proceed first* (receiving on a channel, waiting for a change or a close): take a
//!   unit before looking, yield at once when none is left, keep the unit only if the
//!   operation completed. Async methods get it from `coop::cooperative`; poll methods
//!   from [`poll_cooperatively`].
//! - *Spend after success* (everything built on tokio's batch semaphore: locks,
//!   semaphores, `OnceCell` initialisation, bounded `mpsc` sends; and a barrier's
//!   non-leading wait): the operation itself never waits on the budget, but once it
//!   succeeded it takes a unit, and with none left it keeps what it got and yields
//!   once. That is [`spend_after_success`], awaited right after the operation; a failed
//!   acquisition (a closed semaphore or channel) spends nothing.
//!
//! Nothing here may block or know about a scheduler.

use std::task::{ready, Context, Poll};

use crate::task::coop;

/// Spend one unit after a successful operation, yielding once (with what it got held
/// by the caller) when the budget is used up.
pub(super) async fn spend_after_success() {
    // Almost always a unit is left: spend it without an await point of its own.
    if !coop::spend_now() {
        coop::consume_budget().await;
    }
}

/// Run `poll` under the proceed-first rule: it is not called at all when the budget is
/// used up, and its unit is handed back when it answers `Pending`.
pub(super) fn poll_cooperatively<T>(
    cx: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let restore = ready!(coop::poll_proceed(cx));
    let output = ready!(poll(cx));
    restore.made_progress();
    Poll::Ready(output)
}
