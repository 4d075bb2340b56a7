//! Tests of the worker run queue (`queue.rs`) sized for Miri
//! (`cargo +nightly miri test -p zokio --lib miri_queue`) and fast in a plain
//! `cargo test`.
//!
//! The values are heap-allocated `String`s, so Miri sees every slot read as a move:
//! a slot read twice is a double free, a slot never read is a leak, and a read of a
//! slot that was never written is an uninitialised read. Each test checks that every
//! value comes out exactly once. These tests must never depend on timing and must
//! stay small: Miri runs them thousands of times slower.

use std::thread;

use super::queue::{self, Local, CAPACITY};

fn push(local: &mut Local<String>, value: usize, overflow: &mut Vec<String>) {
    local.push_back(value.to_string(), &mut |batch| overflow.extend(batch));
}

fn drain(local: &mut Local<String>, into: &mut Vec<String>) {
    while let Some(value) = local.pop() {
        into.push(value);
    }
}

/// `seen` holds each of `0..n` exactly once.
fn assert_each_once(seen: Vec<String>, n: usize) {
    let mut seen: Vec<usize> = seen.iter().map(|s| s.parse().unwrap()).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..n).collect::<Vec<_>>());
}

#[test]
fn miri_queue_push_pop_fifo_with_wrap_around() {
    let (mut local, steal) = queue::new::<String>();
    let mut overflow = Vec::new();
    let mut got = Vec::new();
    // Keep the queue half full while the indices go round the ring twice.
    for value in 0..2 * CAPACITY {
        push(&mut local, value, &mut overflow);
        if value >= CAPACITY / 2 {
            got.extend(local.pop());
        }
    }
    assert_eq!(local.len(), CAPACITY / 2);
    assert_eq!(local.remaining(), CAPACITY / 2);
    assert!(!steal.is_empty());
    drain(&mut local, &mut got);
    assert!(local.is_empty() && steal.is_empty());
    assert!(overflow.is_empty());
    let got: Vec<usize> = got.iter().map(|s| s.parse().unwrap()).collect();
    assert_eq!(
        got,
        (0..2 * CAPACITY).collect::<Vec<_>>(),
        "owner pops in FIFO order"
    );
}

#[test]
fn miri_queue_overflow_moves_half() {
    let (mut local, _steal) = queue::new::<String>();
    let mut overflow = Vec::new();
    let n = CAPACITY + 1;
    for value in 0..n {
        push(&mut local, value, &mut overflow);
    }
    assert_eq!(overflow.len(), CAPACITY / 2 + 1);
    assert_eq!(local.len(), CAPACITY / 2);
    let mut got = overflow;
    drain(&mut local, &mut got);
    assert_each_once(got, n);
}

#[test]
fn miri_queue_steal_into_a_non_empty_queue() {
    let (mut src, steal) = queue::new::<String>();
    let (mut dst, _) = queue::new::<String>();
    let mut overflow = Vec::new();
    for value in 0..10 {
        push(&mut src, value, &mut overflow);
    }
    // Move dst's indices on, leaving one value behind, so the batch lands mid-ring.
    for value in 10..13 {
        push(&mut dst, value, &mut overflow);
    }
    let mut got: Vec<String> = dst.pop().into_iter().chain(dst.pop()).collect();
    let first = steal.steal_into(&mut dst).unwrap();
    assert_eq!(first, "4", "the last of the stolen half is handed back");
    assert_eq!(dst.len(), 1 + 4);
    assert_eq!(src.len(), 5);
    got.push(first);
    drain(&mut src, &mut got);
    drain(&mut dst, &mut got);
    assert!(overflow.is_empty());
    assert_each_once(got, 13);
}

#[test]
fn miri_queue_steal_refused_and_empty() {
    let (mut src, steal) = queue::new::<String>();
    let (mut dst, _) = queue::new::<String>();
    let mut overflow = Vec::new();
    assert!(steal.steal_into(&mut dst).is_none(), "nothing to steal");
    for value in 0..3 {
        push(&mut src, value, &mut overflow);
    }
    // A destination more than half full is not stolen into.
    for value in 3..CAPACITY / 2 + 4 {
        push(&mut dst, value, &mut overflow);
    }
    assert!(steal.steal_into(&mut dst).is_none());
    assert_eq!(src.len(), 3);
    let mut got = Vec::new();
    drain(&mut src, &mut got);
    drain(&mut dst, &mut got);
    assert_each_once(got, CAPACITY / 2 + 4);
}

#[test]
fn miri_queue_drop_frees_what_is_left() {
    let (mut local, steal) = queue::new::<String>();
    let mut overflow = Vec::new();
    for value in 0..5 {
        push(&mut local, value, &mut overflow);
    }
    // Dropping the owner's end drops the values still queued (Miri: no leak), and a
    // stealer outliving it sees an empty queue.
    drop(local);
    assert!(steal.is_empty());
}

#[test]
fn miri_queue_concurrent_steal() {
    const N: usize = 24;
    let (mut owner, steal) = queue::new::<String>();
    let thief = thread::spawn(move || {
        let (mut mine, _) = queue::new::<String>();
        let mut got = Vec::new();
        for _ in 0..4 {
            got.extend(steal.steal_into(&mut mine));
            drain(&mut mine, &mut got);
        }
        got
    });
    let mut got = Vec::new();
    let mut overflow = Vec::new();
    for value in 0..N {
        push(&mut owner, value, &mut overflow);
        if value % 3 == 0 {
            got.extend(owner.pop());
        }
    }
    got.extend(thief.join().unwrap());
    drain(&mut owner, &mut got);
    got.extend(overflow);
    assert_each_once(got, N);
}
