//! `Handle::metrics()`: every metric of `RuntimeMetrics`, each checked against
//! something the test itself caused, on every scheduler it applies to
//! (multi_thread, current_thread, thread_per_core). Worker counts are published at
//! parks and maintenance ticks, so tests read them once the runtime is idle
//! (`settle`). The ring counters are checked on io_uring only; CI runs this file once
//! per `ZOKIO_DRIVER`.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use zokio::runtime::{Builder, HistogramConfiguration, Runtime, RuntimeFlavor, RuntimeMetrics};

/// Waits (sleeping, not spinning: the CI machine is small) until `cond` holds.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG_GUARD;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until every worker sleeps, so that each published what it counted. A
/// current-thread runtime publishes when `block_on` returns.
fn settle(rt: &Runtime) {
    let m = rt.metrics();
    if rt.handle().runtime_flavor() == RuntimeFlavor::CurrentThread {
        return;
    }
    wait_until("every worker parked", || {
        (0..m.num_workers()).all(|w| m.worker_park_unpark_count(w) % 2 == 1)
    });
}

fn sum(m: &RuntimeMetrics, f: impl Fn(&RuntimeMetrics, usize) -> u64) -> u64 {
    (0..m.num_workers()).map(|w| f(m, w)).sum()
}

/// Spins on the CPU (rather than sleeping) for `d`, as a long poll does.
fn busy_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

