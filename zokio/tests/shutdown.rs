//! Runtime shutdown on every flavor: dropping the runtime drops every live
//! task and resolves outstanding `JoinHandle`s to cancelled errors,
//! `shutdown_timeout`/`shutdown_background` return while a blocking task is
//! still blocked, `on_thread_stop` runs for every worker, and tasks that hold
//! each other's wakers or join handles (reference cycles) are not leaked.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use zokio::runtime::Builder;
use zokio::sync::{mpsc, oneshot};

#[test]
fn drop_runtime_drops_pending_tasks() {
    const N: usize = 200;
    timed(|| {
        for (name, rt) in flavors_named() {
            let drops = DropCounter::new();
            let mut handles = Vec::new();
            // Tasks that were polled and are parked on a channel...
            let (_keep_tx, keep_rx) = mpsc::channel::<()>(1);
            let keep_rx = Arc::new(zokio::sync::Mutex::new(keep_rx));
            let (polled_tx, mut polled_rx) = mpsc::unbounded_channel::<()>();
            for _ in 0..N / 2 {
                let g = drops.guard();
                let rx = keep_rx.clone();
                let polled = polled_tx.clone();
                handles.push(rt.spawn(async move {
                    let _g = g;
                    polled.send(()).unwrap();
                    let _ = rx.lock().await.recv().await;
                    std::future::pending::<()>().await;
                }));
            }
            rt.block_on(async {
                for _ in 0..N / 2 {
                    polled_rx.recv().await.unwrap();
                }
            });
            // ...and tasks that were spawned but maybe never polled.
            for _ in 0..N / 2 {
                handles.push(rt.spawn(pending_with(drops.guard())));
            }
            drop(rt);
            assert_eq!(
                drops.get(),
                N,
                "{name}: live tasks not dropped by runtime drop"
            );
            for h in handles {
                let err = futures::executor::block_on(h)
                    .expect_err("task of a dropped runtime returned Ok");
                assert!(err.is_cancelled(), "{name}: {err:?}");
            }
        }
    })
}

#[test]
fn join_handles_awaited_in_another_runtime_resolve_cancelled() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let other = multi_thread(1);
            let drops = DropCounter::new();
            let handles: Vec<_> = (0..20)
                .map(|_| rt.spawn(pending_with(drops.guard())))
                .collect();
            // Await the handles from tasks of a different runtime.
            let watchers: Vec<_> = handles.into_iter().map(|h| other.spawn(h)).collect();
            drop(rt);
            assert_eq!(drops.get(), 20, "{name}");
            for w in watchers {
                let res = other.block_on(w).expect("watcher task");
                assert!(
                    res.expect_err("Ok from a dropped runtime").is_cancelled(),
                    "{name}"
                );
            }
        }
    })
}

#[test]
fn tasks_spawned_from_inside_are_dropped_too() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let drops = DropCounter::new();
            let d = drops.clone();
            let (tx, rx) = oneshot::channel();
            rt.spawn(async move {
                // Spawned from a worker (local queue, LIFO slot, ...).
                let hs: Vec<_> = (0..50)
                    .map(|_| zokio::spawn(pending_with(d.guard())))
                    .collect();
                tx.send(hs).ok().unwrap();
                pending_with(d.guard()).await;
            });
            let hs = rt.block_on(rx).unwrap();
            drop(rt);
            assert_eq!(drops.get(), 51, "{name}");
            for h in hs {
                assert!(futures::executor::block_on(h).unwrap_err().is_cancelled());
            }
        }
    })
}

/// A blocking task that signals it started, then stays blocked until the returned
/// sender is dropped (or, should a shutdown wrongly wait for it, [`HANG_GUARD`]
/// later); the flag says whether it has finished. A shutdown that returns with
/// the flag still unset did not wait for it, however slow the machine.
fn start_blocked_blocking_task(
    rt: &zokio::runtime::Runtime,
) -> (std::sync::mpsc::Sender<()>, Arc<AtomicBool>) {
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let finished = Arc::new(AtomicBool::new(false));
    let f = finished.clone();
    drop(rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv_timeout(HANG_GUARD);
        f.store(true, Ordering::SeqCst);
    }));
    started_rx
        .recv_timeout(HANG_GUARD)
        .expect("blocking task did not start");
    (release_tx, finished)
}

