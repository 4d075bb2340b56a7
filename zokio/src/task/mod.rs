//! Tasks: the unit of work a scheduler runs, and the public `zokio::task` API.
//!
//! A task is one allocation (header, scheduler hook, then the future or its output)
//! shared by its wakers, its `JoinHandle`, the owned-task list and at most one queued
//! `Notified`, counted in the header's state word. The files split by concern:
//! `state.rs` (transitions), `header.rs` (layout), `id.rs` and `join_slot.rs` (ids),
//! `harness.rs` (typed poll and completion), `raw.rs` (references), `waker.rs`,
//! `join.rs`, `owned.rs`; `local/` holds `LocalSet`, for tasks that are not `Send`. Schedulers
//! only see `Notified` and the `Schedule` trait; this module never picks a thread.

mod block_in_place;
mod builder;
pub mod coop;
mod error;
mod harness;
mod header;
mod id;
mod join;
mod join_set;
mod join_slot;
mod local;
pub(crate) mod meta;
#[cfg(all(test, not(loom)))]
mod miri_tests;
mod owned;
mod raw;
mod state;
#[cfg(feature = "tracing")]
mod trace;
mod waker;
mod yield_now;

use std::future::Future;
use std::ptr::NonNull;

pub use block_in_place::block_in_place;
pub use builder::Builder;
pub use coop::{consume_budget, unconstrained, Unconstrained};
pub use error::JoinError;
pub use id::{id, try_id, Id};
pub use join::{AbortHandle, JoinHandle};
pub use join_set::JoinSet;
pub use local::{spawn_local, LocalEnterGuard, LocalSet};
pub use meta::TaskInfo;
pub use yield_now::yield_now;

pub(crate) use harness::{new_task, HEADER_BYTES};
pub(crate) use header::Header;
pub(crate) use owned::OwnedTasks;
pub(crate) use raw::Notified;

/// What a task needs from its scheduler. Implemented by each scheduler's handle type,
/// which every task stores (one word) to find its way back when woken.
///
/// Invariants the task code relies on: the hook is a shared handle (an `Arc` or a
/// struct of them) whose bitwise copy points at the same live scheduler; and a task is
/// only polled on a thread that holds its own strong reference to that scheduler (a
/// worker's context, the caller of `block_on`, a blocking-pool thread). That is what
/// lets `yield_now` run on a stack copy of the hook while the task may be freed.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// The `kind` field of the task's `runtime.spawn` span (tokio's values: `task`,
    /// `local`, `blocking`).
    #[cfg(feature = "tracing")]
    const KIND: &'static str = "task";

    /// A woken (or newly spawned) task is ready to run.
    fn schedule(&self, task: Notified);

    /// The task woke itself while running (`yield_now`): run others first.
    fn yield_now(&self, task: Notified) {
        self.schedule(task);
    }

    /// The task finished: take it off the owned list. Returns true if it was listed,
    /// handing the list's reference to the caller.
    fn release(&self, task: NonNull<Header>) -> bool;
}

impl Notified {
    /// Cancel a task that will never run (its queue is shutting down).
    pub(crate) fn cancel(self) {
        // A queued task is idle, so shutdown claims its future and completes it as
        // cancelled, consuming the `Notified`'s reference.
        self.into_task().shutdown();
    }
}

/// Allocate a task, list it in `owned` and hand its first `Notified` to `schedule`.
/// If `owned` is closed (runtime shutting down), the task is cancelled on the spot.
/// `locations`: the runtime records unnamed spawns' locations
/// (`Builder::enable_spawn_locations`); a named spawn keeps its location anyway.
#[inline]
pub(crate) fn spawn_bound<F, S>(
    future: F,
    scheduler: S,
    owned: &OwnedTasks,
    spawn: Option<meta::SpawnMeta<'_>>,
    locations: bool,
    schedule: impl FnOnce(Notified),
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let spawn = spawn.filter(|spawn| locations || spawn.name.is_some());
    let (listed, notified, join) = new_task(future, scheduler, spawn);
    match owned.bind(listed) {
        Ok(()) => schedule(notified),
        Err(listed) => {
            drop(notified);
            listed.shutdown();
        }
    }
    // SAFETY: `join` is the JoinHandle reference of a task whose output is F::Output.
    unsafe { JoinHandle::from_raw(join) }
}

/// Spawn a future onto the current runtime.
///
/// # Panics
/// Outside a Zokio runtime. Call it from a task, from inside `Runtime::block_on`, or
/// after `Runtime::enter()`; or spawn through a `Handle` you keep.
#[track_caller]
#[inline]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let spawn = meta::SpawnMeta::here();
    let spawned =
        crate::runtime::context::with_current(|handle| handle.inner.spawn(future, Some(spawn)));
    match spawned {
        Ok(join) => join,
        Err(err) => panic!("`zokio::spawn` {err}"),
    }
}

/// Run a blocking closure on the current runtime's blocking pool.
///
/// # Panics
/// Outside a Zokio runtime, as [`spawn`].
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let spawn = meta::SpawnMeta::here();
    let spawned =
        crate::runtime::context::with_current(|handle| handle.inner.blocking().spawn_as(f, spawn));
    match spawned {
        Ok(join) => join,
        Err(err) => panic!("`zokio::task::spawn_blocking` {err}"),
    }
}
