//! The work-stealing scheduler: one thread per worker, each with a bounded local queue
//! and a LIFO slot, a shared global queue, and stealing of half a victim's queue.
//!
//! This file holds what the worker threads share (`Handle`, the task scheduler hook)
//! and the scheduling decisions for a woken or spawned task. The worker loop lives in
//! `worker.rs`, the searching/parking bookkeeping in `idle.rs`, what a machine with
//! several NUMA nodes adds in `numa.rs`. Nothing here may block
//! except on the short locks of the global queue and the owned-task list.

mod idle;
mod inbox;
pub(crate) mod numa;
mod poll_times;
pub(crate) mod worker;

use std::future::Future;
use std::ptr::NonNull;

use crate::driver::Unparker;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::runtime::blocking::BlockingSpawner;
use crate::scheduler::inject::Inject;
use crate::scheduler::queue::Steal;
use crate::task::meta::SpawnMeta;
use crate::task::{self, Header, JoinHandle, Notified, OwnedTasks, Schedule};
use crossbeam_utils::CachePadded;
use std::sync::Arc;

pub(crate) use idle::Idle;
#[cfg(all(test, loom))]
pub(crate) use idle::LookAgain;
pub(crate) use worker::Core;

/// Settings the workers read on every tick.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tuning {
    pub(crate) global_queue_interval: u32,
    /// The work-stealing workers tune the interval themselves (`worker::PollTimes`),
    /// starting from the one above.
    pub(crate) tune_global_queue_interval: bool,
    pub(crate) event_interval: u32,
    /// The poll-time histogram's layout, when the builder turned it on.
    pub(crate) poll_time_histogram: Option<crate::runtime::HistogramConfiguration>,
    /// Spawns record their location (`Builder::enable_spawn_locations`).
    pub(crate) spawn_locations: bool,
}

/// The part of a worker that other threads may touch.
pub(crate) struct Remote {
    pub(crate) steal: Steal<Notified>,
    pub(crate) unparker: Unparker,
    /// Tasks other workers handed over to this one (`worker::hand_off`).
    pub(crate) inbox: inbox::Inbox<Notified>,
    /// The worker has not run out of tasks for a while (`worker::Core::saturated`),
    /// published at its maintenance ticks: others hand it nothing more. A hint only,
    /// so relaxed.
    pub(crate) saturated: std::sync::atomic::AtomicBool,
}

/// Shared by every worker, every task (as its scheduler hook) and every `Handle`.
pub(crate) struct Handle {
    pub(crate) remotes: Box<[Remote]>,
    pub(crate) inject: CachePadded<Inject<Notified>>,
    pub(crate) idle: CachePadded<idle::Idle>,
    pub(crate) owned: OwnedTasks,
    pub(crate) shutdown: AtomicBool,
    pub(crate) tuning: Tuning,
    pub(crate) blocking: BlockingSpawner,
    /// The CPUs the workers may run on (the building thread's, which they inherit):
    /// more awake workers than this cannot run at once.
    pub(crate) cpus: usize,
    /// What starts a worker thread that takes over from one blocked in
    /// `block_in_place`; set once the workers started, taken at shutdown (it holds a
    /// runtime handle, which holds this one).
    pub(crate) takeover: std::sync::Mutex<Option<worker::Takeover>>,
    /// Under `NumaAware`: where each worker is pinned (also the thread that takes
    /// over a worker in `block_in_place` is pinned there).
    pub(crate) placement: Option<Arc<crate::memory::numa::Placement>>,
    /// Under `NumaAware`, when the workers span several nodes: per-node queues and
    /// steal groups. `None` leaves every path exactly as on one node.
    pub(crate) nodes: Option<numa::NodeScheduling>,
    /// What each worker publishes for `RuntimeMetrics`.
    pub(crate) metrics: crate::runtime::metrics::WorkersMetrics,
}

