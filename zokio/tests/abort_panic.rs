//! Task cancellation and panics on every flavor: `JoinHandle::abort`,
//! `AbortHandle`, aborting finished tasks, panicking tasks (`is_panic`,
//! `into_panic`, `try_into_panic`), workers surviving panics, detaching by
//! dropping a `JoinHandle`, and dropping outputs nobody reads.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use zokio::sync::oneshot;
use zokio::task;

#[test]
fn abort_pending_task_is_cancelled() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let drops = DropCounter::new();
                let (started_tx, started_rx) = oneshot::channel();
                let g = drops.guard();
                let h = zokio::spawn(async move {
                    let _g = g;
                    started_tx.send(()).unwrap();
                    std::future::pending::<u32>().await
                });
                started_rx.await.unwrap();
                let id = h.id();
                h.abort();
                let err = h.await.expect_err("aborted task returned Ok");
                assert!(err.is_cancelled(), "{name}: {err:?}");
                assert!(!err.is_panic(), "{name}");
                assert_eq!(err.id(), id, "{name}: JoinError::id");
                assert!(!err.to_string().is_empty());
                assert_eq!(drops.get(), 1, "{name}: aborted future not dropped");
                // A cancelled error has no panic payload.
                assert!(err.try_into_panic().is_err(), "{name}");

                // Aborting a task that has never been polled.
                let g = drops.guard();
                let h = zokio::spawn(pending_with(g));
                h.abort();
                assert!(h.await.unwrap_err().is_cancelled(), "{name}");
                assert_eq!(drops.get(), 2, "{name}");
            });
        }
    })
}

#[test]
fn abort_via_abort_handle() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let drops = DropCounter::new();
                let g = drops.guard();
                let (started_tx, started_rx) = oneshot::channel();
                // A busy task that keeps yielding: abort takes effect at a yield.
                let h = zokio::spawn(async move {
                    let _g = g;
                    let mut started = Some(started_tx);
                    loop {
                        if let Some(tx) = started.take() {
                            tx.send(()).unwrap();
                        }
                        task::yield_now().await;
                    }
                });
                let ah = h.abort_handle();
                assert_eq!(ah.id(), h.id(), "{name}");
                started_rx.await.unwrap();
                assert!(!ah.is_finished());
                // The AbortHandle works from another task.
                zokio::spawn(async move { ah.abort() }).await.unwrap();
                let err = h.await.unwrap_err();
                assert!(err.is_cancelled(), "{name}: {err:?}");
                assert_eq!(drops.get(), 1, "{name}");
            });
        }
    })
}

#[test]
fn abort_of_finished_task_is_harmless() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let h = zokio::spawn(async { 7u32 });
                let ah = h.abort_handle();
                yield_until(HANG_GUARD, "task to finish", || h.is_finished()).await;
                h.abort();
                h.abort();
                ah.abort();
                assert_eq!(
                    h.await.unwrap(),
                    7,
                    "{name}: abort after completion lost the output"
                );
                // AbortHandle outliving the JoinHandle and the task.
                ah.abort();
                assert!(ah.is_finished(), "{name}");
                // The runtime still works.
                assert_eq!(zokio::spawn(async { 1 }).await.unwrap(), 1);
            });
        }
    })
}

#[test]
fn panicking_task_reports_payload() {
    // A non-string payload cannot carry `EXPECTED_PANIC`: quiet by its type.
    #[derive(Debug, PartialEq)]
    struct Custom(u32);
    quiet_panic_payloads::<Custom>();
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let h = zokio::spawn(async {
                    task::yield_now().await;
                    if true {
                        panic!("{EXPECTED_PANIC}: boom {}", 42);
                    }
                    5u8
                });
                let id = h.id();
                let err = h.await.unwrap_err();
                assert!(err.is_panic(), "{name}: {err:?}");
                assert!(!err.is_cancelled(), "{name}");
                assert_eq!(err.id(), id);
                let _ = format!("{err} {err:?}");
                let payload = err.into_panic();
                assert_eq!(
                    panic_message(&*payload).as_deref(),
                    Some(format!("{EXPECTED_PANIC}: boom 42").as_str()),
                    "{name}"
                );

                // Non-string payloads survive too.
                let h = zokio::spawn(async {
                    std::panic::panic_any(Custom(9));
                });
                let err = h.await.unwrap_err();
                let payload = err.try_into_panic().expect("panic payload");
                assert_eq!(payload.downcast_ref::<Custom>(), Some(&Custom(9)), "{name}");
            });
        }
    })
}

