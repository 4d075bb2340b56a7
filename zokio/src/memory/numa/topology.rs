//! The machine's NUMA nodes as sysfs describes them, under a root that stands in for
//! `/sys`: `devices/system/node/node<N>/cpulist` names each node's CPUs, and
//! `devices/system/cpu/online` the CPUs that are online.
//!
//! A node keeps only the CPUs that are online and that the process may run on; a node
//! left with none (a memory-only node, or one outside the process's CPU set) is no
//! place for a worker and is dropped. Anything missing or malformed gives one node
//! holding every allowed CPU, with a debug log line saying why. Nothing here may
//! panic or touch the scheduler.

use std::path::Path;

/// CPU and node numbers at or above this are taken for a malformed file: no machine
/// has them, and a range up to them would fill memory.
const MAX_NUMBER: usize = 1 << 16;

/// One NUMA node that can run workers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    /// Its number in sysfs (`node<id>`), which is also what `mbind` takes.
    pub(crate) id: usize,
    /// Its CPUs that are online and allowed, ascending; never empty when read from
    /// sysfs, empty only in the one-node fallback when the allowed set is unknown.
    pub(crate) cpus: Vec<usize>,
}

/// The nodes workers may be placed on, ascending by id; never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Topology {
    pub(crate) nodes: Vec<Node>,
}

impl Topology {
    /// Reads the tree under `root`, keeping the CPUs in `allowed` (`None`: no limit).
    pub(crate) fn read(root: &Path, allowed: Option<&[usize]>) -> Topology {
        match read_nodes(root, allowed) {
            Ok(nodes) if !nodes.is_empty() => Topology { nodes },
            Ok(_) => {
                log::debug!(
                    "NUMA: no node under {} has an online CPU this process may use; \
                     taking the machine as one node",
                    root.display()
                );
                Topology::one_node(allowed)
            }
            Err(why) => {
                log::debug!("NUMA: {why}; taking the machine as one node");
                Topology::one_node(allowed)
            }
        }
    }

    /// One node 0 holding every allowed CPU.
    pub(crate) fn one_node(allowed: Option<&[usize]>) -> Topology {
        Topology {
            nodes: vec![Node {
                id: 0,
                cpus: allowed.map(<[usize]>::to_vec).unwrap_or_default(),
            }],
        }
    }

    /// How many nodes can run workers: what `Adaptive` decides on.
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

fn read_nodes(root: &Path, allowed: Option<&[usize]>) -> Result<Vec<Node>, String> {
    let node_dir = root.join("devices/system/node");
    let entries = std::fs::read_dir(&node_dir)
        .map_err(|e| format!("cannot list {}: {e}", node_dir.display()))?;
    let mut nodes = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", node_dir.display()))?;
        let name = entry.file_name();
        // Other entries (`online`, `possible`, `has_cpu`, `power`...) are not nodes.
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_prefix("node"))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        if id >= MAX_NUMBER {
            return Err(format!(
                "node number {id} in {} is implausible",
                node_dir.display()
            ));
        }
        let path = entry.path().join("cpulist");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let cpus = parse_cpu_list(&text)
            .ok_or_else(|| format!("{} is not a CPU list: {:?}", path.display(), text.trim()))?;
        nodes.push(Node { id, cpus });
    }
    if nodes.is_empty() {
        return Err(format!("{} describes no node", node_dir.display()));
    }
    nodes.sort_by_key(|n| n.id);
    let mut seen = std::collections::HashSet::new();
    for node in &nodes {
        if let Some(cpu) = node.cpus.iter().find(|&&cpu| !seen.insert(cpu)) {
            return Err(format!(
                "CPU {cpu} is listed under two nodes in {}",
                node_dir.display()
            ));
        }
    }
    let online_path = root.join("devices/system/cpu/online");
    // Without the file (an old kernel, a partial tree), every listed CPU counts.
    let online = match std::fs::read_to_string(&online_path) {
        Ok(text) => Some(parse_cpu_list(&text).ok_or_else(|| {
            format!(
                "{} is not a CPU list: {:?}",
                online_path.display(),
                text.trim()
            )
        })?),
        Err(_) => None,
    };
    for node in &mut nodes {
        node.cpus.retain(|cpu| {
            online.as_ref().is_none_or(|o| o.binary_search(cpu).is_ok())
                && allowed.is_none_or(|a| a.contains(cpu))
        });
    }
    nodes.retain(|n| !n.cpus.is_empty());
    Ok(nodes)
}

/// Parses the kernel's CPU list format (`0-3,8,10-11`, possibly empty, with a final
/// newline) into ascending, distinct numbers; `None` if it is malformed.
pub(crate) fn parse_cpu_list(text: &str) -> Option<Vec<usize>> {
    let text = text.trim();
    let mut cpus = Vec::new();
    if text.is_empty() {
        return Some(cpus);
    }
    for part in text.split(',') {
        let (first, last) = match part.split_once('-') {
            Some((first, last)) => (parse_number(first)?, parse_number(last)?),
            None => {
                let cpu = parse_number(part)?;
                (cpu, cpu)
            }
        };
        if first > last {
            return None;
        }
        cpus.extend(first..=last);
    }
    cpus.sort_unstable();
    cpus.dedup();
    Some(cpus)
}

fn parse_number(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&n| n < MAX_NUMBER)
}
