//! `LocalSet`, `spawn_local` and `LocalRuntime`: tasks that are not `Send`, on every
//! flavour's `block_on` and on both I/O drivers (as chosen by `ZOKIO_DRIVER`).

mod common;

use std::cell::Cell;
#[cfg(unix)]
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use common::{flavors_named, panic_message, quiet_panics_with, timed, HANG_GUARD};
#[cfg(unix)]
use tokio::io::{AsyncReadExt, AsyncWriteExt};
#[cfg(unix)]
use zokio::net::{TcpListener, TcpStream};
use zokio::runtime::{Builder, LocalOptions, LocalRuntime};
use zokio::task::{self, LocalSet};

const SPAWN_LOCAL_OUTSIDE: &str =
    "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`";

#[test]
fn ten_thousand_not_send_tasks_on_every_flavour() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let local = LocalSet::new();
            let counter = Rc::new(Cell::new(0u64));
            let sum = local.block_on(&rt, {
                let counter = counter.clone();
                async move {
                    let handles: Vec<_> = (0..10_000u64)
                        .map(|i| {
                            let counter = counter.clone();
                            task::spawn_local(async move {
                                if i % 7 == 0 {
                                    task::yield_now().await;
                                }
                                counter.set(counter.get() + 1);
                                i
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for handle in handles {
                        sum += handle.await.unwrap();
                    }
                    sum
                }
            });
            assert_eq!(sum, (0..10_000u64).sum::<u64>(), "{name}");
            assert_eq!(counter.get(), 10_000, "{name}");
        }
    });
}

#[test]
fn spawn_local_outside_a_local_context_panics_with_tokios_message() {
    quiet_panics_with(&[SPAWN_LOCAL_OUTSIDE]);
    let outside = std::panic::catch_unwind(|| drop(task::spawn_local(async {})));
    let message = panic_message(&*outside.unwrap_err()).unwrap();
    assert_eq!(message, SPAWN_LOCAL_OUTSIDE);
    // Inside a runtime but outside any set: the same.
    for (name, rt) in flavors_named() {
        let inside =
            rt.block_on(async { zokio::spawn(async { drop(task::spawn_local(async {})) }).await });
        let err = inside.expect_err(name);
        assert!(err.is_panic(), "{name}");
        assert_eq!(
            panic_message(&*err.into_panic()).unwrap(),
            SPAWN_LOCAL_OUTSIDE
        );
    }
}

#[cfg(unix)]
#[test]
fn local_tasks_wait_on_timers_io_and_wakes_from_other_threads() {
    timed(|| {
        for (name, rt) in flavors_named() {
            let local = LocalSet::new();
            let log = Rc::new(RefCell::new(Vec::new()));
            local.block_on(&rt, {
                let log = log.clone();
                async move {
                    // A timer.
                    let sleeper = task::spawn_local({
                        let log = log.clone();
                        async move {
                            zokio::time::sleep(Duration::from_millis(5)).await;
                            log.borrow_mut().push("slept");
                        }
                    });
                    // A wake-up from a plain thread.
                    let (tx, rx) = zokio::sync::oneshot::channel::<u32>();
                    let receiver = task::spawn_local({
                        let log = log.clone();
                        async move {
                            assert_eq!(rx.await.unwrap(), 7);
                            log.borrow_mut().push("received");
                        }
                    });
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_millis(5));
                        tx.send(7).unwrap();
                    });
                    // Socket I/O, with `Rc` state held across the awaits.
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    let server = task::spawn_local(async move {
                        let (mut socket, _) = listener.accept().await.unwrap();
                        let mut buf = [0u8; 5];
                        socket.read_exact(&mut buf).await.unwrap();
                        socket.write_all(&buf).await.unwrap();
                    });
                    let echoed = Rc::new(RefCell::new(Vec::new()));
                    let client = task::spawn_local({
                        let echoed = echoed.clone();
                        async move {
                            let mut socket = TcpStream::connect(addr).await.unwrap();
                            socket.write_all(b"hello").await.unwrap();
                            let mut buf = [0u8; 5];
                            socket.read_exact(&mut buf).await.unwrap();
                            echoed.borrow_mut().extend_from_slice(&buf);
                        }
                    });
                    for handle in [sleeper, receiver, server, client] {
                        handle.await.unwrap();
                    }
                    assert_eq!(&*echoed.borrow(), b"hello", "{name}");
                }
            });
            let mut log = log.borrow().clone();
            log.sort_unstable();
            assert_eq!(log, ["received", "slept"], "{name}");
        }
    });
}

#[test]
fn awaiting_the_set_runs_until_every_task_is_done() {
    for (name, rt) in flavors_named() {
        let local = LocalSet::new();
        let done = Rc::new(Cell::new(0));
        for i in 0..100u64 {
            let done = done.clone();
            local.spawn_local(async move {
                zokio::time::sleep(Duration::from_millis(i % 3)).await;
                done.set(done.get() + 1);
            });
        }
        rt.block_on(local);
        assert_eq!(done.get(), 100, "{name}");
    }
}