#[test]
fn workers_survive_many_panics() {
    quiet_expected_panics();
    timed(|| {
        for (name, rt) in flavors_named() {
            let ok = rt.block_on(async {
                let hs: Vec<_> = (0..100)
                    .map(|i| {
                        zokio::spawn(async move {
                            if i % 2 == 0 {
                                task::yield_now().await;
                            }
                            panic!("{EXPECTED_PANIC} #{i}");
                        })
                    })
                    .collect();
                for h in hs {
                    assert!(h.await.unwrap_err().is_panic(), "{name}");
                }
                let hs: Vec<_> = (0..100u64)
                    .map(|i| {
                        zokio::spawn(async move {
                            task::yield_now().await;
                            i
                        })
                    })
                    .collect();
                let mut sum = 0;
                for h in hs {
                    sum += h.await.unwrap();
                }
                sum
            });
            assert_eq!(ok, 4950, "{name}");
            // Also from outside the runtime, after the panics.
            assert_eq!(rt.block_on(rt.spawn(async { 3 })).unwrap(), 3, "{name}");
        }
    })
}

#[test]
fn panic_on_two_worker_runtime_does_not_lose_workers() {
    quiet_expected_panics();
    timed(|| {
        // After 100 panics, both workers must still be alive: two tasks that
        // need to run simultaneously (a std barrier) still complete.
        let rt = multi_thread(2);
        for i in 0..100 {
            let h = rt.spawn(async move { panic!("{EXPECTED_PANIC} {i}") });
            assert!(rt.block_on(h).unwrap_err().is_panic());
        }
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let b = barrier.clone();
                rt.spawn(async move {
                    b.wait();
                })
            })
            .collect();
        for h in hs {
            rt.block_on(h).unwrap();
        }
    })
}

#[test]
fn dropping_join_handle_detaches() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let (go_tx, go_rx) = oneshot::channel::<u32>();
                let (done_tx, done_rx) = oneshot::channel::<u32>();
                let h = zokio::spawn(async move {
                    let v = go_rx.await.unwrap();
                    task::yield_now().await;
                    done_tx.send(v * 10).unwrap();
                });
                drop(h);
                go_tx.send(4).unwrap();
                assert_eq!(
                    done_rx.await.unwrap(),
                    40,
                    "{name}: detached task did not finish"
                );
            });
            // Detached before ever being polled, from outside the runtime.
            let (done_tx, done_rx) = oneshot::channel::<()>();
            drop(rt.spawn(async move { done_tx.send(()).unwrap() }));
            rt.block_on(done_rx).unwrap();
        }
    })
}

#[test]
fn unread_output_is_dropped() {
    timed(|| {
        for (name, rt) in flavors_named() {
            // JoinHandle dropped while the task is still pending: the output is
            // dropped when the task completes.
            let drops = DropCounter::new();
            let (go_tx, go_rx) = oneshot::channel::<()>();
            let (done_tx, done_rx) = oneshot::channel::<()>();
            let d = drops.clone();
            let h = rt.spawn(async move {
                go_rx.await.unwrap();
                let out = d.guard();
                done_tx.send(()).unwrap();
                out
            });
            drop(h);
            go_tx.send(()).unwrap();
            rt.block_on(done_rx).unwrap();
            spin_until(HANG_GUARD, "output of detached task dropped", || {
                drops.get() == 1
            });

            // Task completed, output stored, then the JoinHandle is dropped.
            let d = drops.clone();
            let h = rt.spawn(async move { d.guard() });
            rt.block_on(async {
                yield_until(HANG_GUARD, "task to finish", || h.is_finished()).await;
            });
            assert_eq!(
                drops.get(),
                1,
                "{name}: output dropped while JoinHandle alive"
            );
            drop(h);
            spin_until(HANG_GUARD, "stored output dropped", || drops.get() == 2);

            // Output read through the JoinHandle is dropped by the reader only.
            let d = drops.clone();
            let out = rt.block_on(rt.spawn(async move { d.guard() })).unwrap();
            assert_eq!(drops.get(), 2, "{name}");
            drop(out);
            assert_eq!(drops.get(), 3, "{name}");
            drop(rt);
            assert_eq!(drops.get(), 3, "{name}: double drop of an output");
        }
    })
}

#[test]
fn future_is_dropped_on_completion() {
    // The future itself (not just its output) is dropped when it completes,
    // even though the JoinHandle is still alive and unread.
    timed(|| {
        for (name, rt) in flavors_named() {
            let drops = DropCounter::new();
            let g = drops.guard();
            let seen = Arc::new(AtomicUsize::new(0));
            let s = seen.clone();
            let h = rt.spawn(async move {
                let _g = g;
                s.fetch_add(1, Ordering::SeqCst);
            });
            rt.block_on(async {
                yield_until(HANG_GUARD, "task to finish", || h.is_finished()).await;
            });
            assert_eq!(seen.load(Ordering::SeqCst), 1, "{name}");
            assert_eq!(drops.get(), 1, "{name}: finished future still alive");
            rt.block_on(h).unwrap();
        }
    })
}