fn each_flavor(test: fn(&'static str, Runtime)) {
    run_with_timeout(BODY_GUARD, move || {
        for (name, rt) in flavors_named() {
            test(name, rt);
        }
    });
}

#[test]
fn num_workers_is_the_schedulers_worker_count() {
    each_flavor(|name, rt| {
        let expected = if name == "current_thread" { 1 } else { 2 };
        assert_eq!(rt.metrics().num_workers(), expected, "{name}");
        assert_eq!(rt.handle().metrics().num_workers(), expected, "{name}");
    });
}

#[test]
fn spawned_and_alive_counts_follow_the_tasks_spawned() {
    const N: usize = 10;
    each_flavor(|name, rt| {
        let m = rt.metrics();
        let spawned = m.spawned_tasks_count();
        assert_eq!(m.num_alive_tasks(), 0, "{name}");
        let gate = Arc::new(zokio::sync::Semaphore::new(0));
        let handles: Vec<_> = (0..N)
            .map(|_| {
                let gate = gate.clone();
                rt.spawn(async move {
                    let _permit = gate.acquire().await.unwrap();
                })
            })
            .collect();
        assert_eq!(m.spawned_tasks_count() - spawned, N as u64, "{name}");
        assert_eq!(m.num_alive_tasks(), N, "{name}");
        gate.add_permits(N);
        rt.block_on(async {
            for handle in handles {
                handle.await.unwrap();
            }
        });
        wait_until("no task alive", || m.num_alive_tasks() == 0);
        assert_eq!(m.spawned_tasks_count() - spawned, N as u64, "{name}");
    });
}

#[test]
fn spawns_from_outside_the_runtime_are_remote_schedules() {
    const N: u64 = 8;
    each_flavor(|name, rt| {
        let m = rt.metrics();
        let before = m.remote_schedule_count();
        let handles: Vec<_> = (0..N).map(|_| rt.spawn(async {})).collect();
        assert!(m.remote_schedule_count() - before >= N, "{name}");
        rt.block_on(async {
            for handle in handles {
                handle.await.unwrap();
            }
        });
    });
}

#[test]
fn spawns_from_a_task_are_local_schedules_and_polls() {
    const N: u64 = 20;
    each_flavor(|name, rt| {
        let m = rt.metrics();
        settle(&rt);
        let local = sum(&m, RuntimeMetrics::worker_local_schedule_count);
        let polls = sum(&m, RuntimeMetrics::worker_poll_count);
        rt.block_on(async {
            let outer = zokio::spawn(async {
                let inner: Vec<_> = (0..N).map(|_| zokio::spawn(async {})).collect();
                for handle in inner {
                    handle.await.unwrap();
                }
            });
            outer.await.unwrap();
        });
        settle(&rt);
        let local = sum(&m, RuntimeMetrics::worker_local_schedule_count) - local;
        let polls = sum(&m, RuntimeMetrics::worker_poll_count) - polls;
        assert!(local >= N, "{name}: {local} local schedules");
        // The N inner tasks, and the outer one at least once.
        assert!(polls > N, "{name}: {polls} polls");
    });
}

#[test]
fn parks_and_unparks_are_counted() {
    each_flavor(|name, rt| {
        let m = rt.metrics();
        settle(&rt);
        let parks = sum(&m, RuntimeMetrics::worker_park_count);
        let park_unparks = sum(&m, RuntimeMetrics::worker_park_unpark_count);
        rt.block_on(async {
            zokio::spawn(async { zokio::time::sleep(Duration::from_millis(5)).await })
                .await
                .unwrap();
        });
        settle(&rt);
        // The task's worker slept on its timer and woke for it at least.
        let parks = sum(&m, RuntimeMetrics::worker_park_count) - parks;
        let park_unparks = sum(&m, RuntimeMetrics::worker_park_unpark_count) - park_unparks;
        assert!(parks >= 1, "{name}: {parks} parks");
        assert!(
            park_unparks >= 2,
            "{name}: {park_unparks} parks and unparks"
        );
        for w in 0..m.num_workers() {
            let (p, pu) = (m.worker_park_count(w), m.worker_park_unpark_count(w));
            if name != "current_thread" {
                // Asleep when settled: one more park than unparks (or woken since).
                assert!(pu >= 2 * p - 1, "{name} worker {w}: {p} parks, {pu} in all");
            }
        }
    });
}

#[test]
fn a_wake_up_with_nothing_to_poll_is_a_noop() {
    each_flavor(|name, rt| {
        let m = rt.metrics();
        settle(&rt);
        let noops = sum(&m, RuntimeMetrics::worker_noop_count);
        // On the worker schedulers these timers sit on a worker's wheel (the thread in
        // `block_on` is no worker): the worker wakes to fire them and polls nothing.
        // On current_thread the thread wakes for the first, polls only the future
        // given to `block_on` (no task), and sleeps again for the second.
        rt.block_on(async {
            zokio::time::sleep(Duration::from_millis(2)).await;
            zokio::time::sleep(Duration::from_millis(2)).await;
        });
        settle(&rt);
        let noops = sum(&m, RuntimeMetrics::worker_noop_count) - noops;
        assert!(noops >= 1, "{name}: {noops} no-op wake-ups");
    });
}

#[test]
fn busy_duration_and_mean_poll_time_include_long_polls() {
    const POLLS: usize = 20;
    const POLL: Duration = Duration::from_millis(2);
    each_flavor(|name, rt| {
        let m = rt.metrics();
        settle(&rt);
        let busy: Duration = (0..m.num_workers())
            .map(|w| m.worker_total_busy_duration(w))
            .sum();
        rt.block_on(async {
            zokio::spawn(async {
                let tasks: Vec<_> = (0..POLLS)
                    .map(|_| zokio::spawn(async { busy_for(POLL) }))
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
            .await
            .unwrap();
        });
        settle(&rt);
        let busy = (0..m.num_workers())
            .map(|w| m.worker_total_busy_duration(w))
            .sum::<Duration>()
            - busy;
        assert!(busy >= POLL * POLLS as u32, "{name}: busy {busy:?}");
        // The worker that ran most of them follows them most of the way.
        let mean = (0..m.num_workers())
            .map(|w| m.worker_mean_poll_time(w))
            .max()
            .unwrap();
        assert!(mean >= POLL / 4, "{name}: mean poll time {mean:?}");
    });
}

/// Two workers; a task on one spawns tasks into its own queue and then blocks that
/// worker until they all ran: the other worker can only have stolen them.
#[test]
fn tasks_queued_on_a_blocked_worker_are_stolen() {
    const N: usize = 16;
    run_with_timeout(BODY_GUARD, || {
        let rt = multi_thread(2);
        let m = rt.metrics();
        settle(&rt);
        let ran = Arc::new(AtomicUsize::new(0));
        let ran2 = ran.clone();
        rt.block_on(async move {
            zokio::spawn(async move {
                let tasks: Vec<_> = (0..N)
                    .map(|_| {
                        let ran = ran2.clone();
                        zokio::spawn(async move {
                            ran.fetch_add(1, Ordering::SeqCst);
                        })
                    })
                    .collect();
                // The last one waits in this worker's LIFO slot, which nobody steals.
                wait_until("the other worker to steal the queued tasks", || {
                    ran2.load(Ordering::SeqCst) >= N - 1
                });
                tasks
            })
            .await
            .unwrap();
        });
        wait_until("every task ran", || ran.load(Ordering::SeqCst) == N);
        settle(&rt);
        let steals = sum(&m, RuntimeMetrics::worker_steal_count);
        let operations = sum(&m, RuntimeMetrics::worker_steal_operations);
        assert!(steals >= (N - 1) as u64, "{steals} tasks stolen");
        assert!(
            operations >= 1 && operations <= steals,
            "{operations} steals"
        );
    });
}

#[test]
fn the_fifo_schedulers_never_steal_nor_overflow() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in [
            ("current_thread", current_thread()),
            ("thread_per_core", thread_per_core(2)),
        ] {
            rt.block_on(async {
                zokio::spawn(async {
                    let tasks: Vec<_> = (0..600).map(|_| zokio::spawn(async {})).collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                })
                .await
                .unwrap();
            });
            settle(&rt);
            let m = rt.metrics();
            assert_eq!(sum(&m, RuntimeMetrics::worker_steal_count), 0, "{name}");
            assert_eq!(
                sum(&m, RuntimeMetrics::worker_steal_operations),
                0,
                "{name}"
            );
            assert_eq!(sum(&m, RuntimeMetrics::worker_overflow_count), 0, "{name}");
        }
    });
}

