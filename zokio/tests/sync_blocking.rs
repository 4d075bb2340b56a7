//! The `blocking_*` methods of `zokio::sync` refuse, as tokio's do on tokio's threads,
//! to block a thread that drives Zokio tasks: inside a task and inside `block_on` they
//! panic with tokio's message, on every flavour. From a `spawn_blocking` closure and
//! from a plain thread they block until the runtime's tasks let them through.

mod common;

use std::sync::Arc;
use std::time::Duration;

use zokio::runtime::{Builder, Runtime};
use zokio::sync::{broadcast, mpsc, oneshot, Mutex, RwLock, Semaphore};

/// tokio's message for a blocking call on a thread that drives tasks.
const BLOCKING_IN_RUNTIME: &str = "Cannot block the current thread from within a runtime. \
     This happens because a function attempted to block the current thread while the \
     thread is being used to drive asynchronous tasks.";

/// Each flavour with a single worker thread.
fn single_worker_runtimes() -> Vec<(&'static str, Runtime)> {
    let build = |builder: &mut Builder| builder.enable_all().build().unwrap();
    vec![
        ("current_thread", build(&mut Builder::new_current_thread())),
        (
            "multi_thread(1)",
            build(Builder::new_multi_thread().worker_threads(1)),
        ),
        (
            "thread_per_core(1)",
            build(Builder::new_thread_per_core().worker_threads(1)),
        ),
    ]
}

/// Runs `blocking_call` inside a task, then inside `block_on`, on every flavour, and
/// checks that both panic with tokio's message (and that the runtime still works).
fn panics_on_runtime_threads(what: &'static str, blocking_call: fn()) {
    common::quiet_panics_with(&[BLOCKING_IN_RUNTIME]);
    common::run_with_timeout(common::HANG_GUARD, move || {
        for (flavor, rt) in single_worker_runtimes() {
            let err = rt
                .block_on(rt.spawn(async move { blocking_call() }))
                .expect_err(&format!("{what} blocked a task on {flavor}"));
            assert!(err.is_panic(), "{what} on {flavor}: {err}");
            let message = common::panic_message(&*err.into_panic());
            assert_eq!(
                message.as_deref(),
                Some(BLOCKING_IN_RUNTIME),
                "{what}, {flavor}"
            );

            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rt.block_on(async move { blocking_call() })
            }));
            let payload = caught.expect_err(&format!("{what} blocked block_on on {flavor}"));
            let message = common::panic_message(&*payload);
            assert_eq!(
                message.as_deref(),
                Some(BLOCKING_IN_RUNTIME),
                "{what}, {flavor}"
            );

            assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7, "{flavor}");
        }
    });
}

#[test]
fn blocking_recv_panics_on_runtime_threads() {
    panics_on_runtime_threads("mpsc blocking_recv", || {
        let (_tx, mut rx) = mpsc::channel::<()>(1);
        rx.blocking_recv();
    });
    panics_on_runtime_threads("mpsc blocking_recv_many", || {
        let (_tx, mut rx) = mpsc::channel::<()>(1);
        rx.blocking_recv_many(&mut Vec::new(), 1);
    });
    panics_on_runtime_threads("unbounded blocking_recv", || {
        let (_tx, mut rx) = mpsc::unbounded_channel::<()>();
        rx.blocking_recv();
    });
    panics_on_runtime_threads("unbounded blocking_recv_many", || {
        let (_tx, mut rx) = mpsc::unbounded_channel::<()>();
        rx.blocking_recv_many(&mut Vec::new(), 1);
    });
    panics_on_runtime_threads("oneshot blocking_recv", || {
        let (_tx, rx) = oneshot::channel::<()>();
        let _ = rx.blocking_recv();
    });
    panics_on_runtime_threads("broadcast blocking_recv", || {
        let (_tx, mut rx) = broadcast::channel::<()>(1);
        let _ = rx.blocking_recv();
    });
}

#[test]
fn blocking_send_panics_on_runtime_threads() {
    // Even with room in the channel: tokio refuses before looking.
    panics_on_runtime_threads("mpsc blocking_send", || {
        let (tx, _rx) = mpsc::channel(1);
        let _ = tx.blocking_send(());
    });
}

#[test]
fn blocking_lock_panics_on_runtime_threads() {
    // Even on a free lock: tokio refuses before looking.
    panics_on_runtime_threads("Mutex blocking_lock", || {
        drop(Mutex::new(()).blocking_lock());
    });
    panics_on_runtime_threads("Mutex blocking_lock_owned", || {
        drop(Arc::new(Mutex::new(())).blocking_lock_owned());
    });
    panics_on_runtime_threads("RwLock blocking_read", || {
        drop(RwLock::new(()).blocking_read());
    });
    panics_on_runtime_threads("RwLock blocking_write", || {
        drop(RwLock::new(()).blocking_write());
    });
}