#[test]
fn run_until_returns_with_tasks_left_and_they_resume_later() {
    let rt = common::current_thread();
    let local = LocalSet::new();
    let (tx, rx) = zokio::sync::oneshot::channel::<()>();
    let finished = Rc::new(Cell::new(false));
    let handle = local.spawn_local({
        let finished = finished.clone();
        async move {
            rx.await.unwrap();
            finished.set(true);
        }
    });
    local.block_on(&rt, async {});
    assert!(!finished.get());
    tx.send(()).unwrap();
    local.block_on(&rt, handle).unwrap();
    assert!(finished.get());
}

#[test]
fn dropping_the_set_drops_its_tasks_on_its_thread() {
    struct OnDrop(Rc<Cell<usize>>, std::thread::ThreadId);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            assert_eq!(std::thread::current().id(), self.1);
            self.0.set(self.0.get() + 1);
        }
    }
    for (name, rt) in flavors_named() {
        let dropped = Rc::new(Cell::new(0));
        let local = LocalSet::new();
        let mut handles = Vec::new();
        for _ in 0..10 {
            let guard = OnDrop(dropped.clone(), std::thread::current().id());
            handles.push(local.spawn_local(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
        }
        local.block_on(&rt, async { zokio::task::yield_now().await });
        assert_eq!(dropped.get(), 0, "{name}");
        drop(local);
        assert_eq!(dropped.get(), 10, "{name}");
        for handle in handles {
            let err = rt.block_on(handle).expect_err(name);
            assert!(err.is_cancelled(), "{name}");
        }
    }
}

#[test]
fn abort_from_another_thread_cancels_on_the_sets_thread() {
    let rt = common::multi_thread(2);
    let local = LocalSet::new();
    local.block_on(&rt, async {
        let marker = Rc::new(());
        let handle = task::spawn_local(async move {
            let _keep = marker;
            std::future::pending::<()>().await;
        });
        let abort = handle.abort_handle();
        std::thread::spawn(move || abort.abort()).join().unwrap();
        let err = zokio::time::timeout(HANG_GUARD, handle)
            .await
            .expect("an aborted local task finishes")
            .unwrap_err();
        assert!(err.is_cancelled());
    });
}

#[test]
fn a_panicking_local_task_reaches_its_join_handle() {
    quiet_panics_with(&["local boom"]);
    let rt = common::current_thread();
    let local = LocalSet::new();
    let err = local
        .block_on(&rt, local.spawn_local(async { panic!("local boom") }))
        .unwrap_err();
    assert!(err.is_panic());
    // The set keeps running tasks afterwards.
    assert_eq!(
        local.block_on(&rt, local.spawn_local(async { 3 })).unwrap(),
        3
    );
}

#[test]
fn join_set_spawn_local() {
    let rt = common::current_thread();
    let local = LocalSet::new();
    let mut set = zokio::task::JoinSet::new();
    for i in 0..10u32 {
        let value = Rc::new(i);
        set.spawn_local_on(async move { *value }, &local);
    }
    let total = local.block_on(&rt, async {
        set.spawn_local(async { 100 });
        let mut total = 0;
        while let Some(value) = set.join_next().await {
            total += value.unwrap();
        }
        total
    });
    assert_eq!(total, 145);
}

#[test]
fn local_runtime_spawn_local_everywhere() {
    timed(|| {
        let rt = LocalRuntime::new().unwrap();
        let shared = Rc::new(Cell::new(0));
        let from_outside = rt.spawn_local({
            let shared = shared.clone();
            async move { shared.set(shared.get() + 1) }
        });
        rt.block_on({
            let shared = shared.clone();
            async move {
                from_outside.await.unwrap();
                // From a `Send` task spawned on the runtime.
                zokio::spawn(async {
                    let inner = task::spawn_local(async { *Rc::new(5) });
                    assert_eq!(inner.await.unwrap(), 5);
                })
                .await
                .unwrap();
                let shared2 = shared.clone();
                task::spawn_local(async move {
                    zokio::time::sleep(Duration::from_millis(1)).await;
                    shared2.set(shared2.get() + 10);
                })
                .await
                .unwrap();
            }
        });
        assert_eq!(shared.get(), 11);
        // After `enter`, spawn_local works outside async code too.
        let handle = {
            let _guard = rt.enter();
            task::spawn_local(async { 9 })
        };
        assert_eq!(rt.block_on(handle).unwrap(), 9);
        assert_eq!(
            rt.handle().runtime_flavor(),
            zokio::runtime::RuntimeFlavor::CurrentThread
        );
    });
}

#[test]
fn local_runtime_from_a_builder_and_its_bad_input() {
    let rt = Builder::new_current_thread()
        .name("local-one")
        .build_local(LocalOptions::default())
        .unwrap();
    assert_eq!(rt.handle().name(), Some("local-one"));
    assert_eq!(
        rt.block_on(async { task::spawn_local(async { 1 }).await.unwrap() }),
        1
    );
    rt.shutdown_timeout(HANG_GUARD);

    let err = Builder::new_multi_thread()
        .build_local(LocalOptions::default())
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("new_current_thread"), "{err}");
}

#[test]
fn dropping_a_local_runtime_drops_pending_local_tasks() {
    let dropped = Rc::new(Cell::new(false));
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let rt = LocalRuntime::new().unwrap();
    let flag = Flag(dropped.clone());
    rt.spawn_local(async move {
        let _flag = flag;
        zokio::time::sleep(Duration::from_secs(3600)).await;
    });
    rt.block_on(task::yield_now());
    drop(rt);
    assert!(dropped.get());
}
