//! A multi-producer, multi-consumer channel where every receiver sees every value:
//! tokio's `broadcast`, wrapped (see [`crate::sync`]) so that [`Receiver::recv`] spends
//! Zokio's cooperative budget, as tokio's spends tokio's, and
//! [`Receiver::blocking_recv`] refuses to block a thread that drives Zokio tasks.
//!
//! The [`error`] types are tokio's. A receiver that falls more than the capacity behind
//! loses the oldest values and is told how many (`RecvError::Lagged`).
//!
//! ```
//! # #[zokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use zokio::sync::broadcast;
//!
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! tx.send(10).unwrap();
//! assert_eq!(rx1.recv().await, Ok(10));
//! assert_eq!(rx2.recv().await, Ok(10));
//! # }
//! ```

use std::fmt;

use tokio::sync::broadcast as tokio_broadcast;

pub use tokio::sync::broadcast::error;

use crate::sync::blocking::assert_may_block;
use crate::task::coop::cooperative;
use error::{RecvError, SendError, TryRecvError};

/// Create a channel keeping the last `capacity` values for slow receivers; returns a
/// sender and a first receiver.
///
/// # Panics
/// If `capacity` is 0 or too large (over `usize::MAX / 2`).
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = tokio_broadcast::channel(capacity);
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// Sends values to every receiver; clone it to get more senders.
pub struct Sender<T> {
    inner: tokio_broadcast::Sender<T>,
}

/// A sender that does not keep the channel open; [`upgrade`](WeakSender::upgrade) it
/// to send.
pub struct WeakSender<T> {
    inner: tokio_broadcast::WeakSender<T>,
}

/// Receives every value sent after it subscribed.
pub struct Receiver<T> {
    inner: tokio_broadcast::Receiver<T>,
}

impl<T> Sender<T> {
    /// A sender for a new channel that has no receiver yet (see [`channel`]);
    /// receivers come from [`subscribe`](Self::subscribe).
    ///
    /// # Panics
    /// As [`channel`].
    #[track_caller]
    pub fn new(capacity: usize) -> Self {
        Sender {
            inner: tokio_broadcast::Sender::new(capacity),
        }
    }

    /// Send `value` to every current receiver, never waiting; returns how many
    /// receivers there are, or the value back if there is none.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        self.inner.send(value)
    }

    /// A new receiver that will see the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver {
            inner: self.inner.subscribe(),
        }
    }

    /// A [`WeakSender`] for this channel.
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            inner: self.inner.downgrade(),
        }
    }

    /// How many values the slowest receiver has still to receive.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether every receiver has received every value.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// How many receivers there are.
    pub fn receiver_count(&self) -> usize {
        self.inner.receiver_count()
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }

    /// Wait until there is no receiver left.
    pub async fn closed(&self) {
        self.inner.closed().await
    }

    /// How many [`Sender`]s the channel has.
    pub fn strong_count(&self) -> usize {
        self.inner.strong_count()
    }

    /// How many [`WeakSender`]s the channel has.
    pub fn weak_count(&self) -> usize {
        self.inner.weak_count()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> WeakSender<T> {
    /// A [`Sender`], if the channel still has one.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.inner.upgrade().map(|inner| Sender { inner })
    }

    /// How many [`Sender`]s the channel has.
    pub fn strong_count(&self) -> usize {
        self.inner.strong_count()
    }

    /// How many [`WeakSender`]s the channel has.
    pub fn weak_count(&self) -> usize {
        self.inner.weak_count()
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Receiver<T> {
    /// How many values this receiver has still to receive (lost ones included).
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether this receiver has received every value sent so far.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }

    /// How many [`Sender`]s the channel has.
    pub fn sender_strong_count(&self) -> usize {
        self.inner.sender_strong_count()
    }

    /// How many [`WeakSender`]s the channel has.
    pub fn sender_weak_count(&self) -> usize {
        self.inner.sender_weak_count()
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

impl<T: Clone> Receiver<T> {
    /// A new receiver of the same channel that starts at the newest value, not where
    /// this one is.
    pub fn resubscribe(&self) -> Self {
        Receiver {
            inner: self.inner.resubscribe(),
        }
    }

    /// Receive the next value, waiting while there is none; an error tells that the
    /// channel is closed, or how many values this receiver lost by lagging.
    ///
    /// Spends one unit of the task's budget per completed call; cancel safe.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        cooperative(self.inner.recv()).await
    }

    /// Receive a value if one is there right now, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.inner.try_recv()
    }

    /// [`recv`](Self::recv) for synchronous code: blocks the thread until a value comes.
    ///
    /// # Panics
    /// On a thread that drives Zokio tasks (a worker, or inside `block_on`): it would
    /// stall them. Call it from `spawn_blocking` or a thread of your own.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        assert_may_block();
        self.inner.blocking_recv()
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
