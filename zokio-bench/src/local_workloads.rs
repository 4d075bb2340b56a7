//! The workloads of the `local_spawn` and `sync_ping_pong` groups: `!Send`
//! tasks on a `LocalSet`, and an mpsc ping-pong between two tasks, each on a
//! current-thread runtime so that every task runs on the bench thread.
//!
//! Each function is the same workload written once per runtime (the types
//! differ, the steps do not) and returns only the time it measured. It must
//! never know which row it feeds, and never give one runtime a step the
//! other does not take: the runtimes are built here with the same settings
//! (a current-thread scheduler with its I/O and time drivers on).

use std::hint::black_box;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A current-thread Zokio runtime on its default driver.
pub fn zokio_current_thread() -> io::Result<zokio::runtime::Runtime> {
    zokio::runtime::Builder::new_current_thread().build()
}

/// A current-thread tokio runtime with its drivers on, as Zokio's always are.
pub fn tokio_current_thread() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Spawns `tasks` `!Send` tasks on a fresh `zokio::task::LocalSet` inside
/// `block_on(local.run_until(..))` and awaits every handle; timed from the
/// first spawn until the last handle is done.
pub fn zokio_local_spawn(rt: &zokio::runtime::Runtime, tasks: u64) -> Duration {
    let local = zokio::task::LocalSet::new();
    rt.block_on(local.run_until(async move {
        let shared = Rc::new(black_box(1u64));
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                let shared = Rc::clone(&shared);
                zokio::task::spawn_local(async move { black_box(*shared + i) })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.expect("a local task panicked");
        }
        let took = start.elapsed();
        black_box(sum);
        took
    }))
}

/// [`zokio_local_spawn`] on tokio's `LocalSet` and current-thread runtime.
pub fn tokio_local_spawn(rt: &tokio::runtime::Runtime, tasks: u64) -> Duration {
    let local = tokio::task::LocalSet::new();
    rt.block_on(local.run_until(async move {
        let shared = Rc::new(black_box(1u64));
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                let shared = Rc::clone(&shared);
                tokio::task::spawn_local(async move { black_box(*shared + i) })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.expect("a local task panicked");
        }
        let took = start.elapsed();
        black_box(sum);
        took
    }))
}

/// One ping-pong run: a pinger task sends a number through a channel of
/// capacity 1 and waits for a ponger task to send it back, `$trips` times;
/// the pinger times its own loop. `$mpsc` names the channel module and
/// `$spawn` the spawn function, so the three contenders share every step.
macro_rules! ping_pong {
    ($rt:expr, $trips:expr, $mpsc:path, $spawn:path) => {{
        use $mpsc as mpsc;
        let trips: u64 = $trips;
        $rt.block_on(async move {
            let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
            let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
            let ponger = $spawn(async move {
                while let Some(v) = ping_rx.recv().await {
                    if pong_tx.send(v).await.is_err() {
                        break;
                    }
                }
            });
            let pinger = $spawn(async move {
                let start = Instant::now();
                for i in 0..trips {
                    ping_tx.send(i).await.expect("the ponger left early");
                    let back = pong_rx.recv().await.expect("the ponger left early");
                    black_box(back);
                }
                // `ping_tx` drops as this task ends, which ends the ponger's loop.
                start.elapsed()
            });
            let took = pinger.await.expect("the pinger panicked");
            ponger.await.expect("the ponger panicked");
            took
        })
    }};
}

/// The ping-pong through Zokio's cooperative wrappers (`zokio::sync::mpsc`).
pub fn zokio_wrapped_ping_pong(rt: &zokio::runtime::Runtime, trips: u64) -> Duration {
    ping_pong!(rt, trips, zokio::sync::mpsc, zokio::spawn)
}

/// The ping-pong through tokio's own `mpsc` on a Zokio runtime: what the
/// wrappers add is the difference from [`zokio_wrapped_ping_pong`].
pub fn zokio_bare_ping_pong(rt: &zokio::runtime::Runtime, trips: u64) -> Duration {
    ping_pong!(rt, trips, tokio::sync::mpsc, zokio::spawn)
}

/// The ping-pong through tokio's `mpsc` on tokio's current-thread runtime.
pub fn tokio_ping_pong(rt: &tokio::runtime::Runtime, trips: u64) -> Duration {
    ping_pong!(rt, trips, tokio::sync::mpsc, tokio::spawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_completes() {
        let z = zokio_current_thread().unwrap();
        let t = tokio_current_thread().unwrap();
        zokio_local_spawn(&z, 100);
        tokio_local_spawn(&t, 100);
        zokio_wrapped_ping_pong(&z, 100);
        zokio_bare_ping_pong(&z, 100);
        tokio_ping_pong(&t, 100);
    }
}
