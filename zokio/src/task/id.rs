//! Task ids and the "which task is running on this thread" marker behind `task::id()`.
//!
//! Ids come from one process-wide 64-bit counter, so, as with tokio's, no two tasks of
//! a process ever share one, even after a task has finished and its memory has gone to
//! the next. Each thread takes ids from the counter a block at a time, so that spawning
//! on many threads does not fight over one cache line. The id lives in the task's join
//! slot (`join_slot.rs`), which is why it must stay below 2^63.

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use super::header::Header;

/// An opaque id of a task, unique among all the tasks of the process, for as long as
/// it runs (like tokio's).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

/// The first id of the next block a thread may take.
static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
/// Ids a thread takes at once.
const BLOCK: u64 = 1024;

thread_local! {
    /// This thread's block: the next id to hand out, and the end of the block.
    static RESERVED: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// The header of the task being polled on this thread, and whether that task
    /// has woken itself by reference during this poll (`wake_current_by_ref`).
    static CURRENT: Cell<(Option<NonNull<Header>>, bool)> = const { Cell::new((None, false)) };
}

impl Id {
    /// A fresh id, never handed out before in this process.
    pub(crate) fn next() -> Id {
        let n = RESERVED
            .try_with(|reserved| {
                let (next, end) = reserved.get();
                if next < end {
                    reserved.set((next + 1, end));
                    return next;
                }
                let start = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
                reserved.set((start + 1, start + BLOCK));
                start
            })
            // A thread tearing down its locals takes a single id.
            .unwrap_or_else(|_| NEXT_BLOCK.fetch_add(1, Ordering::Relaxed));
        // 2^63 ids at a billion a second would take 292 years.
        debug_assert!(n < 1 << 63, "task ids ran out");
        Id::from_u64(n)
    }

    pub(crate) fn from_u64(n: u64) -> Id {
        Id(NonZeroU64::new(n).expect("task ids start at 1"))
    }

    pub(crate) fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Marks a task as the running one until dropped (restoring the outer one, for
/// nesting).
pub(crate) struct CurrentTaskGuard((Option<NonNull<Header>>, bool));

impl CurrentTaskGuard {
    /// The caller holds a reference to the task for as long as the guard lives, and
    /// owns its `RUNNING` bit: a self-wake recorded here is the caller's to act on.
    #[inline]
    pub(crate) fn enter(task: NonNull<Header>) -> CurrentTaskGuard {
        CurrentTaskGuard(CURRENT.with(|c| c.replace((Some(task), false))))
    }

    /// Restore the outer task, as dropping does, and say whether this one woke
    /// itself by reference since `enter` (`wake_current_by_ref`): the caller must
    /// then treat it as `NOTIFIED`. One thread-local access for both.
    #[inline]
    pub(crate) fn leave(self) -> bool {
        let outer = std::mem::ManuallyDrop::new(self).0;
        CURRENT.with(|c| c.replace(outer)).1
    }
}

/// A `wake_by_ref` of the task that this thread is polling: it only needs to be run
/// again after this poll, which its poller learns from `woke_itself` here, with no
/// atomic operation on the state word (a `yield_now`, a budget running out, a
/// primitive that wakes its own waiter). False for any other task, and once this
/// thread's locals are gone.
pub(crate) fn wake_current_by_ref(task: NonNull<Header>) -> bool {
    CURRENT
        .try_with(|c| {
            let (current, _) = c.get();
            let is_current = current == Some(task);
            if is_current {
                c.set((current, true));
            }
            is_current
        })
        .unwrap_or(false)
}

impl Drop for CurrentTaskGuard {
    #[inline]
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
    let task = CURRENT.try_with(|c| c.get().0).ok().flatten()?;
    // SAFETY: a header is current only while its guard lives, and whoever entered the
    // guard holds a reference to the task until then.
    Some(unsafe { task.as_ref() }.join.id())
}