/// One worker (nobody steals), and more tasks spawned from one of its tasks than
/// its local queue holds.
#[test]
fn a_full_local_queue_overflows() {
    run_with_timeout(BODY_GUARD, || {
        let rt = multi_thread(1);
        let m = rt.metrics();
        rt.block_on(async {
            zokio::spawn(async {
                let tasks: Vec<_> = (0..600).map(|_| zokio::spawn(async {})).collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
            .await
            .unwrap();
        });
        settle(&rt);
        assert!(
            m.worker_overflow_count(0) >= 1,
            "{}",
            m.worker_overflow_count(0)
        );
    });
}

#[test]
fn tasks_spawned_from_outside_wait_in_the_global_queue() {
    const N: usize = 12;
    each_flavor(|name, rt| {
        let m = rt.metrics();
        // Keep every worker busy so that nothing takes from the global queue. A
        // current-thread runtime runs nothing outside `block_on` anyway.
        let release = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicUsize::new(0));
        let blockers = if name == "current_thread" {
            0
        } else {
            m.num_workers()
        };
        let blocking: Vec<_> = (0..blockers)
            .map(|_| {
                let (release, started) = (release.clone(), started.clone());
                rt.spawn(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    wait_until("the test to release the workers", || {
                        release.load(Ordering::SeqCst)
                    });
                })
            })
            .collect();
        wait_until("every worker blocked", || {
            started.load(Ordering::SeqCst) == blockers
        });
        assert_eq!(m.global_queue_depth(), 0, "{name}");
        let queued: Vec<_> = (0..N).map(|_| rt.spawn(async {})).collect();
        assert_eq!(m.global_queue_depth(), N, "{name}");
        release.store(true, Ordering::SeqCst);
        rt.block_on(async {
            for task in blocking.into_iter().chain(queued) {
                task.await.unwrap();
            }
        });
        assert_eq!(m.global_queue_depth(), 0, "{name}");
    });
}

