//! What a `Pooled` runtime must do like any other: tasks spawned, woken, awaited and
//! dropped on every kind of thread, with cells of every size, freed wherever their
//! last reference goes. The allocation counts and the memory given back after a burst
//! are in `memory_allocs.rs` and `memory_rss.rs`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{flavors_with_memory, run_with_timeout, DropCounter, BODY_GUARD};
use zokio::runtime::MemoryStrategy;

#[test]
fn tasks_of_every_size_run_and_free_on_any_thread() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_with_memory(MemoryStrategy::Pooled) {
            assert_eq!(rt.handle().memory_strategy(), MemoryStrategy::Pooled);
            let drops = DropCounter::new();
            let total = rt.block_on(async {
                let mut handles = Vec::new();
                for i in 0..300usize {
                    let guard = drops.guard();
                    // Small, middle and larger-than-a-block futures: 16 B to 4 KiB of
                    // state, so the pool's classes and its global fallback both serve.
                    handles.push(match i % 3 {
                        0 => zokio::spawn(async move {
                            let _guard = guard;
                            zokio::task::yield_now().await;
                            i
                        }),
                        1 => zokio::spawn(async move {
                            let _guard = guard;
                            let state = [i as u8; 200];
                            zokio::task::yield_now().await;
                            state.iter().map(|&b| b as usize).sum::<usize>() / 200
                        }),
                        _ => zokio::spawn(async move {
                            let _guard = guard;
                            let state = [i as u8; 4096];
                            zokio::task::yield_now().await;
                            state.iter().map(|&b| b as usize).sum::<usize>() / 4096
                        }),
                    });
                }
                let mut total = 0;
                for handle in handles {
                    total += handle.await.unwrap();
                }
                total
            });
            // The small tasks return `i`, the others the byte they were filled with.
            let expected: usize = (0..300usize)
                .map(|i| if i % 3 == 0 { i } else { i % 256 })
                .sum();
            assert_eq!(total, expected, "{name}");
            assert_eq!(drops.get(), 300, "{name}: every future was dropped");
        }
    });
}

#[test]
fn cells_cross_threads_both_ways() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_with_memory(MemoryStrategy::Pooled) {
            let handle = rt.handle().clone();
            // Spawned from threads outside the runtime (global allocator), awaited
            // on a worker; spawned on a worker (pool), awaited from outside.
            let outside: Vec<_> = (0..4)
                .map(|t| {
                    let handle = handle.clone();
                    std::thread::spawn(move || {
                        (0..50)
                            .map(|i| handle.spawn(async move { t * 100 + i }))
                            .collect::<Vec<_>>()
                    })
                })
                .flat_map(|thread| thread.join().unwrap())
                .collect();
            let inside = rt.block_on(async move {
                let mut sum = 0;
                for h in outside {
                    sum += h.await.unwrap();
                }
                let inner: Vec<_> = (0..200).map(|i| zokio::spawn(async move { i })).collect();
                (sum, inner)
            });
            let (sum, inner) = inside;
            assert_eq!(
                sum,
                (0..4)
                    .map(|t| (0..50).map(|i| t * 100 + i).sum::<i32>())
                    .sum::<i32>()
            );
            let waiter = std::thread::spawn(move || {
                futures::executor::block_on(async {
                    let mut sum = 0;
                    for h in inner {
                        sum += h.await.unwrap();
                    }
                    sum
                })
            });
            // A current-thread runtime runs its tasks only inside `block_on`.
            rt.block_on(async {
                while !waiter.is_finished() {
                    zokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            });
            let from_outside: i32 = waiter.join().unwrap();
            assert_eq!(from_outside, (0..200).sum::<i32>(), "{name}");
        }
    });
}

#[test]
fn blocking_threads_and_aborted_tasks_are_fine() {
    run_with_timeout(BODY_GUARD, || {
        for (name, rt) in flavors_with_memory(MemoryStrategy::Pooled) {
            let ran = Arc::new(AtomicUsize::new(0));
            let seen = ran.clone();
            rt.block_on(async move {
                // A spawn from the blocking pool uses the global allocator there.
                let nested = zokio::task::spawn_blocking(move || {
                    zokio::runtime::Handle::current().spawn(async move {
                        seen.fetch_add(1, Ordering::SeqCst);
                        7
                    })
                })
                .await
                .unwrap();
                assert_eq!(nested.await.unwrap(), 7);
                // Aborted before and after running: cells freed by the canceller.
                let pending = zokio::spawn(std::future::pending::<()>());
                zokio::task::yield_now().await;
                pending.abort();
                assert!(pending.await.unwrap_err().is_cancelled());
                let never = zokio::spawn(async { 1 });
                never.abort();
                let _ = never.await;
            });
            assert_eq!(ran.load(Ordering::SeqCst), 1, "{name}");
            // Tasks still pending when the runtime goes are freed by its shutdown.
            let drops = DropCounter::new();
            for _ in 0..100 {
                let guard = drops.guard();
                rt.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                });
            }
            drop(rt);
            assert_eq!(
                drops.get(),
                100,
                "{name}: shutdown dropped every pending task"
            );
        }
    });
}

#[test]
fn pending_pooled_tasks_are_all_dropped_at_shutdown() {
    run_with_timeout(BODY_GUARD, || {
        // Enough tasks to fill several segments and every registry shard; spawned on
        // the runtime's threads, so their cells come from the pools and the registry
        // lists them by short address.
        const PENDING: usize = 5_000;
        for (name, rt) in flavors_with_memory(MemoryStrategy::Pooled) {
            let drops = DropCounter::new();
            let guards: Vec<_> = (0..PENDING).map(|_| drops.guard()).collect();
            rt.block_on(async move {
                zokio::spawn(async move {
                    for (n, guard) in guards.into_iter().enumerate() {
                        zokio::spawn(async move {
                            let _guard = guard;
                            std::future::pending::<()>().await;
                        });
                        // Finished tasks in between free slots and blocks that later
                        // tasks take again.
                        if n % 7 == 0 {
                            zokio::spawn(async move { n }).await.unwrap();
                        }
                    }
                })
                .await
                .unwrap();
                // Let every pending task be polled once.
                for _ in 0..10 {
                    zokio::task::yield_now().await;
                }
            });
            assert_eq!(drops.get(), 0, "{name}: no pending task ended early");
            drop(rt);
            assert_eq!(
                drops.get(),
                PENDING,
                "{name}: shutdown dropped every pending pooled task"
            );
        }
    });
}
