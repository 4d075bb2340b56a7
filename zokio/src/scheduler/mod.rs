//! Schedulers: who runs which task, on which thread, in which order.
//!
//! Three flavours share the task system and differ only in where a woken task goes:
//! `multi_thread` (work stealing), `current_thread` (inside `block_on`) and
//! `thread_per_core` (pinned to one worker). The building blocks they share (worker
//! ring, global queue, the unbounded FIFO under the global and local queues, parker)
//! live beside them. This module must never know about
//! the public `Runtime` type.

pub(crate) mod current_thread;
mod fifo;
pub(crate) mod inject;
pub(crate) mod multi_thread;
pub(crate) mod park;
pub(crate) mod queue;
pub(crate) mod thread_per_core;

#[cfg(all(test, loom))]
mod loom_idle;
#[cfg(all(test, loom))]
mod loom_park;
#[cfg(all(test, loom))]
mod loom_queue;
#[cfg(all(test, not(loom)))]
mod miri_queue;

use std::future::Future;
use std::sync::Arc;

use crate::runtime::blocking::BlockingSpawner;
use crate::task::JoinHandle;

/// Whether other tasks wait to run on this thread's worker, whichever the flavour.
/// Unknown (not a worker thread) counts as yes: the caller then takes the path
/// that assumes company.
pub(crate) fn others_waiting_here() -> bool {
    multi_thread::worker::local_work_waiting()
        .or_else(current_thread::local_work_waiting)
        .or_else(thread_per_core::local_work_waiting)
        .unwrap_or(true)
}

/// The scheduler behind a runtime handle.
#[derive(Clone)]
pub(crate) enum Handle {
    MultiThread(Arc<multi_thread::Handle>),
    CurrentThread(Arc<current_thread::Handle>),
    ThreadPerCore(Arc<thread_per_core::Handle>),
}

impl Handle {
    #[inline]
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::MultiThread(h) => h.spawn(future),
            Handle::CurrentThread(h) => h.spawn(future),
            Handle::ThreadPerCore(h) => h.spawn(future),
        }
    }

    /// Adds what can be told of each live task (`runtime::Handle::alive_tasks`).
    pub(crate) fn alive_tasks(&self, out: &mut Vec<crate::task::TaskInfo>) {
        match self {
            Handle::MultiThread(h) => h.owned.alive(out),
            Handle::CurrentThread(h) => h.owned.alive(out),
            Handle::ThreadPerCore(h) => h.workers.iter().for_each(|w| w.owned.alive(out)),
        }
        self.blocking().alive_tasks(out);
    }

    pub(crate) fn blocking(&self) -> &BlockingSpawner {
        match self {
            Handle::MultiThread(h) => &h.blocking,
            Handle::CurrentThread(h) => &h.blocking,
            Handle::ThreadPerCore(h) => &h.blocking,
        }
    }
}
