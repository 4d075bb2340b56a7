//! The heap cell of one in-flight operation: what the kernel may still touch (the
//! buffer, the iovecs, the timespec) plus the word that says who still owns it. The
//! cell comes from the global allocator or the submitting thread's pool
//! (`crate::memory`), and remembers which.
//!
//! Two owners share a cell: the `Op` future and the driver that submitted it. The
//! driver sets COMPLETE when the kernel is done with the operation, and that is its
//! last touch of the cell: it claims the waker first (WAKING), then publishes the
//! result with COMPLETE, and wakes the task from its own copy of the waker. A future
//! that sees COMPLETE owns the cell alone and frees it without another atomic step. A
//! future dropped before COMPLETE sets DROPPED, and the driver drops everything when
//! the completion arrives, so the kernel never writes into freed memory. This file
//! must not know which driver is used.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

use crate::loom::sync::atomic::{AtomicU8, Ordering::AcqRel, Ordering::Acquire};
use crate::loom::UnsafeCell;
use std::task::Waker;

use super::OpKind;
use crate::memory::{alloc_cell, drop_cell, CellMemory};

const COMPLETE: u8 = 1;
const DROPPED: u8 = 2;
/// The driver is completing the cell and has claimed the waker (unless a registration
/// was in progress, which then sees this bit and wakes its own task).
const WAKING: u8 = 4;
/// A cancel for this cell waits in the driver's request queue: the cell must outlive
/// it, or the cancel could hit a new operation that reused the address.
const CANCEL_QUEUED: u8 = 16;
/// The future is replacing the waker: the driver must not touch it meanwhile.
const REGISTERING: u8 = 32;

/// The type-erased part of a cell, which drivers hold as `NonNull<OpHeader>`.
#[repr(C)]
pub(crate) struct OpHeader {
    /// Windows: the `OVERLAPPED` an IOCP operation is started with, first in the cell,
    /// so that the pointer a completion packet carries back is the header's own. The
    /// system writes it while the operation runs; only the driver hands it out.
    #[cfg(windows)]
    overlapped: std::cell::UnsafeCell<windows_sys::Win32::System::IO::OVERLAPPED>,
    state: AtomicU8,
    /// The allocator the cell came from, which takes it back.
    memory: CellMemory,
    /// The kernel's result (`-errno` on failure), written before COMPLETE is set.
    result: UnsafeCell<i32>,
    /// Written by the future before submission, or under REGISTERING before WAKING;
    /// taken by the driver once it set WAKING while REGISTERING was clear.
    waker: UnsafeCell<Option<Waker>>,
    /// The submitting driver's bookkeeping slot; only that driver's thread touches it.
    pub(crate) slot: Cell<u32>,
    vtable: &'static Vtable,
}

struct Vtable {
    drop_all: unsafe fn(NonNull<OpHeader>),
    #[cfg(target_os = "linux")]
    uring_entry: unsafe fn(NonNull<OpHeader>) -> io_uring::squeue::Entry,
    readiness_wait: unsafe fn(NonNull<OpHeader>) -> super::ReadinessWait,
    #[cfg(windows)]
    iocp_start: unsafe fn(NonNull<OpHeader>) -> super::IocpStart,
    #[cfg(windows)]
    iocp_handle: unsafe fn(NonNull<OpHeader>) -> Option<super::RawIocpHandle>,
    #[cfg(windows)]
    iocp_result: unsafe fn(NonNull<OpHeader>) -> i32,
}

// SAFETY: the header is shared between the future's thread and the driver's thread.
// `state` is atomic; `result` is written only by the driver before the Release of
// COMPLETE and read only after an Acquire of it; `waker` is handed between the two
// sides by the REGISTERING and WAKING bits (see `register` and `complete`); `slot` is
// touched only by the submitting driver's thread, and `overlapped` only by that driver
// and the system, between the start of an operation and its completion packet. The
// data behind the header is `Send` (`OpKind: Send`).
unsafe impl Send for OpHeader {}
// SAFETY: as above.
unsafe impl Sync for OpHeader {}

#[repr(C)]
struct OpCell<K> {
    header: OpHeader,
    /// Moved out by the future after completion, so never dropped by the box itself.
    kind: UnsafeCell<ManuallyDrop<K>>,
}

/// What the future's side of a cell holds.
pub(crate) struct OwnedCell<K: OpKind> {
    ptr: NonNull<OpCell<K>>,
}

// SAFETY: the cell holds a `K: Send`; the header protocol above makes the sharing sound.
unsafe impl<K: OpKind> Send for OwnedCell<K> {}

impl<K: OpKind> OwnedCell<K> {
    /// A cell for `kind`, to be woken through `waker` when it completes.
    pub(crate) fn new(kind: K, waker: Waker) -> OwnedCell<K> {
        OwnedCell::with_waker(kind, Some(waker))
    }

