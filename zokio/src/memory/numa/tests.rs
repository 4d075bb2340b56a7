//! Topology, placement and steal order on machines described by fake sysfs trees, and
//! the memory placement of a real `NumaAware` runtime on this machine.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::placement::Placement;
use super::sys;
use super::topology::{parse_cpu_list, Node, Topology};
use crate::memory::{MemoryPlan, MemoryStrategy};
use crate::scheduler::multi_thread::numa::NodeScheduling;

/// A directory standing in for `/sys`, removed when dropped.
struct FakeSys {
    root: PathBuf,
}

impl FakeSys {
    fn new(name: &str) -> FakeSys {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "zokio-numa-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(root.join("devices/system/node")).unwrap();
        std::fs::create_dir_all(root.join("devices/system/cpu")).unwrap();
        // What the kernel puts beside the node directories.
        std::fs::write(root.join("devices/system/node/online"), "0\n").unwrap();
        std::fs::write(root.join("devices/system/node/has_cpu"), "0\n").unwrap();
        FakeSys { root }
    }

    fn node(self, id: usize, cpulist: &str) -> FakeSys {
        let dir = self.root.join(format!("devices/system/node/node{id}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cpulist"), format!("{cpulist}\n")).unwrap();
        self
    }

    fn online(self, cpulist: &str) -> FakeSys {
        std::fs::write(
            self.root.join("devices/system/cpu/online"),
            format!("{cpulist}\n"),
        )
        .unwrap();
        self
    }

    fn path(&self) -> &Path {
        &self.root
    }

    fn read(&self, allowed: Option<&[usize]>) -> Topology {
        Topology::read(&self.root, allowed)
    }
}

impl Drop for FakeSys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn node(id: usize, cpus: &[usize]) -> Node {
    Node {
        id,
        cpus: cpus.to_vec(),
    }
}

/// Each worker's (node id, CPUs).
fn pins(placement: &Placement, workers: usize) -> Vec<(usize, Vec<usize>)> {
    (0..workers)
        .map(|w| (placement.node_id(w), placement.cpus(w).to_vec()))
        .collect()
}

fn steal_groups(placement: &Placement, worker: usize) -> Vec<Vec<usize>> {
    placement
        .steal_order(worker)
        .groups
        .iter()
        .map(|g| g.to_vec())
        .collect()
}

#[test]
fn cpu_lists_in_the_kernel_format() {
    assert_eq!(
        parse_cpu_list("0-3,8,10-11\n"),
        Some(vec![0, 1, 2, 3, 8, 10, 11])
    );
    assert_eq!(parse_cpu_list("5"), Some(vec![5]));
    assert_eq!(parse_cpu_list("\n"), Some(vec![]));
    assert_eq!(parse_cpu_list("2,1,1-2"), Some(vec![1, 2]));
    for bad in ["3-1", "a", "1,,2", "1-", "-1", "0-3 x", "1-99999999999"] {
        assert_eq!(parse_cpu_list(bad), None, "{bad:?}");
    }
}

#[test]
fn one_node() {
    let sys = FakeSys::new("one").node(0, "0-3").online("0-3");
    let topology = sys.read(None);
    assert_eq!(topology.nodes, vec![node(0, &[0, 1, 2, 3])]);
    assert_eq!(
        MemoryPlan::for_choice(MemoryStrategy::Adaptive, topology.node_count()).strategy,
        MemoryStrategy::Pooled
    );
    let placement = Placement::new(topology, 3);
    assert_eq!(pins(&placement, 3), vec![(0, vec![0, 1, 2, 3]); 3]);
    // One group: everyone else, which the scheduler scans as it does without NUMA.
    assert_eq!(steal_groups(&placement, 1), vec![vec![0, 2]]);
    assert!(NodeScheduling::new(&placement, 3).is_none());
}

