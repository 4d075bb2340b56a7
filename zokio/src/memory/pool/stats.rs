//! What the pool reports about itself: one pool's figures ([`PoolStats`]) and the
//! number of segments the whole process holds.
//!
//! The process-wide count is a plain statistic (std atomics, Relaxed): no protocol
//! reads it to decide anything, so it is not part of any loom model. Under test, a
//! ledger also records, per pool id, how many segments that pool acquired and how many
//! were released, so a test can prove that an abandoned pool's segments were all
//! released exactly once without being disturbed by other tests running beside it.
//! Nothing here may ever be on the path of a block's allocation or free.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Segments allocated from the global allocator and not yet given back, process-wide.
static PROCESS_SEGMENTS: AtomicUsize = AtomicUsize::new(0);

/// One pool's figures, as its owner thread sees them.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct PoolStats {
    /// Blocks handed out and not yet seen back by this pool (a block freed on another
    /// thread counts until the pool collects it).
    pub(crate) live_blocks: usize,
    /// Blocks this pool can hand out without asking anyone: on its free lists or not
    /// yet carved.
    pub(crate) free_blocks: usize,
    /// Segments this pool holds.
    pub(crate) segments_held: usize,
    /// Bytes those segments take from the global allocator.
    pub(crate) bytes_held: usize,
    /// Segments this pool ever took from the global allocator.
    pub(crate) segments_acquired: u64,
    /// Segments this pool gave back (by trimming or past its high-water mark).
    pub(crate) segments_released: u64,
}

/// How many segments the whole process holds, abandoned ones included.
pub(crate) fn process_segments() -> usize {
    PROCESS_SEGMENTS.load(Ordering::Relaxed)
}

pub(super) fn segment_acquired(owner: u64) {
    PROCESS_SEGMENTS.fetch_add(1, Ordering::Relaxed);
    #[cfg(test)]
    ledger::acquired(owner);
    #[cfg(not(test))]
    let _ = owner;
}

pub(super) fn segment_released(owner: u64) {
    PROCESS_SEGMENTS.fetch_sub(1, Ordering::Relaxed);
    #[cfg(test)]
    ledger::released(owner);
    #[cfg(not(test))]
    let _ = owner;
}

/// Per-pool-id counts of segments acquired and released, for tests only.
#[cfg(test)]
pub(super) mod ledger {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    static LEDGER: Mutex<BTreeMap<u64, (usize, usize)>> = Mutex::new(BTreeMap::new());

    fn with<R>(f: impl FnOnce(&mut BTreeMap<u64, (usize, usize)>) -> R) -> R {
        f(&mut LEDGER
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    pub(in super::super) fn acquired(owner: u64) {
        with(|ledger| ledger.entry(owner).or_default().0 += 1);
    }

    pub(in super::super) fn released(owner: u64) {
        with(|ledger| {
            let entry = ledger.entry(owner).or_default();
            assert!(entry.1 < entry.0, "pool {owner} released a segment twice");
            entry.1 += 1;
        });
    }

    /// (acquired, released) for the pool with id `owner`.
    pub(in super::super) fn of(owner: u64) -> (usize, usize) {
        with(|ledger| ledger.get(&owner).copied().unwrap_or_default())
    }
}
