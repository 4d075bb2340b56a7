//! loom models of the pool's cross-thread paths: remote frees racing the owner's
//! collection, and remote frees racing the owner's abandonment. loom explores every
//! interleaving of the segment's atomics (and checks the owner state's cell for
//! concurrent access); the test ledger proves each segment is released exactly once
//! and that none is left behind. The models drive a `Pool` directly: the thread-local
//! entry points add nothing to the protocol. They must stay small enough to finish
//! in seconds.

use std::ptr::NonNull;

use loom::thread;

use super::class::CLASS_SIZES;
use super::owner::Pool;
use super::segment::Segment;
use super::stats::ledger;

/// A block handed to another model thread.
struct Sent(NonNull<u8>);
// SAFETY: pool blocks may be freed on any thread; each model moves a block to one
// other thread and stops using it where it was.
unsafe impl Send for Sent {}

impl Sent {
    fn free_remotely(self) {
        // SAFETY: the block is out and this is its only free.
        unsafe { Segment::free_remote(Segment::of(self.0), self.0) }
    }
}

/// The class with the fewest blocks per segment, so a model can exhaust one.
const BIG: usize = CLASS_SIZES.len() - 1;

/// The owner, its current segment exhausted, allocates while another thread returns
/// two blocks: it either collects a returned block (in one swap, whatever number had
/// arrived) or takes a new segment; nothing is lost, and everything goes back.
#[test]
fn loom_pool_remote_frees_race_the_owner_collecting() {
    loom::model(|| {
        let mut pool = Pool::new();
        let first = pool.alloc(BIG);
        // SAFETY: the block is out, so its segment is allocated.
        let capacity = unsafe { Segment::of(first).as_ref().capacity() };
        let mut blocks = vec![first];
        blocks.extend((1..capacity).map(|_| pool.alloc(BIG)));
        let returned = [blocks.pop().unwrap(), blocks.pop().unwrap()];
        let sent = returned.map(Sent);
        let freer = thread::spawn(move || {
            for block in sent {
                block.free_remotely();
            }
        });
        let next = pool.alloc(BIG);
        let collected = returned.contains(&next);
        assert_eq!(
            pool.stats().segments_acquired,
            if collected { 1 } else { 2 },
            "a new segment only when nothing had come back"
        );
        freer.join().unwrap();
        blocks.push(next);
        for block in blocks {
            // SAFETY: every block came from this pool and is freed once, here.
            unsafe { pool.free_local(Segment::of(block), block) };
        }
        let id = pool.id();
        pool.trim();
        assert_eq!(pool.stats().live_blocks, 0);
        assert_eq!(pool.stats().segments_held, 0);
        drop(pool);
        let (acquired, released) = ledger::of(id);
        assert_eq!(acquired, released);
    });
}

/// Two threads push onto the same remote list (their exchanges may collide) while
/// the owner collects it, possibly between the two pushes: every block comes back
/// once, whichever batch it arrives in.
#[test]
fn loom_pool_two_remote_frees_race_each_other_and_a_collection() {
    loom::model(|| {
        let mut pool = Pool::new();
        let one = Sent(pool.alloc(0));
        let two = Sent(pool.alloc(0));
        let kept = pool.alloc(0);
        let first = thread::spawn(move || one.free_remotely());
        let second = thread::spawn(move || two.free_remotely());
        assert_eq!(pool.trim(), 0, "a block is still out");
        first.join().unwrap();
        second.join().unwrap();
        assert_eq!(pool.stats().live_blocks + pool.stats().free_blocks, {
            // SAFETY: the block is out, so its segment is allocated.
            unsafe { Segment::of(kept).as_ref().capacity() }
        });
        // SAFETY: the block came from this pool and is freed once, here.
        unsafe { pool.free_local(Segment::of(kept), kept) };
        assert_eq!(
            pool.trim(),
            1,
            "both returns were collected, whatever the order"
        );
        let id = pool.id();
        drop(pool);
        assert_eq!(ledger::of(id), (1, 1));
    });
}

/// The owner exits (drops its pool) while another thread frees one of its two live
/// blocks; the owner thread then frees the other as a stranger. Whichever order the
/// swap and the frees take, the segment is released exactly once, by whoever counts
/// the last block off.
#[test]
fn loom_pool_owner_exit_races_a_remote_free() {
    loom::model(|| {
        let mut pool = Pool::new();
        let kept = Sent(pool.alloc(0));
        let sent = Sent(pool.alloc(0));
        let id = pool.id();
        let freer = thread::spawn(move || sent.free_remotely());
        drop(pool);
        assert_eq!(ledger::of(id), (1, 0), "a block is still out");
        kept.free_remotely();
        freer.join().unwrap();
        assert_eq!(ledger::of(id), (1, 1));
    });
}

/// Two other threads free the last two blocks while the owner exits: any of the
/// three may end up releasing the segment, and exactly one does.
#[test]
fn loom_pool_owner_exit_races_two_remote_frees() {
    loom::model(|| {
        let mut pool = Pool::new();
        let one = Sent(pool.alloc(0));
        let two = Sent(pool.alloc(0));
        let id = pool.id();
        let first = thread::spawn(move || one.free_remotely());
        let second = thread::spawn(move || two.free_remotely());
        drop(pool);
        first.join().unwrap();
        second.join().unwrap();
        assert_eq!(ledger::of(id), (1, 1));
    });
}
