//! How many workers a multi-thread runtime keeps busy: a load of tasks that each wait
//! on I/O and then compute spreads over every worker that has a CPU to run on, however
//! it started.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use common::{run_with_timeout, BODY_GUARD};
use zokio::io::ops;

/// Each task: an operation (its completion is reaped by the worker's own driver),
/// then a stretch of computing, many times over.
async fn io_then_compute(seen: Arc<Mutex<HashSet<ThreadId>>>) {
    for _ in 0..100 {
        ops::nop().await.unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_micros(50) {
            std::hint::spin_loop();
        }
        seen.lock().unwrap().insert(thread::current().id());
    }
}

/// How many times the load is run before the test gives up on seeing it spread.
/// A worker asks for help only while it has had at least 90% of a CPU since it last
/// ran out of tasks (a preempted one would only take turns with its helper), so
/// where other processes hold the CPUs one run may rightly keep every task on one
/// worker (about 1 run in 25 under ThreadSanitizer beside two CPU-burning
/// processes). A runtime that never asks for help fails every run.
const ATTEMPTS: usize = 3;

#[test]
fn a_saturated_worker_gets_help_from_the_others() {
    run_with_timeout(BODY_GUARD, || {
        // Help is only asked for where the helper can run beside the worker.
        let cpus = thread::available_parallelism().map_or(1, |n| n.get());
        let mut spreads = Vec::new();
        for _ in 0..ATTEMPTS {
            let threads = threads_running_the_load();
            spreads.push(threads);
            if threads >= cpus.min(2) {
                return;
            }
        }
        panic!(
            "in each of {ATTEMPTS} runs the tasks ran on fewer worker threads than \
             min(2 workers, {cpus} CPU(s)): {spreads:?}"
        );
    });
}

/// Run the load on a fresh two-worker runtime; how many worker threads ran its tasks.
fn threads_running_the_load() -> usize {
    let rt = common::multi_thread(2);
    let seen = Arc::new(Mutex::new(HashSet::new()));
    rt.block_on(async {
        // Spawned from one worker, so that they all start in its queue.
        let seen = seen.clone();
        zokio::spawn(async move {
            let tasks: Vec<_> = (0..16)
                .map(|_| zokio::spawn(io_then_compute(seen.clone())))
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        })
        .await
        .unwrap();
    });
    let threads = seen.lock().unwrap().len();
    threads
}
