//! A channel for sending one value between tasks: tokio's `oneshot`, wrapped (see
//! [`crate::sync`]) so that awaiting the [`Receiver`] and [`Sender::closed`] spend
//! Zokio's cooperative budget, as tokio's spend tokio's, and
//! [`Receiver::blocking_recv`] refuses to block a thread that drives Zokio tasks.
//!
//! The [`error`] types are tokio's.
//!
//! ```
//! # #[zokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use zokio::sync::oneshot;
//!
//! let (tx, rx) = oneshot::channel();
//! zokio::spawn(async move { tx.send(42).unwrap() });
//! assert_eq!(rx.await, Ok(42));
//! # }
//! ```

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot as tokio_oneshot;

pub use tokio::sync::oneshot::error;

use crate::sync::blocking::assert_may_block;
use crate::sync::budget::poll_cooperatively;
use error::{RecvError, TryRecvError};

/// Create a channel for one value; returns its sending and receiving halves.
#[track_caller]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = tokio_oneshot::channel();
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// Sends the channel's one value; dropping it unsent closes the channel.
pub struct Sender<T> {
    inner: tokio_oneshot::Sender<T>,
}

/// Receives the channel's value: await it. Dropping it (or
/// [`close`](Receiver::close)) makes the sender's `send` fail.
pub struct Receiver<T> {
    inner: tokio_oneshot::Receiver<T>,
}

impl<T> Sender<T> {
    /// Send the value, never waiting; gives it back if the receiver is gone.
    pub fn send(self, t: T) -> Result<(), T> {
        self.inner.send(t)
    }

    /// Wait until the receiver is dropped or closed. Spends one unit of the task's
    /// budget when it completes.
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Whether the receiver is gone, so that `send` would fail.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Poll for the receiver being gone, registering `cx`'s waker otherwise.
    ///
    /// Takes a unit of the task's budget first: when none is left it wakes the task
    /// and answers `Pending` without looking.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        poll_cooperatively(cx, |cx| self.inner.poll_closed(cx))
    }
}

impl<T> Receiver<T> {
    /// Refuse the value: the sender's `send` fails from now on. A value sent before
    /// can still be taken with [`try_recv`](Self::try_recv).
    pub fn close(&mut self) {
        self.inner.close()
    }

    /// Whether awaiting this receiver already completed (polling it again panics).
    pub fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }

    /// Whether there is no value to take now (none sent yet, or already taken).
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Take the value if it was sent, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.inner.try_recv()
    }

    /// Await the value in synchronous code: blocks the thread until it is sent (or the
    /// sender is dropped).
    ///
    /// # Panics
    /// On a thread that drives Zokio tasks (a worker, or inside `block_on`): it would
    /// stall them. Call it from `spawn_blocking` or a thread of your own.
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        assert_may_block();
        self.inner.blocking_recv()
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// Takes a unit of the task's budget before looking for the value (none when it is
    /// not there yet); with none left it wakes the task and answers `Pending`.
    ///
    /// # Panics
    /// If polled again after it completed.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.inner;
        if inner.is_terminated() {
            // tokio's own "called after complete" panic, whatever the budget says.
            return Pin::new(inner).poll(cx);
        }
        poll_cooperatively(cx, |cx| Pin::new(inner).poll(cx))
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