#[test]
fn shutdown_timeout_returns_promptly() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let drops = DropCounter::new();
            let handles: Vec<_> = (0..10)
                .map(|_| rt.spawn(pending_with(drops.guard())))
                .collect();
            let (release, finished) = start_blocked_blocking_task(&rt);
            let start = Instant::now();
            rt.shutdown_timeout(Duration::from_millis(100));
            let took = start.elapsed();
            assert!(
                !finished.load(Ordering::SeqCst),
                "{name}: shutdown_timeout waited {took:?}, for the blocking task to end"
            );
            drop(release);
            assert_eq!(drops.get(), 10, "{name}: pending tasks not dropped");
            for h in handles {
                assert!(futures::executor::block_on(h).unwrap_err().is_cancelled());
            }
        }
    })
}

#[test]
fn shutdown_background_returns_promptly() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let drops = DropCounter::new();
            let handles: Vec<_> = (0..10)
                .map(|_| rt.spawn(pending_with(drops.guard())))
                .collect();
            let (release, finished) = start_blocked_blocking_task(&rt);
            let start = Instant::now();
            rt.shutdown_background();
            let took = start.elapsed();
            assert!(
                !finished.load(Ordering::SeqCst),
                "{name}: shutdown_background waited {took:?}, for the blocking task to end"
            );
            drop(release);
            // The tasks are dropped, possibly by background threads.
            for h in handles {
                assert!(
                    futures::executor::block_on(h).unwrap_err().is_cancelled(),
                    "{name}"
                );
            }
            spin_until(HANG_GUARD, "tasks dropped", || drops.get() == 10);
        }
    })
}

#[test]
fn on_thread_stop_runs_for_every_worker() {
    timed(|| {
        for (name, workers, mut builder) in [
            ("multi_thread", 4, Builder::new_multi_thread()),
            ("thread_per_core", 3, Builder::new_thread_per_core()),
        ] {
            for how in ["drop", "shutdown_timeout", "shutdown_background"] {
                let stops = Arc::new(AtomicUsize::new(0));
                let s = stops.clone();
                let rt = builder
                    .worker_threads(workers)
                    .on_thread_stop(move || {
                        s.fetch_add(1, Ordering::SeqCst);
                    })
                    .build()
                    .unwrap();
                let hs: Vec<_> = (0..32).map(|i| rt.spawn(async move { i })).collect();
                for h in hs {
                    rt.block_on(h).unwrap();
                }
                let _pending = rt.spawn(std::future::pending::<()>());
                match how {
                    "drop" => {
                        drop(rt);
                        assert_eq!(stops.load(Ordering::SeqCst), workers, "{name} {how}");
                    }
                    "shutdown_timeout" => {
                        // Returns as soon as the workers have stopped.
                        rt.shutdown_timeout(HANG_GUARD);
                        assert_eq!(stops.load(Ordering::SeqCst), workers, "{name} {how}");
                    }
                    _ => {
                        rt.shutdown_background();
                        spin_until(HANG_GUARD, "workers to stop", || {
                            stops.load(Ordering::SeqCst) == workers
                        });
                    }
                }
            }
        }
    })
}

#[test]
fn drop_waits_for_running_blocking_task() {
    // Plain drop (unlike shutdown_timeout/background) lets a started blocking
    // task finish: its side effect is visible once drop returns.
    timed(|| {
        for (name, rt) in flavors_named() {
            let done = Arc::new(AtomicUsize::new(0));
            let d = done.clone();
            let (tx, rx) = std::sync::mpsc::channel();
            drop(rt.spawn_blocking(move || {
                tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(200));
                d.store(1, Ordering::SeqCst);
            }));
            rx.recv().unwrap();
            drop(rt);
            assert_eq!(done.load(Ordering::SeqCst), 1, "{name}");
        }
    })
}

