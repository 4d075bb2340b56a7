//! `zokio::time` on real runtimes: sleep ordering, cancellation, reset, timers that
//! move between threads, far-future deadlines, `timeout`, `interval` with each
//! missed-tick behaviour, the paused clock, shutdown and the cooperative budget.
//!
//! Real-time tests only assert lower bounds (a timer never fires early) and upper
//! bounds that only a hang reaches ([`SLACK`]), so neither a loaded machine nor a
//! sanitizer build can fail them; anything about exact timing runs on a paused
//! clock.

mod common;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use common::{panic_message, quiet_panics_with, timed, HANG_GUARD};
use zokio::runtime::{Builder, Runtime};
use zokio::sync::{mpsc, oneshot};
use zokio::time::{
    self, interval, interval_at, sleep, sleep_until, timeout, timeout_at, Instant,
    MissedTickBehavior, Sleep,
};

/// Far beyond any test's run time: a timer this far out must not have fired.
const LONG: Duration = Duration::from_secs(3600);
/// Upper bound for "promptly": reached only by a timer that never fires (or fires
/// only on some unrelated wake-up), never by a slow build (ThreadSanitizer, a
/// loaded 2-core machine), which a tighter bound would fail for no bug.
const SLACK: Duration = HANG_GUARD;

/// The runtime's own messages for the panics these tests provoke on purpose, kept
/// quiet by the panic hook (see `common::quiet_panics_with`). Should one change,
/// its panic merely prints again; what the tests assert about it is checked apart.
const PAUSE_ON_MULTI_THREAD: &str = "`zokio::time::pause()` requires the current-thread \
    runtime (the default of `#[zokio::test]`), but this runtime is MultiThread: build it \
    with `Builder::new_current_thread()`";
const PAUSE_TWICE: &str = "time is already frozen: `time::pause()` was called twice";
const NO_TIMER: &str = "there is no timer running, must be called from the context of a \
    Zokio runtime: await the timer inside `Runtime::block_on` or a task spawned on a runtime";
const SHUTTING_DOWN: &str =
    "A Zokio runtime was found, but it is being shut down: its timers no longer fire";

/// `zokio::time::pause()`'s panic outside a runtime.
fn pause_outside_a_runtime() -> String {
    // A fresh thread has no runtime, whatever the caller's thread has.
    let no_runtime = std::thread::spawn(|| {
        zokio::runtime::Handle::try_current()
            .unwrap_err()
            .to_string()
    })
    .join()
    .unwrap();
    format!("`zokio::time::pause()` {no_runtime}")
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .build()
        .expect("current-thread runtime")
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("multi-thread runtime")
}

fn paused() -> Runtime {
    Builder::new_current_thread()
        .start_paused(true)
        .build()
        .expect("paused current-thread runtime")
}

/// Both real-time flavours, named for assertion messages.
fn real_runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        ("current_thread", current_thread()),
        ("multi_thread(2)", multi_thread()),
    ]
}

/// Counts wake-ups, to prove that a cancelled timer never wakes anyone.
#[derive(Default)]
struct WakeCount(AtomicUsize);

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl WakeCount {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Poll `sleep` once with `waker`, expecting it to register and stay pending.
fn poll_pending<S: Future<Output = ()> + Unpin>(sleep: &mut S, waker: &Waker) {
    let mut cx = Context::from_waker(waker);
    assert!(Pin::new(sleep).poll(&mut cx).is_pending());
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn public_types_are_send_and_sync() {
    assert_send_sync::<Sleep>();
    assert_send_sync::<time::Interval>();
    assert_send_sync::<time::Timeout<std::future::Ready<u8>>>();
    assert_send_sync::<time::error::Elapsed>();
    assert_send_sync::<Instant>();
}

#[zokio::test]
async fn sleep_never_ends_early() {
    for d in [0, 1, 5, 20] {
        let start = std::time::Instant::now();
        sleep(ms(d)).await;
        let took = start.elapsed();
        assert!(took >= ms(d), "sleep({d} ms) took only {took:?}");
        assert!(took < SLACK, "sleep({d} ms) took {took:?}");
    }
}

#[test]
fn sleeps_on_every_flavour_wake_at_or_after_their_deadline() {
    timed(|| {
        for (name, rt) in real_runtimes() {
            rt.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = (0..40u64)
                    .map(|i| {
                        let deadline = start + ms((i * 7) % 40 + 1);
                        zokio::spawn(async move {
                            sleep_until(deadline).await;
                            Instant::now().checked_duration_since(deadline).is_some()
                        })
                    })
                    .collect();
                for task in tasks {
                    assert!(
                        task.await.unwrap(),
                        "{name}: a sleep woke before its deadline"
                    );
                }
                assert!(
                    start.elapsed() < SLACK,
                    "{name}: took {:?}",
                    start.elapsed()
                );
            });
        }
    })
}

