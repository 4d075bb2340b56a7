//! The cooperative budget: a task whose resources are always ready still lets the
//! other tasks on its worker run, and `unconstrained` switches that off.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use common::HANG_GUARD;

/// Run `body` (which builds its own runtime) in its own thread, failing the test
/// instead of hanging when a starved task never gets its turn: [`HANG_GUARD`] is
/// far beyond the milliseconds a healthy run takes, so only a starved task reaches
/// it. A panic in `body` (a failed assertion) is propagated as it is.
fn within(body: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        body();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(HANG_GUARD) {
        Ok(()) => {}
        Err(RecvTimeoutError::Timeout) => {
            panic!("a task starved: the budget did not make the busy task yield")
        }
        Err(RecvTimeoutError::Disconnected) => {
            if let Err(payload) = thread.join() {
                std::panic::resume_unwind(payload);
            }
        }
    }
}

/// A busy loop over an always-ready resource, until the other task has run.
async fn spin_until(
    flag: &AtomicBool,
    step: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
) -> usize {
    let mut rounds = 0;
    while !flag.load(Ordering::SeqCst) {
        step().await;
        rounds += 1;
    }
    rounds
}

fn starve_check(step: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) {
    within(move || {
        let rt = zokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async move {
            let flag = Arc::new(AtomicBool::new(false));
            let busy = zokio::spawn({
                let flag = flag.clone();
                async move { spin_until(&flag, step).await }
            });
            let other = zokio::spawn({
                let flag = flag.clone();
                async move { flag.store(true, Ordering::SeqCst) }
            });
            other.await.unwrap();
            let rounds = busy.await.unwrap();
            assert!(rounds >= 1);
        });
    });
}

#[test]
fn consume_budget_lets_other_tasks_run() {
    starve_check(|| Box::pin(zokio::task::consume_budget()));
}

#[test]
fn always_ready_timers_yield() {
    starve_check(|| Box::pin(zokio::time::sleep(Duration::ZERO)));
}

#[test]
fn always_ready_operations_yield() {
    starve_check(|| {
        Box::pin(async {
            zokio::io::ops::nop().await.unwrap();
        })
    });
}

#[test]
fn budget_yields_after_a_bounded_number_of_steps() {
    within(|| {
        let rt = zokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let steps = Arc::new(AtomicUsize::new(0));
            let seen_by_other = Arc::new(AtomicUsize::new(usize::MAX));
            let busy = zokio::spawn({
                let steps = steps.clone();
                async move {
                    for _ in 0..10_000 {
                        zokio::task::consume_budget().await;
                        steps.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
            let other = zokio::spawn({
                let steps = steps.clone();
                let seen = seen_by_other.clone();
                async move { seen.store(steps.load(Ordering::SeqCst), Ordering::SeqCst) }
            });
            other.await.unwrap();
            busy.await.unwrap();
            let seen = seen_by_other.load(Ordering::SeqCst);
            assert!(
                seen < 1_000,
                "the other task ran only after {seen} budgeted steps of the busy one"
            );
        });
    });
}

#[test]
fn unconstrained_never_yields_on_its_own() {
    within(|| {
        let rt = zokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let flag = Arc::new(AtomicBool::new(false));
            let busy = zokio::spawn({
                let flag = flag.clone();
                zokio::task::unconstrained(async move {
                    for _ in 0..10_000 {
                        zokio::task::consume_budget().await;
                        assert!(
                            !flag.load(Ordering::SeqCst),
                            "another task ran inside an unconstrained burst"
                        );
                    }
                })
            });
            let other = zokio::spawn({
                let flag = flag.clone();
                async move { flag.store(true, Ordering::SeqCst) }
            });
            busy.await.unwrap();
            other.await.unwrap();
        });
    });
}

/// Regression: a blocking closure runs inside one poll of its task, so a
/// `Handle::block_on` there once inherited a single budget for its whole life and
/// stalled forever after 128 budgeted steps.
#[test]
fn block_on_inside_spawn_blocking_gets_fresh_budgets() {
    for flavor in ["current_thread", "multi_thread"] {
        within(move || {
            let rt = if flavor == "current_thread" {
                zokio::runtime::Builder::new_current_thread().build()
            } else {
                zokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .build()
            }
            .unwrap();
            let handle = rt.handle().clone();
            let steps = rt
                .block_on(rt.spawn_blocking(move || {
                    handle.block_on(async {
                        for _ in 0..1_000 {
                            zokio::task::consume_budget().await;
                        }
                        let nops = (0..300).map(|_| zokio::io::ops::nop());
                        futures::future::join_all(nops).await.len()
                    })
                }))
                .unwrap();
            assert_eq!(steps, 300, "{flavor}");
        });
    }
}