#[test]
fn waker_cycles_through_channels_do_not_leak() {
    const PAIRS: usize = 100;
    timed(|| {
        for (name, rt) in flavors_named() {
            let drops = DropCounter::new();
            let witness = Arc::new(());
            let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<()>();
            for _ in 0..PAIRS {
                // a waits on a channel whose sender lives in b and vice versa:
                // each task's waker is stored in state owned by the other.
                let (a_tx, mut a_rx) = mpsc::channel::<()>(1);
                let (b_tx, mut b_rx) = mpsc::channel::<()>(1);
                let (ga, gb) = (drops.guard(), drops.guard());
                let (wa, wb) = (witness.clone(), witness.clone());
                let (ra, rb) = (ready_tx.clone(), ready_tx.clone());
                rt.spawn(async move {
                    let _keep = (ga, wa, b_tx);
                    ra.send(()).unwrap();
                    a_rx.recv().await;
                });
                rt.spawn(async move {
                    let _keep = (gb, wb, a_tx);
                    rb.send(()).unwrap();
                    b_rx.recv().await;
                });
                // oneshot cycle, too.
                let (x_tx, x_rx) = oneshot::channel::<()>();
                let (y_tx, y_rx) = oneshot::channel::<()>();
                let (gx, gy) = (drops.guard(), drops.guard());
                let (rx_, ry_) = (ready_tx.clone(), ready_tx.clone());
                rt.spawn(async move {
                    let _keep = (gx, y_tx);
                    rx_.send(()).unwrap();
                    let _ = x_rx.await;
                });
                rt.spawn(async move {
                    let _keep = (gy, x_tx);
                    ry_.send(()).unwrap();
                    let _ = y_rx.await;
                });
            }
            drop(ready_tx);
            rt.block_on(async {
                for _ in 0..4 * PAIRS {
                    ready_rx.recv().await.unwrap();
                }
            });
            drop(rt);
            assert_eq!(
                drops.get(),
                4 * PAIRS,
                "{name}: futures in waker cycles leaked"
            );
            assert_eq!(Arc::strong_count(&witness), 1, "{name}");
        }
    })
}

#[test]
fn join_handle_cycles_do_not_leak() {
    // Two tasks each awaiting the other's JoinHandle: the tasks reference each
    // other through join wakers and must still be freed at shutdown.
    timed(|| {
        for (name, rt) in flavors_named() {
            let drops = DropCounter::new();
            let witness = Arc::new(());
            let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<()>();
            let mut senders = Vec::new();
            let mut handles = Vec::new();
            for _ in 0..50 {
                let (tx, rx) = oneshot::channel::<zokio::task::JoinHandle<()>>();
                let g = drops.guard();
                let w = witness.clone();
                let ack = ack_tx.clone();
                handles.push(rt.spawn(async move {
                    let _keep = (g, w);
                    let other = rx.await.unwrap();
                    ack.send(()).unwrap();
                    let _ = other.await;
                }));
                senders.push(tx);
            }
            drop(ack_tx);
            // Task i awaits task i+1 (mod n): a ring of JoinHandles.
            handles.rotate_left(1);
            for (tx, h) in senders.into_iter().zip(handles) {
                tx.send(h).ok().unwrap();
            }
            rt.block_on(async {
                // Every task picked up its JoinHandle and is about to park on it.
                for _ in 0..50 {
                    ack_rx.recv().await.unwrap();
                }
                for _ in 0..100 {
                    zokio::task::yield_now().await;
                }
            });
            drop(rt);
            assert_eq!(
                drops.get(),
                50,
                "{name}: tasks in a JoinHandle cycle leaked"
            );
            spin_until(HANG_GUARD, "task memory released", || {
                Arc::strong_count(&witness) == 1
            });
        }
    })
}

#[test]
// windows-gnu: clippy's false positive on an already `const` initializer
// (rust-clippy#17566).
#[cfg_attr(
    all(windows, target_env = "gnu"),
    allow(clippy::missing_const_for_thread_local)
)]
#[cfg_attr(
    windows,
    ignore = "Windows runs thread-local destructors under the loader lock, which the \
              runtime's threads need to exit while the drop waits for them: it deadlocks \
              (and stalls every later thread of the process)"
)]
fn a_runtime_dropped_by_a_thread_local_destructor_shuts_down_quietly() {
    use std::cell::RefCell;
    thread_local! {
        static KEPT: RefCell<Vec<zokio::runtime::Runtime>> = const { RefCell::new(Vec::new()) };
    }
    std::thread::spawn(|| {
        KEPT.with(|kept| {
            for rt in common::flavors() {
                // A task left pending, for the shutdown to cancel.
                rt.spawn(std::future::pending::<()>());
                kept.borrow_mut().push(rt);
            }
        });
        // One more, current for a while, and dropped normally.
        let rt = common::current_thread();
        rt.block_on(async {});
    })
    .join()
    .expect("the thread exits without a panic or an abort");
}
