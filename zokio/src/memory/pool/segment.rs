//! A segment: one aligned run of memory mapped from the system (`pages.rs`), carved into the
//! blocks of one size class, with the header that lets any thread find a block's owner.
//!
//! A segment is [`SEGMENT_SIZE`] bytes aligned to its own size, so masking a block's
//! address gives the header: no block carries a header of its own. The header holds:
//!
//! - what never changes after creation (owner pool id, class, block size), readable by
//!   any thread that holds one of the segment's blocks;
//! - the owner's state (local free list, carving cursor, live count, links in the
//!   owner's class list), touched only by the owner thread, and never again once the
//!   owner has abandoned the segment;
//! - the shared state on its own cache line: the remote free list, onto which other
//!   threads push blocks with a compare-and-swap (push only, and the owner takes the
//!   whole list with one swap, so there is no ABA), and the count of blocks still
//!   outstanding once the owner is gone. The list's head is one word holding the
//!   first block's offset and the list's length, so the owner learns how many blocks
//!   came back without walking them (a walk of cold blocks, one cache miss each).
//!
//! **Abandonment.** When the owner pool goes away with blocks still out, it swaps
//! [`ABANDONED`] into the remote list head ([`Segment::abandon`]): that is the
//! mark "no owner any more", and the same swap takes the blocks already returned. From
//! then on a freeing thread sees the mark instead of pushing and counts the block off
//! `outstanding`; whoever brings `outstanding` to zero (the owner, if every block was
//! already back, or the thread that frees the last one) releases the segment. Each
//! block is counted off once, so the segment is released exactly once.
//!
//! This file must never decide policy (which segment to use, when to trim): that is
//! the pool's. And nothing here may touch a segment after releasing it.

use std::num::NonZeroUsize;
use std::ptr::{self, NonNull};

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::UnsafeCell;

use super::class::{BLOCK_ALIGN, CLASS_SIZES};
use super::directory::{self, Number};
use super::pages;
use super::stats;

/// The size of a segment, and its alignment.
pub(crate) const SEGMENT_SIZE: usize = 64 * 1024;

/// Where the first block starts: right after the header, on a block boundary.
const DATA_START: usize = std::mem::size_of::<Segment>().next_multiple_of(BLOCK_ALIGN);

const _: () = assert!(DATA_START + CLASS_SIZES[CLASS_SIZES.len() - 1] * 32 <= SEGMENT_SIZE);

/// A free block's first word: the next free block of the same list.
pub(super) struct FreeBlock {
    next: *mut FreeBlock,
}

/// The owner thread's part of the header.
pub(super) struct OwnerState {
    /// Blocks returned on the owner thread (or collected from the remote list), LIFO.
    local_free: *mut FreeBlock,
    /// Offset of the first block never handed out.
    carve_next: usize,
    /// Blocks handed out and not yet seen back by the owner. A block freed remotely
    /// still counts until the owner collects it.
    pub(super) live: usize,
    /// The owner's doubly linked list of its segments of this class.
    pub(super) prev: Option<NonNull<Segment>>,
    pub(super) next: Option<NonNull<Segment>>,
}

/// The remote list's head word: the first block's offset in the segment in the low
/// bits (0, the header's place, for an empty list), the list's length above them.
const OFFSET_BITS: u32 = SEGMENT_SIZE.trailing_zeros();
const OFFSET_MASK: usize = SEGMENT_SIZE - 1;

/// The head word of a segment whose owner is gone: no list has this length.
const ABANDONED: usize = usize::MAX;

/// The state other threads touch, on its own cache line so that remote frees do not
/// slow the owner's allocations.
#[repr(C, align(64))]
struct Shared {
    /// Blocks freed by other threads, pushed with a compare-and-swap, as a head word
    /// (see [`OFFSET_BITS`]); or, once the owner is gone, [`ABANDONED`].
    remote: AtomicUsize,
    /// Meaningful only once abandoned: blocks not yet returned.
    outstanding: AtomicUsize,
}

/// The header at the start of every segment.
#[repr(C)]
pub(super) struct Segment {
    /// The id of the pool that created the segment; never 0.
    owner: u64,
    /// The segment's number in the directory, for its blocks' short addresses.
    number: Number,
    class: usize,
    block_size: usize,
    /// Offset just past the last whole block.
    carve_end: usize,
    state: UnsafeCell<OwnerState>,
    shared: Shared,
}