    /// A cell nobody is woken for yet: its future looks at it first and registers
    /// a waker only if it is not complete (a completion before that wakes nobody,
    /// as when the driver has already taken a waker).
    pub(crate) fn unwatched(kind: K) -> OwnedCell<K> {
        OwnedCell::with_waker(kind, None)
    }

    fn with_waker(kind: K, waker: Option<Waker>) -> OwnedCell<K> {
        let memory = CellMemory::here();
        let ptr = alloc_cell::<OpCell<K>>(memory);
        let cell = OpCell {
            header: OpHeader {
                // SAFETY: `OVERLAPPED` is plain data, for which all zeroes is the
                // documented starting state.
                #[cfg(windows)]
                overlapped: std::cell::UnsafeCell::new(unsafe { std::mem::zeroed() }),
                state: AtomicU8::new(0),
                memory,
                result: UnsafeCell::new(0),
                waker: UnsafeCell::new(waker),
                slot: Cell::new(u32::MAX),
                vtable: &Vtable {
                    drop_all: drop_all::<K>,
                    #[cfg(target_os = "linux")]
                    uring_entry: uring_entry_of::<K>,
                    readiness_wait: readiness_wait_of::<K>,
                    #[cfg(windows)]
                    iocp_start: iocp_start_of::<K>,
                    #[cfg(windows)]
                    iocp_handle: iocp_handle_of::<K>,
                    #[cfg(windows)]
                    iocp_result: iocp_result_of::<K>,
                },
            },
            kind: UnsafeCell::new(ManuallyDrop::new(kind)),
        };
        // SAFETY: `ptr` is fresh memory laid out for an `OpCell<K>`.
        unsafe { ptr.as_ptr().write(cell) };
        OwnedCell { ptr }
    }

    pub(crate) fn header(&self) -> NonNull<OpHeader> {
        self.ptr.cast()
    }

    /// The operation's data back from a cell that never reached a driver.
    pub(crate) fn into_kind(self) -> K {
        let ptr = self.ptr;
        std::mem::forget(self);
        // SAFETY: never submitted, so the cell is ours alone: move the data out, then
        // free the cell (the `ManuallyDrop` keeps it from dropping the data again).
        unsafe {
            let kind = (*ptr.as_ptr())
                .kind
                .with_mut(|kind| ManuallyDrop::take(&mut *kind));
            free_cell(ptr);
            kind
        }
    }

    /// Replace the waker of an operation in flight. Returns false if the operation
    /// completed, or is completing (then the task is woken again at once, so that it
    /// polls once more and finds the result): either way the caller looks again.
    pub(crate) fn register(&self, waker: &Waker) -> bool {
        // SAFETY: the cell lives while we own it.
        let header = unsafe { &self.ptr.as_ref().header };
        let prev = header.state.fetch_or(REGISTERING, AcqRel);
        if prev & (COMPLETE | WAKING) != 0 {
            header.state.fetch_and(!REGISTERING, AcqRel);
            if prev & COMPLETE == 0 {
                waker.wake_by_ref();
            }
            return false;
        }
        // SAFETY: REGISTERING is ours and the driver has not claimed the waker, so it
        // will not touch it until we clear the bit; nobody else has the cell.
        header.waker.with_mut(|slot| {
            // SAFETY: as above: the slot is ours while REGISTERING is held.
            let slot = unsafe { &mut *slot };
            if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
                *slot = Some(waker.clone());
            }
        });
        let prev = header.state.fetch_and(!REGISTERING, AcqRel);
        if prev & WAKING != 0 {
            // The driver saw us registering and left the waker alone: it wakes nobody,
            // so we do.
            if prev & COMPLETE == 0 {
                waker.wake_by_ref();
            }
            return false;
        }
        true
    }

    /// The result once the driver is done with the cell; the cell back while in flight.
    pub(crate) fn try_take(self) -> Result<(K, i32), OwnedCell<K>> {
        // SAFETY: the cell lives while we own it.
        let header = unsafe { &self.ptr.as_ref().header };
        if header.state.load(Acquire) & COMPLETE == 0 {
            return Err(self);
        }
        let ptr = self.ptr;
        std::mem::forget(self);
        // SAFETY: COMPLETE was read with Acquire, so the driver's write of `result` is
        // visible and it never touches the cell again: it is ours alone. The data is
        // moved out once; the `ManuallyDrop` keeps the cell from dropping it again.
        unsafe {
            let cell = &*ptr.as_ptr();
            let kind = cell.kind.with_mut(|kind| ManuallyDrop::take(&mut *kind));
            let result = cell.header.result.with(|result| *result);
            free_cell(ptr);
            Ok((kind, result))
        }
    }

    /// Give up the cell while the driver may still own it. Returns true if the driver
    /// still holds it (it then needs a cancel and frees the cell on completion), false
    /// if the operation had already completed (everything is dropped here).
    ///
    /// `queue_cancel`: the cancel will travel through the driver's request queue, so
    /// the driver keeps the cell until it has handled that request.
    pub(crate) fn abandon(self, queue_cancel: bool) -> bool {
        let ptr = self.ptr;
        std::mem::forget(self);
        let bits = if queue_cancel {
            DROPPED | CANCEL_QUEUED
        } else {
            DROPPED
        };
        // SAFETY: we own the cell until our bit is set.
        let prev = unsafe { ptr.as_ref() }.header.state.fetch_or(bits, AcqRel);
        if prev & COMPLETE == 0 {
            return true;
        }
        // SAFETY: complete before we gave up: the driver is done with the cell and we
        // are its last owner.
        unsafe { drop_all::<K>(ptr.cast()) };
        false
    }
}

