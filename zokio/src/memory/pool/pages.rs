//! Where segments' memory comes from: anonymous mappings straight from the kernel
//! (`memory/mapping.rs`: `mmap` on Unix, `VirtualAlloc` on Windows).
//!
//! A segment is mapped on its own, not taken from the global allocator, for two
//! reasons: unmapping it gives its pages back to the system at once (a 64 KiB
//! block aligned to 64 KiB from the C allocator cost about 72 KiB of resident memory
//! each and stayed resident in the allocator's heap after being freed), and a pool
//! that fills up calls no global allocator at all. `mapping.rs` says how each system
//! meets the alignment.
//!
//! On a worker of a `NumaAware` runtime a fresh segment is bound to the worker's node
//! (`mbind`, before anything touches it), so that its pages land there even if the
//! kernel would place a first touch elsewhere.
//!
//! Under Miri and loom, which model the global allocator but not partial unmapping,
//! segments come from the global allocator. This file must never know about blocks,
//! classes or owners.

use std::alloc::Layout;
use std::ptr::NonNull;

use super::segment::SEGMENT_SIZE;

/// A segment's size and alignment, for the global allocator and for out-of-memory
/// reports.
pub(super) const SEGMENT_LAYOUT: Layout = match Layout::from_size_align(SEGMENT_SIZE, SEGMENT_SIZE)
{
    Ok(layout) => layout,
    Err(_) => panic!("the segment size is a power of two"),
};

/// Fresh, zeroed or not, `SEGMENT_SIZE` bytes aligned to `SEGMENT_SIZE`. Aborts
/// through `handle_alloc_error` if the system has no memory for it, as `Box` does.
#[cfg(not(any(miri, loom)))]
pub(super) fn map_segment() -> NonNull<u8> {
    let segment = crate::memory::mapping::map(SEGMENT_SIZE, SEGMENT_SIZE)
        .unwrap_or_else(|| std::alloc::handle_alloc_error(SEGMENT_LAYOUT));
    if let Some(node) = crate::memory::numa::current_node() {
        // SAFETY: the segment is our own fresh mapping, aligned to SEGMENT_SIZE (a
        // multiple of the page size), and nothing has touched it yet.
        unsafe { crate::memory::numa::bind_segment(segment.as_ptr(), SEGMENT_SIZE, node) };
    }
    segment
}

/// Gives a segment's memory back to the system.
///
/// # Safety
/// `segment` came from [`map_segment`] and nothing touches it afterwards.
#[cfg(not(any(miri, loom)))]
pub(super) unsafe fn unmap_segment(segment: NonNull<u8>) {
    // SAFETY: the caller's promise: this is exactly one mapped, aligned segment.
    unsafe { crate::memory::mapping::unmap(segment, SEGMENT_SIZE) };
}

#[cfg(any(miri, loom))]
pub(super) fn map_segment() -> NonNull<u8> {
    // SAFETY: the layout has a non-zero size.
    let memory = unsafe { std::alloc::alloc(SEGMENT_LAYOUT) };
    NonNull::new(memory).unwrap_or_else(|| std::alloc::handle_alloc_error(SEGMENT_LAYOUT))
}

/// # Safety
/// As above.
#[cfg(any(miri, loom))]
pub(super) unsafe fn unmap_segment(segment: NonNull<u8>) {
    // SAFETY: `map_segment` allocated this pointer with SEGMENT_LAYOUT.
    unsafe { std::alloc::dealloc(segment.as_ptr(), SEGMENT_LAYOUT) };
}