/// A task keeps N others queued on its worker: on the work-stealing scheduler (one
/// worker, so nobody steals) they wait behind it while it blocks, and the depth is
/// read live; on the FIFO schedulers they keep yielding, and the depth their worker
/// publishes at its maintenance ticks is read.
#[test]
fn tasks_queued_on_a_worker_show_in_its_local_queue_depth() {
    const N: usize = 10;
    run_with_timeout(BODY_GUARD, || {
        let rt = multi_thread(1);
        let m = rt.metrics();
        let release = Arc::new(AtomicBool::new(false));
        let release2 = release.clone();
        let m2 = m.clone();
        let reader = std::thread::spawn(move || {
            // N - 1 in the queue, the last one in the worker's LIFO slot.
            wait_until("N - 1 tasks queued", || {
                m2.worker_local_queue_depth(0) == N - 1
            });
            release2.store(true, Ordering::SeqCst);
        });
        rt.block_on(async move {
            zokio::spawn(async move {
                let tasks: Vec<_> = (0..N).map(|_| zokio::spawn(async {})).collect();
                wait_until("the reader", || release.load(Ordering::SeqCst));
                tasks
            })
            .await
            .unwrap();
        });
        reader.join().unwrap();
        settle(&rt);
        assert_eq!(m.worker_local_queue_depth(0), 0);

        for (name, rt) in [
            ("current_thread", current_thread()),
            ("thread_per_core(1)", thread_per_core(1)),
        ] {
            let m = rt.metrics();
            let stop = Arc::new(AtomicBool::new(false));
            let tasks: Vec<_> = (0..N)
                .map(|_| {
                    let stop = stop.clone();
                    rt.spawn(async move {
                        while !stop.load(Ordering::SeqCst) {
                            zokio::task::yield_now().await;
                        }
                    })
                })
                .collect();
            rt.block_on(async {
                let deadline = Instant::now() + HANG_GUARD;
                while m.worker_local_queue_depth(0) < N - 1 {
                    assert!(
                        Instant::now() < deadline,
                        "{name}: depth never reached N - 1"
                    );
                    zokio::time::sleep(Duration::from_millis(1)).await;
                }
                stop.store(true, Ordering::SeqCst);
                for task in tasks {
                    task.await.unwrap();
                }
            });
        }
    });
}

/// Two threads at most: of four closures that wait, two run and two queue.
#[test]
fn blocking_pool_counts_follow_closures_that_wait() {
    run_with_timeout(BODY_GUARD, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(2)
            .build()
            .unwrap();
        let m = rt.metrics();
        let release = Arc::new(AtomicBool::new(false));
        let running = Arc::new(AtomicUsize::new(0));
        let closures: Vec<_> = (0..4)
            .map(|_| {
                let (release, running) = (release.clone(), running.clone());
                rt.spawn_blocking(move || {
                    running.fetch_add(1, Ordering::SeqCst);
                    while !release.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                })
            })
            .collect();
        wait_until("two closures running", || {
            running.load(Ordering::SeqCst) == 2
        });
        assert_eq!(m.num_blocking_threads(), 2);
        assert_eq!(m.num_idle_blocking_threads(), 0);
        assert_eq!(m.blocking_queue_depth(), 2);
        release.store(true, Ordering::SeqCst);
        rt.block_on(async {
            for closure in closures {
                closure.await.unwrap();
            }
        });
        assert_eq!(m.blocking_queue_depth(), 0);
        wait_until("both threads idle", || m.num_idle_blocking_threads() == 2);
        assert_eq!(m.num_blocking_threads(), 2);
    });
}

