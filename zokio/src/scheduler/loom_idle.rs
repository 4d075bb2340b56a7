//! Loom models of the searching/parked bookkeeping (`multi_thread/idle.rs`) together
//! with the global queue (`inject.rs`), compiled only under `cfg(loom)`.
//!
//! They replay the last steps of a searching worker from `worker.rs` (look at the
//! queue; take work, or park and, as the last searcher, look once more and notify)
//! against a thread that pushes to the global queue and calls `worker_to_notify`, and
//! check the no-lost-wake-up rule: work is never left queued while every worker is
//! parked. A model must never touch real tasks, parkers or worker threads, and must
//! stay within 3 threads.

use loom::sync::Arc;
use loom::thread;

use super::inject::Inject;
use super::multi_thread::{Idle, LookAgain};

fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

/// What one searching worker did in its final steps.
#[derive(Debug, Default)]
struct Outcome {
    /// It took the work itself and stays awake.
    found: bool,
    /// The sleeper it woke (made a searcher) on the way.
    woke: Option<usize>,
}

/// `worker.rs`: `steal_work` found nothing but the global queue, then either
/// `run_task` (leave searching; the last searcher wakes a successor) or `park` (the
/// last searcher out runs `notify_if_work_pending`).
fn searcher_finishes(idle: &Idle, inject: &Inject<u32>, index: usize) -> Outcome {
    if inject.pop().is_some() {
        let woke = if idle.transition_worker_from_searching() {
            idle.worker_to_notify()
        } else {
            None
        };
        return Outcome { found: true, woke };
    }
    let look_again = idle.transition_worker_to_parked(index, true);
    let woke = if look_again == LookAgain::AllQueues && !inject.is_empty() {
        idle.worker_to_notify()
    } else {
        None
    };
    Outcome { found: false, woke }
}

/// `worker.rs`: a worker awake only for its own completions (`awake_for_own_work`,
/// so not a searcher) finds nothing in the global queue and parks, looking once
/// more where `transition_worker_to_parked` says.
fn own_work_worker_finishes(idle: &Idle, inject: &Inject<u32>, index: usize) -> Outcome {
    if inject.pop().is_some() {
        return Outcome {
            found: true,
            woke: None,
        };
    }
    let look_again = idle.transition_worker_to_parked(index, false);
    let woke = if look_again == LookAgain::GlobalQueue && !inject.is_empty() {
        idle.worker_to_notify()
    } else {
        None
    };
    Outcome { found: false, woke }
}

/// `Handle::schedule_task` from outside the runtime: push, then wake a sleeper unless
/// someone is searching.
fn push_and_notify(idle: &Idle, inject: &Inject<u32>) -> Option<usize> {
    inject.push(7);
    idle.worker_to_notify()
}

/// The same from a worker of a runtime on several NUMA nodes: it prefers a sleeper
/// on its own node (here worker 0, which may be listed or not by then).
fn push_and_notify_preferring(idle: &Idle, inject: &Inject<u32>) -> Option<usize> {
    inject.push(7);
    idle.worker_to_notify_preferring(|worker| worker == 0)
}

/// `searchers[i]` is worker `i`; worker `searchers.len()` was asleep from the start.
fn check(idle: &Idle, inject: &Inject<u32>, searchers: &[Outcome], pusher_woke: Option<usize>) {
    let woken: Vec<usize> = searchers
        .iter()
        .filter_map(|o| o.woke)
        .chain(pusher_woke)
        .collect();
    let found = searchers.iter().filter(|o| o.found).count();
    assert!(
        inject.is_empty() || found > 0 || !woken.is_empty(),
        "work left queued with every worker parked: {searchers:?}, pusher woke {pusher_woke:?}"
    );
    let mut distinct = woken.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        woken.len(),
        "one sleeper woken twice: {woken:?}"
    );
    // The sleepers list: whoever parked and was not woken, nobody else.
    let workers = 0..=searchers.len();
    let parked: Vec<usize> = workers.clone().filter(|&w| idle.is_parked(w)).collect();
    let expected: Vec<usize> = workers
        .filter(|&w| !woken.contains(&w) && !searchers.get(w).is_some_and(|o| o.found))
        .collect();
    assert_eq!(
        parked, expected,
        "{searchers:?}, pusher woke {pusher_woke:?}"
    );
    // The searching count, seen through `worker_to_notify`: a woken worker counts as
    // searching, so nobody more is woken; with no searcher left a sleeper would be.
    let again = idle.worker_to_notify();
    if woken.is_empty() {
        assert_eq!(again.is_some(), !parked.is_empty());
    } else {
        assert_eq!(again, None, "woke {woken:?}, then {again:?} as well");
    }
}

