//! `block_in_place`: run blocking code inside a task of the work-stealing scheduler
//! without stalling the other tasks of its worker.
//!
//! The worker's core (its run queue, LIFO slot and place among the workers) and its
//! driver's work move to a new thread first, as in tokio; this thread then runs the
//! closure, finishes polling the task, and leaves. Zokio's io_uring rings take
//! submissions from one thread only, so the new thread gets a new ring, and the
//! operations in flight on the old one are cancelled and submitted again by their
//! futures (see `LocalDriver::hand_over`). This file only decides where that is
//! allowed; the hand-off itself lives with the scheduler.

use crate::runtime::context;
use crate::scheduler::{current_thread, multi_thread, thread_per_core};

/// Run `f`, which may block, on this thread; on a worker of the multi-thread
/// runtime, the worker's other tasks first move to a new thread, so they keep
/// running meanwhile.
///
/// Outside a runtime, on a blocking-pool thread, or in `block_on` of a multi-thread
/// or thread-per-core runtime, `f` just runs. Inside `f` the thread counts as not
/// driving tasks: `Handle::block_on` and the `blocking_*` methods of `zokio::sync`
/// work there.
///
/// # Panics
/// On the current-thread runtime (or in a `LocalSet` it drives), and on a worker of
/// the thread-per-core runtime, with tokio's message: there is no other thread to
/// run the tasks this would block. Use `spawn_blocking` there.
///
/// # Examples
///
/// Blocking code that needs the task's borrowed data, which `spawn_blocking`
/// (`'static` closures only) could not take:
///
/// ```
/// let rt = zokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// rt.block_on(async {
///     zokio::spawn(async {
///         let lines = vec!["a", "b", "c"];
///         let joined = zokio::task::block_in_place(|| {
///             // Stands in for a slow synchronous call (a C library, a hash).
///             std::thread::sleep(std::time::Duration::from_millis(10));
///             lines.join(",")
///         });
///         assert_eq!(joined, "a,b,c");
///     })
///     .await
///     .unwrap();
/// });
/// ```
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    if !multi_thread::worker::hand_off_core()
        && context::is_driving()
        && (current_thread::runs_tasks_here() || thread_per_core::runs_tasks_here())
    {
        panic!("can call blocking only when running on the multi-threaded runtime");
    }
    let _not_driving = context::exit_driving();
    crate::task::coop::without_budget(f)
}
