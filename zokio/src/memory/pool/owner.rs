//! One owner pool: the per-thread state that hands out blocks and takes them back.
//!
//! For each size class the pool keeps a doubly linked list of its segments and a
//! current segment. Allocation pops the current segment's local free list (no atomics),
//! then collects the current segment's remote list (one swap), then looks through a
//! few of the class's other segments for returned blocks, and only then takes a new
//! segment.
//!
//! A free on the owner thread pushes onto the block's segment's local list. When a
//! segment has no block out and the pool caches more than [`HIGH_WATER_BYTES`], the
//! segment goes back to the system; [`Pool::trim`] gives back every segment
//! with no block out. Blocks other threads return are seen only when the pool collects
//! them (when it runs dry in that class, or trims), so a pool that stops allocating
//! keeps them until it trims: its thread should trim before it sleeps. Dropping the
//! pool (its thread exiting) releases the segments with no block out and abandons the
//! others to whoever frees their last block.
//!
//! A `Pool` is not `Send`: only its own thread may call it. It must never call code
//! that could re-enter it (it calls only the system, to map and unmap segments), and never read a
//! segment it does not own except through [`Segment`]'s remote path.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use super::class::{CLASS_COUNT, CLASS_SIZES};
use super::segment::{Segment, SEGMENT_SIZE};
#[cfg(test)]
use super::stats::PoolStats;

/// Free bytes one pool may cache before a segment with no block out goes back to the
/// system when its last block returns (16 segments). Trimming ignores it.
pub(super) const HIGH_WATER_BYTES: usize = 16 * SEGMENT_SIZE;

/// How many segments past the current one an exhausted allocation looks at for
/// returned blocks before it takes a new segment.
pub(super) const MAX_SCAN: usize = 8;

/// The source of pool ids. Ids are never reused (a `u64` does not wrap in practice), so
/// a segment whose pool is gone never matches a later pool at the same address. A std
/// atomic: no protocol races on it, it only has to hand out distinct numbers.
static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// One class's segments.
#[derive(Clone, Copy)]
struct ClassList {
    head: Option<NonNull<Segment>>,
    /// Where allocation looks first; always a member of the list, if any.
    current: Option<NonNull<Segment>>,
}

/// A thread's pool. See the module doc.
pub(super) struct Pool {
    /// 0 until the pool takes its first segment.
    id: u64,
    classes: [ClassList; CLASS_COUNT],
    segments_held: usize,
    /// Bytes of blocks handed out and not yet seen back.
    live_bytes: usize,
    segments_acquired: u64,
    segments_released: u64,
}

impl Pool {
    /// An empty pool; it takes an id and memory on its first allocation.
    pub(super) const fn new() -> Self {
        Pool {
            id: 0,
            classes: [ClassList {
                head: None,
                current: None,
            }; CLASS_COUNT],
            segments_held: 0,
            live_bytes: 0,
            segments_acquired: 0,
            segments_released: 0,
        }
    }

    /// This pool's id (0 before its first allocation, which no segment carries).
    #[inline]
    pub(super) fn id(&self) -> u64 {
        self.id
    }

    /// A block of class `class`'s size, aligned to the block alignment.
    #[inline]
    pub(super) fn alloc(&mut self, class: usize) -> NonNull<u8> {
        if let Some(segment) = self.classes[class].current {
            // SAFETY: the pool owns its listed segments and this is its thread.
            if let Some(block) = unsafe { Segment::pop(segment) } {
                self.live_bytes += CLASS_SIZES[class];
                return block;
            }
        }
        self.alloc_slow(class)
    }

