//! Storage for the runtime's structures whose size follows the load (the run queues):
//! room for `capacity` values, uninitialised, taken straight from the kernel once it
//! is a page or more, so that the peak of a burst goes back to the system the moment
//! the structure shrinks.
//!
//! Why not the global allocator: with glibc, a burst's growing buffers land in the C
//! heap of whichever thread grew them (one heap per thread that allocates under
//! contention), and those heaps keep what was freed resident. glibc gives back the
//! free pages inside a heap on `malloc_trim`, but never the top of a thread's heap
//! (`malloc_trim` only shrinks the main heap's top; a thread heap's top shrinks on
//! `free` alone, and only past a threshold that glibc raises to twice the largest
//! mapped block freed so far). A million-task burst left up to about 550 KiB resident
//! in one thread heap that way, some 14% of a small runtime's resident memory. A
//! mapping has no such afterlife: unmapping it returns its pages at once, whatever
//! the allocator's state.
//!
//! Mapped from one page up, not from glibc's own 128 KiB: buffers of 4 to 64 KiB
//! growing side by side (a queue doubling, a slab per shard) grow a thread heap just
//! as much. Below a page the global allocator serves (a runtime's queues start at
//! 2 KiB; a mapping would round each up to a page). Under Miri and loom, which model the global
//! allocator but not mappings, everything comes from the global allocator.
//!
//! This file holds memory only: it never reads, writes or drops a value, and never
//! decides when a structure grows or shrinks.

use std::alloc::{self as global, Layout};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// From this many bytes a buffer is mapped rather than allocated.
const MAP_FROM_BYTES: usize = 4096;

/// Room for `capacity()` values of `T`, none of them initialised as far as this type
/// knows: its owner tracks which slots hold values and drops them before the buffer.
pub(crate) struct BurstBuf<T> {
    ptr: NonNull<T>,
    capacity: usize,
    _values: PhantomData<T>,
}

// SAFETY: the buffer is plain memory owned by this value; sending or sharing it is
// sending or sharing the `T`s its owner keeps there.
unsafe impl<T: Send> Send for BurstBuf<T> {}
// SAFETY: as above; `&BurstBuf` gives out only a raw pointer.
unsafe impl<T: Sync> Sync for BurstBuf<T> {}

impl<T> BurstBuf<T> {
    /// Room for `capacity` values (at least one). Aborts through `handle_alloc_error`
    /// when the system has no memory left, as `Vec` does; panics if the size overflows.
    pub(crate) fn new(capacity: usize) -> BurstBuf<T> {
        const {
            assert!(
                size_of::<T>() > 0,
                "no buffer is needed for zero-sized values"
            )
        };
        let capacity = capacity.max(1);
        let layout = Layout::array::<T>(capacity).expect("a run queue's size overflowed");
        let ptr = if maps(layout) {
            map(layout)
        } else {
            // SAFETY: the layout's size is not zero (a non-zero-sized T, capacity >= 1).
            let memory = unsafe { global::alloc(layout) };
            NonNull::new(memory).unwrap_or_else(|| global::handle_alloc_error(layout))
        };
        BurstBuf {
            ptr: ptr.cast(),
            capacity,
            _values: PhantomData,
        }
    }

    /// How many values fit.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The first slot; slot `i` is `as_ptr().add(i)` for `i < capacity()`.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }

    fn layout(&self) -> Layout {
        Layout::array::<T>(self.capacity).expect("checked when the buffer was made")
    }
}

impl<T> Drop for BurstBuf<T> {
    /// Frees the memory; the values in it, if any, are the owner's to drop first.
    fn drop(&mut self) {
        let layout = self.layout();
        if maps(layout) {
            // SAFETY: `new` mapped this memory with this same layout (the choice is a
            // function of the layout alone), and the buffer is going away.
            unsafe { unmap(self.ptr.cast(), layout) };
        } else {
            // SAFETY: `new` took this memory from the global allocator with this layout.
            unsafe { global::dealloc(self.ptr.as_ptr().cast(), layout) };
        }
    }
}

/// Whether a buffer of this layout is mapped. A mapping is page-aligned, so any
/// alignment up to a page is met.
fn maps(layout: Layout) -> bool {
    cfg!(not(any(miri, loom))) && layout.size() >= MAP_FROM_BYTES && layout.align() <= 4096
}

/// What a mapping of `layout` takes: whole pages.
#[cfg(not(any(miri, loom)))]
fn mapped_len(layout: Layout) -> usize {
    layout.size().next_multiple_of(4096)
}

#[cfg(not(any(miri, loom)))]
fn map(layout: Layout) -> NonNull<u8> {
    super::mapping::map(mapped_len(layout), layout.align())
        .unwrap_or_else(|| global::handle_alloc_error(layout))
}

/// # Safety
/// `memory` came from [`map`] with this `layout`, and nothing touches it afterwards.
#[cfg(not(any(miri, loom)))]
unsafe fn unmap(memory: NonNull<u8>, layout: Layout) {
    // SAFETY: the caller's promise: this is exactly one whole mapping of ours, of
    // the length `map` asked for.
    unsafe { super::mapping::unmap(memory, mapped_len(layout)) };
}

#[cfg(any(miri, loom))]
fn map(_layout: Layout) -> NonNull<u8> {
    unreachable!("`maps` is false under Miri and loom")
}

/// # Safety
/// Never called: `maps` is false under Miri and loom.
#[cfg(any(miri, loom))]
unsafe fn unmap(_memory: NonNull<u8>, _layout: Layout) {
    unreachable!("`maps` is false under Miri and loom")
}
