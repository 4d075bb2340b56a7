//! The `NumaAware` memory strategy on a machine described by a fake sysfs tree: each
//! worker pinned to its node's CPUs before the start hook runs (the thread taking over
//! in `block_in_place` too), tasks running to completion on every flavour, and
//! `Adaptive` deciding on the node count. The nodes are made of CPUs this process may
//! really use, so the pins are real.

// Pinning and sysfs NUMA nodes are Linux only (elsewhere one node, no pinning).
#![cfg(target_os = "linux")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use zokio::runtime::{Builder, MemoryStrategy, Runtime};

/// A directory standing in for `/sys`, removed when dropped.
struct FakeSys(PathBuf);

impl FakeSys {
    /// One node per CPU list.
    fn with_nodes(name: &str, nodes: &[Vec<usize>]) -> FakeSys {
        let root = common::temp_path(name);
        for (id, cpus) in nodes.iter().enumerate() {
            let dir = root.join(format!("devices/system/node/node{id}"));
            std::fs::create_dir_all(&dir).unwrap();
            let list: Vec<String> = cpus.iter().map(usize::to_string).collect();
            std::fs::write(dir.join("cpulist"), list.join(",") + "\n").unwrap();
        }
        FakeSys(root)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for FakeSys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The CPUs the calling thread may run on.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: all zeroes is an empty `cpu_set_t`.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is live and writable, of the size passed.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    assert_eq!(
        rc,
        0,
        "sched_getaffinity: {}",
        std::io::Error::last_os_error()
    );
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// Two nodes of one allowed CPU each (one node on a machine with a single CPU).
fn two_node_tree(name: &str) -> (FakeSys, Vec<Vec<usize>>) {
    let nodes: Vec<Vec<usize>> = allowed_cpus()
        .into_iter()
        .take(2)
        .map(|c| vec![c])
        .collect();
    (FakeSys::with_nodes(name, &nodes), nodes)
}

/// Builds a `NumaAware` runtime on `root` whose worker threads record their
/// affinity from the start hook.
fn recording_runtime(
    mut builder: Builder,
    workers: usize,
    root: &Path,
) -> (Runtime, Arc<Mutex<Vec<Vec<usize>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let rt = builder
        .worker_threads(workers)
        .memory(MemoryStrategy::NumaAware)
        .numa_sysfs_root(root)
        .on_thread_start(move || {
            let blocking = std::thread::current()
                .name()
                .is_some_and(|n| n.ends_with("-blocking"));
            if !blocking {
                record.lock().unwrap().push(allowed_cpus());
            }
        })
        .build()
        .expect("building a NumaAware runtime");
    assert_eq!(rt.handle().memory_strategy(), MemoryStrategy::NumaAware);
    (rt, seen)
}

/// Many tasks, spawned from a worker in a burst that overflows its queue, each
/// yielding and waking the next through a channel, all joined.
async fn busy_work() -> usize {
    let (send, mut receive) = zokio::sync::mpsc::unbounded_channel();
    let handles: Vec<_> = (0..2000)
        .map(|i| {
            let send = send.clone();
            zokio::spawn(async move {
                zokio::task::yield_now().await;
                send.send(i).unwrap();
                i
            })
        })
        .collect();
    drop(send);
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.unwrap();
    }
    let mut received = 0;
    while receive.recv().await.is_some() {
        received += 1;
    }
    assert_eq!(received, 2000);
    sum
}

const BUSY_SUM: usize = 2000 * 1999 / 2;

/// What the start hooks recorded, once `count` threads have run theirs.
fn wait_for_workers(seen: &Mutex<Vec<Vec<usize>>>, count: usize) -> Vec<Vec<usize>> {
    let deadline = std::time::Instant::now() + common::HANG_GUARD;
    loop {
        let now = seen.lock().unwrap().clone();
        if now.len() >= count || std::time::Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Each recorded affinity is one node's CPU set, and each node has `per_node` (or
/// more, with takeover threads) workers.
fn check_pins(seen: &[Vec<usize>], nodes: &[Vec<usize>], per_node: usize) {
    for affinity in seen {
        assert!(
            nodes.contains(affinity),
            "a worker runs on {affinity:?}, which is not one node's CPUs {nodes:?}"
        );
    }
    for node in nodes {
        let count = seen.iter().filter(|a| *a == node).count();
        assert!(
            count >= per_node,
            "node {node:?} has {count} workers, expected {per_node}: {seen:?}"
        );
    }
}

#[test]
fn multi_thread_workers_are_pinned_node_by_node() {
    common::timed(|| {
        let (tree, nodes) = two_node_tree("numa-mt");
        let workers = 2 * nodes.len();
        let (rt, seen) = recording_runtime(Builder::new_multi_thread(), workers, tree.path());
        let sum = rt.block_on(async { zokio::spawn(busy_work()).await.unwrap() });
        assert_eq!(sum, BUSY_SUM);
        // From outside the runtime too: the shared global queue.
        assert_eq!(rt.block_on(busy_work()), BUSY_SUM);
        // Worker threads may start after the work is done.
        let seen_now = wait_for_workers(&seen, workers);
        assert_eq!(seen_now.len(), workers, "{seen_now:?}");
        check_pins(&seen_now, &nodes, 2);

        // A blocking thread, started by a pinned worker, gets back every CPU.
        let everywhere = allowed_cpus();
        let blocking = rt.block_on(async {
            zokio::spawn(async { zokio::task::spawn_blocking(allowed_cpus).await.unwrap() })
                .await
                .unwrap()
        });
        assert_eq!(blocking, everywhere);

        // The thread that takes over a worker blocked in `block_in_place` runs on
        // that worker's node, pinned before its start hook too.
        let affinity = rt.block_on(async {
            zokio::spawn(async {
                let before = allowed_cpus();
                zokio::task::block_in_place(|| {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                });
                before
            })
            .await
            .unwrap()
        });
        assert!(nodes.contains(&affinity), "{affinity:?} vs {nodes:?}");
        drop(rt);
        let seen_all = seen.lock().unwrap().clone();
        assert_eq!(seen_all.len(), workers + 1, "{seen_all:?}");
        check_pins(&seen_all, &nodes, 2);
    });
}

#[test]
fn thread_per_core_workers_are_pinned_node_by_node() {
    common::timed(|| {
        let (tree, nodes) = two_node_tree("numa-tpc");
        let workers = 2 * nodes.len();
        let (rt, seen) = recording_runtime(Builder::new_thread_per_core(), workers, tree.path());
        let sum = rt.block_on(async { zokio::spawn(busy_work()).await.unwrap() });
        assert_eq!(sum, BUSY_SUM);
        drop(rt);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), workers, "{seen:?}");
        check_pins(&seen, &nodes, 2);
    });
}

#[test]
fn current_thread_runs_unpinned() {
    common::timed(|| {
        let (tree, _nodes) = two_node_tree("numa-ct");
        let before = allowed_cpus();
        let (rt, seen) = recording_runtime(Builder::new_current_thread(), 1, tree.path());
        assert_eq!(rt.block_on(busy_work()), BUSY_SUM);
        // It runs on the caller's thread, whose affinity it leaves alone.
        assert_eq!(allowed_cpus(), before);
        drop(rt);
        assert!(seen.lock().unwrap().is_empty());
    });
}

#[test]
fn adaptive_follows_the_node_count() {
    let (two, nodes) = two_node_tree("numa-adaptive-two");
    let one = FakeSys::with_nodes("numa-adaptive-one", &[allowed_cpus()]);
    let missing = common::temp_path("numa-adaptive-missing");
    let multi = nodes.len() > 1;
    for (root, numa) in [
        (two.path(), multi),
        (one.path(), false),
        (missing.as_path(), false),
    ] {
        for mut builder in [Builder::new_multi_thread(), Builder::new_thread_per_core()] {
            let rt = builder
                .worker_threads(2)
                .memory(MemoryStrategy::Adaptive)
                .numa_sysfs_root(root)
                .build()
                .expect("a missing or one-node tree is not an error");
            let expected = if numa {
                MemoryStrategy::NumaAware
            } else {
                MemoryStrategy::Pooled
            };
            assert_eq!(rt.handle().memory_strategy(), expected, "{root:?}");
            assert_eq!(
                rt.block_on(async { zokio::spawn(busy_work()).await.unwrap() }),
                BUSY_SUM
            );
        }
    }
}

#[test]
fn the_environment_names_the_sysfs_root() {
    let (tree, nodes) = two_node_tree("numa-env");
    // Only this test reads the variable: the others name their root on the builder.
    std::env::set_var("ZOKIO_SYSFS_ROOT", tree.path());
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .memory(MemoryStrategy::Adaptive)
        .build();
    std::env::remove_var("ZOKIO_SYSFS_ROOT");
    let expected = if nodes.len() > 1 {
        MemoryStrategy::NumaAware
    } else {
        MemoryStrategy::Pooled
    };
    assert_eq!(rt.unwrap().handle().memory_strategy(), expected);
}
