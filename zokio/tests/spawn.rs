//! Spawning and awaiting tasks on every runtime flavor (multi_thread,
//! current_thread, thread_per_core): nested spawns, `zokio::spawn` inside
//! `block_on`, `Handle::current()`, `JoinHandle::is_finished`, task ids,
//! `yield_now`, cross-worker mpsc ping-pong, the `select!`/`join!`/`try_join!`/
//! `pin!` macros and every `zokio::sync` primitive used across tasks.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use common::*;
use zokio::runtime::{Handle, RuntimeFlavor};
use zokio::sync::{
    broadcast, mpsc, oneshot, watch, Barrier, Mutex, Notify, OnceCell, RwLock, Semaphore,
};
use zokio::task;

#[test]
fn spawn_and_await_output() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let h = rt.spawn(async { 6 * 7 });
            assert_eq!(rt.block_on(h).unwrap(), 42, "{name}");
            let s = rt.block_on(async {
                let h = zokio::spawn(async { String::from("hello") });
                h.await.unwrap()
            });
            assert_eq!(s, "hello", "{name}");
            // Handle::spawn from outside any runtime context.
            let h = rt.handle().spawn(async { 7u8 });
            assert_eq!(rt.block_on(h).unwrap(), 7, "{name}");
        }
    })
}

#[test]
fn spawn_from_inside_tasks() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let out = rt.block_on(async {
                let outer = zokio::spawn(async {
                    let mid = zokio::spawn(async {
                        let inner = zokio::spawn(async { 1u64 });
                        inner.await.unwrap() + 10
                    });
                    let fanned: Vec<_> =
                        (0..50u64).map(|i| task::spawn(async move { i })).collect();
                    let mut s = 0;
                    for h in fanned {
                        s += h.await.unwrap();
                    }
                    mid.await.unwrap() + 100 + s
                });
                outer.await.unwrap()
            });
            assert_eq!(out, 111 + 1225, "{name}");
        }
    })
}

#[test]
fn recursive_spawn_tree() {
    fn tree(depth: u32) -> std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>> {
        Box::pin(async move {
            if depth == 0 {
                return 1;
            }
            let a = zokio::spawn(tree(depth - 1));
            let b = zokio::spawn(tree(depth - 1));
            a.await.unwrap() + b.await.unwrap()
        })
    }
    timed(|| {
        for (name, rt) in flavors_named() {
            assert_eq!(rt.block_on(tree(10)), 1024, "{name}");
        }
    })
}

#[test]
fn handle_current_inside_tasks_and_block_on() {
    timed(|| {
        let expected = [
            RuntimeFlavor::MultiThread,
            RuntimeFlavor::CurrentThread,
            RuntimeFlavor::ThreadPerCore,
        ];
        for ((name, rt), want) in flavors_named().into_iter().zip(expected) {
            let (in_block_on, in_task, spawned) = rt.block_on(async {
                let f1 = Handle::current().runtime_flavor();
                let (f2, spawned) = zokio::spawn(async {
                    let h = Handle::current();
                    let f = h.runtime_flavor();
                    let v = h.spawn(async { 99 }).await.unwrap();
                    (f, v)
                })
                .await
                .unwrap();
                (f1, f2, spawned)
            });
            assert_eq!(in_block_on, want, "{name}: flavor seen in block_on");
            assert_eq!(in_task, want, "{name}: flavor seen in a task");
            assert_eq!(spawned, 99, "{name}");
            assert!(Handle::try_current().is_err(), "{name}: context leaked");
        }
    })
}

#[test]
fn enter_guard_sets_context() {
    timed(|| {
        for (name, rt) in flavors_named() {
            assert!(Handle::try_current().is_err());
            let h = {
                let _g = rt.enter();
                assert!(
                    Handle::try_current().is_ok(),
                    "{name}: enter() sets the context"
                );
                zokio::spawn(async { 3 })
            };
            assert!(
                Handle::try_current().is_err(),
                "{name}: guard drop restores"
            );
            assert_eq!(rt.block_on(h).unwrap(), 3, "{name}");
        }
    })
}

#[test]
fn join_handle_is_finished() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let (tx, rx) = oneshot::channel::<u32>();
                let h = zokio::spawn(async move { rx.await.unwrap() + 1 });
                let ah = h.abort_handle();
                for _ in 0..10 {
                    task::yield_now().await;
                }
                assert!(!h.is_finished(), "{name}: pending task reported finished");
                assert!(!ah.is_finished(), "{name}: AbortHandle says finished");
                tx.send(1).unwrap();
                yield_until(HANG_GUARD, "is_finished", || h.is_finished()).await;
                assert!(ah.is_finished(), "{name}");
                assert_eq!(h.await.unwrap(), 2, "{name}");
            });
        }
    })
}

