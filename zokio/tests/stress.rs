//! Stress tests: one million spawned tasks, remote spawns from many threads,
//! and cross-thread wake storms (Notify, futures mpsc, futures oneshot, and
//! raw wakers fired while the task is still being polled). Every workload
//! runs under a hard timeout so that a lost wake-up fails instead of hanging.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use common::*;
use futures::StreamExt;
use zokio::runtime::Runtime;
use zokio::sync::Notify;

const TASKS: usize = 1_000;
const WAKES: usize = 100;
const THREADS: usize = 8;

#[test]
fn one_million_tasks() {
    const TOTAL: usize = 1_000_000;
    const BATCH: usize = 10_000;
    run_with_timeout(BODY_GUARD, || {
        let rt = multi_thread(2);
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let spawned = rt.block_on(async move {
            zokio::spawn(async move {
                let mut spawned = 0;
                let mut handles = Vec::with_capacity(BATCH);
                for _ in 0..TOTAL / BATCH {
                    for _ in 0..BATCH {
                        let c = c.clone();
                        handles.push(zokio::spawn(async move {
                            c.fetch_add(1, Ordering::Relaxed);
                        }));
                    }
                    for h in handles.drain(..) {
                        h.await.unwrap();
                    }
                    spawned += BATCH;
                }
                spawned
            })
            .await
            .unwrap()
        });
        assert_eq!(spawned, TOTAL);
        assert_eq!(count.load(Ordering::SeqCst), TOTAL);
    })
}

#[test]
fn remote_spawn_storm() {
    const PER_THREAD: usize = 10_000;
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            let count = Arc::new(AtomicUsize::new(0));
            let (done_tx, mut done_rx) = zokio::sync::mpsc::unbounded_channel::<usize>();
            let threads: Vec<_> = (0..THREADS)
                .map(|_| {
                    let handle = rt.handle().clone();
                    let count = count.clone();
                    let done_tx = done_tx.clone();
                    std::thread::spawn(move || {
                        let hs: Vec<_> = (0..PER_THREAD)
                            .map(|i| {
                                let count = count.clone();
                                handle.spawn(async move {
                                    count.fetch_add(1, Ordering::Relaxed);
                                    i
                                })
                            })
                            .collect();
                        let mut sum = 0;
                        for h in hs {
                            sum += futures::executor::block_on(h).unwrap();
                        }
                        done_tx.send(sum).unwrap();
                    })
                })
                .collect();
            drop(done_tx);
            // Drive the runtime (needed for current_thread) until all are done.
            let total = rt.block_on(async {
                let mut total = 0;
                while let Some(s) = done_rx.recv().await {
                    total += s;
                }
                total
            });
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(total, THREADS * (0..PER_THREAD).sum::<usize>(), "{name}");
            assert_eq!(count.load(Ordering::SeqCst), THREADS * PER_THREAD, "{name}");
        }
    })
}

/// Spawns `TASKS` tasks built by `task(i)`, runs `waker_thread(t)` on
/// `THREADS` std threads, and checks every task completes with `i`.
fn storm<F, Fut, W>(rt: &Runtime, name: &str, task: F, waker_thread: W)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = usize> + Send + 'static,
    W: Fn(usize) -> Box<dyn FnOnce() + Send> + Send,
{
    let handles: Vec<_> = (0..TASKS).map(|i| rt.spawn(task(i))).collect();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| std::thread::spawn(waker_thread(t)))
        .collect();
    let done = rt.block_on(async {
        let mut done = 0;
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), i, "{name}");
            done += 1;
        }
        done
    });
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(done, TASKS, "{name}");
}

#[test]
fn wake_storm_notify() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            let slots: Arc<Vec<(Notify, AtomicUsize)>> = Arc::new(
                (0..TASKS)
                    .map(|_| (Notify::new(), AtomicUsize::new(0)))
                    .collect(),
            );
            let s = slots.clone();
            let task = move |i: usize| {
                let s = s.clone();
                async move {
                    let (notify, count) = &s[i];
                    let mut wakeups = 0;
                    while count.load(Ordering::SeqCst) < WAKES {
                        notify.notified().await;
                        wakeups += 1;
                    }
                    assert!(wakeups <= WAKES);
                    i
                }
            };
            let waker_thread = |t: usize| -> Box<dyn FnOnce() + Send> {
                let slots = slots.clone();
                Box::new(move || {
                    for _ in 0..WAKES {
                        for i in (t..TASKS).step_by(THREADS) {
                            let (notify, count) = &slots[i];
                            count.fetch_add(1, Ordering::SeqCst);
                            notify.notify_one();
                        }
                    }
                })
            };
            storm(&rt, name, task, waker_thread);
        }
    })
}

#[test]
fn wake_storm_futures_mpsc_shared_senders() {
    // Every std thread sends to every task: the same task is woken
    // concurrently from all 8 threads.
    const PER_THREAD: usize = WAKES / THREADS + 1;
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            let mut senders = Vec::new();
            let mut receivers = Vec::new();
            for _ in 0..TASKS {
                let (tx, rx) = futures::channel::mpsc::unbounded::<usize>();
                senders.push(tx);
                receivers.push(Some(rx));
            }
            let receivers = std::sync::Mutex::new(receivers);
            let task = |i: usize| {
                let mut rx = receivers.lock().unwrap()[i].take().unwrap();
                async move {
                    let mut n = 0;
                    let mut sum = 0;
                    while let Some(v) = rx.next().await {
                        n += 1;
                        sum += v;
                    }
                    assert_eq!(n, THREADS * PER_THREAD);
                    assert_eq!(sum, PER_THREAD * (0..THREADS).sum::<usize>());
                    i
                }
            };
            let senders = Arc::new(senders);
            let for_threads = senders.clone();
            let waker_thread = move |t: usize| -> Box<dyn FnOnce() + Send> {
                let senders = for_threads.clone();
                Box::new(move || {
                    for _ in 0..PER_THREAD {
                        for tx in senders.iter() {
                            tx.unbounded_send(t).unwrap();
                        }
                    }
                })
            };
            // Close the channels once every thread is done sending.
            storm_then_close(&rt, name, task, waker_thread, senders);
        }
    })
}

