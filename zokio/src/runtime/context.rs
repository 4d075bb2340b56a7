//! What the current thread knows about runtimes: which runtime's `Handle` is current
//! (for `zokio::spawn` and `Handle::current()`), and whether the thread is already
//! driving tasks (so that a nested `block_on` fails loudly instead of deadlocking).
//!
//! Guards restore the previous value when dropped, so nesting unwinds cleanly. Nothing
//! here may call into a scheduler.

use std::cell::{Cell, RefCell};

use super::{Handle, TryCurrentError};

struct Context {
    handle: RefCell<Option<Handle>>,
    driving_tasks: Cell<bool>,
    /// How many `SetCurrentGuard`s live on this thread: each knows its place, so one
    /// dropped out of order is caught instead of restoring the wrong runtime.
    depth: Cell<usize>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            driving_tasks: Cell::new(false),
            depth: Cell::new(0),
        }
    };
}

/// Restores the previously current handle when dropped.
pub(crate) struct SetCurrentGuard {
    previous: Option<Handle>,
    /// Its place among the guards of this thread (0: the context was gone).
    depth: usize,
}

pub(crate) fn set_current(handle: &Handle) -> SetCurrentGuard {
    // A runtime dropped by a thread-local's destructor (the thread is exiting) may find
    // this context gone already: it then shuts down without being current.
    CONTEXT
        .try_with(|c| {
            let depth = c.depth.get() + 1;
            c.depth.set(depth);
            SetCurrentGuard {
                previous: c.handle.replace(Some(handle.clone())),
                depth,
            }
        })
        .unwrap_or(SetCurrentGuard {
            previous: None,
            depth: 0,
        })
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        if self.depth == 0 {
            return;
        }
        let previous = self.previous.take();
        // Ignore a destroyed thread-local: the thread is exiting anyway.
        let in_order = CONTEXT
            .try_with(|c| {
                let in_order = c.depth.get() == self.depth;
                c.depth.set(self.depth - 1);
                c.handle.replace(previous);
                in_order
            })
            .unwrap_or(true);
        if !in_order && !std::thread::panicking() {
            panic!(
                "`EnterGuard` values dropped out of order. Guards returned by \
                 `zokio::runtime::Handle::enter()` must be dropped in the reverse order as \
                 they were acquired."
            );
        }
    }
}

/// Run `f` with the current handle.
pub(crate) fn with_current<R>(f: impl FnOnce(&Handle) -> R) -> Result<R, TryCurrentError> {
    match CONTEXT.try_with(|c| c.handle.borrow().as_ref().map(f)) {
        Ok(Some(result)) => Ok(result),
        Ok(None) => Err(TryCurrentError::NoContext),
        Err(_) => Err(TryCurrentError::ThreadLocalDestroyed),
    }
}

/// Marks the thread as driving tasks until dropped.
pub(crate) struct DrivingGuard(());

/// Mark this thread as driving tasks.
///
/// # Panics
/// If it already is: blocking it on a future would stall every task it drives.
#[track_caller]
pub(crate) fn enter_driving() -> DrivingGuard {
    let was = CONTEXT
        .try_with(|c| c.driving_tasks.replace(true))
        .unwrap_or(false);
    if was {
        panic!(
            "Cannot start a runtime from within a runtime: `block_on` was called on a thread \
             that is already driving Zokio tasks, which would block them all. Use `.await` \
             inside async code, or move the blocking call into `zokio::task::spawn_blocking`."
        );
    }
    DrivingGuard(())
}

/// While a `block_in_place` closure runs: the thread drives no tasks, so blocking
/// (and a nested `block_on`) is allowed. Restores the previous mark when dropped.
pub(crate) struct NotDrivingGuard(bool);

pub(crate) fn exit_driving() -> NotDrivingGuard {
    NotDrivingGuard(
        CONTEXT
            .try_with(|c| c.driving_tasks.replace(false))
            .unwrap_or(false),
    )
}

impl Drop for NotDrivingGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.driving_tasks.set(self.0));
    }
}

pub(crate) fn is_driving() -> bool {
    CONTEXT.try_with(|c| c.driving_tasks.get()).unwrap_or(false)
}

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.driving_tasks.set(false));
    }
}