#[test]
fn task_ids_are_distinct_and_match_join_handles() {
    const N: usize = 32;
    timed(|| {
        for (name, rt) in flavors_named() {
            assert!(task::try_id().is_none(), "{name}: try_id outside a task");
            rt.block_on(async {
                let barrier = Arc::new(Barrier::new(N));
                let hs: Vec<_> = (0..N)
                    .map(|_| {
                        let b = barrier.clone();
                        zokio::spawn(async move {
                            let id = task::id();
                            assert_eq!(task::try_id(), Some(id));
                            // Keep every task alive at the same time.
                            b.wait().await;
                            task::yield_now().await;
                            assert_eq!(task::id(), id, "id changed across a yield");
                            id
                        })
                    })
                    .collect();
                let mut seen = HashSet::new();
                for h in hs {
                    let hid = h.id();
                    let id = h.await.unwrap();
                    assert_eq!(id, hid, "{name}: task::id() != JoinHandle::id()");
                    assert!(seen.insert(id), "{name}: duplicate task id {id}");
                }
                assert_eq!(seen.len(), N);
            });
        }
    })
}

#[test]
fn yield_now_lets_other_tasks_run() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let flag = Arc::new(AtomicBool::new(false));
                let f = flag.clone();
                let h = zokio::spawn(async move {
                    f.store(true, Ordering::SeqCst);
                });
                let deadline = Instant::now() + HANG_GUARD;
                while !flag.load(Ordering::SeqCst) {
                    assert!(
                        Instant::now() < deadline,
                        "{name}: yield_now never let the task run"
                    );
                    task::yield_now().await;
                }
                h.await.unwrap();

                // Two tasks that only make progress by yielding to each other.
                let turn = Arc::new(AtomicUsize::new(0));
                let mk = |me: usize| {
                    let turn = turn.clone();
                    zokio::spawn(async move {
                        let deadline = Instant::now() + HANG_GUARD;
                        let mut done = 0;
                        while done < 200 {
                            if turn.load(Ordering::SeqCst) % 2 == me {
                                turn.fetch_add(1, Ordering::SeqCst);
                                done += 1;
                            } else {
                                assert!(Instant::now() < deadline, "starved");
                            }
                            task::yield_now().await;
                        }
                    })
                };
                let (a, b) = (mk(0), mk(1));
                a.await.unwrap();
                b.await.unwrap();
                assert_eq!(turn.load(Ordering::SeqCst), 400, "{name}");
            });
        }
    })
}

#[test]
fn mpsc_ping_pong_across_workers() {
    const PAIRS: usize = 64;
    const ROUNDS: u64 = 200;
    timed(|| {
        for (name, rt) in flavors_named() {
            let total = rt.block_on(async {
                let mut handles = Vec::new();
                for _ in 0..PAIRS {
                    let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
                    let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
                    let ponger = zokio::spawn(async move {
                        let mut n = 0;
                        while let Some(v) = ping_rx.recv().await {
                            pong_tx.send(v + 1).await.unwrap();
                            n += 1;
                        }
                        n
                    });
                    let pinger = zokio::spawn(async move {
                        let mut v = 0;
                        for _ in 0..ROUNDS {
                            ping_tx.send(v).await.unwrap();
                            v = pong_rx.recv().await.unwrap();
                        }
                        v
                    });
                    handles.push((pinger, ponger));
                }
                let mut total = 0;
                for (pinger, ponger) in handles {
                    assert_eq!(pinger.await.unwrap(), ROUNDS);
                    assert_eq!(ponger.await.unwrap(), ROUNDS);
                    total += ROUNDS;
                }
                total
            });
            assert_eq!(total, PAIRS as u64 * ROUNDS, "{name}");
        }
    })
}

#[test]
fn tasks_spread_over_workers_multi_thread() {
    // With 2 workers and tasks that block their worker briefly until both are
    // running, both workers must be used (work stealing / distribution).
    timed(|| {
        let rt = multi_thread(2);
        let ids = rt.block_on(async {
            let barrier = Arc::new(std::sync::Barrier::new(2));
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let b = barrier.clone();
                    zokio::spawn(async move {
                        b.wait();
                        std::thread::current().id()
                    })
                })
                .collect();
            let mut ids = HashSet::new();
            for h in hs {
                ids.insert(h.await.unwrap());
            }
            ids
        });
        assert_eq!(ids.len(), 2);
    })
}

