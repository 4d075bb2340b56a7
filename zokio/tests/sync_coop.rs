//! `zokio::sync` spends the task's cooperative budget as tokio's primitives spend
//! tokio's: a task looping on an always-ready channel, lock or semaphore yields to a
//! timer on the same single worker, each operation spends exactly one unit where tokio
//! spends one (and none where tokio spends none), and an operation that finds the budget
//! used up yields once before completing, holding what it acquired, as tokio's do.
//!
//! Every test runs on each flavour with one worker, so a busy loop that never yields
//! leaves nothing else to run the timer: the test then hangs until its watchdog fails it.

mod common;

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures::FutureExt;
use zokio::runtime::{Builder, Runtime};
use zokio::sync::{broadcast, mpsc, oneshot, watch, Barrier, Mutex, OnceCell, RwLock, Semaphore};
use zokio::task::coop;

/// The budget a task poll starts with (tokio's figure, which Zokio uses too).
const BUDGET: usize = 128;

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

type BusyLoop = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Run `busy` (a loop over an always-ready operation that counts its rounds in the
/// counter it is given) in a `select!` against a 10 ms sleep, in one task, on each
/// single-worker flavour: the select finishes only if the loop yields to the worker,
/// which then fires the timer. The loop must have run at least most of a budget's worth
/// of rounds before its first yield, which proves it yielded for the budget's sake.
fn yields_to_a_timer(what: &'static str, busy: fn(Arc<AtomicUsize>) -> BusyLoop) {
    common::run_with_timeout(common::HANG_GUARD, move || {
        for (flavor, rt) in single_worker_runtimes() {
            let rounds = Arc::new(AtomicUsize::new(0));
            let busy = busy(rounds.clone());
            let task = rt.spawn(async move {
                zokio::select! {
                    _ = busy => unreachable!("the busy loop never ends"),
                    _ = zokio::time::sleep(Duration::from_millis(10)) => {}
                }
            });
            rt.block_on(task)
                .unwrap_or_else(|e| panic!("{what} on {flavor}: {e}"));
            let rounds = rounds.load(Ordering::SeqCst);
            assert!(
                rounds >= BUDGET / 2,
                "{what} on {flavor}: only {rounds} rounds before the timer fired"
            );
        }
    });
}

#[test]
fn mpsc_recv_loop_yields_to_a_timer() {
    yields_to_a_timer("mpsc::Receiver::recv", |rounds| {
        Box::pin(async move {
            let (tx, mut rx) = mpsc::channel(1);
            loop {
                let _ = tx.try_send(());
                rx.recv().await.unwrap();
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn mpsc_recv_many_loop_yields_to_a_timer() {
    yields_to_a_timer("mpsc::Receiver::recv_many", |rounds| {
        Box::pin(async move {
            let (tx, mut rx) = mpsc::channel(4);
            let mut buffer = Vec::new();
            loop {
                let _ = tx.try_send(());
                buffer.clear();
                rx.recv_many(&mut buffer, 4).await;
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn mpsc_send_loop_yields_to_a_timer() {
    yields_to_a_timer("mpsc::Sender::send", |rounds| {
        Box::pin(async move {
            let (tx, mut rx) = mpsc::channel(1);
            loop {
                tx.send(()).await.unwrap();
                rx.try_recv().unwrap();
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn unbounded_recv_loop_yields_to_a_timer() {
    yields_to_a_timer("mpsc::UnboundedReceiver::recv", |rounds| {
        Box::pin(async move {
            let (tx, mut rx) = mpsc::unbounded_channel();
            loop {
                tx.send(()).unwrap();
                rx.recv().await.unwrap();
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn broadcast_recv_loop_yields_to_a_timer() {
    yields_to_a_timer("broadcast::Receiver::recv", |rounds| {
        Box::pin(async move {
            let (tx, mut rx) = broadcast::channel(4);
            loop {
                tx.send(1u8).unwrap();
                rx.recv().await.unwrap();
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn watch_changed_loop_yields_to_a_timer() {
    yields_to_a_timer("watch::Receiver::changed", |rounds| {
        Box::pin(async move {
            let (tx, mut rx) = watch::channel(0u64);
            loop {
                tx.send_modify(|n| *n += 1);
                rx.changed().await.unwrap();
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn watch_wait_for_loop_yields_to_a_timer() {
    yields_to_a_timer("watch::Receiver::wait_for", |rounds| {
        Box::pin(async move {
            let (_tx, mut rx) = watch::channel(true);
            loop {
                drop(rx.wait_for(|ready| *ready).await.unwrap());
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn oneshot_loop_yields_to_a_timer() {
    yields_to_a_timer("oneshot::Receiver", |rounds| {
        Box::pin(async move {
            loop {
                let (tx, rx) = oneshot::channel();
                tx.send(()).unwrap();
                rx.await.unwrap();
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn mutex_lock_loop_yields_to_a_timer() {
    yields_to_a_timer("Mutex::lock", |rounds| {
        Box::pin(async move {
            let mutex = Mutex::new(0u64);
            loop {
                *mutex.lock().await += 1;
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn mutex_lock_owned_loop_yields_to_a_timer() {
    yields_to_a_timer("Mutex::lock_owned", |rounds| {
        Box::pin(async move {
            let mutex = Arc::new(Mutex::new(0u64));
            loop {
                *mutex.clone().lock_owned().await += 1;
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn rwlock_loops_yield_to_a_timer() {
    yields_to_a_timer("RwLock::read", |rounds| {
        Box::pin(async move {
            let lock = RwLock::new(0u64);
            loop {
                drop(lock.read().await);
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
    yields_to_a_timer("RwLock::write", |rounds| {
        Box::pin(async move {
            let lock = RwLock::new(0u64);
            loop {
                *lock.write().await += 1;
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn semaphore_acquire_loop_yields_to_a_timer() {
    yields_to_a_timer("Semaphore::acquire", |rounds| {
        Box::pin(async move {
            let semaphore = Semaphore::new(1);
            loop {
                drop(semaphore.acquire().await.unwrap());
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

#[test]
fn semaphore_acquire_owned_loop_yields_to_a_timer() {
    yields_to_a_timer("Semaphore::acquire_owned", |rounds| {
        Box::pin(async move {
            let semaphore = Arc::new(Semaphore::new(1));
            loop {
                drop(semaphore.clone().acquire_owned().await.unwrap());
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
}

/// Units the current task poll has left, found by taking them all (so call it last).
async fn units_left() -> usize {
    poll_fn(|cx| {
        let mut left = 0;
        while let Poll::Ready(restore) = coop::poll_proceed(cx) {
            restore.made_progress();
            left += 1;
        }
        Poll::Ready(left)
    })
    .await
}

/// Use up the current poll's whole budget.
async fn exhaust_budget() {
    while coop::has_budget_remaining() {
        coop::consume_budget().await;
    }
}

/// Run `body` in a task on each single-worker flavour.
fn on_each_flavor<F, Fut>(body: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    common::run_with_timeout(common::HANG_GUARD, move || {
        for (flavor, rt) in single_worker_runtimes() {
            rt.block_on(rt.spawn(body()))
                .unwrap_or_else(|e| panic!("on {flavor}: {e}"));
        }
    });
}

/// How many units of a fresh budget awaiting `op` spends; `op` must complete without
/// waiting.
async fn spent_by<F: Future>(op: F) -> (F::Output, usize) {
    // A yield ends this poll; the next one starts with a full budget.
    zokio::task::yield_now().await;
    let output = op.await;
    (output, BUDGET - units_left().await)
}

#[test]
fn each_operation_spends_what_tokio_spends() {
    on_each_flavor(|| async {
        let (tx, mut rx) = mpsc::channel(4);
        assert_eq!(spent_by(tx.send(1)).await.1, 1, "mpsc send");
        assert_eq!(spent_by(rx.recv()).await, (Some(1), 1), "mpsc recv");
        let permit = tx.reserve().await.unwrap();
        assert_eq!(spent_by(async { tx.try_send(2) }).await.1, 0, "try_send");
        drop(permit);
        assert_eq!(spent_by(async { rx.try_recv() }).await, (Ok(2), 0));
        assert_eq!(spent_by(tx.reserve()).await.1, 1, "mpsc reserve");
        assert_eq!(spent_by(tx.reserve_many(2)).await.1, 1, "reserve_many");
        let (owned, spent) = spent_by(tx.clone().reserve_owned()).await;
        assert_eq!(spent, 1, "reserve_owned");
        let tx2 = owned.unwrap().send(3);
        assert!(tx2.same_channel(&tx));
        let mut buffer = Vec::new();
        assert_eq!(spent_by(rx.recv_many(&mut buffer, 8)).await, (1, 1));
        drop((tx, tx2));
        assert_eq!(spent_by(rx.recv()).await, (None, 1), "recv of the close");

        let (tx, mut rx) = mpsc::unbounded_channel();
        assert_eq!(spent_by(async { tx.send(1) }).await.1, 0, "unbounded send");
        assert_eq!(spent_by(rx.recv()).await, (Some(1), 1), "unbounded recv");

        let (tx, rx) = oneshot::channel();
        tx.send(5).unwrap();
        assert_eq!(spent_by(rx).await, (Ok(5), 1), "oneshot receive");
        let (mut tx, rx) = oneshot::channel::<()>();
        drop(rx);
        assert_eq!(spent_by(tx.closed()).await.1, 1, "oneshot closed");

        let (tx, mut rx) = broadcast::channel(4);
        tx.send(7).unwrap();
        assert_eq!(spent_by(rx.recv()).await, (Ok(7), 1), "broadcast recv");
        drop(rx);
        assert_eq!(spent_by(tx.closed()).await.1, 0, "broadcast closed");

        let (tx, mut rx) = watch::channel(0);
        tx.send(1).unwrap();
        assert_eq!(spent_by(rx.changed()).await.1, 1, "watch changed");
        let (ready, spent) = spent_by(async { *rx.wait_for(|v| *v == 1).await.unwrap() }).await;
        assert_eq!((ready, spent), (1, 1), "watch wait_for");
        drop(rx);
        assert_eq!(spent_by(tx.closed()).await.1, 1, "watch closed");

        let mutex = Arc::new(Mutex::new(0));
        assert_eq!(spent_by(mutex.lock()).await.1, 1, "lock");
        assert_eq!(
            spent_by(mutex.clone().lock_owned()).await.1,
            1,
            "lock_owned"
        );
        assert_eq!(
            spent_by(async { mutex.try_lock().is_ok() }).await,
            (true, 0)
        );

        let lock = Arc::new(RwLock::new(0));
        assert_eq!(spent_by(lock.read()).await.1, 1, "read");
        assert_eq!(spent_by(lock.write()).await.1, 1, "write");
        assert_eq!(spent_by(lock.clone().read_owned()).await.1, 1, "read_owned");
        assert_eq!(
            spent_by(lock.clone().write_owned()).await.1,
            1,
            "write_owned"
        );

        let semaphore = Arc::new(Semaphore::new(4));
        assert_eq!(spent_by(semaphore.acquire()).await.1, 1, "acquire");
        assert_eq!(spent_by(semaphore.acquire_many(2)).await.1, 1);
        assert_eq!(spent_by(semaphore.clone().acquire_owned()).await.1, 1);
        assert_eq!(spent_by(semaphore.clone().acquire_many_owned(3)).await.1, 1);
        semaphore.close();
        let (closed, spent) = spent_by(semaphore.acquire()).await;
        assert!(closed.is_err());
        assert_eq!(spent, 0, "a failed acquisition spends nothing");

        let cell = OnceCell::new();
        assert_eq!(spent_by(cell.get_or_init(|| async { 9 })).await, (&9, 1));
        assert_eq!(spent_by(cell.get_or_init(|| async { 0 })).await, (&9, 0));
        let cell = OnceCell::<u8>::new();
        let (failed, spent) = spent_by(cell.get_or_try_init(|| async { Err(()) })).await;
        assert_eq!((failed, spent), (Err(()), 1), "get_or_try_init");

        let barrier = Barrier::new(1);
        let (result, spent) = spent_by(barrier.wait()).await;
        assert!(result.is_leader());
        assert_eq!(spent, 0, "the leader of a barrier spends nothing");
    });
}

#[test]
fn an_operation_that_waits_hands_its_unit_back() {
    on_each_flavor(|| async {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let (_otx, mut orx) = oneshot::channel::<u8>();
        let (_btx, mut brx) = broadcast::channel::<u8>(1);
        let (_wtx, mut wrx) = watch::channel(0u8);
        let mutex = Mutex::new(());
        let held = mutex.lock().await;
        zokio::task::yield_now().await;
        assert!(poll_fn(|cx| Poll::Ready(rx.poll_recv(cx)))
            .await
            .is_pending());
        assert!(rx.recv().now_or_never().is_none());
        assert!((&mut orx).now_or_never().is_none());
        assert!(brx.recv().now_or_never().is_none());
        assert!(wrx.changed().now_or_never().is_none());
        assert!(mutex.lock().now_or_never().is_none());
        assert_eq!(
            units_left().await,
            BUDGET,
            "a waiting operation spent a unit"
        );
        drop((tx, held));
    });
}

#[test]
fn with_the_budget_used_up_operations_yield_once_then_complete() {
    on_each_flavor(|| async {
        // Proceed-first operations do not even look.
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(1).await.unwrap();
        exhaust_budget().await;
        let mut recv = pin!(rx.recv());
        assert!(futures::poll!(recv.as_mut()).is_pending());
        assert_eq!(recv.await, Some(1));

        // Acquisitions keep what they acquired while they yield, as tokio's do.
        let mutex = Mutex::new(0);
        exhaust_budget().await;
        let mut lock = pin!(mutex.lock());
        assert!(futures::poll!(lock.as_mut()).is_pending());
        assert!(
            mutex.try_lock().is_err(),
            "the yielding lock holds the mutex"
        );
        *lock.await += 1;
        assert_eq!(*mutex.try_lock().unwrap(), 1);

        let semaphore = Semaphore::new(1);
        exhaust_budget().await;
        let mut acquire = Box::pin(semaphore.acquire());
        assert!(futures::poll!(acquire.as_mut()).is_pending());
        assert_eq!(semaphore.available_permits(), 0);
        drop(acquire);
        assert_eq!(
            semaphore.available_permits(),
            1,
            "cancelled, the permit is back"
        );

        let (tx, mut rx) = mpsc::channel(1);
        exhaust_budget().await;
        let mut send = pin!(tx.send(5));
        assert!(futures::poll!(send.as_mut()).is_pending());
        assert!(rx.try_recv().is_err(), "not sent before the send completes");
        send.await.unwrap();
        assert_eq!(rx.try_recv(), Ok(5));

        let (tx, rx) = oneshot::channel();
        tx.send(()).unwrap();
        exhaust_budget().await;
        let mut rx = pin!(rx);
        assert!(futures::poll!(rx.as_mut()).is_pending());
        rx.await.unwrap();

        let cell = OnceCell::new();
        exhaust_budget().await;
        let ran = AtomicUsize::new(0);
        let mut init = pin!(cell.get_or_init(|| async {
            ran.fetch_add(1, Ordering::SeqCst);
            3
        }));
        assert!(futures::poll!(init.as_mut()).is_pending());
        assert_eq!(
            ran.load(Ordering::SeqCst),
            0,
            "the initialiser waits for budget"
        );
        assert_eq!(*init.await, 3);
    });
}

#[test]
fn unconstrained_sync_loops_never_yield() {
    on_each_flavor(|| async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mutex = Mutex::new(());
        coop::unconstrained(async {
            for _ in 0..BUDGET * 4 {
                tx.send(()).unwrap();
                let mut recv = pin!(rx.recv());
                assert!(futures::poll!(recv.as_mut()).is_ready());
                let mut lock = pin!(mutex.lock());
                assert!(futures::poll!(lock.as_mut()).is_ready());
            }
        })
        .await;
    });
}
