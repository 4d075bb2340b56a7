//! The pool allocator behind the `Pooled` memory strategy: small blocks from per-thread
//! pools, freeable from any thread, with no global allocator call in steady state.
//!
//! - [`alloc`] serves a small layout (see `class.rs`) from the calling thread's pool
//!   and anything else from the global allocator; [`dealloc`] tells the two apart by
//!   the layout alone.
//! - A pooled block's segment (`segment.rs`) is found by masking its address; its
//!   header names the owner pool. A free on the owner thread is a local list push; a
//!   free anywhere else is a lock-free push onto the segment's remote list, which the
//!   owner takes back whole, in one swap, when its local lists run dry (the batch).
//! - The pool (`owner.rs`) is bounded: past its high-water mark, a segment with no
//!   block out goes back to the system, and [`trim`] gives back every such
//!   segment at once.
//! - When a thread exits, its pool is dropped: wholly free segments are released and
//!   the others abandoned, to be released by whoever frees their last block.
//!
//! Task cells and operation cells reach it through `memory::thread`, on threads that
//! drive tasks under a pooled strategy. This file holds only the thread-local entry
//! points; it must never hold the allocation logic itself, which lives in `owner.rs`
//! (policy) and `segment.rs` (memory and protocol).

pub(crate) mod class;
mod directory;
mod owner;
mod pages;
mod segment;
mod stats;

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

use std::alloc::{self as global, Layout};
use std::cell::UnsafeCell;
use std::ptr::NonNull;

use owner::Pool;
use segment::Segment;

pub(crate) use directory::{Expander, SHORT_ADDRESS_LIMIT};
pub(crate) use segment::SEGMENT_SIZE;

#[cfg(test)]
pub(crate) use stats::PoolStats;

/// The calling thread's pool, in a cell the thread alone touches.
struct LocalPool(UnsafeCell<Pool>);

std::thread_local! {
    static LOCAL: LocalPool = const { LocalPool(UnsafeCell::new(Pool::new())) };
}

/// Runs `f` on the calling thread's pool, or returns `None` once the thread's
/// thread-locals are being destroyed.
#[inline]
fn with_local<R>(f: impl FnOnce(&mut Pool) -> R) -> Option<R> {
    LOCAL
        .try_with(|local| {
            // SAFETY: the cell belongs to this thread, and nothing the pool calls
            // re-enters `with_local` (it calls only the global allocator, never user
            // code), so this is the only reference for the duration of `f`.
            f(unsafe { &mut *local.0.get() })
        })
        .ok()
}

/// Allocates memory for `layout`: from the calling thread's pool when the layout is
/// small (at most 1 KiB, alignment at most 16), else from the global allocator.
/// Never returns null: out of memory aborts through `handle_alloc_error`, as `Box` does.
/// A zero-sized layout gets a real allocation, so [`dealloc`] needs no special case.
pub(crate) fn alloc(layout: Layout) -> NonNull<u8> {
    match class::class_of(layout) {
        Some(class) => {
            with_local(|pool| pool.alloc(class)).unwrap_or_else(|| alloc_without_local_pool(class))
        }
        None => {
            let layout = global_layout(layout);
            // SAFETY: `global_layout` never has a zero size.
            let memory = unsafe { global::alloc(layout) };
            NonNull::new(memory).unwrap_or_else(|| global::handle_alloc_error(layout))
        }
    }
}

/// Frees memory from [`alloc`], on any thread.
///
/// # Safety
/// `ptr` came from [`alloc`] with this same `layout`, and is not used after this call.
pub(crate) unsafe fn dealloc(ptr: NonNull<u8>, layout: Layout) {
    let Some(class) = class::class_of(layout) else {
        // SAFETY: `alloc` took this from the global allocator with `global_layout`.
        unsafe { global::dealloc(ptr.as_ptr(), global_layout(layout)) };
        return;
    };
    let segment = Segment::of(ptr);
    // SAFETY: the block is out, so its segment is allocated; its header's owner id and
    // class never change.
    let owner = unsafe {
        let header = segment.as_ref();
        debug_assert_eq!(
            header.class(),
            class,
            "freed with another layout than allocated"
        );
        header.owner()
    };
    let freed_locally = with_local(|pool| {
        if pool.id() != owner {
            return false;
        }
        // SAFETY: the block came from this pool (the segment says so) and the caller
        // gives it up.
        unsafe { pool.free_local(segment, ptr) };
        true
    });
    if freed_locally != Some(true) {
        // SAFETY: the block belongs to `segment`, is out, and the caller gives it up.
        unsafe { Segment::free_remote(segment, ptr) };
    }
}

/// A pooled block's address in 32 bits, below [`SHORT_ADDRESS_LIMIT`] (its segment's
/// number and its offset, see `directory.rs`); `None` for a layout the global
/// allocator served, or in the rare case that the directory had no number left.
///
/// # Safety
/// `block` came from [`alloc`] with this same `layout` and is still out.
#[inline]
pub(crate) unsafe fn short_address(block: NonNull<u8>, layout: Layout) -> Option<u32> {
    class::class_of(layout)?;
    Segment::short_address(Segment::of(block), block)
}

/// Turns short addresses back into blocks, holding the directory's lock until dropped.
pub(crate) fn expander() -> Expander {
    Expander::new()
}

/// Gives every wholly free segment of the calling thread's pool back to the global
/// allocator (after taking back the blocks other threads returned); returns how many.
/// Meant for a worker about to sleep.
pub(crate) fn trim() -> usize {
    with_local(Pool::trim).unwrap_or(0)
}

/// As [`trim`], but keeps the segment each class allocates from: what a thread that
/// has been idle a while gives back. Returns how many segments it gave back.
pub(crate) fn trim_spare() -> usize {
    with_local(Pool::trim_spare).unwrap_or(0)
}

/// How many segments the calling thread's pool has given back in its life (past its
/// high-water mark, or by trimming).
pub(crate) fn segments_released() -> u64 {
    with_local(|pool| pool.segments_released()).unwrap_or(0)
}

/// Whether the calling thread's pool holds more than each class's current segment.
pub(crate) fn has_spare() -> bool {
    with_local(|pool| pool.has_spare()).unwrap_or(false)
}

/// The calling thread's pool's figures (for the pool's own tests).
#[cfg(test)]
pub(crate) fn stats() -> PoolStats {
    with_local(|pool| pool.stats()).unwrap_or_default()
}

/// How many segments the whole process holds (every pool's, abandoned ones
/// included): the figure to watch for memory given back after a burst.
pub(crate) fn process_segments() -> usize {
    stats::process_segments()
}

/// Allocation on a thread whose pool is already destroyed (a thread-local destructor
/// that allocates): a pool just for this block, abandoned at once, so the block's
/// segment is released when the block is freed. Costs a whole segment per block, but
/// only in that rare case, and keeps `dealloc` free of any special case.
#[cold]
fn alloc_without_local_pool(class: usize) -> NonNull<u8> {
    let mut pool = Pool::new();
    pool.alloc(class)
}

/// The layout handed to the global allocator, which does not take zero sizes.
fn global_layout(layout: Layout) -> Layout {
    if layout.size() == 0 {
        Layout::from_size_align(1, layout.align()).expect("a size of one fits any alignment")
    } else {
        layout
    }
}