#[test]
fn many_sleeps_fire_in_deadline_order() {
    timed(|| {
        let rt = paused();
        let order = rt.block_on(async {
            let order = Arc::new(Mutex::new(Vec::new()));
            let start = Instant::now();
            // A fixed permutation of 0..200, so spawn order is not deadline order.
            let tasks: Vec<_> = (0..200u64)
                .map(|i| (i * 71) % 200)
                .map(|i| {
                    let order = order.clone();
                    zokio::spawn(async move {
                        sleep(ms(i * 3 + 1)).await;
                        assert_eq!(Instant::now() - start, ms(i * 3 + 1), "woke off its tick");
                        order.lock().unwrap().push(i);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let order = order.lock().unwrap().clone();
            order
        });
        assert_eq!(order, (0..200).collect::<Vec<_>>());
    })
}

#[test]
fn real_time_sleeps_on_one_thread_fire_in_order() {
    timed(|| {
        let rt = current_thread();
        // The order is only defined if every sleep is registered (pending at its
        // first poll) before the first deadline: one already due at its first poll
        // completes at once, in poll order. A thread held up past `lead` between
        // spawning and polling the tasks (a slow build, a loaded machine) makes the
        // round say nothing, so it is run again with a longer lead, not failed.
        for lead in (1..=12).map(|n| ms(1 << n)) {
            let (order, all_registered) = rt.block_on(async move {
                let order = Arc::new(Mutex::new(Vec::new()));
                let start = Instant::now();
                let tasks: Vec<_> = [9u64, 3, 7, 1, 5, 8, 2, 6, 4, 0]
                    .into_iter()
                    .map(|i| {
                        let order = order.clone();
                        zokio::spawn(async move {
                            let mut s = Box::pin(sleep_until(start + lead + ms(i * 4)));
                            let registered =
                                std::future::poll_fn(|cx| Poll::Ready(s.as_mut().poll(cx)))
                                    .await
                                    .is_pending();
                            if registered {
                                s.await;
                            }
                            order.lock().unwrap().push(i);
                            registered
                        })
                    })
                    .collect();
                let mut all_registered = true;
                for task in tasks {
                    all_registered &= task.await.unwrap();
                }
                let order = order.lock().unwrap().clone();
                (order, all_registered)
            });
            if all_registered {
                assert_eq!(order, (0..10).collect::<Vec<_>>(), "lead {lead:?}");
                return;
            }
        }
        panic!("ten sleeps could not even be registered within 4 s of their spawn");
    })
}

#[test]
fn a_dropped_sleep_never_wakes() {
    timed(|| {
        for (name, rt) in real_runtimes() {
            rt.block_on(async {
                let count = Arc::new(WakeCount::default());
                let waker = Waker::from(count.clone());
                for _ in 0..100 {
                    let mut s = sleep(ms(5));
                    // Pending, unless this thread was descheduled for 5 ms since `sleep`.
                    let _ = Pin::new(&mut s).poll(&mut Context::from_waker(&waker));
                    drop(s);
                }
                // A thread descheduled for 5 ms between the poll and the drop (a loaded
                // machine, a sanitizer) sees its sleep expire and wake, rightly: only a
                // wake after the drop returned is wrong.
                let woken_before_their_drop = count.get();
                sleep(ms(40)).await;
                assert_eq!(
                    count.get(),
                    woken_before_their_drop,
                    "{name}: a dropped sleep woke its task"
                );
            });
        }
    })
}

#[test]
fn registering_and_dropping_many_timers_is_cheap() {
    timed(|| {
        let rt = current_thread();
        rt.block_on(async {
            let waker = Waker::from(Arc::new(WakeCount::default()));
            let start = std::time::Instant::now();
            for i in 0..100_000u64 {
                let mut s = sleep(ms(1 + i % 5000));
                poll_pending(&mut s, &waker);
            }
            // A guard against a gross blow-up only (a healthy debug run takes well
            // under a second); a bound tight enough to measure speed would fail
            // slow builds (ThreadSanitizer) for no bug.
            assert!(
                start.elapsed() < SLACK,
                "100,000 timers took {:?}",
                start.elapsed()
            );
            // The wheel must be empty again: the worker then parks with no timeout,
            // which a short sleep still interrupts correctly.
            sleep(ms(2)).await;
        });
    })
}

#[test]
fn reset_earlier_later_and_after_completion() {
    timed(|| {
        for (name, rt) in real_runtimes() {
            rt.block_on(async {
                // Earlier: an hour becomes 20 ms.
                let start = Instant::now();
                let mut s = Box::pin(sleep(LONG));
                let waker = Waker::from(Arc::new(WakeCount::default()));
                poll_pending(&mut s, &waker);
                s.as_mut().reset(Instant::now() + ms(20));
                s.as_mut().await;
                let took = start.elapsed();
                assert!(
                    took >= ms(20) && took < SLACK,
                    "{name}: earlier reset took {took:?}"
                );
                assert!(s.is_elapsed());

                // After completion: pending again until the new deadline.
                let again = Instant::now();
                s.as_mut().reset(again + ms(15));
                assert!(!s.is_elapsed());
                s.as_mut().await;
                assert!(again.elapsed() >= ms(15), "{name}: reset after completion");

                // Later: 10 ms becomes 60 ms.
                let start = Instant::now();
                let mut s = Box::pin(sleep(ms(10)));
                poll_pending(&mut s, &waker);
                s.as_mut().reset(start + ms(60));
                assert_eq!(s.deadline(), start + ms(60));
                s.as_mut().await;
                assert!(start.elapsed() >= ms(60), "{name}: later reset fired early");
            });
        }
    })
}

#[test]
fn reset_wakes_the_task_without_a_new_poll() {
    timed(|| {
        for (name, rt) in real_runtimes() {
            rt.block_on(async {
                let count = Arc::new(WakeCount::default());
                let waker = Waker::from(count.clone());
                let mut s = sleep(LONG);
                poll_pending(&mut s, &waker);
                Pin::new(&mut s).reset(Instant::now() + ms(10));
                let start = std::time::Instant::now();
                while count.get() == 0 {
                    assert!(start.elapsed() < SLACK, "{name}: reset timer never woke");
                    sleep(ms(5)).await;
                }
                assert!(s.is_elapsed());
            });
        }
    })
}

/// A timer registered by one task travels to another task (on whichever worker it
/// runs), which resets or drops it.
#[test]
fn a_timer_moves_between_tasks_and_workers() {
    timed(|| {
        let rt = multi_thread();
        rt.block_on(async {
            let mut done = Vec::new();
            let mut threads = Vec::new();
            for i in 0..16u64 {
                let (tx, mut rx) = mpsc::channel::<(Sleep, std::thread::ThreadId)>(1);
                let producer = zokio::spawn(async move {
                    let mut s = sleep(LONG);
                    // Register on this worker's wheel, then hand it over.
                    let waker = Waker::from(Arc::new(WakeCount::default()));
                    poll_pending(&mut s, &waker);
                    tx.send((s, std::thread::current().id()))
                        .await
                        .ok()
                        .unwrap();
                });
                let consumer = zokio::spawn(async move {
                    let (mut s, from) = rx.recv().await.unwrap();
                    let here = std::thread::current().id();
                    if i % 2 == 0 {
                        let start = Instant::now();
                        Pin::new(&mut s).reset(start + ms(10));
                        s.await;
                        assert!(start.elapsed() >= ms(10));
                    } else {
                        drop(s);
                    }
                    (from, here)
                });
                producer.await.unwrap();
                done.push(consumer);
            }
            for task in done {
                threads.push(task.await.unwrap());
            }
            assert_eq!(threads.len(), 16);
        });
    })
}

/// The same, with the other side on a thread that is no worker at all.
#[test]
fn a_timer_is_reset_and_dropped_from_outside_the_runtime() {
    timed(|| {
        for (name, rt) in real_runtimes() {
            rt.block_on(async {
                let count = Arc::new(WakeCount::default());
                let waker = Waker::from(count.clone());

                let mut dropped = sleep(ms(10));
                poll_pending(&mut dropped, &waker);
                std::thread::spawn(move || drop(dropped)).join().unwrap();

                let mut moved = sleep(LONG);
                poll_pending(&mut moved, &waker);
                let (tx, rx) = oneshot::channel();
                std::thread::spawn(move || {
                    Pin::new(&mut moved).reset(Instant::now() + ms(15));
                    tx.send(moved).unwrap();
                });
                let moved = rx.await.unwrap();
                let start = std::time::Instant::now();
                moved.await;
                assert!(start.elapsed() < SLACK, "{name}");
                // Only the reset timer may have woken the waker: the dropped one not.
                sleep(ms(20)).await;
                assert!(count.get() <= 1, "{name}: {} wake-ups", count.get());

                // A blocking-pool thread (in the runtime's context) drops one too.
                let mut blocking = sleep(ms(5));
                poll_pending(&mut blocking, &waker);
                zokio::task::spawn_blocking(move || drop(blocking))
                    .await
                    .unwrap();
            });
        }
    })
}

/// A thread outside the workers registers a timer while every worker sleeps with
/// no timeout: the owning worker must be woken to take the new deadline into account.
#[test]
fn remote_registration_wakes_a_parked_worker() {
    timed(|| {
        let rt = multi_thread();
        let handle = rt.handle().clone();
        for _ in 0..4 {
            let start = std::time::Instant::now();
            let out = handle.block_on(async {
                sleep(ms(20)).await;
                7
            });
            assert_eq!(out, 7);
            let took = start.elapsed();
            assert!(took >= ms(20) && took < SLACK, "took {took:?}");
        }
        let task = rt.spawn(async {
            let (tx, rx) = oneshot::channel();
            std::thread::spawn(move || tx.send(()).unwrap());
            rx.await.unwrap();
            sleep(ms(10)).await;
        });
        rt.block_on(task).unwrap();
    })
}

#[test]
fn far_future_deadlines_never_fire_early_and_drop_cleanly() {
    timed(|| {
        for (name, rt) in real_runtimes() {
            rt.block_on(async {
                let century = Instant::now() + Duration::from_secs(100 * 365 * 86400);
                let mut far = sleep_until(century);
                assert!(timeout(ms(30), &mut far).await.is_err(), "{name}");
                assert!(!far.is_elapsed(), "{name}");
                drop(far);

                let mut forever = sleep(Duration::MAX);
                assert!(timeout(ms(10), &mut forever).await.is_err(), "{name}");
                let mut reset_far = Box::pin(sleep(ms(5)));
                let waker = Waker::from(Arc::new(WakeCount::default()));
                poll_pending(&mut reset_far, &waker);
                reset_far.as_mut().reset(century);
                assert!(timeout(ms(20), reset_far.as_mut()).await.is_err(), "{name}");
            });
        }
    })
}

#[test]
fn far_future_deadline_on_a_paused_clock_fires_exactly_once_due() {
    timed(|| {
        let rt = paused();
        rt.block_on(async {
            let start = Instant::now();
            let year = Duration::from_secs(365 * 86400);
            let century = start + year * 100;
            let mut far = Box::pin(sleep_until(century));
            let waker = Waker::from(Arc::new(WakeCount::default()));
            poll_pending(&mut far, &waker);
            time::advance(year * 99).await;
            assert!(!far.is_elapsed());
            far.as_mut().await;
            assert_eq!(Instant::now(), century);
        });
    })
}

#[zokio::test]
async fn timeout_passes_the_value_through_or_reports_elapsed() {
    assert_eq!(timeout(Duration::from_secs(1), async { 5 }).await, Ok(5));
    let slow = timeout(ms(10), std::future::pending::<()>()).await;
    let err = slow.unwrap_err();
    assert_eq!(err.to_string(), "deadline has elapsed");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);

    let start = std::time::Instant::now();
    let out = timeout(SLACK, async {
        sleep(ms(10)).await;
        "late but in time"
    })
    .await;
    assert_eq!(out, Ok("late but in time"));
    assert!(start.elapsed() >= ms(10));

    // A zero duration: a ready future still wins, a pending one loses at once.
    assert_eq!(timeout(Duration::ZERO, async { 2 }).await, Ok(2));
    assert!(timeout(Duration::ZERO, std::future::pending::<()>())
        .await
        .is_err());

    // A deadline already past still lets a ready future win, as in tokio.
    let past = Instant::now() - ms(1);
    assert_eq!(timeout_at(past, async { 1 }).await, Ok(1));
    assert!(timeout_at(past, std::future::pending::<()>())
        .await
        .is_err());

    let mut t = timeout(ms(1), std::future::ready(3));
    assert_eq!(t.get_ref().clone().await, 3);
    assert_eq!(t.get_mut().await, 3);
    drop(t.into_inner());
}

#[test]
fn timeout_on_a_paused_clock_is_exact() {
    timed(|| {
        let rt = paused();
        rt.block_on(async {
            let start = Instant::now();
            assert!(timeout(ms(10), sleep(ms(20))).await.is_err());
            assert_eq!(Instant::now() - start, ms(10));
            assert_eq!(timeout(ms(20), sleep(ms(10))).await, Ok(()));
            assert_eq!(Instant::now() - start, ms(20));
            let at = start + ms(50);
            assert!(timeout_at(at, std::future::pending::<()>()).await.is_err());
            assert_eq!(Instant::now(), at);
        });
    })
}

#[test]
fn timeout_on_every_flavour_fires_never_early() {
    timed(|| {
        for (name, rt) in real_runtimes() {
            rt.block_on(async {
                let tasks: Vec<_> = (1..=20u64)
                    .map(|i| {
                        zokio::spawn(async move {
                            let start = std::time::Instant::now();
                            let r = timeout(ms(i), std::future::pending::<()>()).await;
                            (r.is_err(), start.elapsed() >= ms(i))
                        })
                    })
                    .collect();
                for task in tasks {
                    assert_eq!(task.await.unwrap(), (true, true), "{name}");
                }
            });
        }
    })
}

#[test]
fn timeout_fires_even_if_the_inner_future_spends_the_whole_budget() {
    timed(|| {
        for (name, rt) in real_runtimes() {
            rt.block_on(async {
                let task = zokio::spawn(async {
                    timeout(ms(20), async {
                        loop {
                            zokio::task::consume_budget().await;
                        }
                    })
                    .await
                });
                assert!(task.await.unwrap().is_err(), "{name}");
            });
        }
    })
}

#[test]
fn ready_timers_respect_the_cooperative_budget() {
    timed(|| {
        let rt = current_thread();
        rt.block_on(async {
            let flag = Arc::new(AtomicBool::new(false));
            // The spinner is queued first, so it runs first and only a yield lets
            // the setter in.
            let spinner = {
                let flag = flag.clone();
                zokio::spawn(async move {
                    let past = Instant::now();
                    for i in 0..10_000u32 {
                        if flag.load(Ordering::SeqCst) {
                            return Some(i);
                        }
                        sleep_until(past).await;
                    }
                    None
                })
            };
            let setter = {
                let flag = flag.clone();
                zokio::spawn(async move { flag.store(true, Ordering::SeqCst) })
            };
            setter.await.unwrap();
            let seen_at = spinner.await.unwrap();
            assert!(seen_at.is_some(), "an always-ready sleep never yielded");
        });
    })
}

#[test]
fn interval_ticks_at_its_period() {
    timed(|| {
        for (name, rt) in real_runtimes() {
            rt.block_on(async {
                let start = Instant::now();
                let mut iv = interval(ms(10));
                assert_eq!(iv.period(), ms(10));
                assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
                // The first tick is immediate: ready at its first poll (however long
                // this thread was held up since `start`), scheduled at or after
                // `start` and not after now.
                let first = match std::future::poll_fn(|cx| Poll::Ready(iv.poll_tick(cx))).await {
                    Poll::Ready(t) => t,
                    Poll::Pending => panic!("{name}: the first tick is not immediate"),
                };
                assert!(
                    first >= start && first <= Instant::now(),
                    "{name}: first tick scheduled for {first:?}, started at {start:?}"
                );
                for k in 1..=4u32 {
                    let t = iv.tick().await;
                    assert_eq!(t, first + ms(10) * k, "{name}: ticks keep the schedule");
                    assert!(Instant::now() >= t, "{name}: tick before its time");
                }
                assert!(start.elapsed() < SLACK);
            });
        }
    })
}

#[test]
#[should_panic(expected = "`period` must be non-zero.")]
fn interval_with_zero_period_panics() {
    quiet_panics_with(&["`period` must be non-zero."]);
    let _ = interval(Duration::ZERO);
}

/// Ticks of an interval started at `t0` with period 10 ms when the task misses
/// ticks by being away from 0 to 35 ms (paused clock: exact).
fn missed_ticks(behavior: MissedTickBehavior) -> Vec<u64> {
    let rt = paused();
    rt.block_on(async move {
        let t0 = Instant::now();
        let mut iv = interval_at(t0, ms(10));
        iv.set_missed_tick_behavior(behavior);
        assert_eq!(iv.missed_tick_behavior(), behavior);
        let mut ticks = vec![(iv.tick().await - t0).as_millis() as u64];
        time::advance(ms(35)).await;
        for _ in 0..4 {
            let t = iv.tick().await;
            ticks.push((t - t0).as_millis() as u64);
        }
        ticks.push((Instant::now() - t0).as_millis() as u64);
        ticks
    })
}

#[test]
fn interval_missed_tick_behaviours_match_tokio() {
    timed(|| {
        // Scheduled times of five ticks, then the clock after the last one.
        assert_eq!(
            missed_ticks(MissedTickBehavior::Burst),
            [0, 10, 20, 30, 40, 40]
        );
        assert_eq!(
            missed_ticks(MissedTickBehavior::Delay),
            [0, 10, 45, 55, 65, 65]
        );
        assert_eq!(
            missed_ticks(MissedTickBehavior::Skip),
            [0, 10, 40, 50, 60, 60]
        );
    })
}

#[test]
fn interval_reset_restarts_the_schedule() {
    timed(|| {
        let rt = paused();
        rt.block_on(async {
            let t0 = Instant::now();
            let mut iv = interval(ms(10));
            iv.tick().await;
            time::advance(ms(3)).await;
            iv.reset();
            assert_eq!(iv.tick().await - t0, ms(13));
            iv.reset_immediately();
            assert_eq!(iv.tick().await - t0, ms(13));
            iv.reset_after(ms(7));
            assert_eq!(iv.tick().await - t0, ms(20));
            iv.reset_at(t0 + ms(100));
            assert_eq!(iv.tick().await - t0, ms(100));
            assert_eq!(iv.tick().await - t0, ms(110));
        });
    })
}

#[test]
fn paused_clock_runs_timers_without_real_waiting() {
    timed(|| {
        let rt = paused();
        let real = std::time::Instant::now();
        rt.block_on(async {
            let start = Instant::now();
            std::thread::sleep(ms(5));
            assert_eq!(Instant::now(), start, "a paused clock stands still");
            sleep(LONG).await;
            assert_eq!(Instant::now() - start, LONG);
            let r = timeout(LONG, std::future::pending::<()>()).await;
            assert!(r.is_err());
            assert_eq!(Instant::now() - start, LONG * 2);
        });
        assert!(
            real.elapsed() < SLACK,
            "a paused clock must not wait for real"
        );
    })
}

#[test]
fn advance_fires_exactly_the_timers_it_passes() {
    timed(|| {
        let rt = paused();
        rt.block_on(async {
            let fired = Arc::new(Mutex::new(Vec::new()));
            for d in [10u64, 20, 30] {
                let fired = fired.clone();
                zokio::spawn(async move {
                    sleep(ms(d)).await;
                    fired.lock().unwrap().push(d);
                });
            }
            zokio::task::yield_now().await; // let them register
            time::advance(ms(9)).await;
            assert!(fired.lock().unwrap().is_empty());
            time::advance(ms(1)).await;
            assert_eq!(*fired.lock().unwrap(), [10]);
            time::advance(ms(15)).await;
            assert_eq!(*fired.lock().unwrap(), [10, 20]);
            time::advance(ms(5)).await;
            assert_eq!(*fired.lock().unwrap(), [10, 20, 30]);
        });
    })
}

#[zokio::test]
async fn pause_and_resume_in_the_test_body() {
    time::pause();
    let start = Instant::now();
    let mut s = Box::pin(sleep(ms(10)));
    let waker = Waker::from(Arc::new(WakeCount::default()));
    poll_pending(&mut s, &waker);
    time::advance(ms(10)).await;
    assert!(s.is_elapsed());
    assert_eq!(Instant::now() - start, ms(10));
    // Auto-advance: an hour passes at once.
    sleep(LONG).await;
    assert_eq!(Instant::now() - start, LONG + ms(10));
    time::resume();
    let before = Instant::now();
    sleep(ms(5)).await;
    assert!(Instant::now() - before >= ms(5));
    assert!(
        Instant::now() >= start + LONG,
        "resumed time continues from paused time"
    );
}

#[test]
fn pause_requires_a_current_thread_runtime() {
    quiet_panics_with(&[
        PAUSE_ON_MULTI_THREAD.to_string(),
        pause_outside_a_runtime(),
        PAUSE_TWICE.to_string(),
    ]);
    timed(|| {
        let rt = multi_thread();
        let msg = rt.block_on(async {
            let err = catch_unwind(time::pause).unwrap_err();
            panic_message(&*err).unwrap()
        });
        assert!(msg.contains("current-thread"), "{msg}");
        let msg = panic_message(&*catch_unwind(time::pause).unwrap_err()).unwrap();
        assert!(msg.contains("outside"), "{msg}");
        let rt = paused();
        let msg = rt.block_on(async {
            let err = catch_unwind(time::pause).unwrap_err();
            panic_message(&*err).unwrap()
        });
        assert!(msg.contains("already frozen"), "{msg}");
    })
}

#[test]
fn sleeping_outside_a_runtime_panics_with_a_clear_message() {
    quiet_panics_with(&[NO_TIMER]);
    let count = Arc::new(WakeCount::default());
    let waker = Waker::from(count);
    let mut cx = Context::from_waker(&waker);
    // Already due: no timer needed, so no runtime either.
    assert!(Pin::new(&mut sleep(Duration::ZERO))
        .poll(&mut cx)
        .is_ready());
    let err = catch_unwind(AssertUnwindSafe(|| {
        let _ = Pin::new(&mut sleep(LONG)).poll(&mut cx);
    }))
    .unwrap_err();
    let msg = panic_message(&*err).unwrap();
    assert!(msg.contains("there is no timer running"), "{msg}");
}

#[test]
#[allow(clippy::async_yields_async)] // the registered `Sleep` is the point
fn a_timer_of_a_shut_down_runtime_panics_when_polled() {
    quiet_panics_with(&[SHUTTING_DOWN]);
    timed(|| {
        let rt = current_thread();
        let mut s = rt.block_on(async {
            let mut s = sleep(LONG);
            poll_pending(&mut s, &Waker::from(Arc::new(WakeCount::default())));
            s
        });
        let other = rt.spawn(async { sleep(LONG).await });
        drop(rt);
        drop(other);
        let waker = Waker::from(Arc::new(WakeCount::default()));
        let err = catch_unwind(AssertUnwindSafe(|| {
            let _ = Pin::new(&mut s).poll(&mut Context::from_waker(&waker));
        }))
        .unwrap_err();
        let msg = panic_message(&*err).unwrap();
        assert!(msg.contains("being shut down"), "{msg}");
        drop(s);
    })
}

#[test]
fn dropping_a_runtime_with_pending_timers_does_not_wait_for_them() {
    timed(|| {
        for (_, rt) in real_runtimes() {
            let start = std::time::Instant::now();
            for _ in 0..10 {
                rt.spawn(async { sleep(LONG).await });
            }
            rt.block_on(sleep(ms(5)));
            drop(rt);
            assert!(start.elapsed() < SLACK);
        }
    })
}

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instant_now_tracks_real_time_when_not_paused() {
    let a = Instant::now();
    let std_a = std::time::Instant::now();
    sleep(ms(5)).await;
    assert!(a.elapsed() >= ms(5));
    assert!(Instant::now().into_std() >= std_a);
}

/// As in tokio, a paused clock does not jump while a `spawn_blocking` closure is
/// running: real work must not lose a race against a timer an hour away.
#[test]
fn paused_clock_waits_for_blocking_work() {
    let rt = zokio::runtime::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let winner = rt.block_on(async {
        let blocking = zokio::task::spawn_blocking(|| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            "blocking"
        });
        zokio::select! {
            _ = zokio::time::sleep(std::time::Duration::from_secs(3600)) => "timer",
            done = blocking => done.unwrap(),
        }
    });
    assert_eq!(winner, "blocking");
    // Once the blocking work is done, auto-advance is back.
    let real = std::time::Instant::now();
    rt.block_on(zokio::time::sleep(std::time::Duration::from_secs(3600)));
    // Waiting in real time would take the hour; anything short of that is a jump.
    assert!(real.elapsed() < SLACK, "took {:?}", real.elapsed());
}