#[test]
fn join_try_join_select_pin_macros() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                // join!
                let (a, b, c) = zokio::join!(zokio::spawn(async { 1 }), async { 2 }, async {
                    task::yield_now().await;
                    3
                });
                assert_eq!((a.unwrap(), b, c), (1, 2, 3), "{name}");

                // try_join! success and early failure.
                let ok: Result<(i32, i32), &str> =
                    zokio::try_join!(async { Ok(1) }, async { Ok(2) });
                assert_eq!(ok, Ok((1, 2)));
                let (tx, rx) = oneshot::channel::<()>();
                let err: Result<((), i32), &str> = zokio::try_join!(
                    async move {
                        // Would never finish: the error must short-circuit.
                        let _ = rx.await;
                        Ok(())
                    },
                    async { Err::<i32, _>("boom") }
                );
                assert_eq!(err, Err("boom"), "{name}");
                drop(tx);

                // select! picks the ready branch.
                let (tx, rx) = oneshot::channel::<u8>();
                let h = zokio::spawn(async move { tx.send(5).unwrap() });
                let v = zokio::select! {
                    v = rx => v.unwrap(),
                    _ = std::future::pending::<()>() => unreachable!(),
                };
                assert_eq!(v, 5, "{name}");
                h.await.unwrap();

                // select! in a loop with pin!, biased and else.
                let (tx, mut rx) = mpsc::channel::<u32>(8);
                let producer = zokio::spawn(async move {
                    for i in 0..10 {
                        tx.send(i).await.unwrap();
                    }
                });
                let sleeper = async {
                    std::future::pending::<()>().await;
                };
                zokio::pin!(sleeper);
                let mut got = Vec::new();
                loop {
                    zokio::select! {
                        biased;
                        v = rx.recv() => match v {
                            Some(v) => got.push(v),
                            None => break,
                        },
                        _ = &mut sleeper => unreachable!(),
                    }
                }
                assert_eq!(got, (0..10).collect::<Vec<_>>(), "{name}");
                producer.await.unwrap();

                let mut done = std::future::ready(1);
                let v = zokio::select! {
                    v = &mut done => v,
                    else => 0,
                };
                assert_eq!(v, 1);
                let all_disabled = zokio::select! {
                    Some(v) = async { None::<u8> } => v,
                    else => 77,
                };
                assert_eq!(all_disabled, 77, "{name}");
            });
        }
    })
}

#[test]
fn sync_oneshot() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let mut rxs = Vec::new();
                for i in 0..100u32 {
                    let (tx, rx) = oneshot::channel();
                    zokio::spawn(async move {
                        task::yield_now().await;
                        tx.send(i * 2).unwrap();
                    });
                    rxs.push(rx);
                }
                let mut sum = 0;
                for rx in rxs {
                    sum += rx.await.unwrap();
                }
                assert_eq!(sum, 9900, "{name}");
                // A dropped sender is observed as an error by the receiver.
                let (tx, rx) = oneshot::channel::<u8>();
                zokio::spawn(async move { drop(tx) });
                assert!(rx.await.is_err(), "{name}");
            });
        }
    })
}

#[test]
fn sync_mpsc_many_producers() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let (tx, mut rx) = mpsc::channel::<u64>(4);
                for p in 0..16u64 {
                    let tx = tx.clone();
                    zokio::spawn(async move {
                        for i in 0..100u64 {
                            tx.send(p * 1000 + i).await.unwrap();
                        }
                    });
                }
                drop(tx);
                let (utx, mut urx) = mpsc::unbounded_channel::<u64>();
                let consumer = zokio::spawn(async move {
                    let mut n = 0;
                    let mut sum = 0;
                    while let Some(v) = rx.recv().await {
                        n += 1;
                        sum += v;
                        utx.send(v).unwrap();
                    }
                    (n, sum)
                });
                let (n, sum) = consumer.await.unwrap();
                let expected: u64 = (0..16u64)
                    .map(|p| (0..100u64).map(|i| p * 1000 + i).sum::<u64>())
                    .sum();
                assert_eq!((n, sum), (1600, expected), "{name}");
                let mut m = 0;
                while urx.recv().await.is_some() {
                    m += 1;
                }
                assert_eq!(m, 1600);
            });
        }
    })
}

