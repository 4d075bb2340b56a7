//! Where each worker goes on a NUMA machine, and where it looks for work: pure
//! arithmetic over a [`Topology`], with no system call, so that tests can check it on
//! any machine they describe.
//!
//! The rule: workers are dealt to the nodes in contiguous blocks, in node order
//! (workers 0..a on the first node, a..b on the second, ...), each node's share
//! proportional to its usable CPUs. The shares are rounded by largest remainder
//! (ties to the lower node), so they add up to the worker count exactly; with fewer
//! workers than nodes, the first nodes get one each. Every worker is pinned to its
//! node's whole CPU set, not to one CPU: the kernel still balances the node's workers
//! over its CPUs, and a worker never leaves its node's memory.
//!
//! A worker's steal order is groups, each scanned from a random start: first the
//! other workers of its own node, then every worker of the other nodes. It crosses
//! to another node only when its own node has nothing to steal.

use super::topology::Topology;

/// Each worker's node and CPUs, for a runtime with a given number of workers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Placement {
    topology: Topology,
    /// Per worker: the index of its node in `topology.nodes`.
    worker_node: Vec<usize>,
}

/// The workers one worker steals from, in groups tried one after the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StealOrder {
    /// Never empty groups; the worker itself is in none.
    pub(crate) groups: Vec<Box<[usize]>>,
}

impl Placement {
    pub(crate) fn new(topology: Topology, workers: usize) -> Placement {
        let shares = shares(&topology, workers);
        let worker_node = shares
            .iter()
            .enumerate()
            .flat_map(|(node, &count)| std::iter::repeat_n(node, count))
            .collect();
        Placement {
            topology,
            worker_node,
        }
    }

    /// How many nodes the machine has for workers (some may get none).
    pub(crate) fn node_count(&self) -> usize {
        self.topology.nodes.len()
    }

    /// The index (into the topology's nodes) of `worker`'s node.
    pub(crate) fn node_index(&self, worker: usize) -> usize {
        self.worker_node[worker]
    }

    /// `worker`'s node, as sysfs numbers it.
    pub(crate) fn node_id(&self, worker: usize) -> usize {
        self.topology.nodes[self.worker_node[worker]].id
    }

    /// The CPUs `worker` is pinned to: its node's.
    pub(crate) fn cpus(&self, worker: usize) -> &[usize] {
        &self.topology.nodes[self.worker_node[worker]].cpus
    }

    /// Whom `worker` steals from: its node's other workers, then the other nodes'.
    pub(crate) fn steal_order(&self, worker: usize) -> StealOrder {
        let own = self.worker_node[worker];
        let others = |same_node: bool| -> Box<[usize]> {
            (0..self.worker_node.len())
                .filter(|&w| w != worker && (self.worker_node[w] == own) == same_node)
                .collect()
        };
        let groups = [others(true), others(false)]
            .into_iter()
            .filter(|g| !g.is_empty())
            .collect();
        StealOrder { groups }
    }

    /// How many workers each node got.
    pub(crate) fn workers_per_node(&self) -> Vec<usize> {
        let mut counts = vec![0; self.node_count()];
        for &node in &self.worker_node {
            counts[node] += 1;
        }
        counts
    }
}

/// Workers per node, proportional to usable CPUs, rounded by largest remainder.
fn shares(topology: &Topology, workers: usize) -> Vec<usize> {
    let nodes = &topology.nodes;
    // Every node counts at least one CPU, so that a fallback node with an unknown CPU
    // set still gets workers.
    let weight = |i: usize| nodes[i].cpus.len().max(1);
    let total: usize = (0..nodes.len()).map(weight).sum();
    let mut shares: Vec<usize> = (0..nodes.len())
        .map(|i| workers * weight(i) / total)
        .collect();
    let mut left = workers - shares.iter().sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..nodes.len()).collect();
    // Largest remainder first; a stable sort keeps the lower node first on ties.
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(workers * weight(i) % total));
    for i in by_remainder {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares
}
