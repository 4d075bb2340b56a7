//! The unbounded `mpsc` channel: tokio's, with its receiver wrapped so that receiving
//! spends Zokio's cooperative budget and `blocking_recv*` panic on a thread that drives
//! Zokio tasks.
//!
//! The senders are tokio's own: sending on an unbounded channel never waits and, as in
//! tokio, spends no budget. Nothing here may wait other than through tokio's futures.

use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll};

use tokio::sync::mpsc as tokio_mpsc;

use super::error::TryRecvError;
use super::UnboundedSender;
use crate::sync::blocking::assert_may_block;
use crate::sync::budget::poll_cooperatively;

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
    /// Receive the next message, waiting while the channel is empty; `None` once the
    /// channel is closed and empty.
    ///
    /// Spends one unit of the task's budget per message (or `None`); cancel safe: a
    /// cancelled call has received nothing.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receive up to `limit` messages into `buffer`, waiting while the channel is empty;
    /// returns how many were added, 0 only when `limit` is 0 or the channel is closed and
    /// empty. Spends one unit per call; cancel safe.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
    }

    /// Receive a message if one is there right now, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.inner.try_recv()
    }

    /// [`recv`](Self::recv) for synchronous code: blocks the thread until a message
    /// comes.
    ///
    /// # Panics
    /// On a thread that drives Zokio tasks (a worker, or inside `block_on`): it would
    /// stall them. Call it from `spawn_blocking` or a thread of your own.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        assert_may_block();
        self.inner.blocking_recv()
    }

    /// [`recv_many`](Self::recv_many) for synchronous code.
    ///
    /// # Panics
    /// As [`blocking_recv`](Self::blocking_recv).
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        assert_may_block();
        self.inner.blocking_recv_many(buffer, limit)
    }

    /// Close the channel to senders, keeping the messages already in it for `recv`.
    pub fn close(&mut self) {
        self.inner.close()
    }

    /// Whether the channel is closed (every sender gone, or [`close`](Self::close)d).
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Whether no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// How many messages are waiting.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Poll for the next message, registering `cx`'s waker while the channel is empty.
    ///
    /// Takes a unit of the task's budget first: when none is left it wakes the task
    /// and answers `Pending` without looking.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        poll_cooperatively(cx, |cx| self.inner.poll_recv(cx))
    }

    /// Poll for up to `limit` messages into `buffer`, as
    /// [`recv_many`](Self::recv_many) does.
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        poll_cooperatively(cx, |cx| self.inner.poll_recv_many(cx, buffer, limit))
    }

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