impl<K: OpKind> Drop for OwnedCell<K> {
    /// Dropping an `OwnedCell` that was never submitted frees it at once.
    fn drop(&mut self) {
        // SAFETY: an `OwnedCell` that reaches `Drop` was never handed to a driver
        // (submitted cells leave through `try_take` or `abandon`), so it is ours alone.
        unsafe { drop_all::<K>(self.ptr.cast()) };
    }
}

/// The driver's side: the kernel (or readiness) finished with `header`.
///
/// # Safety
/// `header` was submitted to the calling driver and is completed exactly once.
pub(crate) unsafe fn complete(header: NonNull<OpHeader>, result: i32) {
    // SAFETY: the driver still owns the cell (caller's contract) until COMPLETE.
    let h = unsafe { header.as_ref() };
    let prev = h.state.fetch_or(WAKING, AcqRel);
    let waker = if prev & (REGISTERING | DROPPED) == 0 {
        // SAFETY: WAKING is set with REGISTERING clear: the future will not write the
        // waker again (it sees WAKING first), so it is ours to take.
        h.waker.with_mut(|slot| unsafe { (*slot).take() })
    } else {
        None
    };
    // SAFETY: until COMPLETE is set, only the driver touches `result`.
    h.result.with_mut(|slot| unsafe { *slot = result });
    // Our last touch of the cell: from here on the future may free it.
    let prev = h.state.fetch_or(COMPLETE, AcqRel);
    if prev & DROPPED != 0 {
        if prev & CANCEL_QUEUED == 0 {
            // SAFETY: the future is gone and will not look again; we are the last owner.
            unsafe { (h.vtable.drop_all)(header) };
        }
        // Otherwise the queued cancel frees it when the driver reaches it.
        return;
    }
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// The driver reached a queued cancel for `header`. Returns true if the operation is
/// still in flight (the caller cancels it; the completion then frees the cell), false
/// if it had completed meanwhile (the cell is freed here).
///
/// # Safety
/// Called on the driver's own thread, once per queued cancel; completions of this
/// driver run on the same thread, so they cannot race with this.
pub(crate) unsafe fn take_cancel_request(header: NonNull<OpHeader>) -> bool {
    // SAFETY: CANCEL_QUEUED keeps the cell alive until this call.
    let h = unsafe { header.as_ref() };
    let prev = h.state.fetch_and(!CANCEL_QUEUED, AcqRel);
    if prev & COMPLETE != 0 {
        // SAFETY: completed and abandoned: we are the last owner.
        unsafe { (h.vtable.drop_all)(header) };
        return false;
    }
    true
}

/// # Safety
/// `header` is owned by the calling driver and not yet complete.
#[cfg(target_os = "linux")]
pub(crate) unsafe fn uring_entry(header: NonNull<OpHeader>) -> io_uring::squeue::Entry {
    // SAFETY: caller's contract.
    unsafe { (header.as_ref().vtable.uring_entry)(header) }
}

/// # Safety
/// As for `uring_entry`.
pub(crate) unsafe fn readiness_wait(header: NonNull<OpHeader>) -> super::ReadinessWait {
    // SAFETY: caller's contract.
    unsafe { (header.as_ref().vtable.readiness_wait)(header) }
}

/// Start the operation of `header` on IOCP, with the cell's own `OVERLAPPED`.
///
/// # Safety
/// As for `uring_entry`; called once per submission.
#[cfg(windows)]
pub(crate) unsafe fn iocp_start(header: NonNull<OpHeader>) -> super::IocpStart {
    // SAFETY: caller's contract.
    unsafe { (header.as_ref().vtable.iocp_start)(header) }
}

/// The handle an IOCP operation of `header` runs on (what `CancelIoEx` needs).
///
/// # Safety
/// As for `uring_entry`.
#[cfg(windows)]
pub(crate) unsafe fn iocp_handle(header: NonNull<OpHeader>) -> Option<super::RawIocpHandle> {
    // SAFETY: caller's contract.
    unsafe { (header.as_ref().vtable.iocp_handle)(header) }
}

/// The result of the finished IOCP operation of `header`: its count or `-error`.
///
/// # Safety
/// As for `uring_entry`; called once its completion packet arrived.
#[cfg(windows)]
pub(crate) unsafe fn iocp_result(header: NonNull<OpHeader>) -> i32 {
    // SAFETY: caller's contract.
    unsafe { (header.as_ref().vtable.iocp_result)(header) }
}

/// The `OVERLAPPED` of `header`: the same address, since it is the header's first field.
#[cfg(windows)]
pub(crate) fn overlapped_of(
    header: NonNull<OpHeader>,
) -> *mut windows_sys::Win32::System::IO::OVERLAPPED {
    header.as_ptr().cast()
}

unsafe fn drop_all<K: OpKind>(header: NonNull<OpHeader>) {
    let cell = header.cast::<OpCell<K>>().as_ptr();
    // SAFETY: the header is the first field of a `#[repr(C)] OpCell<K>` made by `new`;
    // the caller is the last owner and the data was never moved out. A completed
    // cell's result was written before COMPLETE, which the caller has seen.
    unsafe {
        let header = &(*cell).header;
        if header.state.load(Acquire) & COMPLETE != 0 {
            let result = header.result.with(|result| *result);
            (*cell).kind.with_mut(|kind| (*kind).abandoned(result));
        }
        (*cell).kind.with_mut(|kind| ManuallyDrop::drop(&mut *kind));
        free_cell(NonNull::new_unchecked(cell));
    }
}

/// Drops what is left of a cell (its header: the waker, if any) and gives its memory
/// back to the allocator that made it.
///
/// # Safety
/// The caller is the cell's last owner, its data was moved out or dropped, and the
/// cell is not touched afterwards.
unsafe fn free_cell<K>(cell: NonNull<OpCell<K>>) {
    // SAFETY: the caller's promise. Only the header needs dropping (`kind` is a
    // `ManuallyDrop`); `memory` is read before the memory goes.
    unsafe {
        let memory = (*cell.as_ptr()).header.memory;
        drop_cell(cell, memory);
    }
}

#[cfg(target_os = "linux")]
unsafe fn uring_entry_of<K: OpKind>(header: NonNull<OpHeader>) -> io_uring::squeue::Entry {
    let cell = header.cast::<OpCell<K>>();
    // SAFETY: the driver owns the cell while it prepares the entry; the future does not
    // touch `kind` until COMPLETE. The entry's pointers point into the heap cell,
    // which stays put until the driver frees it after the completion.
    unsafe {
        (*cell.as_ptr())
            .kind
            .with_mut(|kind| (**kind).uring_entry())
    }
}

unsafe fn readiness_wait_of<K: OpKind>(header: NonNull<OpHeader>) -> super::ReadinessWait {
    let cell = header.cast::<OpCell<K>>();
    // SAFETY: as in `uring_entry`; this only reads plain values (fd, interest).
    unsafe { (*cell.as_ptr()).kind.with(|kind| (**kind).readiness_wait()) }
}

#[cfg(windows)]
unsafe fn iocp_start_of<K: OpKind>(header: NonNull<OpHeader>) -> super::IocpStart {
    let cell = header.cast::<OpCell<K>>();
    let overlapped = overlapped_of(header);
    // SAFETY: as in `uring_entry`. The `OVERLAPPED` is reset for each start (a cell
    // is started once per submission) and stays put in the heap cell until the
    // completion packet, as the system requires.
    unsafe {
        overlapped.write(std::mem::zeroed());
        (*cell.as_ptr())
            .kind
            .with_mut(|kind| (**kind).iocp_start(overlapped))
    }
}

#[cfg(windows)]
unsafe fn iocp_handle_of<K: OpKind>(header: NonNull<OpHeader>) -> Option<super::RawIocpHandle> {
    let cell = header.cast::<OpCell<K>>();
    // SAFETY: as in `readiness_wait_of`: a plain value is read.
    unsafe { (*cell.as_ptr()).kind.with(|kind| (**kind).iocp_handle()) }
}

#[cfg(windows)]
unsafe fn iocp_result_of<K: OpKind>(header: NonNull<OpHeader>) -> i32 {
    let cell = header.cast::<OpCell<K>>();
    let overlapped = overlapped_of(header);
    // SAFETY: as in `readiness_wait_of`; the operation is over, so the system no
    // longer writes the cell.
    unsafe {
        (*cell.as_ptr())
            .kind
            .with(|kind| (**kind).iocp_result(overlapped))
    }
}
