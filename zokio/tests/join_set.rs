//! `JoinSet` on every flavor: `spawn` + `join_next` returns every result,
//! `len`/`is_empty`, `abort_all`, `shutdown`, `join_all`, `detach_all`,
//! panics surfacing through `join_next`, and dropping a set aborts its tasks.

mod common;

use common::*;
use zokio::sync::oneshot;
use zokio::task::JoinSet;

#[test]
fn join_next_returns_all_results() {
    const N: u64 = 200;
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let mut set = JoinSet::new();
                for i in 0..N {
                    set.spawn(async move {
                        if i % 3 == 0 {
                            zokio::task::yield_now().await;
                        }
                        i
                    });
                }
                assert_eq!(set.len(), N as usize);
                let mut got = Vec::new();
                while let Some(r) = set.join_next().await {
                    got.push(r.unwrap());
                    assert_eq!(set.len(), N as usize - got.len());
                }
                got.sort_unstable();
                assert_eq!(got, (0..N).collect::<Vec<_>>(), "{name}");
                assert!(set.is_empty());
                assert!(set.join_next().await.is_none(), "{name}");
            });
        }
    })
}

#[test]
fn len_and_is_empty() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let mut set: JoinSet<u8> = JoinSet::new();
                assert!(set.is_empty());
                assert_eq!(set.len(), 0);
                let (tx, rx) = oneshot::channel::<()>();
                set.spawn(async move {
                    rx.await.unwrap();
                    1
                });
                set.spawn(async { 2 });
                set.spawn(async { 3 });
                assert_eq!(set.len(), 3, "{name}");
                assert!(!set.is_empty());
                let first = set.join_next().await.unwrap().unwrap();
                let second = set.join_next().await.unwrap().unwrap();
                let mut two = [first, second];
                two.sort_unstable();
                assert_eq!(two, [2, 3], "{name}: the blocked task finished early");
                assert_eq!(set.len(), 1);
                tx.send(()).unwrap();
                assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
                assert!(set.is_empty());
            });
        }
    })
}

#[test]
fn abort_all_gives_cancelled_errors() {
    const N: usize = 50;
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let drops = DropCounter::new();
                let mut set = JoinSet::new();
                for _ in 0..N {
                    set.spawn(pending_with(drops.guard()));
                }
                zokio::task::yield_now().await;
                set.abort_all();
                let mut cancelled = 0;
                while let Some(r) = set.join_next().await {
                    assert!(r.unwrap_err().is_cancelled(), "{name}");
                    cancelled += 1;
                }
                assert_eq!(cancelled, N, "{name}");
                assert_eq!(drops.get(), N, "{name}");
            });
        }
    })
}

#[test]
fn shutdown_aborts_and_waits() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let drops = DropCounter::new();
                let mut set = JoinSet::new();
                for _ in 0..30 {
                    set.spawn(pending_with(drops.guard()));
                }
                set.shutdown().await;
                assert!(set.is_empty(), "{name}");
                assert_eq!(
                    drops.get(),
                    30,
                    "{name}: shutdown returned before tasks were dropped"
                );
                // The set is reusable after shutdown.
                set.spawn(async {});
                assert!(set.join_next().await.unwrap().is_ok());
            });
        }
    })
}

#[test]
fn dropping_set_aborts_tasks() {
    const N: usize = 40;
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let drops = DropCounter::new();
                let mut set = JoinSet::new();
                let mut watchers = Vec::new();
                for _ in 0..N {
                    // The sender lives inside the task: it is dropped exactly
                    // when the task's future is dropped. The guard goes first
                    // (tuple fields drop in order), so a closed channel proves
                    // the guard was already counted.
                    let (tx, rx) = oneshot::channel::<()>();
                    let g = drops.guard();
                    set.spawn(async move {
                        let _keep = (g, tx);
                        std::future::pending::<()>().await;
                    });
                    watchers.push(rx);
                }
                zokio::task::yield_now().await;
                drop(set);
                for rx in watchers {
                    assert!(rx.await.is_err(), "{name}");
                }
                assert_eq!(drops.get(), N, "{name}");
            });
        }
    })
}

#[test]
fn join_all_collects_outputs() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let mut out = rt.block_on(async {
                let mut set = JoinSet::new();
                for i in 0..100u32 {
                    set.spawn(async move {
                        zokio::task::yield_now().await;
                        i * i
                    });
                }
                set.join_all().await
            });
            out.sort_unstable();
            assert_eq!(
                out,
                (0..100u32).map(|i| i * i).collect::<Vec<_>>(),
                "{name}"
            );
        }
    })
}

