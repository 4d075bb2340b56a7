//! The async mutex: tokio's `Mutex`, wrapped so that locking spends Zokio's
//! cooperative budget (as tokio's spends tokio's) and `blocking_lock*` refuse to block a
//! thread that drives Zokio tasks. The guards are tokio's.
//!
//! The wrapper is `#[repr(transparent)]` over tokio's mutex so that the `Arc<Self>`
//! methods can hand tokio an `Arc` of its own type (its owned guards keep one); the cast
//! lives in [`to_tokio_arc`], the only `unsafe` here. This type must never get a field
//! besides the tokio mutex, nor a `Drop` impl: the cast depends on both.

use std::fmt;
use std::sync::Arc;

use tokio::sync as tokio_sync;

use super::blocking::assert_may_block;
use super::budget::spend_after_success;
use super::{MutexGuard, OwnedMutexGuard, TryLockError};

/// A mutual-exclusion lock whose `lock` waits by yielding to the runtime, not by
/// blocking the thread, so its guard may be held across an `.await`. Waiters get the
/// lock in the order they asked for it.
///
/// ```
/// # #[zokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// use zokio::sync::Mutex;
///
/// let count = Arc::new(Mutex::new(0));
/// let tasks: Vec<_> = (0..10)
///     .map(|_| {
///         let count = count.clone();
///         zokio::spawn(async move { *count.lock().await += 1 })
///     })
///     .collect();
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(*count.lock().await, 10);
/// # }
/// ```
#[repr(transparent)]
pub struct Mutex<T: ?Sized> {
    inner: tokio_sync::Mutex<T>,
}

/// The same allocation, typed as tokio's mutex.
fn to_tokio_arc<T: ?Sized>(this: Arc<Mutex<T>>) -> Arc<tokio_sync::Mutex<T>> {
    let raw = Arc::into_raw(this) as *const tokio_sync::Mutex<T>;
    // SAFETY: `raw` comes from `Arc::into_raw` of an `Arc<Mutex<T>>`, and `Mutex<T>` is
    // `#[repr(transparent)]` over `tokio_sync::Mutex<T>`, its only field: the two have
    // the same size, alignment and pointer metadata, so the `Arc`'s allocation is a
    // valid `ArcInner<tokio_sync::Mutex<T>>`, as `Arc::from_raw` requires. Dropping the
    // last reference through either type runs the same destructor (`Mutex` has no
    // `Drop` of its own, so dropping it is dropping its field) and frees the same layout.
    unsafe { Arc::from_raw(raw) }
}

impl<T: ?Sized> Mutex<T> {
    /// An unlocked mutex holding `t`.
    pub fn new(t: T) -> Self
    where
        T: Sized,
    {
        Mutex {
            inner: tokio_sync::Mutex::new(t),
        }
    }

    /// [`new`](Self::new) usable in a `const` or `static`.
    pub const fn const_new(t: T) -> Self
    where
        T: Sized,
    {
        Mutex {
            inner: tokio_sync::Mutex::const_new(t),
        }
    }

    /// Lock, waiting (without blocking the thread) while another holder has it.
    ///
    /// Spends one unit of the task's budget once the lock is taken; with none left, it
    /// keeps the lock and yields once. Cancelling the call gives up its place in the
    /// queue.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        let guard = self.inner.lock().await;
        spend_after_success().await;
        guard
    }

    /// [`lock`](Self::lock) for synchronous code: blocks the thread while another
    /// holder has the lock.
    ///
    /// # Panics
    /// On a thread that drives Zokio tasks (a worker, or inside `block_on`): it would
    /// stall them. Call it from `spawn_blocking` or a thread of your own.
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        assert_may_block();
        self.inner.blocking_lock()
    }

    /// [`blocking_lock`](Self::blocking_lock) with a guard that keeps the mutex alive
    /// through the `Arc`.
    ///
    /// # Panics
    /// As [`blocking_lock`](Self::blocking_lock).
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        assert_may_block();
        to_tokio_arc(self).blocking_lock_owned()
    }

    /// [`lock`](Self::lock) with a guard that keeps the mutex alive through the `Arc`,
    /// so it can be moved into another task.
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        let guard = to_tokio_arc(self).lock_owned().await;
        spend_after_success().await;
        guard
    }

    /// Lock only if nobody holds the lock right now.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        self.inner.try_lock()
    }

    /// The value, through exclusive access to the mutex (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// [`try_lock`](Self::try_lock) with an owned guard.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        to_tokio_arc(self).try_lock_owned()
    }

    /// The value, consuming the mutex.
    pub fn into_inner(self) -> T
    where
        T: Sized,
    {
        self.inner.into_inner()
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(t: T) -> Self {
        Mutex::new(t)
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
