//! A channel that keeps only the latest value, which receivers look at and wait to
//! change: tokio's `watch`, wrapped (see [`crate::sync`]) so that
//! [`Receiver::changed`], [`Receiver::wait_for`] and [`Sender::closed`] spend Zokio's
//! cooperative budget, as tokio's spend tokio's.
//!
//! [`Ref`] and the [`error`] types are tokio's. Keep a `Ref` short: it holds a read
//! lock on the value, which the sender needs to send.
//!
//! ```
//! # #[zokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use zokio::sync::watch;
//!
//! let (tx, mut rx) = watch::channel("starting");
//! zokio::spawn(async move { tx.send("ready").unwrap() });
//! rx.wait_for(|state| *state == "ready").await.unwrap();
//! # }
//! ```

use std::fmt;

use tokio::sync::watch as tokio_watch;

pub use tokio::sync::watch::{error, Ref};

use crate::task::coop::cooperative;
use error::{RecvError, SendError};

/// Create a channel holding `init`; returns its sending and receiving halves.
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = tokio_watch::channel(init);
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// Replaces the channel's value; clone it to get more senders.
pub struct Sender<T> {
    inner: tokio_watch::Sender<T>,
}

/// Looks at the channel's value and waits for it to change; clone it to get more
/// receivers (a clone has seen what this one has seen).
pub struct Receiver<T> {
    inner: tokio_watch::Receiver<T>,
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        self.inner.borrow()
    }

    /// The current value, marking it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        self.inner.borrow_and_update()
    }

    /// Whether a value this receiver has not seen was sent; an error once every sender
    /// is gone.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        self.inner.has_changed()
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Mark the current value unseen, so that `changed` completes at once.
    pub fn mark_changed(&mut self) {
        self.inner.mark_changed()
    }

    /// Mark the current value seen.
    pub fn mark_unchanged(&mut self) {
        self.inner.mark_unchanged()
    }

    /// Wait for a value this receiver has not seen, and mark it seen; an error once
    /// every sender is gone.
    ///
    /// Spends one unit of the task's budget per completed call; cancel safe.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        cooperative(self.inner.changed()).await
    }

    /// Wait until the value satisfies `f` (checking the current one first), mark it
    /// seen and return it; an error once every sender is gone.
    ///
    /// Spends one unit of the task's budget per completed call; cancel safe.
    pub async fn wait_for(&mut self, f: impl FnMut(&T) -> bool) -> Result<Ref<'_, T>, RecvError> {
        cooperative(self.inner.wait_for(f)).await
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Sender<T> {
    /// A sender for a new channel holding `init`, with no receiver yet; receivers come
    /// from [`subscribe`](Self::subscribe).
    pub fn new(init: T) -> Self {
        Sender {
            inner: tokio_watch::Sender::new(init),
        }
    }

    /// Replace the value and notify the receivers; fails, giving the value back, when
    /// there is no receiver.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner.send(value)
    }

    /// Change the value in place and notify the receivers, even with none.
    pub fn send_modify<F>(&self, modify: F)
    where
        F: FnOnce(&mut T),
    {
        self.inner.send_modify(modify)
    }

    /// Change the value in place; the receivers are notified only if `modify` returns
    /// true, which is also what this returns.
    pub fn send_if_modified<F>(&self, modify: F) -> bool
    where
        F: FnOnce(&mut T) -> bool,
    {
        self.inner.send_if_modified(modify)
    }

    /// Replace the value, notify the receivers (even with none) and return the old
    /// value.
    pub fn send_replace(&self, value: T) -> T {
        self.inner.send_replace(value)
    }

    /// The current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        self.inner.borrow()
    }

    /// Whether there is no receiver.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Wait until there is no receiver left. Spends one unit of the task's budget when
    /// it completes.
    pub async fn closed(&self) {
        cooperative(self.inner.closed()).await
    }

    /// A new receiver that has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver {
            inner: self.inner.subscribe(),
        }
    }

    /// How many receivers there are.
    pub fn receiver_count(&self) -> usize {
        self.inner.receiver_count()
    }

    /// How many senders there are.
    pub fn sender_count(&self) -> usize {
        self.inner.sender_count()
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Default> Default for Sender<T> {
    fn default() -> Self {
        Sender {
            inner: tokio_watch::Sender::default(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