impl Handle {
    #[inline]
    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        spawn: Option<SpawnMeta<'_>>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let locations = self.tuning.spawn_locations;
        task::spawn_bound(
            future,
            self.clone(),
            &self.owned,
            spawn,
            locations,
            |notified| self.schedule_task(notified, false),
        )
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    fn schedule_task(self: &Arc<Self>, task: Notified, is_yield: bool) {
        if let Some(task) = worker::try_schedule_local(self, task, is_yield) {
            self.inject.push(task);
            self.notify_parked();
        }
    }

    /// Wake one sleeping worker, if no worker is already searching. On several nodes,
    /// a sleeper on the calling worker's node is preferred: the work it will find
    /// first (that node's queues) is there.
    pub(crate) fn notify_parked(&self) {
        // The thread-local is read only on several nodes.
        let near = self
            .nodes
            .as_ref()
            .and_then(|nodes| Some((nodes, crate::memory::numa::current_node()?)));
        let index = match near {
            Some((nodes, here)) => self
                .idle
                .worker_to_notify_preferring(|worker| nodes.is_on_node(worker, here)),
            None => self.idle.worker_to_notify(),
        };
        if let Some(index) = index {
            self.remotes[index].unparker.unpark();
        }
    }

    /// Whether any global queue (the shared one, or a node's) holds a task.
    pub(crate) fn has_injected(&self) -> bool {
        !self.inject.is_empty() || self.nodes.as_ref().is_some_and(|n| !n.is_empty())
    }

    /// A task from the global queues, nearest first: node `node`'s own (an index,
    /// when the workers span several nodes), the shared one, then other nodes'.
    pub(crate) fn pop_injected(&self, node: Option<usize>) -> Option<Notified> {
        match (node, &self.nodes) {
            (Some(node), Some(nodes)) => nodes
                .queue(node)
                .pop()
                .or_else(|| self.inject.pop())
                .or_else(|| nodes.pop_other_nodes(node)),
            _ => self.inject.pop(),
        }
    }

    /// Where a worker's full local queue sends half of it: its node's queue when the
    /// workers span several nodes, else the shared one.
    pub(crate) fn push_overflow(&self, node: Option<usize>, batch: Vec<Notified>) {
        match (node, &self.nodes) {
            (Some(node), Some(nodes)) => nodes.queue(node).push_batch(batch),
            _ => self.inject.push_batch(batch),
        }
    }

    /// A worker queued a task locally. It will run the task itself if nobody else
    /// does, so a wake-up here only buys parallelism and may be skipped on a stale
    /// view; that keeps the ordering fence of `notify_parked` off the hot path of
    /// every yield and wake.
    pub(crate) fn notify_parked_local(&self) {
        if self.idle.may_have_sleepers() {
            self.notify_parked();
        }
    }

    /// Called by the last searcher before it sleeps: make sure no queued work is left
    /// without a worker looking for it.
    pub(crate) fn notify_if_work_pending(&self) {
        let pending = self.remotes.iter().any(|r| !r.steal.is_empty()) || self.has_injected();
        if pending {
            self.notify_parked();
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Tell every worker to stop; they finish the task they are polling first.
    pub(crate) fn begin_shutdown(&self) {
        if self.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        for (index, remote) in self.remotes.iter().enumerate() {
            self.idle.unpark_worker_by_id(index);
            remote.unparker.unpark();
        }
    }
}

impl Handle {
    /// Cancel every task still alive and drop every queued wake-up. Run once, by the
    /// last worker thread to exit, after each worker moved its queue to the global one.
    pub(crate) fn shutdown_tasks(&self) {
        drop(
            self.takeover
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        for task in self.owned.close_and_take() {
            task.shutdown();
        }
        // Wake-ups that arrive from now on (a foreign thread, a racing spawn) are
        // dropped by the closed queue rather than kept forever.
        drop(self.inject.close_and_drain());
        if let Some(nodes) = &self.nodes {
            drop(nodes.close_and_drain());
        }
        // A hand-off that raced with a worker's exit: every worker has exited by now,
        // so nothing lands here after this.
        for remote in self.remotes.iter() {
            drop(remote.inbox.take());
        }
    }
}

impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Notified) {
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: Notified) {
        self.schedule_task(task, true);
    }

    fn release(&self, task: NonNull<Header>) -> bool {
        self.owned.remove(task)
    }
}
