//! The async counting semaphore: tokio's `Semaphore`, wrapped so that acquiring spends
//! Zokio's cooperative budget (as tokio's spends tokio's) and `blocking_acquire*`
//! refuse to block a thread that drives Zokio tasks. The permits are tokio's.
//!
//! The wrapper is `#[repr(transparent)]` over tokio's semaphore so that the `Arc<Self>`
//! methods can hand tokio an `Arc` of its own type (its owned permits keep one); the
//! cast lives in [`to_tokio_arc`], the only `unsafe` here. This type must never get a
//! field besides the tokio semaphore, nor a `Drop` impl: the cast depends on both.

use std::fmt;
use std::sync::Arc;

use tokio::sync as tokio_sync;

use super::blocking::assert_may_block;
use super::budget::spend_after_success;
use super::{AcquireError, OwnedSemaphorePermit, SemaphorePermit, TryAcquireError};

/// A count of permits that tasks acquire, waiting (by yielding to the runtime) while
/// too few are left, and give back by dropping them. Waiters are served in order.
///
/// ```
/// # #[zokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use zokio::sync::Semaphore;
///
/// let semaphore = Semaphore::new(2);
/// let first = semaphore.acquire().await.unwrap();
/// let _second = semaphore.acquire().await.unwrap();
/// assert!(semaphore.try_acquire().is_err());
/// drop(first);
/// assert!(semaphore.try_acquire().is_ok());
/// # }
/// ```
#[repr(transparent)]
pub struct Semaphore {
    inner: tokio_sync::Semaphore,
}

/// The same allocation, typed as tokio's semaphore.
fn to_tokio_arc(this: Arc<Semaphore>) -> Arc<tokio_sync::Semaphore> {
    let raw = Arc::into_raw(this).cast::<tokio_sync::Semaphore>();
    // SAFETY: `raw` comes from `Arc::into_raw` of an `Arc<Semaphore>`, and `Semaphore`
    // is `#[repr(transparent)]` over `tokio_sync::Semaphore`, its only field: the two
    // have the same size and alignment, so the `Arc`'s allocation is a valid
    // `ArcInner<tokio_sync::Semaphore>`, as `Arc::from_raw` requires. Dropping the last
    // reference through either type runs the same destructor (`Semaphore` has no `Drop`
    // of its own) and frees the same layout.
    unsafe { Arc::from_raw(raw) }
}

impl Semaphore {
    /// The most permits a semaphore can hold (`usize::MAX >> 3`).
    pub const MAX_PERMITS: usize = tokio_sync::Semaphore::MAX_PERMITS;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    /// If `permits` is more than [`MAX_PERMITS`](Self::MAX_PERMITS).
    #[track_caller]
    pub fn new(permits: usize) -> Self {
        Semaphore {
            inner: tokio_sync::Semaphore::new(permits),
        }
    }

    /// [`new`](Self::new) usable in a `const` or `static`.
    pub const fn const_new(permits: usize) -> Self {
        Semaphore {
            inner: tokio_sync::Semaphore::const_new(permits),
        }
    }

    /// How many permits are free now.
    pub fn available_permits(&self) -> usize {
        self.inner.available_permits()
    }

    /// Add `n` permits, serving waiters first.
    ///
    /// # Panics
    /// If the total would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub fn add_permits(&self, n: usize) {
        self.inner.add_permits(n)
    }

    /// Take away up to `n` of the free permits; returns how many were taken.
    pub fn forget_permits(&self, n: usize) -> usize {
        self.inner.forget_permits(n)
    }

    /// Acquire one permit, waiting while none is free; fails once the semaphore is
    /// [`close`](Self::close)d.
    ///
    /// Spends one unit of the task's budget once the permit is acquired; with none left,
    /// it keeps the permit and yields once. Cancelling the call gives up its place in
    /// the queue.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        let permit = self.inner.acquire().await?;
        spend_after_success().await;
        Ok(permit)
    }

    /// Acquire `n` permits at once, as [`acquire`](Self::acquire) does one.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        let permit = self.inner.acquire_many(n).await?;
        spend_after_success().await;
        Ok(permit)
    }

    /// Acquire one permit only if one is free right now.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.inner.try_acquire()
    }

    /// Acquire `n` permits only if they are all free right now.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.inner.try_acquire_many(n)
    }

    /// [`acquire`](Self::acquire) for synchronous code: blocks the thread while no
    /// permit is free.
    ///
    /// # Panics
    /// On a thread that drives Zokio tasks (a worker, or inside `block_on`): it would
    /// stall them. Call it from `spawn_blocking` or a thread of your own.
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        assert_may_block();
        self.inner.blocking_acquire()
    }

    /// [`acquire_many`](Self::acquire_many) for synchronous code.
    ///
    /// # Panics
    /// As [`blocking_acquire`](Self::blocking_acquire).
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        assert_may_block();
        self.inner.blocking_acquire_many(n)
    }

    /// [`acquire`](Self::acquire) with a permit that keeps the semaphore alive through
    /// the `Arc`, so it can be moved into another task.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permit = to_tokio_arc(self).acquire_owned().await?;
        spend_after_success().await;
        Ok(permit)
    }

    /// [`acquire_many`](Self::acquire_many) with an owned permit.
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permit = to_tokio_arc(self).acquire_many_owned(n).await?;
        spend_after_success().await;
        Ok(permit)
    }

    /// [`try_acquire`](Self::try_acquire) with an owned permit.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        to_tokio_arc(self).try_acquire_owned()
    }

    /// [`try_acquire_many`](Self::try_acquire_many) with an owned permit.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        to_tokio_arc(self).try_acquire_many_owned(n)
    }

    /// [`acquire_owned`](Self::acquire_owned) for synchronous code.
    ///
    /// # Panics
    /// As [`blocking_acquire`](Self::blocking_acquire).
    #[track_caller]
    pub fn blocking_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        assert_may_block();
        to_tokio_arc(self).blocking_acquire_owned()
    }

    /// [`acquire_many_owned`](Self::acquire_many_owned) for synchronous code.
    ///
    /// # Panics
    /// As [`blocking_acquire`](Self::blocking_acquire).
    #[track_caller]
    pub fn blocking_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        assert_may_block();
        to_tokio_arc(self).blocking_acquire_many_owned(n)
    }

    /// Close the semaphore: every waiting and later acquisition fails; permits already
    /// out stay valid.
    pub fn close(&self) {
        self.inner.close()
    }

    /// Whether the semaphore is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