#[test]
fn two_nodes_of_four_cpus() {
    let sys = FakeSys::new("two")
        .node(0, "0-3")
        .node(1, "4-7")
        .online("0-7");
    let topology = sys.read(None);
    assert_eq!(
        topology.nodes,
        vec![node(0, &[0, 1, 2, 3]), node(1, &[4, 5, 6, 7])]
    );
    assert_eq!(
        MemoryPlan::for_choice(MemoryStrategy::Adaptive, topology.node_count()).strategy,
        MemoryStrategy::NumaAware
    );
    let placement = Placement::new(topology.clone(), 4);
    let low = vec![0, 1, 2, 3];
    let high = vec![4, 5, 6, 7];
    assert_eq!(
        pins(&placement, 4),
        vec![
            (0, low.clone()),
            (0, low.clone()),
            (1, high.clone()),
            (1, high.clone())
        ]
    );
    assert_eq!(steal_groups(&placement, 0), vec![vec![1], vec![2, 3]]);
    assert_eq!(steal_groups(&placement, 3), vec![vec![2], vec![0, 1]]);
    assert!(NodeScheduling::new(&placement, 4).is_some());

    // An odd count: the tie goes to the lower node.
    let placement = Placement::new(topology.clone(), 3);
    assert_eq!(
        pins(&placement, 3),
        vec![(0, low.clone()), (0, low), (1, high)]
    );
    assert_eq!(steal_groups(&placement, 2), vec![vec![0, 1]]);

    // One worker: nothing to steal, and nothing per node to keep.
    let placement = Placement::new(topology, 1);
    assert_eq!(steal_groups(&placement, 0), Vec::<Vec<usize>>::new());
    assert!(NodeScheduling::new(&placement, 1).is_none());
}

#[test]
fn four_nodes_with_a_gap_in_their_numbers() {
    let sys = FakeSys::new("gap")
        .node(0, "0-1")
        .node(1, "2-3")
        .node(4, "4-5")
        .node(6, "6-7")
        .online("0-7");
    let topology = sys.read(None);
    assert_eq!(
        topology.nodes.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![0, 1, 4, 6]
    );
    let placement = Placement::new(topology.clone(), 8);
    assert_eq!(
        pins(&placement, 8),
        vec![
            (0, vec![0, 1]),
            (0, vec![0, 1]),
            (1, vec![2, 3]),
            (1, vec![2, 3]),
            (4, vec![4, 5]),
            (4, vec![4, 5]),
            (6, vec![6, 7]),
            (6, vec![6, 7]),
        ]
    );
    assert_eq!(
        steal_groups(&placement, 5),
        vec![vec![4], vec![0, 1, 2, 3, 6, 7]]
    );
    // Fewer workers than nodes: the first nodes get one each.
    let placement = Placement::new(topology, 3);
    assert_eq!(
        pins(&placement, 3),
        vec![(0, vec![0, 1]), (1, vec![2, 3]), (4, vec![4, 5])]
    );
    assert_eq!(steal_groups(&placement, 1), vec![vec![0, 2]]);
}

#[test]
fn offline_and_forbidden_cpus_are_left_out() {
    let sys = FakeSys::new("offline")
        .node(0, "0-3")
        .node(1, "4-7")
        .node(2, "8-9")
        .online("0-2,4-7");
    // CPU 3 and the whole of node 2 are offline.
    let topology = sys.read(None);
    assert_eq!(
        topology.nodes,
        vec![node(0, &[0, 1, 2]), node(1, &[4, 5, 6, 7])]
    );
    // Shares follow the usable CPUs: 3 and 4 of 7.
    let placement = Placement::new(topology, 7);
    let expected: Vec<(usize, Vec<usize>)> = (0..7)
        .map(|w| {
            if w < 3 {
                (0, vec![0, 1, 2])
            } else {
                (1, vec![4, 5, 6, 7])
            }
        })
        .collect();
    assert_eq!(pins(&placement, 7), expected);
    assert_eq!(
        steal_groups(&placement, 0),
        vec![vec![1, 2], vec![3, 4, 5, 6]]
    );

    // The process may run on CPUs 1 and 5 only.
    let topology = sys.read(Some(&[1, 5]));
    assert_eq!(topology.nodes, vec![node(0, &[1]), node(1, &[5])]);
    // It may run on node 1's CPUs only: one node.
    let topology = sys.read(Some(&[4, 6]));
    assert_eq!(topology.nodes, vec![node(1, &[4, 6])]);
}