impl Segment {
    /// Maps a fresh segment for class `class` of pool `owner`. Aborts through
    /// `handle_alloc_error` if there is no memory, as `Box` does.
    pub(super) fn acquire(owner: u64, class: usize) -> NonNull<Segment> {
        debug_assert_ne!(owner, 0, "pool ids start at 1");
        let segment = pages::map_segment().cast::<Segment>();
        let number = directory::register(segment);
        let block_size = CLASS_SIZES[class];
        let blocks = (SEGMENT_SIZE - DATA_START) / block_size;
        // SAFETY: the memory is fresh, SEGMENT_SIZE bytes (larger than the header),
        // and aligned to SEGMENT_SIZE (more than the header's alignment).
        unsafe {
            segment.as_ptr().write(Segment {
                owner,
                number,
                class,
                block_size,
                carve_end: DATA_START + blocks * block_size,
                state: UnsafeCell::new(OwnerState {
                    local_free: ptr::null_mut(),
                    carve_next: DATA_START,
                    live: 0,
                    prev: None,
                    next: None,
                }),
                shared: Shared {
                    remote: AtomicUsize::new(0),
                    outstanding: AtomicUsize::new(0),
                },
            });
        }
        stats::segment_acquired(owner);
        segment
    }

    /// Gives the segment back to the system.
    ///
    /// # Safety
    /// The caller is the one party entitled to release it (the owner with no block
    /// out, or whoever counted the last outstanding block off an abandoned segment),
    /// every other access to it happens before this call, and nobody touches it after.
    pub(super) unsafe fn release(segment: NonNull<Segment>) {
        // SAFETY: the header is initialised (written by `acquire`) and, by the
        // contract, no one else reads it any more.
        let (owner, number) = unsafe { (segment.as_ref().owner, segment.as_ref().number) };
        // Before the unmap: a number is only ever looked up for a block still out, but
        // the directory must never name memory that is gone.
        directory::unregister(number);
        // SAFETY: as above; dropping the header ends the (loom-tracked) cell and atomics.
        unsafe { ptr::drop_in_place(segment.as_ptr()) };
        // SAFETY: `acquire` mapped this segment, and the contract says nobody touches
        // it any more.
        unsafe { pages::unmap_segment(segment.cast()) };
        stats::segment_released(owner);
    }

    /// The segment that holds `block`, found by masking its address.
    #[inline]
    pub(super) fn of(block: NonNull<u8>) -> NonNull<Segment> {
        block
            .map_addr(|addr| {
                // The header sits at the segment's start and blocks after it, so a
                // block's segment never starts at address zero.
                NonZeroUsize::new(addr.get() & !(SEGMENT_SIZE - 1))
                    .expect("a block's segment starts above address zero")
            })
            .cast()
    }

    /// The short address of `block`, one of this segment's blocks (see
    /// `directory.rs`); `None` if the directory had no number left for the segment.
    #[inline]
    pub(super) fn short_address(this: NonNull<Segment>, block: NonNull<u8>) -> Option<u32> {
        // SAFETY: the caller holds one of the segment's blocks, so the header is
        // alive; the number never changes after `acquire`.
        let number = unsafe { this.as_ref().number };
        directory::short_address(number, block.addr().get() - this.addr().get())
    }

    /// The id of the pool that created this segment.
    #[inline]
    pub(super) fn owner(&self) -> u64 {
        self.owner
    }

    /// This segment's size class.
    pub(super) fn class(&self) -> usize {
        self.class
    }

    /// The block size of this segment's class.
    pub(super) fn block_size(&self) -> usize {
        self.block_size
    }

