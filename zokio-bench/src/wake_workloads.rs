//! `cross_thread_wake`: how long a task takes to run after a thread outside
//! the runtime wakes it, with the runtime idle, its workers parked in the
//! kernel.
//!
//! Ping-pong through a neutral future (std atomics, a mutex and the task's
//! own `Waker`), written once and run unchanged on every runtime: the bench
//! thread waits until the task is waiting again, lets the workers go idle,
//! reads the clock and wakes it; the task reads the clock when it runs. It
//! must never use a runtime's own sync types. Workload code only: rows and
//! sizes are chosen in `groups`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crate::runtimes::BenchRuntime;

/// Sleep between the task arming and the next wake: long enough for every
/// worker to have parked in the kernel, so each wake finds an idle runtime.
pub const IDLE_GAP: Duration = Duration::from_micros(20);

/// One step of the ping-pong taking longer than this means a lost wake-up.
const STEP_LIMIT: Duration = Duration::from_secs(10);

struct Shared {
    epoch: Instant,
    /// The last wake the bench thread sent (1-based).
    ping: AtomicU64,
    /// The wake the task is waiting for, set once its waker is stored.
    armed: AtomicU64,
    /// `epoch`-relative ns, read just before the last `wake()`.
    woke_at: AtomicU64,
    waker: Mutex<Option<Waker>>,
}

impl Shared {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }
}

/// Ready once the bench thread has sent wake number `target`.
struct WaitPing<'a> {
    shared: &'a Shared,
    target: u64,
}

impl Future for WaitPing<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let s = self.shared;
        if s.ping.load(Ordering::Acquire) >= self.target {
            return Poll::Ready(());
        }
        *s.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        s.armed.store(self.target, Ordering::Release);
        // A wake sent between the first check and the store above found no
        // waker for this target: look again rather than sleep through it.
        if s.ping.load(Ordering::Acquire) >= self.target {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// Spins (yielding the CPU) until `done`, for at most [`STEP_LIMIT`].
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > STEP_LIMIT {
            panic!("{what}: nothing after {STEP_LIMIT:?} (a lost wake-up?)");
        }
        thread::yield_now();
    }
}

/// Wakes one task of `rt` `wakes` times from the bench thread, one at a time
/// on an idle runtime; returns each wake's wake-to-run latency in ns.
pub fn wake_latency<R: BenchRuntime>(rt: &R, wakes: usize) -> Vec<u64> {
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        ping: AtomicU64::new(0),
        armed: AtomicU64::new(0),
        woke_at: AtomicU64::new(0),
        waker: Mutex::new(None),
    });
    let (tx, rx) = mpsc::channel();
    let task_shared = shared.clone();
    rt.spawn(async move {
        let s = &*task_shared;
        let mut latencies = Vec::with_capacity(wakes);
        for target in 1..=wakes as u64 {
            WaitPing { shared: s, target }.await;
            let ran = s.now();
            latencies.push(ran.saturating_sub(s.woke_at.load(Ordering::Acquire)));
        }
        let _ = tx.send(latencies);
    });
    for target in 1..=wakes as u64 {
        wait_until("waiting for the task to wait again", || {
            shared.armed.load(Ordering::Acquire) >= target
        });
        thread::sleep(IDLE_GAP);
        let waker = shared
            .waker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("an armed task left its waker");
        shared.woke_at.store(shared.now(), Ordering::Release);
        shared.ping.store(target, Ordering::Release);
        waker.wake();
    }
    rx.recv_timeout(STEP_LIMIT)
        .expect("the woken task never reported")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtimes::{Tokio, Zokio};

    #[test]
    fn every_wake_is_measured() {
        let z = Zokio::new(2).unwrap();
        let lat = wake_latency(&z, 50);
        assert_eq!(lat.len(), 50);
        let t = Tokio::new(2).unwrap();
        assert_eq!(wake_latency(&t, 50).len(), 50);
    }
}