#[test]
fn blocking_pool_counts_on_every_flavor() {
    each_flavor(|name, rt| {
        let m = rt.metrics();
        let release = Arc::new(AtomicBool::new(false));
        let closure = {
            let release = release.clone();
            rt.spawn_blocking(move || {
                while !release.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        wait_until("a blocking thread", || m.num_blocking_threads() == 1);
        assert_eq!(m.num_idle_blocking_threads(), 0, "{name}");
        release.store(true, Ordering::SeqCst);
        rt.block_on(closure).unwrap();
        wait_until("the thread idle", || m.num_idle_blocking_threads() == 1);
    });
}

#[test]
fn using_up_the_coop_budget_is_a_forced_yield() {
    each_flavor(|name, rt| {
        let m = rt.metrics();
        let before = m.budget_forced_yield_count();
        rt.block_on(async {
            zokio::spawn(async {
                // 128 units a poll: this many spends yield at least 7 times.
                for _ in 0..1000 {
                    zokio::task::coop::consume_budget().await;
                }
            })
            .await
            .unwrap();
        });
        let yields = m.budget_forced_yield_count() - before;
        assert!(yields >= 7, "{name}: {yields} forced yields");
    });
}

#[test]
fn the_poll_time_histogram_counts_polls_by_duration() {
    const SLOW: u64 = 5;
    const FAST: u64 = 5;
    run_with_timeout(BODY_GUARD, || {
        for (name, mut builder) in builders() {
            let off = builder.enable_all().build().unwrap();
            assert!(!off.metrics().poll_time_histogram_enabled(), "{name}");
            assert_eq!(off.metrics().poll_time_histogram_num_buckets(), 0, "{name}");
            drop(off);

            let rt = builder
                .enable_metrics_poll_time_histogram()
                .metrics_poll_time_histogram_configuration(HistogramConfiguration::linear(
                    Duration::from_millis(10),
                    2,
                ))
                .build()
                .unwrap();
            let m = rt.metrics();
            assert!(m.poll_time_histogram_enabled(), "{name}");
            assert_eq!(m.poll_time_histogram_num_buckets(), 2, "{name}");
            assert_eq!(
                m.poll_time_histogram_bucket_range(0),
                Duration::ZERO..Duration::from_millis(10)
            );
            assert_eq!(
                m.poll_time_histogram_bucket_range(1).start,
                Duration::from_millis(10)
            );
            rt.block_on(async {
                let slow =
                    (0..SLOW).map(|_| zokio::spawn(async { busy_for(Duration::from_millis(12)) }));
                let fast = (0..FAST).map(|_| zokio::spawn(async {}));
                let tasks: Vec<_> = slow.chain(fast).collect();
                for task in tasks {
                    task.await.unwrap();
                }
            });
            let bucket = |b| sum(&m, |m, w| m.poll_time_histogram_bucket_count(w, b));
            // A poll is counted once it returns, which may be just after its join
            // handle woke us.
            wait_until("the slow polls counted", || bucket(1) >= SLOW);
            wait_until("every poll counted", || {
                bucket(0) + bucket(1) >= SLOW + FAST
            });
        }
    });
}

#[test]
fn pending_sleeps_are_timer_entries() {
    const N: usize = 5;
    each_flavor(|name, rt| {
        let m = rt.metrics();
        let entries = |m: &RuntimeMetrics| -> usize {
            (0..m.num_workers())
                .map(|w| m.worker_timer_entries(w))
                .sum()
        };
        assert_eq!(entries(&m), 0, "{name}");
        rt.block_on(async {
            let sleeps: Vec<_> = (0..N)
                .map(|_| zokio::spawn(zokio::time::sleep(Duration::from_secs(3600))))
                .collect();
            let deadline = Instant::now() + HANG_GUARD;
            while entries(&m) < N {
                assert!(Instant::now() < deadline, "{name}: {} entries", entries(&m));
                zokio::task::yield_now().await;
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(entries(&m), N, "{name}");
            for sleep in sleeps {
                sleep.abort();
            }
            let deadline = Instant::now() + HANG_GUARD;
            while entries(&m) > 0 {
                assert!(
                    Instant::now() < deadline,
                    "{name}: {} entries left",
                    entries(&m)
                );
                zokio::task::yield_now().await;
                std::thread::sleep(Duration::from_millis(1));
            }
        });
    });
}

#[test]
fn ring_counters_grow_with_the_operations_issued() {
    each_flavor(|name, rt| {
        let m = rt.metrics();
        if !on_ring(&rt) {
            for w in 0..m.num_workers() {
                assert_eq!(m.worker_ring_submissions(w), 0, "{name}");
                assert_eq!(m.worker_ring_completions(w), 0, "{name}");
                assert_eq!(m.worker_ring_enter_count(w), 0, "{name}");
                assert_eq!(m.worker_ops_in_flight(w), 0, "{name}");
            }
            eprintln!("{name}: not on io_uring; the ring counters stay 0");
            return;
        }
        const OPS: u64 = 20;
        let submissions = sum(&m, RuntimeMetrics::worker_ring_submissions);
        let completions = sum(&m, RuntimeMetrics::worker_ring_completions);
        let enters = sum(&m, RuntimeMetrics::worker_ring_enter_count);
        let m2 = m.clone();
        rt.block_on(async move {
            zokio::spawn(async move {
                let listener = zokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                // A pending accept is an operation in flight on this worker's ring.
                let accept = zokio::spawn(async move { listener.accept().await.unwrap().0 });
                let deadline = Instant::now() + HANG_GUARD;
                while sum(&m2, |m, w| m.worker_ops_in_flight(w) as u64) == 0 {
                    assert!(Instant::now() < deadline, "no operation in flight");
                    zokio::time::sleep(Duration::from_millis(1)).await;
                }
                let _client = zokio::net::TcpStream::connect(addr).await.unwrap();
                accept.await.unwrap();
                // Positioned file reads and writes are ring operations, one each.
                let path = temp_path("metrics-ring");
                let file = zokio::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&path)
                    .await
                    .unwrap();
                for i in 0..OPS / 2 {
                    let (res, _) = file.write_at(vec![7u8; 16], i * 16).await;
                    res.unwrap();
                    let (res, _) = file.read_at(vec![0u8; 16], i * 16).await;
                    assert_eq!(res.unwrap(), 16);
                }
                drop(file);
                std::fs::remove_file(&path).unwrap();
            })
            .await
            .unwrap();
        });
        let submissions = sum(&m, RuntimeMetrics::worker_ring_submissions) - submissions;
        let completions = sum(&m, RuntimeMetrics::worker_ring_completions) - completions;
        let enters = sum(&m, RuntimeMetrics::worker_ring_enter_count) - enters;
        assert!(submissions >= OPS, "{name}: {submissions} submissions");
        assert!(completions >= OPS, "{name}: {completions} completions");
        assert!(enters >= 1, "{name}: {enters} enters");
    });
}

fn on_ring(rt: &Runtime) -> bool {
    #[cfg(target_os = "linux")]
    {
        rt.driver_kind() == zokio::runtime::DriverKind::IoUring
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = rt;
        false
    }
}

#[test]
fn metrics_are_cheap_clones_of_one_view() {
    let rt = current_thread();
    let a = rt.metrics();
    let b = a.clone();
    rt.block_on(async { zokio::spawn(async {}).await.unwrap() });
    assert_eq!(a.spawned_tasks_count(), b.spawned_tasks_count());
    assert_eq!(a.spawned_tasks_count(), 1);
}

#[test]
#[should_panic(expected = "out of range")]
fn a_worker_index_past_the_workers_panics() {
    let rt = current_thread();
    let _ = rt.metrics().worker_poll_count(1);
}
