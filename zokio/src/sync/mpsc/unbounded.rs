//! The unbounded `mpsc` channel: tokio's, with its receiver wrapped so that receiving
//! spends Zokio's cooperative budget and `blocking_recv*` panic on a thread that drives
//! Zokio tasks.
//!
//! The senders are tokio's own: sending on an unbounded channel never waits and, as in
//! tokio, spends no budget. Nothing here may wait other than through tokio's futures.

use std::fmt;

use tokio::sync::mpsc as tokio_mpsc;

use super::receiver_methods::shared_receiver_methods;
use super::UnboundedSender;

/// Create a channel without a bound; returns its sending and receiving halves.
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let (tx, rx) = tokio_mpsc::unbounded_channel();
    (tx, UnboundedReceiver { inner: rx })
}

/// The receiving half of an unbounded channel.
pub struct UnboundedReceiver<T> {
    inner: tokio_mpsc::UnboundedReceiver<T>,
}

impl<T> UnboundedReceiver<T> {
    shared_receiver_methods!();

    /// How many [`UnboundedSender`]s the channel has.
    pub fn sender_strong_count(&self) -> usize {
        self.inner.sender_strong_count()
    }

    /// How many weak senders the channel has.
    pub fn sender_weak_count(&self) -> usize {
        self.inner.sender_weak_count()
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
