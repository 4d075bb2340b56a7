//! Loom models of the worker run queue (`queue.rs`), compiled only under `cfg(loom)`,
//! where `CAPACITY` is 4 so that wrap-around and overflow are reachable.
//!
//! Each model races the owner's `push_back`/`pop` against one or two `steal_into`
//! calls and checks that every value pushed comes out exactly once (from a pop, a
//! steal, or the overflow sink), while loom checks every slot access for data races.
//! A model must never reach into the ring's private fields, and must stay small
//! enough (at most 3 threads, preemption bound 2 or 3) that the whole loom suite
//! finishes in minutes; `LOOM_MAX_PREEMPTIONS` overrides the bound for a deeper run.

use loom::thread;

use super::queue::{self, Local, CAPACITY};

/// Run `f` under loom with the given preemption bound, unless the environment sets one.
fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

fn push(local: &mut Local<u32>, value: u32, overflow: &mut Vec<u32>) {
    local.push_back(value, &mut |batch| overflow.extend(batch));
}

fn drain(local: &mut Local<u32>, into: &mut Vec<u32>) {
    while let Some(value) = local.pop() {
        into.push(value);
    }
}

/// Steal once into a fresh queue of our own, then pop everything that landed there.
fn steal_all(steal: &queue::Steal<u32>) -> Vec<u32> {
    let (mut mine, _) = queue::new::<u32>();
    let mut got = Vec::new();
    if let Some(value) = steal.steal_into(&mut mine) {
        got.push(value);
    }
    drain(&mut mine, &mut got);
    got
}

/// `seen` holds each of `0..n` exactly once: nothing lost, nothing duplicated.
fn assert_each_once(mut seen: Vec<u32>, n: u32) {
    seen.sort_unstable();
    assert_eq!(seen, (0..n).collect::<Vec<_>>());
}

#[test]
fn loom_owner_push_pop_vs_one_stealer() {
    model(3, || {
        let (mut owner, steal) = queue::new::<u32>();
        let thief = thread::spawn(move || steal_all(&steal));

        let mut got = Vec::new();
        let mut overflow = Vec::new();
        push(&mut owner, 0, &mut overflow);
        push(&mut owner, 1, &mut overflow);
        got.extend(owner.pop());
        push(&mut owner, 2, &mut overflow);
        drain(&mut owner, &mut got);

        got.extend(thief.join().unwrap());
        assert!(overflow.is_empty(), "3 values never overflow a ring of 4");
        assert_each_once(got, 3);
    });
}

#[test]
fn loom_owner_wraps_around_vs_stealer() {
    // The owner reuses slots (6 pushes through a ring of 4) while a thief steals
    // twice: a slot may only be rewritten after the steal that read it released it.
    model(3, || {
        let (mut owner, steal) = queue::new::<u32>();
        let mut overflow = Vec::new();
        for value in 0..3 {
            push(&mut owner, value, &mut overflow);
        }
        let thief = thread::spawn(move || {
            let mut got = steal_all(&steal);
            got.extend(steal_all(&steal));
            got
        });

        let mut got: Vec<u32> = owner.pop().into_iter().collect();
        for value in 3..6 {
            push(&mut owner, value, &mut overflow);
        }
        drain(&mut owner, &mut got);

        got.extend(thief.join().unwrap());
        got.extend(overflow);
        assert_each_once(got, 6);
    });
}

#[test]
fn loom_owner_overflow_vs_stealer() {
    model(3, || {
        let (mut owner, steal) = queue::new::<u32>();
        let mut overflow = Vec::new();
        // Full before the race starts: the next push overflows unless the thief is
        // mid-steal (the value alone goes to the sink) or has already made room.
        for value in 0..CAPACITY as u32 {
            push(&mut owner, value, &mut overflow);
        }
        let thief = thread::spawn(move || steal_all(&steal));

        let n = CAPACITY as u32 + 2;
        push(&mut owner, CAPACITY as u32, &mut overflow);
        let mut got: Vec<u32> = owner.pop().into_iter().collect();
        push(&mut owner, CAPACITY as u32 + 1, &mut overflow);
        drain(&mut owner, &mut got);

        got.extend(thief.join().unwrap());
        assert!(overflow.len() <= CAPACITY / 2 + 1, "overflow: {overflow:?}");
        got.extend(overflow);
        assert_each_once(got, n);
    });
}

#[test]
fn loom_two_stealers_and_owner_pop_and_push() {
    // While one thief copies its claimed slots out, the other must back off, and the
    // owner, popping and then refilling the ring, must not reuse a slot still claimed.
    model(3, || {
        let (mut owner, steal) = queue::new::<u32>();
        let mut overflow = Vec::new();
        for value in 0..CAPACITY as u32 {
            push(&mut owner, value, &mut overflow);
        }
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let steal = steal.clone();
                thread::spawn(move || steal_all(&steal))
            })
            .collect();

        let n = CAPACITY as u32 + 3;
        let mut got: Vec<u32> = owner.pop().into_iter().collect();
        for value in CAPACITY as u32..n {
            push(&mut owner, value, &mut overflow);
        }
        for thief in thieves {
            got.extend(thief.join().unwrap());
        }
        drain(&mut owner, &mut got);
        got.extend(overflow);
        assert_each_once(got, n);
    });
}

#[test]
fn loom_steal_into_then_pop_while_stolen_from() {
    // The thief's own queue has moved on (empty, head and tail at 3), so the stolen
    // batch lands in slots 3 and 0, wrapping around its ring. While the thief pops
    // that queue a second thief steals from it in turn: the first thief's `tail` store
    // alone must publish the slots it filled to the second thief.
    model(3, || {
        let (mut src, src_steal) = queue::new::<u32>();
        let mut overflow = Vec::new();
        for value in 0..CAPACITY as u32 {
            push(&mut src, value, &mut overflow);
        }
        let n = CAPACITY as u32 + 3;
        let (mut dst, dst_steal) = queue::new::<u32>();
        let mut got = Vec::new();
        for value in CAPACITY as u32..n {
            push(&mut dst, value, &mut overflow);
        }
        drain(&mut dst, &mut got);

        let first = thread::spawn(move || {
            let mut got = Vec::new();
            got.extend(src_steal.steal_into(&mut dst));
            drain(&mut dst, &mut got);
            got
        });
        let second = thread::spawn(move || steal_all(&dst_steal));

        got.extend(src.pop());
        got.extend(first.join().unwrap());
        got.extend(second.join().unwrap());
        drain(&mut src, &mut got);
        assert!(overflow.is_empty());
        assert_each_once(got, n);
    });
}
