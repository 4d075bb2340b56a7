//! The async reader-writer lock: tokio's `RwLock`, wrapped so that taking it spends
//! Zokio's cooperative budget (as tokio's spends tokio's) and `blocking_read`/
//! `blocking_write` refuse to block a thread that drives Zokio tasks. The guards are
//! tokio's.
//!
//! The wrapper is `#[repr(transparent)]` over tokio's lock so that the `Arc<Self>`
//! methods can hand tokio an `Arc` of its own type (its owned guards keep one); the cast
//! lives in [`to_tokio_arc`], the only `unsafe` here. This type must never get a field
//! besides the tokio lock, nor a `Drop` impl: the cast depends on both.

use std::fmt;
use std::sync::Arc;

use tokio::sync as tokio_sync;

use super::blocking::assert_may_block;
use super::budget::spend_after_success;
use super::TryLockError;
use super::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLockReadGuard, RwLockWriteGuard};

/// A lock that many readers or one writer may hold at a time; waiting yields to the
/// runtime instead of blocking the thread. It is fair: requests are served in order, so
/// a waiting writer is not starved by a stream of readers.
#[repr(transparent)]
pub struct RwLock<T: ?Sized> {
    inner: tokio_sync::RwLock<T>,
}

/// The same allocation, typed as tokio's lock.
fn to_tokio_arc<T: ?Sized>(this: Arc<RwLock<T>>) -> Arc<tokio_sync::RwLock<T>> {
    let raw = Arc::into_raw(this) as *const tokio_sync::RwLock<T>;
    // SAFETY: `raw` comes from `Arc::into_raw` of an `Arc<RwLock<T>>`, and `RwLock<T>`
    // is `#[repr(transparent)]` over `tokio_sync::RwLock<T>`, its only field: the two
    // have the same size, alignment and pointer metadata, so the `Arc`'s allocation is a
    // valid `ArcInner<tokio_sync::RwLock<T>>`, as `Arc::from_raw` requires. Dropping the
    // last reference through either type runs the same destructor (`RwLock` has no
    // `Drop` of its own) and frees the same layout.
    unsafe { Arc::from_raw(raw) }
}

impl<T: ?Sized> RwLock<T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> RwLock<T>
    where
        T: Sized,
    {
        RwLock {
            inner: tokio_sync::RwLock::new(value),
        }
    }

    /// [`new`](Self::new), letting at most `max_reads` readers hold it at once.
    ///
    /// # Panics
    /// If `max_reads` is 0 or more than `u32::MAX >> 3`.
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> RwLock<T>
    where
        T: Sized,
    {
        RwLock {
            inner: tokio_sync::RwLock::with_max_readers(value, max_reads),
        }
    }

    /// [`new`](Self::new) usable in a `const` or `static`.
    pub const fn const_new(value: T) -> RwLock<T>
    where
        T: Sized,
    {
        RwLock {
            inner: tokio_sync::RwLock::const_new(value),
        }
    }

    /// [`with_max_readers`](Self::with_max_readers) usable in a `const` or `static`.
    ///
    /// # Panics
    /// As [`with_max_readers`](Self::with_max_readers) (at compile time in a `const`).
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> RwLock<T>
    where
        T: Sized,
    {
        RwLock {
            inner: tokio_sync::RwLock::const_with_max_readers(value, max_reads),
        }
    }

    /// Take a read lock, waiting while a writer holds or waits for the lock.
    ///
    /// Spends one unit of the task's budget once the lock is taken; with none left, it
    /// keeps the lock and yields once. Cancelling the call gives up its place in the
    /// queue.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        let guard = self.inner.read().await;
        spend_after_success().await;
        guard
    }

    /// [`read`](Self::read) for synchronous code: blocks the thread while it waits.
    ///
    /// # Panics
    /// On a thread that drives Zokio tasks (a worker, or inside `block_on`): it would
    /// stall them. Call it from `spawn_blocking` or a thread of your own.
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        assert_may_block();
        self.inner.blocking_read()
    }

    /// [`read`](Self::read) with a guard that keeps the lock alive through the `Arc`.
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        let guard = to_tokio_arc(self).read_owned().await;
        spend_after_success().await;
        guard
    }

    /// Take a read lock only if that needs no waiting.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.inner.try_read()
    }

    /// [`try_read`](Self::try_read) with an owned guard.
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        to_tokio_arc(self).try_read_owned()
    }

    /// Take the write lock, waiting while anyone else holds it.
    ///
    /// Spends one unit of the task's budget once the lock is taken; with none left, it
    /// keeps the lock and yields once. Cancelling the call gives up its place in the
    /// queue.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        let guard = self.inner.write().await;
        spend_after_success().await;
        guard
    }

    /// [`write`](Self::write) for synchronous code: blocks the thread while it waits.
    ///
    /// # Panics
    /// As [`blocking_read`](Self::blocking_read).
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        assert_may_block();
        self.inner.blocking_write()
    }

    /// [`write`](Self::write) with a guard that keeps the lock alive through the `Arc`.
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        let guard = to_tokio_arc(self).write_owned().await;
        spend_after_success().await;
        guard
    }

    /// Take the write lock only if nobody holds it right now.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.inner.try_write()
    }

    /// [`try_write`](Self::try_write) with an owned guard.
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        to_tokio_arc(self).try_write_owned()
    }

    /// The value, through exclusive access to the lock (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> T
    where
        T: Sized,
    {
        self.inner.into_inner()
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
