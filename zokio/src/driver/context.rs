//! Which driver an operation or timer on this thread goes to.
//!
//! A worker thread (or the thread holding a current-thread runtime's core) has its
//! `LocalDriver` in a thread-local while it runs tasks: operations are submitted to it
//! directly. Any other thread inside a runtime (a `block_on` caller of a multi-thread
//! runtime, a blocking-pool thread) hands them to one of the runtime's drivers through
//! its request queue. Outside every runtime an operation fails with an error that says
//! so. Nothing here may block.

use std::cell::Cell;
use std::io;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use super::local::LocalDriver;
use super::op::cell::{OpHeader, OwnedCell};
use super::op::OpKind;
use super::shared::{DriverShared, Request};
use super::DriverKind;
use crate::time::driver::TimeDriver;

thread_local! {
    static CURRENT: Cell<*const LocalDriver> = const { Cell::new(ptr::null()) };
}

/// Makes a driver this thread's own until dropped.
pub(crate) struct EnterGuard {
    previous: *const LocalDriver,
}

/// # Safety
/// `driver` must outlive the returned guard, and the guard must be dropped on this
/// thread before `driver` is moved or dropped.
pub(crate) unsafe fn enter(driver: &LocalDriver) -> EnterGuard {
    let previous = CURRENT.with(|c| c.replace(driver));
    EnterGuard { previous }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.previous));
    }
}

/// This thread stops submitting to its own driver, for good: a worker that handed
/// its driver to another thread (`block_in_place`). Its operations then go through
/// the runtime's request queues, as any other thread's; the `EnterGuard` it still
/// holds restores the previous value when the worker's loop ends.
pub(crate) fn leave() {
    let _ = CURRENT.try_with(|c| c.set(ptr::null()));
}

