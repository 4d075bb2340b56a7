//! The blocking pool on every flavor: `spawn_blocking` returns its value,
//! runs off the worker threads without stalling them, honours
//! `max_blocking_threads`, reports panics as `JoinError::is_panic`, and keeps
//! working after idle threads exit on `thread_keep_alive`.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

#[test]
fn spawn_blocking_returns_value() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let h = rt.spawn_blocking(|| 40 + 2);
            assert_eq!(rt.block_on(h).unwrap(), 42, "{name}");
            let v = rt.block_on(async {
                let a = zokio::task::spawn_blocking(|| String::from("from blocking"));
                let b = zokio::spawn(async { zokio::task::spawn_blocking(|| 7).await.unwrap() });
                let c = zokio::runtime::Handle::current().spawn_blocking(|| 8);
                (a.await.unwrap(), b.await.unwrap(), c.await.unwrap())
            });
            assert_eq!(v, ("from blocking".to_string(), 7, 8), "{name}");
            assert_eq!(
                rt.block_on(rt.handle().spawn_blocking(|| 9)).unwrap(),
                9,
                "{name}"
            );
        }
    })
}

#[test]
fn spawn_blocking_runs_off_worker_threads() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let caller = std::thread::current().id();
            let (task_thread, blocking_thread) = rt.block_on(async {
                zokio::spawn(async {
                    let me = std::thread::current().id();
                    let b = zokio::task::spawn_blocking(|| std::thread::current().id())
                        .await
                        .unwrap();
                    (me, b)
                })
                .await
                .unwrap()
            });
            assert_ne!(
                task_thread, blocking_thread,
                "{name}: blocking ran on the task's worker"
            );
            assert_ne!(
                caller, blocking_thread,
                "{name}: blocking ran on the block_on thread"
            );
        }
    })
}

#[test]
fn blocking_task_does_not_stall_async_tasks() {
    // The blocking closure waits for a message that only an async task sends;
    // if it ran on (or blocked) the scheduler, this would deadlock.
    timed(|| {
        for (name, rt) in flavors_named() {
            let out = rt.block_on(async {
                let (tx, rx) = std::sync::mpsc::channel::<u32>();
                let b = zokio::task::spawn_blocking(move || rx.recv().unwrap() * 2);
                let sender = zokio::spawn(async move {
                    zokio::task::yield_now().await;
                    tx.send(21).unwrap();
                });
                sender.await.unwrap();
                b.await.unwrap()
            });
            assert_eq!(out, 42, "{name}");
        }
    })
}

#[test]
fn max_blocking_threads_is_respected() {
    const TASKS: usize = 64;
    timed(|| {
        for (name, mut builder) in builders() {
            let rt = builder.max_blocking_threads(4).build().unwrap();
            let cur = Arc::new(AtomicUsize::new(0));
            let max = Arc::new(AtomicUsize::new(0));
            let threads = Arc::new(std::sync::Mutex::new(HashSet::new()));
            let handles: Vec<_> = (0..TASKS)
                .map(|i| {
                    let (cur, max, threads) = (cur.clone(), max.clone(), threads.clone());
                    rt.spawn_blocking(move || {
                        let now = cur.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(now, Ordering::SeqCst);
                        threads.lock().unwrap().insert(std::thread::current().id());
                        // Simulated blocking work.
                        std::thread::sleep(Duration::from_millis(5));
                        cur.fetch_sub(1, Ordering::SeqCst);
                        i
                    })
                })
                .collect();
            let sum: usize = rt.block_on(async {
                let mut s = 0;
                for h in handles {
                    s += h.await.unwrap();
                }
                s
            });
            assert_eq!(sum, (0..TASKS).sum::<usize>(), "{name}");
            let m = max.load(Ordering::SeqCst);
            assert!(m <= 4, "{name}: {m} blocking tasks ran at once (max 4)");
            assert!(
                m >= 2,
                "{name}: blocking tasks never overlapped (max seen {m})"
            );
            let n = threads.lock().unwrap().len();
            assert!(n <= 4, "{name}: {n} distinct blocking threads (max 4)");
        }
    })
}

#[test]
fn max_blocking_threads_are_all_usable() {
    // All 4 allowed threads can be busy at the same time: four closures that
    // wait for each other on a std barrier complete.
    timed(|| {
        for (name, mut builder) in builders() {
            let rt = builder.max_blocking_threads(4).build().unwrap();
            let barrier = Arc::new(std::sync::Barrier::new(4));
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    let b = barrier.clone();
                    rt.spawn_blocking(move || {
                        b.wait();
                    })
                })
                .collect();
            for h in hs {
                rt.block_on(h).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    })
}