/// Like [`storm`], but the tasks only finish once `senders` is dropped, which
/// happens after all waker threads have finished.
fn storm_then_close<F, Fut, W, S: Send + Sync + 'static>(
    rt: &Runtime,
    name: &str,
    task: F,
    waker_thread: W,
    senders: Arc<S>,
) where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = usize> + Send + 'static,
    W: Fn(usize) -> Box<dyn FnOnce() + Send> + Send,
{
    let handles: Vec<_> = (0..TASKS).map(|i| rt.spawn(task(i))).collect();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| std::thread::spawn(waker_thread(t)))
        .collect();
    // `waker_thread` may hold a clone of the senders, too.
    drop(waker_thread);
    let closer = std::thread::spawn(move || {
        for t in threads {
            t.join().unwrap();
        }
        drop(senders);
    });
    let done = rt.block_on(async {
        let mut done = 0;
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), i, "{name}");
            done += 1;
        }
        done
    });
    closer.join().unwrap();
    assert_eq!(done, TASKS, "{name}");
}

#[test]
fn wake_storm_futures_oneshot_chains() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            // Each task awaits WAKES oneshots in sequence; thread t fires the
            // senders of tasks t, t+8, ... round by round.
            let mut all_tx: Vec<Vec<futures::channel::oneshot::Sender<usize>>> = Vec::new();
            let mut all_rx = Vec::new();
            for _ in 0..TASKS {
                let (txs, rxs): (Vec<_>, Vec<_>) = (0..WAKES)
                    .map(|_| futures::channel::oneshot::channel())
                    .unzip();
                all_tx.push(txs);
                all_rx.push(Some(rxs));
            }
            let all_rx = std::sync::Mutex::new(all_rx);
            let task = |i: usize| {
                let rxs = all_rx.lock().unwrap()[i].take().unwrap();
                async move {
                    for (k, rx) in rxs.into_iter().enumerate() {
                        assert_eq!(rx.await.unwrap(), k);
                    }
                    i
                }
            };
            let mut per_thread: Vec<Vec<(usize, Vec<futures::channel::oneshot::Sender<usize>>)>> =
                (0..THREADS).map(|_| Vec::new()).collect();
            for (i, txs) in all_tx.into_iter().enumerate() {
                per_thread[i % THREADS].push((i, txs));
            }
            let per_thread = std::sync::Mutex::new(per_thread);
            let waker_thread = |t: usize| -> Box<dyn FnOnce() + Send> {
                let mine = std::mem::take(&mut per_thread.lock().unwrap()[t]);
                Box::new(move || {
                    let mut iters: Vec<_> = mine.into_iter().map(|(_, v)| v.into_iter()).collect();
                    for k in 0..WAKES {
                        for it in iters.iter_mut() {
                            it.next().unwrap().send(k).unwrap();
                        }
                    }
                })
            };
            storm(&rt, name, task, waker_thread);
        }
    })
}

/// A future that, on each poll until `remaining` reaches 0, hands its waker
/// to a foreign thread (which wakes it at once, racing with this poll
/// returning `Pending`).
struct WakeDuringPoll {
    remaining: usize,
    to_waker_thread: std::sync::mpsc::Sender<(Waker, bool)>,
    id: usize,
}

impl Future for WakeDuringPoll {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        if self.remaining == 0 {
            return Poll::Ready(self.id);
        }
        self.remaining -= 1;
        let by_ref = self.remaining % 2 == 0;
        self.to_waker_thread
            .send((cx.waker().clone(), by_ref))
            .expect("waker thread gone");
        // Give the other thread a chance to wake us before we return.
        if self.remaining % 3 == 0 {
            std::thread::yield_now();
        }
        Poll::Pending
    }
}

#[test]
fn wake_storm_wake_during_poll() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_named() {
            let mut txs = Vec::new();
            let mut threads = Vec::new();
            for _ in 0..THREADS {
                let (tx, rx) = std::sync::mpsc::channel::<(Waker, bool)>();
                txs.push(tx);
                threads.push(std::thread::spawn(move || {
                    let mut n = 0usize;
                    while let Ok((waker, by_ref)) = rx.recv() {
                        if by_ref {
                            waker.wake_by_ref();
                            // Drop the clone on this thread as well.
                            drop(waker);
                        } else {
                            waker.wake();
                        }
                        n += 1;
                    }
                    n
                }));
            }
            let handles: Vec<_> = (0..TASKS)
                .map(|i| {
                    rt.spawn(WakeDuringPoll {
                        remaining: WAKES,
                        to_waker_thread: txs[i % THREADS].clone(),
                        id: i,
                    })
                })
                .collect();
            drop(txs);
            let ok = rt.block_on(async {
                let mut ok = 0;
                for (i, h) in handles.into_iter().enumerate() {
                    assert_eq!(h.await.unwrap(), i, "{name}");
                    ok += 1;
                }
                ok
            });
            assert_eq!(ok, TASKS, "{name}");
            let wakes: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
            assert_eq!(wakes, TASKS * WAKES, "{name}");
        }
    })
}
