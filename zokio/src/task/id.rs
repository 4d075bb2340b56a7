//! Task ids and the "which task is running on this thread" marker behind `task::id()`.
//!
//! An id is the address of the task's header: unique among live tasks, and, as with
//! tokio's ids, it may be reused once a task has finished. Storing no counter keeps the
//! header one word smaller. This file must never dereference the address.

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::ptr::NonNull;

use super::header::Header;

/// An opaque id of a task, unique among the tasks alive at the same time.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn from_header(ptr: NonNull<Header>) -> Id {
        // The address of a live allocation is never zero.
        Id(NonZeroU64::new(ptr.as_ptr().addr() as u64).expect("task address is non-null"))
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({:#x})", self.0)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

thread_local! {
    static CURRENT: Cell<Option<Id>> = const { Cell::new(None) };
}

/// Marks `id` as the running task until dropped (restoring the outer one, for nesting).
pub(crate) struct CurrentTaskGuard(Option<Id>);

impl CurrentTaskGuard {
    pub(crate) fn enter(id: Id) -> CurrentTaskGuard {
        CurrentTaskGuard(CURRENT.with(|c| c.replace(Some(id))))
    }
}

impl Drop for CurrentTaskGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// The id of the task that is running now.
///
/// # Panics
/// Outside a task, like tokio's `task::id()`; use [`try_id`] to ask without panicking.
pub fn id() -> Id {
    try_id().expect("zokio::task::id() called outside of a task; use zokio::task::try_id()")
}

/// The id of the running task, or `None` outside a task.
pub fn try_id() -> Option<Id> {
    CURRENT.with(|c| c.get())
}