fn with_local<R>(f: impl FnOnce(&LocalDriver) -> R) -> Option<R> {
    let ptr = CURRENT.try_with(|c| c.get()).ok()?;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: CURRENT points at a live driver while its `EnterGuard` lives (`enter`'s
    // contract), and only this thread reads it.
    Some(f(unsafe { &*ptr }))
}

fn no_runtime() -> io::Error {
    io::Error::other(
        "no Zokio runtime on this thread: I/O operations must run inside a task or \
         `Runtime::block_on` (or, for a multi-thread runtime, after `Runtime::enter()`; a \
         current-thread runtime only runs I/O inside its own `block_on`)",
    )
}

fn shutting_down() -> io::Error {
    io::Error::other(
        "the Zokio runtime is shutting down: its I/O driver no longer accepts operations",
    )
}

/// Whether a socket's poll-based reads on this thread should read ahead into a
/// buffer of the socket's own: on the completion drivers (io_uring, IOCP), where a
/// receive waits in the kernel and costs no readiness round trip. False outside a
/// runtime: callers then take their portable path, which reports the error.
pub(crate) fn reads_ahead() -> bool {
    #[cfg(windows)]
    return current_kind().is_ok();
    #[cfg(unix)]
    on_ring()
}

/// Whether operations from this thread go to an io_uring ring (false outside a
/// runtime: callers then take their portable path, which reports the error).
#[cfg(unix)]
pub(crate) fn on_ring() -> bool {
    #[cfg(target_os = "linux")]
    return matches!(current_kind(), Ok(DriverKind::IoUring));
    #[cfg(not(target_os = "linux"))]
    false
}

/// The driver kind operations on this thread are served by. A runtime that shut
/// down refuses new operations whichever driver it had (on epoll some would otherwise
/// run as plain system calls, where io_uring has no ring left to take them).
pub(crate) fn current_kind() -> io::Result<DriverKind> {
    if let Some(kind) = with_local(|d| d.kind()) {
        return Ok(kind);
    }
    match crate::runtime::context::with_current(|h| (h.drivers.kind, h.drivers.is_shut_down())) {
        Ok((_, true)) => Err(shutting_down()),
        Ok((kind, false)) => Ok(kind),
        Err(_) => Err(no_runtime()),
    }
}

/// Hand a fresh cell to a driver; returns the driver that now co-owns it. On error the
/// cell was not handed over.
pub(crate) fn submit(header: NonNull<OpHeader>) -> io::Result<Arc<DriverShared>> {
    let local = with_local(|d| match d.io.try_borrow_mut() {
        Ok(mut io) => {
            io.submit(header);
            Ok(d.shared.clone())
        }
        // The driver is busy in this very call stack: queue it on our own driver.
        Err(_) => Err(d.shared.clone()),
    });
    // Only a thread that is not a worker may wait for room in a full queue: a
    // worker must keep its own ring turning.
    let (target, may_block) = match local {
        Some(Ok(owner)) => return Ok(owner),
        Some(Err(own)) => (own, false),
        None => {
            let remote = crate::runtime::context::with_current(|h| h.drivers.remote_target())
                .map_err(|_| no_runtime())?;
            (remote, true)
        }
    };
    match target.push(Request::Submit(header), may_block) {
        Ok(()) => Ok(target),
        Err(_) => Err(shutting_down()),
    }
}

/// Hand a fresh cell to the driver `target` in particular (on Windows, the one whose
/// completion port the operation's handle reports to): directly when this thread owns
/// it and it is free, through its request queue otherwise. On error the cell was not
/// handed over.
#[cfg(windows)]
pub(crate) fn submit_to(target: &Arc<DriverShared>, header: NonNull<OpHeader>) -> io::Result<()> {
    let here = with_local(|d| {
        Arc::ptr_eq(&d.shared, target)
            && match d.io.try_borrow_mut() {
                Ok(mut io) => {
                    io.submit(header);
                    true
                }
                Err(_) => false,
            }
    });
    if here == Some(true) {
        return Ok(());
    }
    // As in `submit`: only a thread that is not a worker may wait for room.
    let may_block = here.is_none();
    target
        .push(Request::Submit(header), may_block)
        .map_err(|_| shutting_down())
}

/// The driver that operations from this thread are handed to: this worker's own, or
/// one of the runtime's for any other thread inside it.
#[cfg(windows)]
pub(crate) fn current_driver() -> io::Result<Arc<DriverShared>> {
    if let Some(shared) = with_local(|d| d.shared.clone()) {
        return Ok(shared);
    }
    crate::runtime::context::with_current(|h| h.drivers.remote_target()).map_err(|_| no_runtime())
}

/// On the thread that owns the ring `owner`: submit and reap without waiting,
/// with a full turn now and then (`LocalDriver::poll_eager`). Anywhere else:
/// nothing.
pub(crate) fn poll_own_ring(owner: &Arc<DriverShared>) {
    with_local(|d| {
        if Arc::ptr_eq(&d.shared, owner) {
            d.poll_eager();
        }
    });
}

/// A future gave up an in-flight operation: make the owning driver cancel it and free
/// the cell once the kernel is done.
pub(crate) fn abandon<K: OpKind>(cell: OwnedCell<K>, owner: &Arc<DriverShared>) {
    let header = cell.header();
    let mut cell = Some(cell);
    with_local(|d| {
        if !Arc::ptr_eq(&d.shared, owner) {
            return;
        }
        if let Ok(mut io) = d.io.try_borrow_mut() {
            // On the owner's thread with its driver free: no completion can run
            // between the abandon and the cancel, so the cell is still ours to name.
            if cell.take().is_some_and(|c| c.abandon(false)) {
                // It may have come through the request queue (submitted from another
                // thread) and still wait there: apply the queue first, so the cancel
                // finds it.
                d.handle_requests(&mut io, super::local::Batch::All);
                io.cancel(header);
            }
        }
    });
    // Not handled above (another thread, or the driver is busy in this call stack):
    // the cancel travels through the owner's queue.
    if let Some(cell) = cell {
        if cell.abandon(true) {
            // Refused only once the driver has drained, which waits for every
            // operation unless one is stuck past its limit: that cell stays leaked,
            // never freed, as the drain decided.
            let _ = owner.push(Request::Cancel(header), false);
        }
    }
}

/// The time driver for a timer created on this thread.
pub(crate) fn current_time_driver() -> Option<Arc<TimeDriver>> {
    if let Some(time) = with_local(|d| d.time.clone()) {
        return Some(time);
    }
    crate::runtime::context::with_current(|h| h.drivers.remote_time()).ok()
}
