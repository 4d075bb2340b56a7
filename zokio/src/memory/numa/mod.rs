//! NUMA placement for the `NumaAware` memory strategy: which CPUs and memory node each
//! worker uses, and in which order an idle worker looks at the others.
//!
//! - `topology.rs` reads the machine's nodes from sysfs (under a root that tests and
//!   `Builder::numa_sysfs_root` may replace), keeping only the CPUs that are online
//!   and that the process may run on.
//! - `placement.rs` is pure arithmetic: workers spread over the nodes in contiguous
//!   blocks, each pinned to its node's CPU set, and each worker's steal groups.
//! - `sys.rs` holds the system calls (`sched_setaffinity`, `mbind`, `get_mempolicy`).
//! - This file holds the per-thread record of the node a worker runs on, which the
//!   pool reads to place the segments it maps.
//!
//! Nothing here may panic on what sysfs or the kernel says: a tree it cannot read
//! means one node, a refused call is logged at debug level and ignored.

mod placement;
mod sys;
mod topology;

// The tests read sysfs and the kernel's memory policies: Linux only.
#[cfg(all(test, not(loom), not(miri), target_os = "linux"))]
mod tests;

use std::cell::Cell;
use std::path::{Path, PathBuf};

pub(crate) use placement::{Placement, StealOrder};
pub(crate) use topology::Topology;

pub(crate) use sys::allowed_cpus;
#[cfg(not(any(miri, loom)))]
pub(crate) use sys::bind_segment;

/// The environment variable naming a directory that stands in for `/sys` when the
/// builder names none.
pub(crate) const SYSFS_ENV: &str = "ZOKIO_SYSFS_ROOT";

/// No node recorded for this thread.
const NO_NODE: usize = usize::MAX;

std::thread_local! {
    /// The NUMA node (its number in sysfs) this worker thread was placed on.
    static NODE: Cell<usize> = const { Cell::new(NO_NODE) };
}

/// The node the calling thread was placed on, if it is a worker of a runtime under
/// the `NumaAware` strategy.
#[inline]
pub(crate) fn current_node() -> Option<usize> {
    match NODE.try_with(Cell::get) {
        Ok(NO_NODE) | Err(_) => None,
        Ok(node) => Some(node),
    }
}

/// The directory that stands in for `/sys`: the builder's choice, else
/// `ZOKIO_SYSFS_ROOT`, else `/sys`.
pub(crate) fn sysfs_root(chosen: Option<&Path>) -> PathBuf {
    if let Some(root) = chosen {
        return root.to_path_buf();
    }
    match std::env::var_os(SYSFS_ENV) {
        Some(root) if !root.is_empty() => PathBuf::from(root),
        _ => PathBuf::from("/sys"),
    }
}

/// The machine as the workers of a runtime being built see it.
pub(crate) fn read_topology(chosen_root: Option<&Path>) -> Topology {
    let root = sysfs_root(chosen_root);
    Topology::read(&root, sys::allowed_cpus().as_deref())
}

/// Run on a worker thread before anything else (the user's start hook included):
/// pin it to its node's CPUs and record the node for the pool. A refused pin is
/// logged and ignored: the worker then runs where the system puts it.
pub(crate) fn enter_worker(node: usize, cpus: &[usize]) {
    if !cpus.is_empty() {
        if let Err(e) = sys::pin_current_thread(cpus) {
            log::debug!("NUMA: could not pin a worker to node {node}'s CPUs {cpus:?}: {e}");
        }
    }
    let _ = NODE.try_with(|n| n.set(node));
}

/// Run first on a thread that is no worker (a blocking thread) but may have been
/// started by one: back to `cpus`, the CPUs the runtime was built with. A refusal is
/// logged and ignored.
pub(crate) fn leave_node(cpus: &[usize]) {
    if let Err(e) = sys::pin_current_thread(cpus) {
        log::debug!("NUMA: could not give a blocking thread back the CPUs {cpus:?}: {e}");
    }
}

/// The step a new thread for `worker` runs before its start hook: [`enter_worker`]
/// with the worker's node and CPUs.
pub(crate) fn prepare_worker(
    placement: std::sync::Arc<Placement>,
    worker: usize,
) -> Box<dyn FnOnce() + Send + 'static> {
    Box::new(move || enter_worker(placement.node_id(worker), placement.cpus(worker)))
}