#[test]
fn sync_broadcast() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let (tx, _) = broadcast::channel::<u64>(128);
                let hs: Vec<_> = (0..4)
                    .map(|_| {
                        let mut rx = tx.subscribe();
                        zokio::spawn(async move {
                            let mut sum = 0;
                            loop {
                                match rx.recv().await {
                                    Ok(v) => sum += v,
                                    Err(broadcast::error::RecvError::Closed) => break sum,
                                    Err(e) => panic!("unexpected {e:?}"),
                                }
                            }
                        })
                    })
                    .collect();
                let sender = zokio::spawn(async move {
                    for i in 1..=100u64 {
                        tx.send(i).unwrap();
                        if i % 10 == 0 {
                            task::yield_now().await;
                        }
                    }
                });
                sender.await.unwrap();
                for h in hs {
                    assert_eq!(h.await.unwrap(), 5050, "{name}");
                }
            });
        }
    })
}

#[test]
fn sync_watch() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let (tx, rx) = watch::channel(0u32);
                let hs: Vec<_> = (0..4)
                    .map(|_| {
                        let mut rx = rx.clone();
                        zokio::spawn(async move {
                            let mut last = 0;
                            while last < 100 {
                                rx.changed().await.expect("sender alive until 100");
                                let v = *rx.borrow_and_update();
                                assert!(v >= last, "watch went backwards");
                                last = v;
                            }
                            last
                        })
                    })
                    .collect();
                let writer = zokio::spawn(async move {
                    for i in 1..=100 {
                        tx.send(i).unwrap();
                        task::yield_now().await;
                    }
                    tx
                });
                let tx = writer.await.unwrap();
                for h in hs {
                    assert_eq!(h.await.unwrap(), 100, "{name}");
                }
                drop(tx);
                let mut rx = rx;
                assert_eq!(*rx.borrow_and_update(), 100, "{name}");
                assert!(rx.changed().await.is_err(), "{name}: closed watch");
            });
        }
    })
}

#[test]
fn sync_mutex() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let m = Arc::new(Mutex::new(0u64));
                let hs: Vec<_> = (0..8)
                    .map(|_| {
                        let m = m.clone();
                        zokio::spawn(async move {
                            for i in 0..500 {
                                let mut g = m.lock().await;
                                let v = *g;
                                if i % 50 == 0 {
                                    // Hold the lock across a suspension point.
                                    task::yield_now().await;
                                }
                                *g = v + 1;
                            }
                        })
                    })
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
                assert_eq!(*m.lock().await, 4000, "{name}");
            });
        }
    })
}

#[test]
fn sync_rwlock() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let l = Arc::new(RwLock::new((0u64, 0u64)));
                let mut hs = Vec::new();
                for _ in 0..4 {
                    let l = l.clone();
                    hs.push(zokio::spawn(async move {
                        for _ in 0..200 {
                            let mut g = l.write().await;
                            g.0 += 1;
                            task::yield_now().await;
                            g.1 += 1;
                        }
                    }));
                }
                for _ in 0..4 {
                    let l = l.clone();
                    hs.push(zokio::spawn(async move {
                        for _ in 0..200 {
                            let g = l.read().await;
                            assert_eq!(g.0, g.1, "reader saw a half-done write");
                            drop(g);
                            task::yield_now().await;
                        }
                    }));
                }
                for h in hs {
                    h.await.unwrap();
                }
                assert_eq!(*l.read().await, (800, 800), "{name}");
            });
        }
    })
}

#[test]
fn sync_semaphore() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let sem = Arc::new(Semaphore::new(3));
                let cur = Arc::new(AtomicUsize::new(0));
                let max = Arc::new(AtomicUsize::new(0));
                let hs: Vec<_> = (0..32)
                    .map(|_| {
                        let (sem, cur, max) = (sem.clone(), cur.clone(), max.clone());
                        zokio::spawn(async move {
                            let _p = sem.acquire().await.unwrap();
                            let now = cur.fetch_add(1, Ordering::SeqCst) + 1;
                            max.fetch_max(now, Ordering::SeqCst);
                            for _ in 0..5 {
                                task::yield_now().await;
                            }
                            cur.fetch_sub(1, Ordering::SeqCst);
                        })
                    })
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
                let m = max.load(Ordering::SeqCst);
                assert!((1..=3).contains(&m), "{name}: {m} permits held at once");
                assert_eq!(sem.available_permits(), 3, "{name}");
            });
        }
    })
}

