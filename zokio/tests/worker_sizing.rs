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

#[test]
fn a_saturated_worker_gets_help_from_the_others() {
    run_with_timeout(BODY_GUARD, || {
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
        // Help is only asked for where the helper can run beside the worker.
        let cpus = thread::available_parallelism().map_or(1, |n| n.get());
        let threads = seen.lock().unwrap().len();
        assert!(
            threads >= cpus.min(2),
            "the tasks ran on {threads} worker thread(s) of 2, with {cpus} CPU(s)"
        );
    });
}