#[test]
fn loom_idle_last_searcher_parks_while_work_is_pushed() {
    model(3, || {
        let idle = Arc::new(Idle::new(2));
        let inject = Arc::new(Inject::new());
        // Worker 1 sleeps (nothing is queued, so its look once more finds nothing);
        // worker 0 is the only searcher.
        idle.transition_worker_to_parked(1, false);
        assert!(idle.transition_worker_to_searching());

        let pusher = {
            let (idle, inject) = (idle.clone(), inject.clone());
            thread::spawn(move || push_and_notify(&idle, &inject))
        };
        let outcome = searcher_finishes(&idle, &inject, 0);
        let pusher_woke = pusher.join().unwrap();
        check(&idle, &inject, &[outcome], pusher_woke);
    });
}

#[test]
fn loom_idle_two_searchers_park_while_work_is_pushed() {
    model(3, || {
        let idle = Arc::new(Idle::new(3));
        let inject = Arc::new(Inject::new());
        // Worker 2 sleeps; workers 0 and 1 both search (allowed: 2 * 1 < 3).
        idle.transition_worker_to_parked(2, false);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());

        let other = {
            let (idle, inject) = (idle.clone(), inject.clone());
            thread::spawn(move || searcher_finishes(&idle, &inject, 1))
        };
        let pusher = {
            let (idle, inject) = (idle.clone(), inject.clone());
            thread::spawn(move || push_and_notify(&idle, &inject))
        };
        let outcome = searcher_finishes(&idle, &inject, 0);
        let pusher_woke = pusher.join().unwrap();
        let other = other.join().unwrap();
        check(&idle, &inject, &[outcome, other], pusher_woke);
    });
}

#[test]
fn loom_idle_two_searchers_park_while_a_node_preferring_push_happens() {
    model(3, || {
        let idle = Arc::new(Idle::new(3));
        let inject = Arc::new(Inject::new());
        idle.transition_worker_to_parked(2, false);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());

        let other = {
            let (idle, inject) = (idle.clone(), inject.clone());
            thread::spawn(move || searcher_finishes(&idle, &inject, 1))
        };
        let pusher = {
            let (idle, inject) = (idle.clone(), inject.clone());
            thread::spawn(move || push_and_notify_preferring(&idle, &inject))
        };
        let outcome = searcher_finishes(&idle, &inject, 0);
        let pusher_woke = pusher.join().unwrap();
        let other = other.join().unwrap();
        check(&idle, &inject, &[outcome, other], pusher_woke);
    });
}

#[test]
fn loom_idle_worker_awake_for_its_own_work_parks_while_work_is_pushed() {
    model(3, || {
        // The only worker is awake without searching: a pusher that sees nobody
        // asleep wakes nobody, so the worker must look again once it is listed.
        let idle = Arc::new(Idle::new(1));
        let inject = Arc::new(Inject::new());

        let pusher = {
            let (idle, inject) = (idle.clone(), inject.clone());
            thread::spawn(move || push_and_notify(&idle, &inject))
        };
        let outcome = own_work_worker_finishes(&idle, &inject, 0);
        let pusher_woke = pusher.join().unwrap();
        let woken: Vec<usize> = outcome.woke.into_iter().chain(pusher_woke).collect();
        assert!(
            inject.is_empty() || outcome.found || !woken.is_empty(),
            "work left queued with the only worker parked: {outcome:?}"
        );
        assert!(woken.len() <= 1, "one sleeper woken twice: {woken:?}");
        assert_eq!(idle.is_parked(0), !outcome.found && woken.is_empty());
    });
}