#[test]
fn panicking_blocking_closure_is_panic() {
    quiet_expected_panics();
    timed(|| {
        for (name, rt) in flavors_named() {
            let h = rt.spawn_blocking(|| -> u32 { panic!("{EXPECTED_PANIC} in blocking") });
            let err = rt.block_on(h).unwrap_err();
            assert!(err.is_panic(), "{name}: {err:?}");
            let msg = panic_message(&*err.into_panic()).unwrap();
            assert!(msg.contains("in blocking"), "{name}: {msg}");
            // The pool keeps working afterwards.
            let hs: Vec<_> = (0..8).map(|i| rt.spawn_blocking(move || i)).collect();
            let s: i32 = hs.into_iter().map(|h| rt.block_on(h).unwrap()).sum();
            assert_eq!(s, 28, "{name}");
        }
    })
}

#[test]
fn blocking_pool_recovers_after_keep_alive() {
    timed(|| {
        for (name, mut builder) in builders() {
            let rt = builder
                .max_blocking_threads(4)
                .thread_keep_alive(Duration::from_millis(50))
                .build()
                .unwrap();
            for burst in 0..2 {
                let barrier = Arc::new(std::sync::Barrier::new(4));
                let hs: Vec<_> = (0..16)
                    .map(|i| {
                        let b = barrier.clone();
                        rt.spawn_blocking(move || {
                            if i < 4 {
                                b.wait();
                            }
                            i
                        })
                    })
                    .collect();
                let s: usize = hs.into_iter().map(|h| rt.block_on(h).unwrap()).sum();
                assert_eq!(s, 120, "{name} burst {burst}");
                if burst == 0 {
                    // Let every idle blocking thread pass its keep-alive.
                    std::thread::sleep(Duration::from_millis(300));
                }
            }
        }
    })
}

#[test]
fn aborting_blocking_task_before_it_runs() {
    // With one blocking thread kept busy, a queued blocking task can be
    // aborted; it then never runs and reports cancelled.
    timed(|| {
        for (name, mut builder) in builders() {
            let rt = builder.max_blocking_threads(1).build().unwrap();
            let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
            let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
            let busy = rt.spawn_blocking(move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            });
            started_rx.recv().unwrap();
            let ran = Arc::new(AtomicUsize::new(0));
            let r = ran.clone();
            let queued = rt.spawn_blocking(move || {
                r.fetch_add(1, Ordering::SeqCst);
            });
            queued.abort();
            release_tx.send(()).unwrap();
            rt.block_on(busy).unwrap();
            let res = rt.block_on(queued);
            assert!(res.unwrap_err().is_cancelled(), "{name}");
            // Run one more so the queue is certainly drained past the aborted one.
            rt.block_on(rt.spawn_blocking(|| ())).unwrap();
            assert_eq!(
                ran.load(Ordering::SeqCst),
                0,
                "{name}: aborted blocking task ran"
            );
        }
    })
}

#[test]
fn a_blocking_closure_that_ends_unawaited_lets_a_paused_clock_advance() {
    timed(|| {
        let rt = zokio::runtime::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        let real = std::time::Instant::now();
        rt.block_on(async {
            let blocking = zokio::task::spawn_blocking(|| {
                std::thread::sleep(std::time::Duration::from_millis(1));
            });
            // Held off while the closure runs; nothing awaits it, so only its end can
            // let the clock jump to the sleep's deadline.
            zokio::time::sleep(std::time::Duration::from_secs(15)).await;
            blocking.await.unwrap();
        });
        assert!(real.elapsed() < std::time::Duration::from_secs(10));
        // Shutting down with the longest timeout waits forever without overflowing.
        rt.shutdown_timeout(std::time::Duration::MAX);
    });
}

#[test]
fn a_paused_clock_waits_for_a_blocking_result_before_a_timeout_jumps() {
    quiet_panics_with(&["blocking closure panicked on purpose"]);
    timed(|| {
        let rt = zokio::runtime::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        // The race is between the closure's end and its result reaching the joiner:
        // run it many times.
        for round in 0..50 {
            rt.block_on(async {
                let done = zokio::time::timeout(
                    std::time::Duration::from_secs(15),
                    zokio::task::spawn_blocking(|| {
                        std::thread::sleep(std::time::Duration::from_millis(1))
                    }),
                )
                .await;
                assert!(matches!(done, Ok(Ok(()))), "round {round}: {done:?}");
                let panicked = zokio::time::timeout(
                    std::time::Duration::from_secs(15),
                    zokio::task::spawn_blocking(|| {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        panic!("blocking closure panicked on purpose");
                    }),
                )
                .await
                .expect("the timeout does not fire before the panic is seen");
                assert!(panicked.unwrap_err().is_panic(), "round {round}");
            });
        }
    });
}
