//! Loom models of the parker (`park.rs`), compiled only under `cfg(loom)`.
//!
//! They check the token contract: an unpark before a park makes it return at once, an
//! unpark racing a park is never lost (loom reports a deadlock if it is), and any
//! number of unparks before one park leave a single token, so a second park needs a
//! fresh unpark. A model must never use `park_timeout` (loom has no clock, so it
//! would model a plain park) and must stay within 3 threads.

use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use super::park::Parker;

fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

#[test]
fn loom_unpark_before_park_returns_at_once() {
    model(3, || {
        let parker = Parker::new();
        let unparker = parker.unparker();
        unparker.unpark();
        parker.park();
        // The token was consumed: a later unpark/park pair works the same way.
        unparker.unpark();
        parker.park();
    });
}

#[test]
fn loom_unpark_from_another_thread_is_never_lost() {
    model(3, || {
        let parker = Parker::new();
        let unparker = parker.unparker();
        let waker = thread::spawn(move || unparker.unpark());
        // Parks at most once in every interleaving; a lost token is a loom deadlock.
        parker.park();
        waker.join().unwrap();
    });
}

#[test]
fn loom_unparks_racing_two_parks_need_a_late_unpark() {
    // Two unparks race the first park; the second park only has a token if one of
    // them landed after the first park returned, otherwise the third thread's late
    // unpark must wake it.
    model(3, || {
        let parker = Parker::new();
        let early = {
            let unparker = parker.unparker();
            thread::spawn(move || {
                unparker.unpark();
                unparker.unpark();
            })
        };
        parker.park();
        let late = {
            let unparker = parker.unparker();
            thread::spawn(move || unparker.unpark())
        };
        parker.park();
        early.join().unwrap();
        late.join().unwrap();
    });
}

#[test]
fn loom_two_unparks_leave_one_token() {
    // Both unparks finish before the first park: they merge into one token, so the
    // second park can only return through the third thread's unpark.
    model(3, || {
        let parker = Parker::new();
        let early = {
            let unparker = parker.unparker();
            thread::spawn(move || {
                unparker.unpark();
                unparker.unpark();
            })
        };
        early.join().unwrap();
        parker.park();

        let sent = Arc::new(AtomicBool::new(false));
        let late = {
            let unparker = parker.unparker();
            let sent = sent.clone();
            thread::spawn(move || {
                sent.store(true, SeqCst);
                unparker.unpark();
            })
        };
        parker.park();
        assert!(
            sent.load(SeqCst),
            "the second park returned on a token the first park had consumed"
        );
        late.join().unwrap();
    });
}