#[test]
fn join_next_reports_panics() {
    quiet_expected_panics();
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let mut set = JoinSet::new();
                set.spawn(async { 1 });
                set.spawn(async { panic!("{EXPECTED_PANIC} in set") });
                set.spawn(async { 3 });
                let mut oks = 0;
                let mut panics = 0;
                while let Some(r) = set.join_next().await {
                    match r {
                        Ok(_) => oks += 1,
                        Err(e) => {
                            assert!(e.is_panic(), "{name}");
                            panics += 1;
                        }
                    }
                }
                assert_eq!((oks, panics), (2, 1), "{name}");
            });
        }
    })
}

#[test]
fn detach_all_keeps_tasks_running() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let mut set = JoinSet::new();
                let (go_tx, go_rx) = zokio::sync::watch::channel(false);
                let mut dones = Vec::new();
                for i in 0..10u32 {
                    let (tx, rx) = oneshot::channel();
                    let mut go = go_rx.clone();
                    set.spawn(async move {
                        go.wait_for(|v| *v).await.unwrap();
                        tx.send(i).unwrap();
                    });
                    dones.push(rx);
                }
                set.detach_all();
                assert!(set.is_empty(), "{name}");
                drop(set);
                go_tx.send(true).unwrap();
                let mut sum = 0;
                for rx in dones {
                    sum += rx.await.unwrap();
                }
                assert_eq!(sum, 45, "{name}");
            });
        }
    })
}

#[test]
fn abort_one_task_through_its_abort_handle() {
    timed(|| {
        for (name, rt) in flavors_named() {
            rt.block_on(async {
                let mut set = JoinSet::new();
                set.spawn(async { 5u32 });
                let ah = set.spawn(async { std::future::pending::<u32>().await });
                set.spawn(async { 6u32 });
                ah.abort();
                let mut oks = Vec::new();
                let mut cancelled = 0;
                while let Some(r) = set.join_next().await {
                    match r {
                        Ok(v) => oks.push(v),
                        Err(e) if e.is_cancelled() => cancelled += 1,
                        Err(e) => panic!("{name}: {e}"),
                    }
                }
                oks.sort_unstable();
                assert_eq!(oks, [5, 6], "{name}");
                assert_eq!(cancelled, 1, "{name}");
            });
        }
    })
}

#[test]
fn collected_extended_and_joined_with_ids() {
    for (name, rt) in common::flavors_named() {
        rt.block_on(async {
            let mut set: zokio::task::JoinSet<u32> = (0..5u32).map(|i| async move { i }).collect();
            set.extend((5..10u32).map(|i| async move { i }));
            assert_eq!(set.len(), 10, "{name}");
            let mut ids = std::collections::HashSet::new();
            let mut sum = 0;
            while let Some(done) = set.join_next_with_id().await {
                let (id, value) = done.unwrap();
                assert!(ids.insert(id), "{name}: ids are distinct");
                sum += value;
            }
            assert_eq!(sum, 45, "{name}");
            let handle = zokio::runtime::Handle::current();
            set.spawn_blocking_on(|| 7, &handle);
            let (_, seven) = loop {
                if let Some(done) = set.try_join_next_with_id() {
                    break done.unwrap();
                }
                zokio::task::yield_now().await;
            };
            assert_eq!(seven, 7, "{name}");
        });
    }
}

#[test]
fn joining_finished_tasks_spends_the_budget() {
    use futures::FutureExt;
    for (name, rt) in common::flavors_named() {
        rt.block_on(async {
            let mut set = zokio::task::JoinSet::new();
            for _ in 0..1000 {
                set.spawn(async {});
            }
            // Let every task finish first.
            zokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let (mut joined, mut yields) = (0, 0);
            loop {
                match set.join_next().now_or_never() {
                    Some(Some(result)) => {
                        result.unwrap();
                        joined += 1;
                    }
                    Some(None) => break,
                    None => {
                        yields += 1;
                        zokio::task::yield_now().await;
                    }
                }
            }
            assert_eq!(joined, 1000, "{name}");
            assert!(
                yields >= 1,
                "{name}: 1000 ready joins never ran out of budget"
            );
        });
    }
}

#[test]
fn try_join_next_sees_finished_tasks_even_without_budget() {
    let rt = common::current_thread();
    rt.block_on(async {
        let mut set = zokio::task::JoinSet::new();
        for _ in 0..500 {
            set.spawn(async {});
        }
        zokio::time::sleep(std::time::Duration::from_millis(20)).await;
        // Spend the whole budget first.
        while zokio::task::coop::has_budget_remaining() {
            let _ = futures::FutureExt::now_or_never(zokio::task::coop::consume_budget());
        }
        let mut count = 0;
        while let Some(result) = set.try_join_next() {
            result.unwrap();
            count += 1;
        }
        assert_eq!(count, 500);
    });
}
