//! A user-defined compile-time configuration: the scheduler and memory strategy are
//! types, the tuning is consts, and `Runtime::<C>::INFO` reports the result.

use zokio::config::{MultiThread, System};
use zokio::runtime::Runtime;

/// Two workers that look at the global queue more often than the default.
struct TwoWorkers;

impl zokio::Config for TwoWorkers {
    type Scheduler = MultiThread;
    type Driver = zokio::config::AutoDriver;
    type Memory = System;
    const WORKER_THREADS: usize = 2;
    const GLOBAL_QUEUE_INTERVAL: u32 = 16;
    const THREAD_NAME: &'static str = "two-workers";
}

fn main() -> std::io::Result<()> {
    let info = Runtime::<TwoWorkers>::INFO;
    println!("{info:#?}");
    let rt = Runtime::<TwoWorkers>::with_config()?;
    let names = rt.block_on(async {
        let handles: Vec<_> = (0..4)
            .map(|_| zokio::spawn(async { std::thread::current().name().map(str::to_owned) }))
            .collect();
        let mut names = Vec::new();
        for handle in handles {
            names.push(handle.await.expect("task finished"));
        }
        names
    });
    println!("tasks ran on {names:?}");
    Ok(())
}
