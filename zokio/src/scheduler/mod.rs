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
use crate::runtime::metrics::WorkersMetrics;
use crate::task::meta::SpawnMeta;
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
    pub(crate) fn spawn<F>(&self, future: F, spawn: Option<SpawnMeta<'_>>) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::MultiThread(h) => h.spawn(future, spawn),
            Handle::CurrentThread(h) => h.spawn(future, spawn),
            Handle::ThreadPerCore(h) => h.spawn(future, spawn),
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

    /// The workers' published counts.
    pub(crate) fn metrics(&self) -> &WorkersMetrics {
        match self {
            Handle::MultiThread(h) => &h.metrics,
            Handle::CurrentThread(h) => &h.metrics,
            Handle::ThreadPerCore(h) => &h.metrics,
        }
    }

    /// Tasks spawned and not yet finished (takes the owned lists' locks).
    pub(crate) fn num_alive_tasks(&self) -> usize {
        match self {
            Handle::MultiThread(h) => h.owned.len(),
            Handle::CurrentThread(h) => h.owned.len(),
            Handle::ThreadPerCore(h) => h.workers.iter().map(|w| w.owned.len()).sum(),
        }
    }

    /// Tasks ever spawned (takes the owned lists' locks).
    pub(crate) fn spawned_tasks_count(&self) -> u64 {
        match self {
            Handle::MultiThread(h) => h.owned.spawned(),
            Handle::CurrentThread(h) => h.owned.spawned(),
            Handle::ThreadPerCore(h) => h.workers.iter().map(|w| w.owned.spawned()).sum(),
        }
    }

    /// Tasks queued from outside the workers, one at a time, into a global queue.
    pub(crate) fn remote_schedule_count(&self) -> u64 {
        match self {
            Handle::MultiThread(h) => h.inject.pushed_one(),
            Handle::CurrentThread(h) => h.inject.pushed_one(),
            Handle::ThreadPerCore(h) => h.workers.iter().map(|w| w.inject.pushed_one()).sum(),
        }
    }

    /// Tasks in the global queues.
    pub(crate) fn global_queue_depth(&self) -> usize {
        match self {
            Handle::MultiThread(h) => {
                h.inject.len()
                    + h.nodes
                        .as_ref()
                        .map_or(0, multi_thread::numa::NodeScheduling::len)
            }
            Handle::CurrentThread(h) => h.inject.len(),
            Handle::ThreadPerCore(h) => h.workers.iter().map(|w| w.inject.len()).sum(),
        }
    }

    /// Tasks in worker `index`'s local queue: live on the work-stealing scheduler
    /// (its queue is readable by stealers), as last published on the others.
    pub(crate) fn worker_local_queue_depth(&self, index: usize) -> usize {
        match self {
            Handle::MultiThread(h) => h.remotes[index].steal.len(),
            _ => {
                let worker = self.metrics().worker(index);
                crate::runtime::metrics::WorkerMetrics::get(&worker.queue_depth) as usize
            }
        }
    }

    pub(crate) fn blocking(&self) -> &BlockingSpawner {
        match self {
            Handle::MultiThread(h) => &h.blocking,
            Handle::CurrentThread(h) => &h.blocking,
            Handle::ThreadPerCore(h) => &h.blocking,
        }
    }
}
