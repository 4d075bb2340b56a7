//! The bounded `mpsc` channel: tokio's, wrapped so that `recv`, `send` and `reserve*`
//! spend Zokio's cooperative budget where tokio's spend tokio's, and the `blocking_*`
//! methods panic on a thread that drives Zokio tasks.
//!
//! Receiving takes a unit before looking (and hands it back when the channel is
//! empty); sending takes one once a slot is reserved. Every wrapper holds only the
//! tokio value it wraps; nothing here may wait other than through tokio's futures.

use std::fmt;

use tokio::sync::mpsc as tokio_mpsc;

use super::error::{SendError, TrySendError};
use super::receiver_methods::shared_receiver_methods;
use super::{Permit, PermitIterator};
use crate::sync::blocking::assert_may_block;
use crate::sync::budget::spend_after_success;

/// Create a bounded channel holding at most `buffer` messages; returns its sending and
/// receiving halves.
///
/// # Panics
/// If `buffer` is 0.
#[track_caller]
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = tokio_mpsc::channel(buffer);
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// The sending half of a bounded channel; clone it to get more senders.
///
/// The channel closes when every `Sender` is dropped (or the receiver closes it).
pub struct Sender<T> {
    inner: tokio_mpsc::Sender<T>,
}

/// A sender that does not keep the channel open; [`upgrade`](WeakSender::upgrade) it
/// to send.
pub struct WeakSender<T> {
    inner: tokio_mpsc::WeakSender<T>,
}

/// A reserved slot in the channel, owning its [`Sender`]; made by
/// [`Sender::reserve_owned`]. Dropping it gives the slot back.
pub struct OwnedPermit<T> {
    inner: tokio_mpsc::OwnedPermit<T>,
}

/// The receiving half of a bounded channel.
pub struct Receiver<T> {
    inner: tokio_mpsc::Receiver<T>,
}

impl<T> Receiver<T> {
    shared_receiver_methods!();

    /// How many more messages the channel can take now.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// The channel's bound, as given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        self.inner.max_capacity()
    }

    /// How many [`Sender`]s the channel has.
    pub fn sender_strong_count(&self) -> usize {
        self.inner.sender_strong_count()
    }

    /// How many [`WeakSender`]s the channel has.
    pub fn sender_weak_count(&self) -> usize {
        self.inner.sender_weak_count()
    }
}

impl<T> Sender<T> {
    /// Send `value`, waiting for a free slot while the channel is full; gives the value
    /// back in the error if the receiver is gone.
    ///
    /// Spends one unit of the task's budget once a slot is reserved. A call cancelled
    /// before it completes has not sent the value, and drops it.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.reserve().await {
            Ok(permit) => {
                permit.send(value);
                Ok(())
            }
            Err(_) => Err(SendError(value)),
        }
    }

    /// Wait until the receiver is gone (dropped or closed).
    pub async fn closed(&self) {
        self.inner.closed().await
    }

    /// Send `message` only if a slot is free right now.
    pub fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        self.inner.try_send(message)
    }

    /// [`send`](Self::send) for synchronous code: blocks the thread while the channel
    /// is full.
    ///
    /// # Panics
    /// On a thread that drives Zokio tasks (a worker, or inside `block_on`): it would
    /// stall them. Call it from `spawn_blocking` or a thread of your own.
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        assert_may_block();
        self.inner.blocking_send(value)
    }

    /// Whether the receiver is gone, so that every send fails.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Reserve a slot, waiting while the channel is full; the [`Permit`] sends into it
    /// without waiting. Spends one unit of the task's budget once the slot is reserved.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        let permit = self.inner.reserve().await?;
        spend_after_success().await;
        Ok(permit)
    }

    /// Reserve `n` slots at once, waiting until they are all free; spends one unit of
    /// the task's budget once they are reserved.
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        let permits = self.inner.reserve_many(n).await?;
        spend_after_success().await;
        Ok(permits)
    }

    /// [`reserve`](Self::reserve), with the permit owning this sender (so it can be
    /// moved into another task); the permit hands the sender back once used.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        let inner = self.inner.reserve_owned().await?;
        spend_after_success().await;
        Ok(OwnedPermit { inner })
    }

    /// Reserve a slot only if one is free right now.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.inner.try_reserve()
    }

    /// Reserve `n` slots only if they are all free right now.
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        self.inner.try_reserve_many(n)
    }

    /// [`try_reserve`](Self::try_reserve) with an owned permit; the error hands this
    /// sender back.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.inner.try_reserve_owned() {
            Ok(inner) => Ok(OwnedPermit { inner }),
            Err(TrySendError::Full(inner)) => Err(TrySendError::Full(Sender { inner })),
            Err(TrySendError::Closed(inner)) => Err(TrySendError::Closed(Sender { inner })),
        }
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }

    /// How many more messages the channel can take now.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// A [`WeakSender`] for this channel.
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            inner: self.inner.downgrade(),
        }
    }

    /// The channel's bound, as given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        self.inner.max_capacity()
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
    /// A [`Sender`], if the channel still has one (otherwise it is closed for good).
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

impl<T> OwnedPermit<T> {
    /// Send `value` into the reserved slot (never waits) and hand the sender back.
    pub fn send(self, value: T) -> Sender<T> {
        Sender {
            inner: self.inner.send(value),
        }
    }

    /// Give the slot back unused and hand the sender back.
    pub fn release(self) -> Sender<T> {
        Sender {
            inner: self.inner.release(),
        }
    }

    /// Whether both permits are for the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }

    /// Whether this permit is for `sender`'s channel.
    pub fn same_channel_as_sender(&self, sender: &Sender<T>) -> bool {
        self.inner.same_channel_as_sender(&sender.inner)
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

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