#[test]
fn malformed_or_missing_trees_are_one_node() {
    let allowed = [0, 1];
    let bad_list = FakeSys::new("bad").node(0, "0-3").node(1, "4-x");
    assert_eq!(bad_list.read(Some(&allowed)).nodes, vec![node(0, &[0, 1])]);
    assert_eq!(bad_list.read(None).nodes, vec![node(0, &[])]);

    let twice = FakeSys::new("twice").node(0, "0-3").node(1, "3-7");
    assert_eq!(twice.read(Some(&allowed)).nodes, vec![node(0, &[0, 1])]);

    let bad_online = FakeSys::new("online")
        .node(0, "0")
        .node(1, "1")
        .online("zero");
    assert_eq!(
        bad_online.read(Some(&allowed)).nodes,
        vec![node(0, &[0, 1])]
    );

    let no_nodes = FakeSys::new("empty");
    assert_eq!(no_nodes.read(Some(&allowed)).nodes, vec![node(0, &[0, 1])]);

    let missing = no_nodes.path().join("not-there");
    let topology = Topology::read(&missing, Some(&allowed));
    assert_eq!(topology.nodes, vec![node(0, &[0, 1])]);
    // A one-node fallback with an unknown CPU set still places every worker, unpinned.
    let placement = Placement::new(Topology::one_node(None), 2);
    assert_eq!(pins(&placement, 2), vec![(0, vec![]), (0, vec![])]);

    // No `online` file: every listed CPU counts.
    let no_online = FakeSys::new("no-online").node(0, "0").node(1, "1");
    assert_eq!(
        no_online.read(None).nodes,
        vec![node(0, &[0]), node(1, &[1])]
    );
}

#[test]
fn workers_are_pinned_before_the_start_hook() {
    let Some(allowed) = sys::allowed_cpus() else {
        panic!("sched_getaffinity failed on this machine");
    };
    // A node per allowed CPU (at most two), so that the pins differ from the default.
    let cpus: Vec<usize> = allowed.iter().copied().take(2).collect();
    let mut sys_tree = FakeSys::new("pin");
    for (id, cpu) in cpus.iter().enumerate() {
        sys_tree = sys_tree.node(id, &cpu.to_string());
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let workers = 2 * cpus.len();
    let rt = crate::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .memory(MemoryStrategy::NumaAware)
        .numa_sysfs_root(sys_tree.path())
        .on_thread_start(move || {
            let name = std::thread::current().name().unwrap_or("").to_owned();
            if !name.ends_with("-blocking") {
                let mut seen = record.lock().unwrap();
                seen.push((sys::allowed_cpus().unwrap(), super::current_node()));
            }
        })
        .build()
        .unwrap();
    assert_eq!(rt.handle().memory_strategy(), MemoryStrategy::NumaAware);
    assert_eq!(
        rt.block_on(async { crate::spawn(async { 5 }).await.unwrap() }),
        5
    );
    drop(rt);
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    let mut expected: Vec<(Vec<usize>, Option<usize>)> = cpus
        .iter()
        .enumerate()
        .flat_map(|(id, &cpu)| [(vec![cpu], Some(id)), (vec![cpu], Some(id))])
        .collect();
    expected.sort();
    assert_eq!(seen, expected);
}

#[test]
fn a_pooled_task_cell_lies_on_node_0() {
    // This machine's own topology; on a one-node machine everything is on node 0.
    let topology = Topology::read(Path::new("/sys"), None);
    if topology.nodes[0].id != 0 {
        panic!("the first node of this machine is not node 0: {topology:?}");
    }
    // Does the kernel let us set a policy at all (a sandbox may refuse `mbind`)?
    let probe = probe_mbind();
    let rt = crate::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .memory(MemoryStrategy::NumaAware)
        .numa_sysfs_root("/sys")
        .build()
        .unwrap();
    let (node, mode) = rt.block_on(async {
        // Spawned from a worker, so that the cell comes from a worker's pool.
        crate::spawn(async {
            crate::spawn(async {
                // Kept across an await, so it lives in the future, inside the cell.
                let marker = [7u8; 16];
                crate::task::yield_now().await;
                let addr = std::hint::black_box(&marker).as_ptr();
                assert_eq!(super::current_node(), Some(0), "not on a pinned worker");
                (sys::node_of_address(addr), sys::policy_of_address(addr))
            })
            .await
            .unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(node.expect("get_mempolicy(MPOL_F_NODE | MPOL_F_ADDR)"), 0);
    if probe {
        assert_eq!(mode.expect("get_mempolicy(MPOL_F_ADDR)"), sys::PREFERRED);
    } else {
        eprintln!("mbind is refused here: the pool's binding is not checked, only its node");
    }
}

/// Whether `mbind` works here, on a scratch mapping.
fn probe_mbind() -> bool {
    let len = 1 << 16;
    // SAFETY: a fresh anonymous mapping touches no existing memory.
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(map, libc::MAP_FAILED);
    // SAFETY: the mapping is ours and untouched.
    let bound = unsafe { sys::bind_segment(map.cast(), len, 0) };
    // SAFETY: unmapping our own mapping, used by nothing else.
    unsafe { libc::munmap(map, len) };
    bound
}