#[test]
fn blocking_acquire_panics_on_runtime_threads() {
    panics_on_runtime_threads("Semaphore blocking_acquire", || {
        drop(Semaphore::new(1).blocking_acquire());
    });
    panics_on_runtime_threads("Semaphore blocking_acquire_many", || {
        drop(Semaphore::new(2).blocking_acquire_many(2));
    });
    panics_on_runtime_threads("Semaphore blocking_acquire_owned", || {
        drop(Arc::new(Semaphore::new(1)).blocking_acquire_owned());
    });
    panics_on_runtime_threads("Semaphore blocking_acquire_many_owned", || {
        drop(Arc::new(Semaphore::new(2)).blocking_acquire_many_owned(2));
    });
}

/// Where a blocking call may run: a thread the runtime does not drive tasks on.
#[derive(Clone, Copy, Debug)]
enum Off {
    SpawnBlocking,
    PlainThread,
}

/// Runs `blocking` off the runtime's task threads while a task of the runtime runs
/// `unblock`, which lets it through, on every flavour (`setup` makes the pair afresh
/// each time); `blocking` asserts what it got.
fn blocks_off_runtime_threads<S, B, U>(setup: S)
where
    S: Fn() -> (B, U) + Send + 'static,
    B: FnOnce() + Send + 'static,
    U: std::future::Future<Output = ()> + Send + 'static,
{
    common::run_with_timeout(common::HANG_GUARD, move || {
        for off in [Off::SpawnBlocking, Off::PlainThread] {
            for (flavor, rt) in single_worker_runtimes() {
                let (blocking, unblock) = setup();
                let finish: Box<dyn FnOnce(&Runtime)> = match off {
                    Off::SpawnBlocking => {
                        let join = rt.spawn_blocking(blocking);
                        Box::new(move |rt| rt.block_on(join).unwrap())
                    }
                    Off::PlainThread => {
                        let join = std::thread::spawn(blocking);
                        Box::new(move |_| join.join().unwrap())
                    }
                };
                // Give the blocking call time to start waiting before it is let
                // through; it passes either way, the delay only makes the wait likely.
                rt.block_on(rt.spawn(async move {
                    zokio::time::sleep(Duration::from_millis(20)).await;
                    unblock.await
                }))
                .unwrap_or_else(|e| panic!("{off:?} on {flavor}: {e}"));
                finish(&rt);
            }
        }
    });
}

#[test]
fn blocking_recv_works_off_runtime_threads() {
    blocks_off_runtime_threads(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let blocking = move || assert_eq!(rx.blocking_recv(), Some(1));
        (blocking, async move { tx.send(1).await.unwrap() })
    });
    blocks_off_runtime_threads(|| {
        let (tx, rx) = oneshot::channel();
        let blocking = move || assert_eq!(rx.blocking_recv(), Ok("done"));
        (blocking, async move { tx.send("done").unwrap() })
    });
    blocks_off_runtime_threads(|| {
        let (tx, mut rx) = broadcast::channel(1);
        let blocking = move || assert_eq!(rx.blocking_recv(), Ok(3));
        (blocking, async move { tx.send(3).map(drop).unwrap() })
    });
}

#[test]
fn blocking_send_works_off_runtime_threads() {
    blocks_off_runtime_threads(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        // The channel is full: the send waits for the task to make room.
        let blocking = move || tx.blocking_send(2).unwrap();
        let unblock = async move {
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, Some(2));
        };
        (blocking, unblock)
    });
}

#[test]
fn blocking_lock_works_off_runtime_threads() {
    blocks_off_runtime_threads(|| {
        let mutex = Arc::new(Mutex::new(0));
        let held = mutex.clone().try_lock_owned().unwrap();
        let blocking = {
            let mutex = mutex.clone();
            move || {
                *mutex.blocking_lock() += 1;
                assert_eq!(*mutex.clone().blocking_lock_owned(), 1);
            }
        };
        (blocking, async move { drop(held) })
    });
    blocks_off_runtime_threads(|| {
        let lock = Arc::new(RwLock::new(0));
        let held = lock.clone().try_write_owned().unwrap();
        let blocking = {
            let lock = lock.clone();
            move || {
                *lock.blocking_write() += 1;
                assert_eq!(*lock.blocking_read(), 1);
            }
        };
        (blocking, async move { drop(held) })
    });
    blocks_off_runtime_threads(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let blocking = {
            let semaphore = semaphore.clone();
            move || {
                drop(semaphore.blocking_acquire().unwrap());
                drop(semaphore.clone().blocking_acquire_owned().unwrap());
            }
        };
        (blocking, async move { semaphore.add_permits(1) })
    });
}

#[test]
fn blocking_calls_work_inside_block_in_place() {
    // `block_in_place` hands a multi-thread worker's tasks to another thread for the
    // closure's time, so blocking there is allowed, as in tokio.
    common::run_with_timeout(common::HANG_GUARD, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(rt.spawn(async {
            let (tx, mut rx) = mpsc::channel(1);
            let mutex = Arc::new(Mutex::new(0));
            let held = mutex.clone().lock_owned().await;
            zokio::spawn(async move {
                zokio::time::sleep(Duration::from_millis(20)).await;
                drop(held);
                tx.send(1).await.unwrap();
            });
            let got = zokio::task::block_in_place(|| {
                *mutex.blocking_lock() += 1;
                rx.blocking_recv()
            });
            assert_eq!(got, Some(1));
            assert_eq!(*mutex.lock().await, 1);
        }))
        .unwrap();
    });
}
