//! The timer groups: what a `timeout` costs to build and drop, and how late
//! `sleep` wakes under load, on Zokio and on tokio.
//!
//! The two runtimes' timer types differ, so each workload takes the runtime's
//! own `timeout` or `sleep` and runs it through one shared loop; nothing else
//! may differ between them. Workload code only: rows and sizes are chosen in
//! `groups`.

use std::future::{pending, poll_fn, ready, Future};
use std::hint::black_box;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use crate::runtimes::{BenchRuntime, Tokio, Zokio};
use crate::workloads::{wait, Countdown, TickOnDrop};

/// The deadline of every timeout: far enough that none ever fires.
const TIMEOUT: Duration = Duration::from_secs(1);

/// Runs `fut` as a task (timers belong to the worker that polls them, so a
/// task is where timer code runs in practice) and gives back its output.
fn in_task<R, T, F>(rt: &R, fut: F) -> T
where
    R: BenchRuntime,
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rt.block_on(rx).expect("the timed task panicked")
}

/// Builds `n` futures with `make`, polls each once with the task's own
/// waker, checks it answered as expected, and drops it; returns the time it
/// all took. One task poll for the whole loop, so no scheduling is timed.
/// Each future is made to escape (`black_box`) so that the optimiser cannot
/// delete a construction and poll that have no visible effect.
async fn poll_each_once<F, M>(n: usize, expect_ready: bool, mut make: M) -> Duration
where
    F: Future,
    M: FnMut() -> F,
{
    poll_fn(move |cx| {
        let start = Instant::now();
        for _ in 0..n {
            let mut fut = pin!(make());
            black_box(&mut fut);
            let is_ready = black_box(fut.as_mut().poll(cx).is_ready());
            assert_eq!(
                is_ready, expect_ready,
                "a timeout answered {is_ready} where {expect_ready} was expected"
            );
        }
        Poll::Ready(start.elapsed())
    })
    .await
}

/// `n` Zokio timeouts built, polled once and dropped: around an inner future
/// that is ready (no timer is ever registered) or pending (the timer goes into
/// the wheel on the poll and out again on the drop).
pub fn zokio_timeouts(rt: &Zokio, n: usize, registered: bool) -> Duration {
    in_task(rt, async move {
        if registered {
            poll_each_once(n, false, || zokio::time::timeout(TIMEOUT, pending::<()>())).await
        } else {
            poll_each_once(n, true, || zokio::time::timeout(TIMEOUT, ready(()))).await
        }
    })
}

/// [`zokio_timeouts`] with tokio's `timeout`.
pub fn tokio_timeouts(rt: &Tokio, n: usize, registered: bool) -> Duration {
    in_task(rt, async move {
        if registered {
            poll_each_once(n, false, || tokio::time::timeout(TIMEOUT, pending::<()>())).await
        } else {
            poll_each_once(n, true, || tokio::time::timeout(TIMEOUT, ready(()))).await
        }
    })
}

/// `n` reads of the system clock, the floor under any `timeout` that takes
/// its deadline from the moment it is built (tokio's and Zokio's both do).
pub fn clock_reads(n: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        black_box(Instant::now());
    }
    start.elapsed()
}

/// `tasks` tasks, spawned at once, each awaiting `sleep(period)` `sleeps`
/// times; returns every sleep's lateness (time around the await minus
/// `period`, in ns, saturating) and the wall time until all were done.
/// Panics if any task did not finish its sleeps.
pub fn lateness<R, S>(
    rt: &R,
    tasks: usize,
    sleeps: usize,
    period: Duration,
    sleep: fn(Duration) -> S,
) -> (Vec<u32>, Duration)
where
    R: BenchRuntime,
    S: Future<Output = ()> + Send + 'static,
{
    let all: Arc<Mutex<Vec<u32>>> = Arc::new(Mutex::new(Vec::with_capacity(tasks * sleeps)));
    let start = Instant::now();
    let (cd, done) = Countdown::new(tasks);
    for _ in 0..tasks {
        let tick = TickOnDrop(cd.clone());
        let all = all.clone();
        rt.spawn(async move {
            let _tick = tick;
            let mut mine = Vec::with_capacity(sleeps);
            for _ in 0..sleeps {
                let before = Instant::now();
                sleep(period).await;
                mine.push(late_nanos(before.elapsed(), period));
            }
            all.lock().unwrap_or_else(|e| e.into_inner()).extend(mine);
        });
    }
    drop(cd);
    rt.block_on(wait(done));
    let wall = start.elapsed();
    let all = std::mem::take(&mut *all.lock().unwrap_or_else(|e| e.into_inner()));
    assert_eq!(
        all.len(),
        tasks * sleeps,
        "some sleeping tasks did not finish (a timer panicked?)"
    );
    (all, wall)
}

/// How much later than `asked` a wait of `took` ended, in ns, saturating at
/// both ends (an early wake counts as 0; more than 4 s as `u32::MAX`).
fn late_nanos(took: Duration, asked: Duration) -> u32 {
    u32::try_from(took.saturating_sub(asked).as_nanos()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_saturates() {
        let ms = Duration::from_millis(1);
        assert_eq!(late_nanos(ms + Duration::from_nanos(1_500), ms), 1_500);
        assert_eq!(late_nanos(Duration::from_micros(900), ms), 0);
        assert_eq!(late_nanos(Duration::from_secs(10), ms), u32::MAX);
    }

    #[test]
    fn timeouts_run_on_both_runtimes() {
        let z = Zokio::with_driver(1, zokio::runtime::Driver::Auto).unwrap();
        let t = Tokio::with_drivers(1).unwrap();
        for registered in [false, true] {
            zokio_timeouts(&z, 100, registered);
            tokio_timeouts(&t, 100, registered);
        }
    }

    #[test]
    fn lateness_counts_every_sleep() {
        let z = Zokio::with_driver(1, zokio::runtime::Driver::Auto).unwrap();
        let t = Tokio::with_drivers(1).unwrap();
        let ms = Duration::from_millis(1);
        let (late, _) = lateness(&z, 10, 3, ms, zokio::time::sleep);
        assert_eq!(late.len(), 30);
        let (late, _) = lateness(&t, 10, 3, ms, tokio::time::sleep);
        assert_eq!(late.len(), 30);
    }
}
