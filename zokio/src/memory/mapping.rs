//! Anonymous memory straight from the system, for the pools' segments and the run
//! queues' buffers: one tiny interface (`map`, `unmap`), with a Unix half (`mmap`,
//! `munmap`) and a Windows half (`VirtualAlloc`, `VirtualFree`).
//!
//! What both halves promise: the memory is readable, writable, zeroed, aligned to at
//! least a page (and to `align` when asked), and `unmap` gives all of it back to the
//! system at once. They differ in how alignment past a page is met: Unix maps
//! `len + align` and unmaps the unaligned ends; Windows cannot release part of a
//! reservation, so it reserves `len + align`, commits only the aligned part, and
//! `unmap` releases the whole reservation, which it finds again from the address.
//! Windows reservations are already aligned to its allocation granularity (64 KiB),
//! so for the segments (64 KiB) the first try is aligned and nothing is wasted; a
//! smaller mapping (a run queue's buffer) still reserves 64 KiB of address space
//! there, though only its own pages are committed.
//!
//! This file hands out memory only: it never decides what lives in it, nor when.

use std::ptr::NonNull;

/// `len` bytes (a multiple of the page size) aligned to `align` (a power of two),
/// or `None` when the system has no memory for them.
pub(crate) fn map(len: usize, align: usize) -> Option<NonNull<u8>> {
    debug_assert!(align.is_power_of_two());
    sys::map(len, align)
}

/// Gives back what [`map`] handed out.
///
/// # Safety
/// `memory` came from [`map`] with this `len`, and nothing touches it afterwards.
pub(crate) unsafe fn unmap(memory: NonNull<u8>, len: usize) {
    // SAFETY: the caller's promise, passed on.
    unsafe { sys::unmap(memory, len) }
}

#[cfg(unix)]
mod sys {
    use std::ptr::NonNull;

    /// The system's page size, below which any alignment comes for free.
    const PAGE: usize = 4096;

    pub(super) fn map(len: usize, align: usize) -> Option<NonNull<u8>> {
        let extra = if align > PAGE { align } else { 0 };
        let span = len.checked_add(extra)?;
        // SAFETY: an anonymous private mapping at an address of the kernel's choosing
        // touches no existing memory.
        let raw = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                span,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            return None;
        }
        let start = raw as usize;
        let aligned = start.next_multiple_of(align.max(PAGE));
        let head = aligned - start;
        let tail = span - head - len;
        // SAFETY: both ranges lie inside the mapping just made and outside the aligned
        // part kept; nothing else refers to them. A failure would only leave them
        // mapped (a leak of address space, not a fault), so the results are not checked.
        unsafe {
            if head > 0 {
                libc::munmap(raw, head);
            }
            if tail > 0 {
                libc::munmap((aligned + len) as *mut libc::c_void, tail);
            }
        }
        NonNull::new(aligned as *mut u8)
    }

    /// # Safety
    /// As [`super::unmap`].
    pub(super) unsafe fn unmap(memory: NonNull<u8>, len: usize) {
        // SAFETY: the caller's promise: exactly what `map` kept of one mapping.
        let result = unsafe { libc::munmap(memory.as_ptr().cast(), len) };
        debug_assert_eq!(result, 0, "unmapping memory of ours failed");
    }
}

#[cfg(windows)]
mod sys {
    use std::ffi::c_void;
    use std::ptr::NonNull;

    use windows_sys::Win32::System::Memory::{
        VirtualAlloc, VirtualFree, VirtualQuery, MEMORY_BASIC_INFORMATION, MEM_COMMIT, MEM_RELEASE,
        MEM_RESERVE, PAGE_READWRITE,
    };

    pub(super) fn map(len: usize, align: usize) -> Option<NonNull<u8>> {
        // SAFETY: reserving and committing at an address of the system's choosing
        // touches no existing memory.
        let raw = unsafe {
            VirtualAlloc(
                std::ptr::null(),
                len,
                MEM_RESERVE | MEM_COMMIT,
                PAGE_READWRITE,
            )
        };
        let raw = NonNull::new(raw.cast::<u8>())?;
        if raw.as_ptr() as usize & (align - 1) == 0 {
            return Some(raw);
        }
        // SAFETY: `raw` is the base of the reservation just made, used by nothing yet.
        unsafe { release(raw.as_ptr().cast()) };
        map_over_aligned(len, align)
    }

    /// Past the allocation granularity: reserve room for any start, commit only the
    /// aligned part; the unaligned ends stay reserved (address space, not memory)
    /// until `unmap` releases the whole reservation.
    fn map_over_aligned(len: usize, align: usize) -> Option<NonNull<u8>> {
        let span = len.checked_add(align)?;
        // SAFETY: a reservation at an address of the system's choosing touches no
        // existing memory.
        let base = unsafe { VirtualAlloc(std::ptr::null(), span, MEM_RESERVE, PAGE_READWRITE) };
        if base.is_null() {
            return None;
        }
        let aligned = (base as usize).next_multiple_of(align);
        // SAFETY: `aligned..aligned + len` lies inside the reservation just made.
        let committed =
            unsafe { VirtualAlloc(aligned as *const c_void, len, MEM_COMMIT, PAGE_READWRITE) };
        if committed.is_null() {
            // SAFETY: `base` is the reservation just made, used by nothing.
            unsafe { release(base) };
            return None;
        }
        NonNull::new(committed.cast())
    }

    /// # Safety
    /// As [`super::unmap`].
    pub(super) unsafe fn unmap(memory: NonNull<u8>, _len: usize) {
        // SAFETY: zeroed bytes are a valid MEMORY_BASIC_INFORMATION (pointers and
        // integers), which VirtualQuery overwrites.
        let mut info: MEMORY_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is writable and its size is the length passed; querying an
        // address of ours reads nothing of it.
        let filled = unsafe {
            VirtualQuery(
                memory.as_ptr().cast(),
                &mut info,
                std::mem::size_of::<MEMORY_BASIC_INFORMATION>(),
            )
        };
        debug_assert_ne!(filled, 0, "querying memory of ours failed");
        let base = if filled == 0 {
            memory.as_ptr().cast()
        } else {
            info.AllocationBase
        };
        // SAFETY: the caller's promise: the reservation holding `memory` is one `map`
        // made for it alone, and nothing touches any of it any more.
        unsafe { release(base) };
    }

    /// Releases a whole reservation.
    ///
    /// # Safety
    /// `base` is the base of a reservation of ours that nothing uses any more.
    unsafe fn release(base: *mut c_void) {
        // SAFETY: the caller's promise; MEM_RELEASE takes the base and a size of 0.
        let released = unsafe { VirtualFree(base, 0, MEM_RELEASE) };
        debug_assert_ne!(released, 0, "releasing memory of ours failed");
    }
}