    /// The current segment is exhausted: collect returned blocks, else look through
    /// the class's other segments, else take a new one.
    #[cold]
    fn alloc_slow(&mut self, class: usize) -> NonNull<u8> {
        let segment = self.find_segment_with_room(class).unwrap_or_else(|| {
            if self.id == 0 {
                self.id = NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed);
            }
            let segment = Segment::acquire(self.id, class);
            self.segments_held += 1;
            self.segments_acquired += 1;
            self.link(class, segment);
            segment
        });
        self.classes[class].current = Some(segment);
        // SAFETY: the pool owns the segment and this is its thread.
        let block =
            unsafe { Segment::pop(segment) }.expect("a segment with room hands out a block");
        self.live_bytes += CLASS_SIZES[class];
        block
    }

    /// A segment of `class` with a free block: the current one if other threads
    /// returned some, else one of the next [`MAX_SCAN`] segments after it (wrapping
    /// round the list), collecting their returns on the way. Segments found with no
    /// block out while the pool is over its high-water mark are released, not used.
    ///
    /// The scan is bounded so that a trickle of single returns spread over many
    /// segments cannot make every allocation walk them all; starting after the
    /// current segment makes successive scans go round the whole list.
    fn find_segment_with_room(&mut self, class: usize) -> Option<NonNull<Segment>> {
        let current = self.classes[class].current;
        if let Some(segment) = current {
            if self.collect(segment) > 0 {
                return Some(segment);
            }
        }
        // With a current segment, go round from the one after it back to it; without
        // one, walk the list from its head once.
        let wraps = current.is_some();
        let mut cursor = match current {
            Some(segment) => self.after(class, segment, wraps),
            None => self.classes[class].head,
        };
        let mut visited = 0;
        while let Some(segment) = cursor {
            if Some(segment) == current || visited == MAX_SCAN {
                break;
            }
            visited += 1;
            // Read before `segment` may be released. It is never `segment` itself:
            // with a current segment the list has another member to wrap to, and
            // without one the walk does not wrap.
            cursor = self.after(class, segment, wraps);
            self.collect(segment);
            // SAFETY: the pool owns its listed segments and this is its thread.
            let (live, room) = unsafe {
                let header = segment.as_ref();
                (header.with_owner(|state| state.live), header.has_room())
            };
            if live == 0 && self.cached_bytes() > HIGH_WATER_BYTES {
                self.release(segment);
            } else if room {
                return Some(segment);
            }
        }
        None
    }

    /// The segment after `segment` in its class list; past the tail, the head if
    /// `wraps`.
    fn after(
        &self,
        class: usize,
        segment: NonNull<Segment>,
        wraps: bool,
    ) -> Option<NonNull<Segment>> {
        // SAFETY: the pool owns its listed segments and this is its thread.
        let next = unsafe { segment.as_ref().with_owner(|state| state.next) };
        if wraps {
            next.or(self.classes[class].head)
        } else {
            next
        }
    }

    /// Takes a block back on the owner thread.
    ///
    /// # Safety
    /// `block` came from this pool's `alloc` (so its segment's owner is this pool),
    /// and has not been freed since.
    #[inline]
    pub(super) unsafe fn free_local(&mut self, segment: NonNull<Segment>, block: NonNull<u8>) {
        // SAFETY: the pool owns the segment and this is its thread; the caller vouches
        // for the block.
        let (class, live) = unsafe {
            let header = segment.as_ref();
            header.push_local(block);
            (header.class(), header.with_owner(|state| state.live))
        };
        self.live_bytes -= CLASS_SIZES[class];
        if live == 0
            && self.classes[class].current != Some(segment)
            && self.cached_bytes() > HIGH_WATER_BYTES
        {
            self.release(segment);
        }
    }

    /// Gives every segment with no block out back to the system, after
    /// collecting the blocks other threads returned. Returns how many it gave back.
    pub(super) fn trim(&mut self) -> usize {
        self.release_free_segments(false)
    }

    /// As [`Pool::trim`], but keeps each class's current segment: what an idle thread
    /// gives back, so that its next allocation in a class it uses costs no map.
    pub(super) fn trim_spare(&mut self) -> usize {
        self.release_free_segments(true)
    }

    /// Segments this pool has given back in its life.
    pub(super) fn segments_released(&self) -> u64 {
        self.segments_released
    }

    /// Whether the pool holds segments beyond each class's current one, which
    /// [`Pool::trim_spare`] might give back. Cheap: no segment is read.
    pub(super) fn has_spare(&self) -> bool {
        let current = self.classes.iter().filter(|c| c.current.is_some()).count();
        self.segments_held > current
    }

    fn release_free_segments(&mut self, keep_current: bool) -> usize {
        let mut released = 0;
        for class in 0..CLASS_COUNT {
            let kept = if keep_current {
                self.classes[class].current
            } else {
                None
            };
            let mut next = self.classes[class].head;
            while let Some(segment) = next {
                // SAFETY: the pool owns its listed segments and this is its thread.
                next = unsafe { segment.as_ref().with_owner(|state| state.next) };
                self.collect(segment);
                if Some(segment) == kept {
                    continue;
                }
                // SAFETY: as above.
                if unsafe { segment.as_ref().with_owner(|state| state.live) } == 0 {
                    self.release(segment);
                    released += 1;
                }
            }
        }
        released
    }

    /// This pool's figures. Walks its free lists: for tests and diagnostics, not for
    /// a hot path.
    #[cfg(test)]
    pub(super) fn stats(&self) -> PoolStats {
        let mut stats = PoolStats {
            segments_held: self.segments_held,
            bytes_held: self.segments_held * SEGMENT_SIZE,
            segments_acquired: self.segments_acquired,
            segments_released: self.segments_released,
            ..PoolStats::default()
        };
        for list in &self.classes {
            let mut next = list.head;
            while let Some(segment) = next {
                // SAFETY: the pool owns its listed segments and this is its thread.
                unsafe {
                    let header = segment.as_ref();
                    stats.free_blocks += header.free_count();
                    stats.live_blocks += header.with_owner(|state| state.live);
                    next = header.with_owner(|state| state.next);
                }
            }
        }
        stats
    }

    /// Bytes held but not handed out.
    fn cached_bytes(&self) -> usize {
        self.segments_held * SEGMENT_SIZE - self.live_bytes
    }

    /// Moves the blocks other threads returned to `segment` onto its local list.
    fn collect(&mut self, segment: NonNull<Segment>) -> usize {
        // SAFETY: the pool owns the segment and this is its thread.
        let (count, block_size) = unsafe {
            (
                Segment::collect_remote(segment),
                segment.as_ref().block_size(),
            )
        };
        self.live_bytes -= count * block_size;
        count
    }

    fn link(&mut self, class: usize, segment: NonNull<Segment>) {
        let list = &mut self.classes[class];
        let old_head = list.head;
        // SAFETY: the pool owns both segments and this is its thread.
        unsafe {
            segment.as_ref().with_owner(|state| {
                state.prev = None;
                state.next = old_head;
            });
            if let Some(old_head) = old_head {
                old_head
                    .as_ref()
                    .with_owner(|state| state.prev = Some(segment));
            }
        }
        list.head = Some(segment);
    }

    /// Unlinks a segment with no block out and gives it back.
    fn release(&mut self, segment: NonNull<Segment>) {
        // SAFETY: the pool owns the segment and its neighbours, and this is its thread.
        let (class, prev, next) = unsafe {
            let header = segment.as_ref();
            debug_assert_eq!(header.with_owner(|state| state.live), 0);
            let (prev, next) = header.with_owner(|state| (state.prev, state.next));
            if let Some(prev) = prev {
                prev.as_ref().with_owner(|state| state.next = next);
            }
            if let Some(next) = next {
                next.as_ref().with_owner(|state| state.prev = prev);
            }
            (header.class(), prev, next)
        };
        let list = &mut self.classes[class];
        if list.head == Some(segment) {
            list.head = next;
        }
        if list.current == Some(segment) {
            list.current = next.or(prev);
        }
        self.segments_held -= 1;
        self.segments_released += 1;
        // SAFETY: no block is out (live is 0 and the remote list was collected by the
        // callers, or is empty since nothing is out), the segment is unlinked, and this
        // pool (its only user) never touches it again.
        unsafe { Segment::release(segment) };
    }
}

impl Drop for Pool {
    /// The owner thread is going away: release what is wholly free, abandon the rest.
    fn drop(&mut self) {
        for list in &self.classes {
            let mut next = list.head;
            while let Some(segment) = next {
                // SAFETY: the pool owns its listed segments and this is its thread.
                let live = unsafe {
                    let header = segment.as_ref();
                    next = header.with_owner(|state| state.next);
                    header.with_owner(|state| state.live)
                };
                if live == 0 {
                    // SAFETY: nothing is out, so nothing is on the remote list and no
                    // other thread can reach the segment; we never touch it again.
                    unsafe { Segment::release(segment) };
                } else {
                    // SAFETY: this is the owner thread, it abandons each segment once
                    // and never touches it again; `live` is its live count.
                    unsafe { Segment::abandon(segment, live) };
                }
            }
        }
    }
}
