//! `zokio::task::coop`, the public face of the cooperative budget, behaves as tokio's
//! `tokio::task::coop`: 128 units per task poll, `poll_proceed` takes one and hands it
//! back unless the caller made progress, `has_budget_remaining` tells when they are
//! gone, `consume_budget` and `cooperative` yield only then, `unconstrained` never
//! does, and outside a task nothing is counted. Checked on each flavour with one worker.

mod common;

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use futures::FutureExt;
use zokio::runtime::{Builder, Runtime};
use zokio::task::coop::{self, RestoreOnPending};

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

/// One `poll_proceed` in the current task poll.
async fn proceed() -> Poll<RestoreOnPending> {
    poll_fn(|cx| Poll::Ready(coop::poll_proceed(cx))).await
}

/// Take `n` units in the current poll, keeping them spent.
async fn spend(n: usize) {
    for _ in 0..n {
        match proceed().await {
            Poll::Ready(restore) => restore.made_progress(),
            Poll::Pending => panic!("the budget ran out early"),
        }
    }
}

#[test]
fn a_task_poll_has_128_units() {
    on_each_flavor(|| async {
        zokio::task::yield_now().await;
        spend(BUDGET - 1).await;
        assert!(coop::has_budget_remaining());
        spend(1).await;
        assert!(!coop::has_budget_remaining());
        assert!(proceed().await.is_pending(), "a 129th unit");
        // A new poll of the task gets a new budget.
        zokio::task::yield_now().await;
        assert!(coop::has_budget_remaining());
        spend(BUDGET).await;
    });
}

#[test]
fn an_unused_unit_is_handed_back() {
    on_each_flavor(|| async {
        zokio::task::yield_now().await;
        for _ in 0..BUDGET * 2 {
            let Poll::Ready(restore) = proceed().await else {
                panic!("a handed-back unit was lost")
            };
            drop(restore);
        }
        spend(BUDGET).await;
        assert!(!coop::has_budget_remaining());
    });
}

#[test]
fn restore_on_pending_restores_the_budget_from_before_its_proceed() {
    on_each_flavor(|| async {
        zokio::task::yield_now().await;
        // A `RestoreOnPending` is not `Send`: it lives inside one poll.
        poll_fn(|cx| {
            let Poll::Ready(outer) = coop::poll_proceed(cx) else {
                panic!("no budget at the start of a poll")
            };
            for _ in 0..BUDGET - 1 {
                let Poll::Ready(restore) = coop::poll_proceed(cx) else {
                    panic!("the budget ran out early")
                };
                restore.made_progress();
            }
            assert!(!coop::has_budget_remaining());
            drop(outer);
            Poll::Ready(())
        })
        .await;
        // Everything spent after `outer`'s proceed came back with it.
        spend(BUDGET).await;
    });
}

#[test]
fn consume_budget_yields_only_when_the_budget_is_used_up() {
    on_each_flavor(|| async {
        zokio::task::yield_now().await;
        for _ in 0..BUDGET {
            assert!(pin!(coop::consume_budget()).now_or_never().is_some());
        }
        let mut consume = pin!(coop::consume_budget());
        assert!(futures::poll!(consume.as_mut()).is_pending());
        consume.await;
        assert!(coop::has_budget_remaining());
    });
}

#[test]
fn cooperative_spends_a_unit_per_completed_poll() {
    on_each_flavor(|| async {
        zokio::task::yield_now().await;
        // A future that completes keeps its unit ...
        for _ in 0..BUDGET - 1 {
            coop::cooperative(async {}).await;
        }
        assert!(coop::has_budget_remaining());
        // ... one that is pending gives it back ...
        let mut never = pin!(coop::cooperative(std::future::pending::<()>()));
        assert!(futures::poll!(never.as_mut()).is_pending());
        assert!(coop::has_budget_remaining());
        coop::cooperative(async {}).await;
        assert!(!coop::has_budget_remaining());
        // ... and with none left the inner future is not polled at all.
        let polled = AtomicBool::new(false);
        let mut probe = pin!(coop::cooperative(async {
            polled.store(true, Ordering::SeqCst);
        }));
        assert!(futures::poll!(probe.as_mut()).is_pending());
        assert!(!polled.load(Ordering::SeqCst));
        probe.await;
        assert!(polled.load(Ordering::SeqCst));
    });
}

#[test]
fn unconstrained_never_yields_and_restores_the_budget_after() {
    on_each_flavor(|| async {
        zokio::task::yield_now().await;
        spend(BUDGET - 1).await;
        coop::unconstrained(async {
            for _ in 0..BUDGET * 4 {
                assert!(coop::has_budget_remaining());
                spend(1).await;
            }
        })
        .await;
        // The task's own budget is where it was.
        assert!(coop::has_budget_remaining());
        spend(1).await;
        assert!(!coop::has_budget_remaining());
    });
}

#[test]
fn a_budgeted_loop_lets_another_task_on_its_worker_run() {
    on_each_flavor(|| async {
        let other_ran = Arc::new(AtomicBool::new(false));
        let rounds = Arc::new(AtomicUsize::new(0));
        let other = zokio::spawn({
            let other_ran = other_ran.clone();
            async move { other_ran.store(true, Ordering::SeqCst) }
        });
        while !other_ran.load(Ordering::SeqCst) {
            coop::cooperative(async {}).await;
            rounds.fetch_add(1, Ordering::SeqCst);
        }
        other.await.unwrap();
        assert!(rounds.load(Ordering::SeqCst) >= 1);
    });
}

#[test]
fn outside_a_task_nothing_is_counted() {
    // A plain thread has no budget: nothing is counted and nothing yields.
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    for _ in 0..BUDGET * 2 {
        let Poll::Ready(restore) = coop::poll_proceed(&mut cx) else {
            panic!("poll_proceed was Pending outside a runtime")
        };
        restore.made_progress();
        assert!(coop::has_budget_remaining());
    }
    futures::executor::block_on(async {
        for _ in 0..BUDGET * 2 {
            coop::consume_budget().await;
        }
        assert!(coop::has_budget_remaining());
    });
}

#[test]
fn blocking_closures_are_unconstrained() {
    common::run_with_timeout(common::HANG_GUARD, || {
        for (flavor, rt) in single_worker_runtimes() {
            let all_ready = rt
                .block_on(rt.spawn_blocking(|| {
                    let waker = futures::task::noop_waker();
                    let mut cx = std::task::Context::from_waker(&waker);
                    (0..BUDGET * 2).all(|_| match coop::poll_proceed(&mut cx) {
                        Poll::Ready(restore) => {
                            restore.made_progress();
                            true
                        }
                        Poll::Pending => false,
                    })
                }))
                .unwrap();
            assert!(all_ready, "{flavor}");
        }
    });
}

#[test]
fn the_old_task_paths_still_work() {
    // tokio keeps `task::{consume_budget, unconstrained, Unconstrained}` beside the
    // `coop` module; so does Zokio.
    on_each_flavor(|| async {
        let burst: zokio::task::Unconstrained<_> = zokio::task::unconstrained(async {
            for _ in 0..BUDGET * 2 {
                zokio::task::consume_budget().await;
            }
            coop::has_budget_remaining()
        });
        assert!(burst.await);
    });
}
