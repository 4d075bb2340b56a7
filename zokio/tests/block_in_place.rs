//! `task::block_in_place`: on the multi-thread runtime the worker's core and driver
//! move to a new thread, so other tasks (their I/O and timers included) keep running
//! while the closure blocks; elsewhere it runs in place or panics as tokio's does.
//! On both drivers (`ZOKIO_DRIVER`).

mod common;

#[cfg(unix)]
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use common::{panic_message, quiet_panics_with, timed, HANG_GUARD};
#[cfg(unix)]
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::runtime::{Builder, Handle};
use zokio::task::block_in_place;

const NOT_HERE: &str = "can call blocking only when running on the multi-threaded runtime";

/// A one-worker runtime: without the hand-off, a blocked worker stalls everything.
fn one_worker() -> zokio::runtime::Runtime {
    common::multi_thread(1)
}

#[cfg(unix)]
#[test]
fn io_in_flight_and_timers_keep_completing_while_the_only_worker_blocks() {
    timed(|| {
        let rt = one_worker();
        rt.block_on(async {
            let listener = zokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // The server's accept, then its reads, are in flight on the worker's driver
            // when the worker blocks.
            let server = zokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 64];
                let mut echoed = 0usize;
                loop {
                    let n = socket.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return echoed;
                    }
                    socket.write_all(&buf[..n]).await.unwrap();
                    echoed += 1;
                }
            });
            let ticks = Arc::new(AtomicUsize::new(0));
            let ticker = zokio::spawn({
                let ticks = ticks.clone();
                async move {
                    for _ in 0..5 {
                        zokio::time::sleep(Duration::from_millis(2)).await;
                        ticks.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
            zokio::task::yield_now().await;
            let blocker = zokio::spawn({
                let ticks = ticks.clone();
                async move {
                    block_in_place(|| {
                        // A plain client: every round trip needs the server task to run
                        // and its reads and writes to complete, while this blocks.
                        let mut client = std::net::TcpStream::connect(addr).unwrap();
                        client.set_read_timeout(Some(HANG_GUARD)).unwrap();
                        for i in 0..100u8 {
                            client.write_all(&[i; 8]).unwrap();
                            let mut back = [0u8; 8];
                            client.read_exact(&mut back).unwrap();
                            assert_eq!(back, [i; 8]);
                        }
                        let deadline = std::time::Instant::now() + HANG_GUARD;
                        while ticks.load(Ordering::Relaxed) < 5 {
                            assert!(std::time::Instant::now() < deadline, "timers stalled");
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    });
                    "unblocked"
                }
            });
            assert_eq!(blocker.await.unwrap(), "unblocked");
            ticker.await.unwrap();
            assert_eq!(server.await.unwrap(), 100);
        });
    });
}

#[test]
fn every_worker_blocked_and_spawned_tasks_still_run() {
    timed(|| {
        let rt = common::multi_thread(2);
        for _ in 0..3 {
            let barrier = Arc::new(Barrier::new(3));
            for _ in 0..2 {
                let barrier = barrier.clone();
                rt.spawn(async move {
                    block_in_place(move || {
                        barrier.wait();
                        barrier.wait();
                    })
                });
            }
            barrier.wait();
            let (tx, rx) = mpsc::channel();
            let done = Arc::new(AtomicUsize::new(0));
            for _ in 0..1000 {
                let (tx, done) = (tx.clone(), done.clone());
                rt.spawn(async move {
                    if done.fetch_add(1, Ordering::Relaxed) + 1 == 1000 {
                        tx.send(()).unwrap();
                    }
                });
            }
            rx.recv_timeout(HANG_GUARD)
                .expect("spawned tasks ran while the workers blocked");
            barrier.wait();
        }
    });
}

#[test]
fn the_task_goes_on_after_the_closure_and_block_on_works_inside() {
    timed(|| {
        let rt = one_worker();
        let handle = rt.handle().clone();
        for _ in 0..50 {
            let handle = handle.clone();
            let value = rt.block_on(async move {
                zokio::spawn(async move {
                    let inner = block_in_place(|| {
                        handle.block_on(async {
                            // Nested, with a block_on between.
                            block_in_place(|| 20) + zokio::spawn(async { 1 }).await.unwrap()
                        })
                    });
                    zokio::task::yield_now().await;
                    zokio::time::sleep(Duration::from_millis(1)).await;
                    inner + 21
                })
                .await
                .unwrap()
            });
            assert_eq!(value, 42);
        }
    });
}

#[test]
fn blocking_calls_are_allowed_inside() {
    let rt = common::multi_thread(2);
    rt.block_on(async {
        let (tx, mut rx) = zokio::sync::mpsc::channel::<u32>(1);
        zokio::spawn(async move { tx.send(5).await.unwrap() });
        let got = zokio::spawn(async move { block_in_place(move || rx.blocking_recv()) })
            .await
            .unwrap();
        assert_eq!(got, Some(5));
    });
}

#[test]
fn runs_in_place_outside_workers() {
    // Outside any runtime.
    assert_eq!(block_in_place(|| 1), 1);
    // In block_on of the multi-thread and thread-per-core runtimes, and on the
    // blocking pool.
    for rt in [common::multi_thread(2), common::thread_per_core(2)] {
        let handle = rt.handle().clone();
        let got = rt.block_on(async move {
            let nested = block_in_place(|| handle.block_on(async { 2 }));
            let pooled = zokio::task::spawn_blocking(|| block_in_place(|| 3))
                .await
                .unwrap();
            nested + pooled
        });
        assert_eq!(got, 5);
    }
}

#[test]
fn current_thread_and_thread_per_core_workers_panic_with_tokios_message() {
    quiet_panics_with(&[NOT_HERE]);
    let rt = common::current_thread();
    let in_block_on =
        rt.block_on(async { std::panic::catch_unwind(|| block_in_place(|| ())).unwrap_err() });
    assert_eq!(panic_message(&*in_block_on).unwrap(), NOT_HERE);
    let in_task = rt
        .block_on(async { zokio::spawn(async { block_in_place(|| ()) }).await })
        .unwrap_err();
    assert_eq!(panic_message(&*in_task.into_panic()).unwrap(), NOT_HERE);

    let tpc = common::thread_per_core(2);
    let err = tpc
        .block_on(async { zokio::spawn(async { block_in_place(|| ()) }).await })
        .unwrap_err();
    assert_eq!(panic_message(&*err.into_panic()).unwrap(), NOT_HERE);
    // The runtimes keep working.
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    assert_eq!(tpc.block_on(tpc.spawn(async { 1 })).unwrap(), 1);
}

#[test]
fn shutdown_after_many_hand_offs_leaves_nothing_running() {
    timed(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let mut handles = Vec::new();
            for _ in 0..200 {
                let count = count.clone();
                handles.push(zokio::spawn(async move {
                    block_in_place(|| count.fetch_add(1, Ordering::Relaxed));
                    zokio::time::sleep(Duration::from_millis(1)).await;
                }));
            }
            for handle in handles {
                handle.await.unwrap();
            }
        });
        assert_eq!(count.load(Ordering::Relaxed), 200);
        let handle: Handle = rt.handle().clone();
        rt.shutdown_timeout(HANG_GUARD);
        // Spawns after shutdown are cancelled, not run by a leftover thread.
        let late = std::thread::spawn(move || {
            let join = handle.spawn(async { 1 });
            futures::executor::block_on(join)
        });
        assert!(late.join().unwrap().unwrap_err().is_cancelled());
    });
}

#[test]
fn shutdown_cancels_the_tasks_whose_drop_ends_a_blocked_closure() {
    timed(|| {
        let rt = common::multi_thread(2);
        let (tx, rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        rt.spawn(async move {
            block_in_place(move || {
                started_tx.send(()).unwrap();
                // Returns once the sender below is dropped, by the runtime's shutdown.
                let _ = rx.recv();
            })
        });
        rt.spawn(async move {
            let _tx = tx;
            std::future::pending::<()>().await;
        });
        started_rx.recv_timeout(HANG_GUARD).unwrap();
        drop(rt);
    });
}