    /// How many blocks the segment holds in all.
    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        (self.carve_end - DATA_START) / self.block_size
    }

    /// Runs `f` on the owner's state.
    ///
    /// # Safety
    /// Only the owner thread may call this, and only before it abandons the segment;
    /// `f` must not call back into anything that reaches this segment's owner state.
    #[inline(always)]
    pub(super) unsafe fn with_owner<R>(&self, f: impl FnOnce(&mut OwnerState) -> R) -> R {
        // SAFETY: by the contract, the owner thread is the only one that touches the
        // owner state, and it does not re-enter: this is the only reference.
        self.state.with_mut(|state| f(unsafe { &mut *state }))
    }

    /// Hands out a block from the local free list, or else carves a new one; `None`
    /// when neither has one (the remote list may still have some).
    ///
    /// # Safety
    /// As for [`Segment::with_owner`].
    #[inline]
    pub(super) unsafe fn pop(this: NonNull<Segment>) -> Option<NonNull<u8>> {
        // SAFETY: the header is valid while the owner holds the segment.
        let segment = unsafe { this.as_ref() };
        let take = |state: &mut OwnerState| {
            if let Some(block) = NonNull::new(state.local_free) {
                // SAFETY: a block on the local list is free, inside this segment, and
                // its first word was written as a link when it was pushed.
                state.local_free = unsafe { (*block.as_ptr()).next };
                state.live += 1;
                return Some(block.cast());
            }
            if state.carve_next < segment.carve_end {
                // SAFETY: carve_next is below carve_end, inside the segment's
                // allocation; the block derives from the segment pointer, so it
                // carries the provenance of the whole segment.
                let block = unsafe { this.cast::<u8>().add(state.carve_next) };
                state.carve_next += segment.block_size;
                state.live += 1;
                return Some(block);
            }
            None
        };
        // SAFETY: the caller is the owner thread.
        unsafe { segment.with_owner(take) }
    }

    /// Takes back a block on the owner thread.
    ///
    /// # Safety
    /// As for [`Segment::with_owner`]; and `block` is one of this segment's blocks,
    /// handed out and not freed since.
    #[inline]
    pub(super) unsafe fn push_local(&self, block: NonNull<u8>) {
        let block = block.cast::<FreeBlock>();
        let push = |state: &mut OwnerState| {
            // SAFETY: the caller gives the block up: it is ours to write, at least a
            // word long (the smallest class) and aligned to 16.
            unsafe {
                block.as_ptr().write(FreeBlock {
                    next: state.local_free,
                })
            };
            state.local_free = block.as_ptr();
            state.live -= 1;
        };
        // SAFETY: the caller is the owner thread.
        unsafe { self.with_owner(push) }
    }

    /// Whether other threads have returned blocks the owner has not collected yet.
    #[inline]
    pub(super) fn has_remote(&self) -> bool {
        self.shared.remote.load(Ordering::Relaxed) != 0
    }

    /// The first block of the list a head word describes, and the list's length.
    fn unpack(this: NonNull<Segment>, head: usize) -> (*mut FreeBlock, usize) {
        let offset = head & OFFSET_MASK;
        if offset == 0 {
            return (ptr::null_mut(), 0);
        }
        // SAFETY: a head word's offset is that of one of this segment's blocks,
        // inside its mapping; the pointer derives from the segment's, so it carries
        // the provenance of the whole segment.
        let block = unsafe { this.cast::<u8>().add(offset) };
        (block.cast::<FreeBlock>().as_ptr(), head >> OFFSET_BITS)
    }

    /// Takes every block other threads returned, in one swap, onto the local free
    /// list; returns how many there were.
    ///
    /// # Safety
    /// As for [`Segment::with_owner`].
    pub(super) unsafe fn collect_remote(this: NonNull<Segment>) -> usize {
        // SAFETY: the owner holds the segment, so its header is alive.
        let segment = unsafe { this.as_ref() };
        if !segment.has_remote() {
            return 0;
        }
        // Acquire: the freeing threads wrote each block's link before their Release
        // push; those writes must be visible before anyone follows the links.
        let (list, count) = Segment::unpack(this, segment.shared.remote.swap(0, Ordering::Acquire));
        if count == 0 {
            return 0;
        }
        let splice = |state: &mut OwnerState| {
            if !state.local_free.is_null() {
                // Rare: only a segment the owner is not allocating from has both
                // lists. Find the remote list's end to hang the local one from it.
                let mut tail = list;
                // SAFETY: every block on the list is one of this segment's blocks,
                // free, with its link written by the thread that pushed it; the swap
                // made the whole list ours.
                unsafe {
                    while !(*tail).next.is_null() {
                        tail = (*tail).next;
                    }
                    (*tail).next = state.local_free;
                }
            }
            state.local_free = list;
            state.live -= count;
        };
        // SAFETY: the caller is the owner thread.
        unsafe { segment.with_owner(splice) };
        count
    }

    /// Returns `block` from a thread that is not the owner (or after the owner is
    /// gone). Releases the segment if that was its last outstanding block.
    ///
    /// # Safety
    /// `block` is one of `this` segment's blocks, handed out and not freed since, and
    /// nothing touches it after this call.
    pub(super) unsafe fn free_remote(this: NonNull<Segment>, block: NonNull<u8>) {
        let offset = block.addr().get() - this.addr().get();
        let block = block.cast::<FreeBlock>();
        // SAFETY: the segment stays allocated while one of its blocks is out, and this
        // block is out until the push or the count-off below.
        let shared = unsafe { &this.as_ref().shared };
        // Acquire (here and on a failed exchange): if we see the abandoned mark, we
        // synchronise with the owner's swap that wrote it, and so see the count of
        // outstanding blocks it stored before.
        let mut head = shared.remote.load(Ordering::Acquire);
        loop {
            if head == ABANDONED {
                break;
            }
            let (next, length) = Segment::unpack(this, head);
            // SAFETY: the block is ours to write until the push publishes it.
            unsafe { block.as_ptr().write(FreeBlock { next }) };
            // Release: publishes the link written above (and the caller's last uses
            // of the block) to the owner's Acquire swap.
            match shared.remote.compare_exchange_weak(
                head,
                offset | ((length + 1) << OFFSET_BITS),
                Ordering::Release,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(current) => head = current,
            }
        }
        // Abandoned: count the block off instead of pushing it.
        // AcqRel: each count-off releases this thread's uses of its block, and the
        // one that reaches zero acquires all of them before releasing the memory.
        if shared.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            // SAFETY: that was the last outstanding block, every other party counted
            // off (or collected) before us, and the owner is gone.
            unsafe { Segment::release(this) };
        }
    }

    /// Gives up ownership with `live` blocks still out (as the owner counts them,
    /// remote returns not yet collected included). The segment is released now if
    /// they have all come back already, otherwise by the thread that frees the last.
    ///
    /// # Safety
    /// Called once, by the owner thread, which never touches the segment again;
    /// `live` is the owner state's live count and is not zero.
    pub(super) unsafe fn abandon(this: NonNull<Segment>, live: usize) {
        debug_assert!(live > 0);
        // SAFETY: the segment stays allocated at least until the swap below.
        let shared = unsafe { &this.as_ref().shared };
        // Relaxed: the Release swap below publishes it to every thread that sees the mark.
        shared.outstanding.store(live, Ordering::Relaxed);
        // AcqRel: Release publishes `outstanding`; Acquire makes the returned blocks'
        // last uses happen before we count them off.
        let head = shared.remote.swap(ABANDONED, Ordering::AcqRel);
        let (_, returned) = Segment::unpack(this, head);
        // From the swap on, remote frees count off `outstanding` themselves; the blocks
        // that were on the list never will, so we count them off for them. With none
        // there we must not touch the segment again: the freers may release it.
        if returned > 0 && shared.outstanding.fetch_sub(returned, Ordering::AcqRel) == returned {
            // SAFETY: every block is back and counted off; no one else will touch it.
            unsafe { Segment::release(this) };
        }
    }

    /// Whether the owner can hand out a block of this segment without collecting.
    ///
    /// # Safety
    /// As for [`Segment::with_owner`].
    pub(super) unsafe fn has_room(&self) -> bool {
        // SAFETY: the caller is the owner thread.
        unsafe {
            self.with_owner(|state| {
                !state.local_free.is_null() || state.carve_next < self.carve_end
            })
        }
    }

    /// How many blocks sit on the local free list or are not carved yet (for
    /// statistics: walks the list).
    ///
    /// # Safety
    /// As for [`Segment::with_owner`].
    #[cfg(test)]
    pub(super) unsafe fn free_count(&self) -> usize {
        let count = |state: &mut OwnerState| {
            let mut count = (self.carve_end - state.carve_next) / self.block_size;
            let mut next = state.local_free;
            while !next.is_null() {
                count += 1;
                // SAFETY: the local list holds free blocks of this segment, each with
                // its link written when it was pushed.
                next = unsafe { (*next).next };
            }
            count
        };
        // SAFETY: the caller is the owner thread.
        unsafe { self.with_owner(count) }
    }
}
