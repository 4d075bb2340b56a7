//! A cell initialised at most once, by an async function: tokio's `OnceCell`, wrapped
//! so that initialising it spends Zokio's cooperative budget where tokio's spends
//! tokio's.
//!
//! tokio spends a unit when a caller wins the right to initialise (its internal
//! semaphore permit), just before it runs the initialiser; a cell already set answers
//! without spending anything. The wrapper spends it at the same point by running the
//! unit's spending at the head of the initialiser it hands to tokio, which tokio calls
//! only once that right is won. Nothing here may wait other than through tokio's
//! futures.

use std::fmt;
use std::future::Future;

use tokio::sync as tokio_sync;

use super::budget::spend_after_success;
use super::SetError;

/// A thread-safe cell whose value is set at most once, by [`set`](OnceCell::set) or
/// by the first [`get_or_init`](OnceCell::get_or_init) to get its turn; concurrent
/// initialisers wait for that one instead of running their own.
///
/// ```
/// # #[zokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use zokio::sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::const_new();
/// let value = CONFIG.get_or_init(|| async { "loaded".to_string() }).await;
/// assert_eq!(value, "loaded");
/// # }
/// ```
pub struct OnceCell<T> {
    inner: tokio_sync::OnceCell<T>,
}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> Self {
        OnceCell {
            inner: tokio_sync::OnceCell::new(),
        }
    }

    /// [`new`](Self::new) usable in a `const` or `static`.
    pub const fn const_new() -> Self {
        OnceCell {
            inner: tokio_sync::OnceCell::const_new(),
        }
    }

    /// A cell holding `value`, or an empty one for `None`.
    pub fn new_with(value: Option<T>) -> Self {
        OnceCell {
            inner: tokio_sync::OnceCell::new_with(value),
        }
    }

    /// A cell holding `value`, usable in a `const` or `static`.
    pub const fn const_new_with(value: T) -> Self {
        OnceCell {
            inner: tokio_sync::OnceCell::const_new_with(value),
        }
    }

    /// Whether the cell holds a value.
    pub fn initialized(&self) -> bool {
        self.inner.initialized()
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        self.inner.get()
    }

    /// The value, if set, through exclusive access to the cell.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.get_mut()
    }

    /// Set the value, never waiting; fails, giving it back, if the cell is set or
    /// another caller is initialising it right now.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        self.inner.set(value)
    }

    /// The value, initialising it with `f` first if the cell is empty. Only one caller
    /// at a time runs its `f`; the others wait, and use its value. If `f`'s future is
    /// cancelled or panics, the next waiter runs its own.
    ///
    /// Spends one unit of the task's budget when this caller gets the turn to
    /// initialise, before `f` runs; a set cell answers without spending any.
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        self.inner
            .get_or_init(|| async move {
                spend_after_success().await;
                f().await
            })
            .await
    }

    /// [`get_or_init`](Self::get_or_init) with an initialiser that may fail: its error
    /// is returned and the cell stays empty for the next caller.
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.inner
            .get_or_try_init(|| async move {
                spend_after_success().await;
                f().await
            })
            .await
    }

    /// The value, if set, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        self.inner.into_inner()
    }

    /// Take the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        self.inner.take()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        OnceCell {
            inner: tokio_sync::OnceCell::from(value),
        }
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> Self {
        OnceCell {
            inner: self.inner.clone(),
        }
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