#[test]
fn sync_notify_ping_pong() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let ping = Arc::new(Notify::new());
                let pong = Arc::new(Notify::new());
                let count = Arc::new(AtomicUsize::new(0));
                let (pi, po, c) = (ping.clone(), pong.clone(), count.clone());
                let h = zokio::spawn(async move {
                    for _ in 0..200 {
                        pi.notified().await;
                        c.fetch_add(1, Ordering::SeqCst);
                        po.notify_one();
                    }
                });
                for i in 0..200 {
                    ping.notify_one();
                    pong.notified().await;
                    assert_eq!(count.load(Ordering::SeqCst), i + 1);
                }
                h.await.unwrap();
                assert_eq!(count.load(Ordering::SeqCst), 200, "{name}");
            });
        }
    })
}

#[test]
fn sync_barrier() {
    const N: usize = 8;
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let barrier = Arc::new(Barrier::new(N));
                let arrived = Arc::new(AtomicUsize::new(0));
                let hs: Vec<_> = (0..N)
                    .map(|_| {
                        let (b, a) = (barrier.clone(), arrived.clone());
                        zokio::spawn(async move {
                            let mut leaders = 0;
                            for gen in 0..3 {
                                a.fetch_add(1, Ordering::SeqCst);
                                let r = b.wait().await;
                                // Nobody passes generation `gen` before all arrived.
                                assert!(a.load(Ordering::SeqCst) >= (gen + 1) * N);
                                if r.is_leader() {
                                    leaders += 1;
                                }
                            }
                            leaders
                        })
                    })
                    .collect();
                let mut leaders = 0;
                for h in hs {
                    leaders += h.await.unwrap();
                }
                assert_eq!(leaders, 3, "{name}: one leader per generation");
            });
        }
    })
}

#[test]
fn sync_once_cell() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let cell = Arc::new(OnceCell::<u64>::new());
                let inits = Arc::new(AtomicUsize::new(0));
                let hs: Vec<_> = (0..16)
                    .map(|_| {
                        let (cell, inits) = (cell.clone(), inits.clone());
                        zokio::spawn(async move {
                            *cell
                                .get_or_init(|| async {
                                    inits.fetch_add(1, Ordering::SeqCst);
                                    task::yield_now().await;
                                    42
                                })
                                .await
                        })
                    })
                    .collect();
                for h in hs {
                    assert_eq!(h.await.unwrap(), 42, "{name}");
                }
                assert_eq!(inits.load(Ordering::SeqCst), 1, "{name}: initialised twice");
            });
        }
    })
}

#[test]
fn thread_per_core_tasks_stay_on_their_worker() {
    // Thread-per-core never moves a task: it is polled on one thread for its
    // whole life, and tasks it spawns run on that same thread.
    timed(|| {
        let rt = thread_per_core(2);
        let hs: Vec<_> = (0..20)
            .map(|_| {
                rt.spawn(async {
                    let home = std::thread::current().id();
                    for _ in 0..50 {
                        task::yield_now().await;
                        assert_eq!(std::thread::current().id(), home, "task migrated");
                    }
                    let child = zokio::spawn(async {
                        task::yield_now().await;
                        std::thread::current().id()
                    });
                    assert_eq!(
                        child.await.unwrap(),
                        home,
                        "child not pinned to spawner's worker"
                    );
                    home
                })
            })
            .collect();
        let mut homes = HashSet::new();
        for h in hs {
            homes.insert(futures::executor::block_on(h).unwrap());
        }
        assert!(!homes.contains(&std::thread::current().id()));
        assert!(homes.len() <= 2, "more homes than workers: {homes:?}");
    })
}

#[test]
fn current_thread_runs_tasks_on_block_on_thread() {
    timed(|| {
        let rt = current_thread();
        let me = std::thread::current().id();
        let early = rt.spawn(async { std::thread::current().id() });
        let ids = rt.block_on(async {
            let hs: Vec<_> = (0..20)
                .map(|_| zokio::spawn(async { std::thread::current().id() }))
                .collect();
            let mut ids = vec![early.await.unwrap()];
            for h in hs {
                ids.push(h.await.unwrap());
            }
            ids
        });
        assert!(
            ids.iter().all(|&id| id == me),
            "current_thread task ran elsewhere"
        );
    })
}
