//! The one check behind every `blocking_*` method of `zokio::sync`: refuse to block a
//! thread that drives Zokio tasks.
//!
//! Such a thread (a worker, or one inside `block_on`) would stop polling every task it
//! drives, possibly including the one that would unblock it. tokio panics in that case
//! on its own runtime's threads; these methods do the same on Zokio's, with tokio's
//! message, so that ported code fails the same loud way. A `spawn_blocking` closure or
//! a plain thread is not driving tasks, and blocks normally. This file must never
//! block or wait.

/// tokio's panic message for a blocking call on a thread that drives tasks.
const BLOCKING_ON_A_RUNTIME_THREAD: &str = "Cannot block the current thread from within a \
     runtime. This happens because a function attempted to block the current thread while \
     the thread is being used to drive asynchronous tasks.";

/// Panic if the current thread drives Zokio tasks.
#[track_caller]
pub(super) fn assert_may_block() {
    if crate::runtime::context::is_driving() {
        panic!("{BLOCKING_ON_A_RUNTIME_THREAD}");
    }
}
