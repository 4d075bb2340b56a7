//! What the work-stealing scheduler adds on a machine with several NUMA nodes (the
//! `NumaAware` strategy): each worker's node, its steal groups, and one global queue
//! per node for the overflow of that node's workers.
//!
//! A worker whose local queue overflows pushes to its node's queue; it and its node's
//! other workers refill from there first, then from the shared global queue (spawns
//! and wakes from outside the runtime, which have no node), and only when those are
//! empty from the other nodes' queues. Every queue is looked at by any worker before
//! it sleeps (`Handle::has_injected`), so per-node queues never hide work from the
//! idle protocol; they only change the order in which workers look.
//!
//! Present only when the workers span at least two nodes: otherwise the scheduler is
//! exactly the one-node one, with nothing added on any path. This file must never run
//! tasks or decide wake-ups.

use crate::memory::numa::{Placement, StealOrder};
use crate::scheduler::inject::Inject;
use crate::task::Notified;

pub(crate) struct NodeScheduling {
    /// Per worker: the index of its node (into `inject` and `node_workers`).
    worker_node: Box<[usize]>,
    /// Per worker: its node's sysfs number, as `numa::current_node` reports it.
    worker_node_id: Box<[usize]>,
    /// Per node: how many workers it has.
    node_workers: Box<[usize]>,
    /// Per worker: whom it steals from, nearest first.
    steal: Box<[StealOrder]>,
    /// Per node: tasks its workers' full queues overflowed.
    inject: Box<[Inject<Notified>]>,
}

impl NodeScheduling {
    /// `None` when the workers are all on one node: nothing to prefer then.
    pub(crate) fn new(placement: &Placement, workers: usize) -> Option<NodeScheduling> {
        let node_workers = placement.workers_per_node();
        if node_workers.iter().filter(|&&n| n > 0).count() < 2 {
            return None;
        }
        Some(NodeScheduling {
            worker_node: (0..workers).map(|w| placement.node_index(w)).collect(),
            worker_node_id: (0..workers).map(|w| placement.node_id(w)).collect(),
            node_workers: node_workers.into(),
            steal: (0..workers).map(|w| placement.steal_order(w)).collect(),
            inject: (0..placement.node_count()).map(|_| Inject::new()).collect(),
        })
    }

    /// The index of `worker`'s node.
    pub(crate) fn node_of(&self, worker: usize) -> usize {
        self.worker_node[worker]
    }

    /// Whether `worker` runs on the node sysfs numbers `node_id`.
    pub(crate) fn is_on_node(&self, worker: usize, node_id: usize) -> bool {
        self.worker_node_id[worker] == node_id
    }

    /// How many workers node `node` (an index) has.
    pub(crate) fn workers_on(&self, node: usize) -> usize {
        self.node_workers[node]
    }

    pub(crate) fn steal_order(&self, worker: usize) -> &StealOrder {
        &self.steal[worker]
    }

    /// Node `node`'s own queue.
    pub(crate) fn queue(&self, node: usize) -> &Inject<Notified> {
        &self.inject[node]
    }

    /// A task from any other node's queue than `node`'s, nearest index first after
    /// it.
    pub(crate) fn pop_other_nodes(&self, node: usize) -> Option<Notified> {
        let n = self.inject.len();
        (1..n).find_map(|offset| self.inject[(node + offset) % n].pop())
    }

    /// Whether every node's queue is empty.
    /// Tasks in every node's queue (for metrics).
    pub(crate) fn len(&self) -> usize {
        self.inject.iter().map(Inject::len).sum()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.inject.iter().all(Inject::is_empty)
    }

    /// Refuse further tasks and take every queued one, for shutdown.
    pub(crate) fn close_and_drain(&self) -> Vec<Notified> {
        self.inject
            .iter()
            .flat_map(Inject::close_and_drain)
            .collect()
    }
}
