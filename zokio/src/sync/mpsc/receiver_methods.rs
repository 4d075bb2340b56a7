//! The receiving methods that the bounded and the unbounded receiver share word for
//! word: both wrap a tokio receiver with the same method set, so one macro writes them
//! into each `impl` block rather than two copies drifting apart.
//!
//! The macro expands inside `impl<T> ... { }` of a type whose field `inner` is a tokio
//! receiver. It must never add a method that only one of the two receivers has (the
//! capacity queries and the sender counts, whose docs name different types, stay in
//! their own files).

/// Writes `recv`, `recv_many`, `try_recv`, `blocking_recv*`, `close`, `is_closed`,
/// `is_empty`, `len`, `poll_recv` and `poll_recv_many` for a receiver wrapping tokio's.
macro_rules! shared_receiver_methods {
    () => {
        /// Receive the next message, waiting while the channel is empty; `None` once the
        /// channel is closed and empty.
        ///
        /// Spends one unit of the task's budget per message (or `None`); cancel safe: a
        /// cancelled call has received nothing.
        pub async fn recv(&mut self) -> Option<T> {
            ::std::future::poll_fn(|cx| self.poll_recv(cx)).await
        }

        /// Receive up to `limit` messages into `buffer`, waiting while the channel is empty;
        /// returns how many were added, 0 only when `limit` is 0 or the channel is closed and
        /// empty. Spends one unit per call; cancel safe.
        pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
            ::std::future::poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
        }

        /// Receive a message if one is there right now, without waiting.
        pub fn try_recv(&mut self) -> Result<T, $crate::sync::mpsc::error::TryRecvError> {
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
            $crate::sync::blocking::assert_may_block();
            self.inner.blocking_recv()
        }

        /// [`recv_many`](Self::recv_many) for synchronous code.
        ///
        /// # Panics
        /// As [`blocking_recv`](Self::blocking_recv).
        #[track_caller]
        pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
            $crate::sync::blocking::assert_may_block();
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
        pub fn poll_recv(
            &mut self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<Option<T>> {
            $crate::sync::budget::poll_cooperatively(cx, |cx| self.inner.poll_recv(cx))
        }

        /// Poll for up to `limit` messages into `buffer`, as
        /// [`recv_many`](Self::recv_many) does.
        pub fn poll_recv_many(
            &mut self,
            cx: &mut ::std::task::Context<'_>,
            buffer: &mut Vec<T>,
            limit: usize,
        ) -> ::std::task::Poll<usize> {
            $crate::sync::budget::poll_cooperatively(cx, |cx| {
                self.inner.poll_recv_many(cx, buffer, limit)
            })
        }
    };
}

pub(super) use shared_receiver_methods;
