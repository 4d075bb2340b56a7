//! The per-thread switch between the global allocator and the pool, and the entry
//! points task cells and operation cells allocate through.
//!
//! A runtime under a pooled strategy turns the switch on for each thread while it
//! drives tasks (a worker, or a thread inside `block_on`); the switch is read once per
//! allocation, and the cell remembers which allocator made it (a const parameter of
//! its vtable), so a cell is always freed by the allocator that made it, on whatever
//! thread its last reference goes. An idle pooled thread gives its spare memory back
//! ([`idle_trim`]). Nothing here may call user code.

use std::alloc::{self as global, Layout};
use std::cell::Cell;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use super::{pool, MemoryPlan};

std::thread_local! {
    static POOLED_HERE: Cell<bool> = const { Cell::new(false) };
    /// The pool's count of segments given back when this thread last asked the C heap
    /// to give memory back (`after_trim`).
    static RELEASED_AT_C_TRIM: Cell<u64> = const { Cell::new(0) };
}

/// How long a pooled thread must have slept before it gives back its spare memory:
/// long enough that a worker between two bursts of a busy program keeps its blocks
/// (taking them back from the system costs a map and page faults), short enough that
/// an idle server returns a burst's memory promptly.
pub(crate) const IDLE_TRIM_AFTER: Duration = Duration::from_millis(50);

/// Which allocator a cell comes from, fixed when it is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CellMemory {
    /// The global allocator.
    System,
    /// The calling thread's pool.
    Pool,
}

impl CellMemory {
    /// What a cell made now on this thread uses.
    #[inline]
    pub(crate) fn here() -> CellMemory {
        if POOLED_HERE.try_with(Cell::get).unwrap_or(false) {
            CellMemory::Pool
        } else {
            CellMemory::System
        }
    }
}

/// Keeps the switch as `enter` set it until dropped.
pub(crate) struct MemoryGuard {
    previous: bool,
    pooled: bool,
}

/// The calling thread drives tasks of a runtime with `plan` until the guard drops.
pub(crate) fn enter(plan: MemoryPlan) -> MemoryGuard {
    let pooled = plan.pooled();
    let previous = POOLED_HERE.try_with(|p| p.replace(pooled)).unwrap_or(false);
    MemoryGuard { previous, pooled }
}

impl Drop for MemoryGuard {
    fn drop(&mut self) {
        let _ = POOLED_HERE.try_with(|p| p.set(self.previous));
        if self.pooled && !self.previous {
            // The thread stops driving tasks: what its pool holds free would sit there
            // until it drives tasks again.
            pool::trim();
            after_trim();
        }
    }
}

/// Memory for a `T`, from the pool or the global allocator as `memory` says. Never
/// null: out of memory aborts, as `Box` does.
#[inline]
pub(crate) fn alloc_cell<T>(memory: CellMemory) -> NonNull<T> {
    let layout = Layout::new::<T>();
    debug_assert!(layout.size() > 0, "cells are never zero-sized");
    match memory {
        CellMemory::Pool => pool::alloc(layout).cast(),
        CellMemory::System => {
            // SAFETY: a cell's layout is never zero-sized (asserted above).
            let memory = unsafe { global::alloc(layout) };
            NonNull::new(memory)
                .unwrap_or_else(|| global::handle_alloc_error(layout))
                .cast()
        }
    }
}

/// Frees memory from [`alloc_cell`], on any thread. The value in it must have been
/// dropped or moved out already.
///
/// # Safety
/// `ptr` came from `alloc_cell::<T>(memory)` with this same `memory`, and is not used
/// after this call.
#[inline]
pub(crate) unsafe fn dealloc_cell<T>(ptr: NonNull<T>, memory: CellMemory) {
    let layout = Layout::new::<T>();
    match memory {
        // SAFETY: the caller's promise: `pool::alloc` made it with this layout.
        CellMemory::Pool => unsafe { pool::dealloc(ptr.cast(), layout) },
        // SAFETY: the caller's promise: the global allocator made it with this layout.
        CellMemory::System => unsafe { global::dealloc(ptr.as_ptr().cast(), layout) },
    }
}

/// Drops the value in a cell from [`alloc_cell`] in place, then frees the cell.
///
/// # Safety
/// As for [`dealloc_cell`], except that the value is still in the cell, initialised,
/// and the caller owns it.
#[inline]
pub(crate) unsafe fn drop_cell<T>(ptr: NonNull<T>, memory: CellMemory) {
    // SAFETY: the caller's promise: the value is initialised and ours to drop, and the
    // memory came from `alloc_cell::<T>(memory)`.
    unsafe {
        std::ptr::drop_in_place(ptr.as_ptr());
        dealloc_cell(ptr, memory);
    }
}

/// Sleep through `park` (which takes a limit on how long to sleep), and give the
/// thread's spare pool memory back if it slept for [`IDLE_TRIM_AFTER`]. Without spare
/// memory it sleeps as long as `park` would, so an idle thread is not woken again.
pub(crate) fn idle_trim(park: impl FnOnce(Option<Duration>)) {
    if !POOLED_HERE.try_with(Cell::get).unwrap_or(false) || !pool::has_spare() {
        park(None);
        return;
    }
    let start = Instant::now();
    park(Some(IDLE_TRIM_AFTER));
    if start.elapsed() >= IDLE_TRIM_AFTER {
        pool::trim_spare();
        after_trim();
    }
}

/// After a trim: if the pool has given back a burst's worth of segments since the C
/// heap was last asked (by this trim, or along the way as segments emptied past the
/// high-water mark), the C heap gets the same treatment.
fn after_trim() {
    let released = pool::segments_released();
    let _ = RELEASED_AT_C_TRIM.try_with(|last| {
        if released.saturating_sub(last.get()) >= BURST_SEGMENTS {
            last.set(released);
            release_c_heap();
        }
    });
}

/// Segments given back at once that mark the end of a burst (1 MiB of cells).
const BURST_SEGMENTS: u64 = 16;

/// After a burst, what was freed into the C allocator's heaps (the task registry's
/// slabs, the program's own buffers) stays resident. Ask it to give that back too.
/// glibc only; rare (once per burst, on an idle thread), as it walks every heap of the
/// process. It returns the free pages inside every heap, but shrinks only the main
/// heap's top, never a thread heap's: why the run queues take their memory straight
/// from the kernel instead (`burst_buf.rs`).
fn release_c_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
    // SAFETY: malloc_trim only returns free memory of the C allocator's heaps to the
    // system; it touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}
