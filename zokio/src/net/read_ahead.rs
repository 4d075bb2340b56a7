//! The poll-based read side of a stream socket (`AsyncRead::poll_read`).
//!
//! On io_uring it reads ahead: when the caller finds nothing buffered, a ring
//! `recv` goes out into a buffer the socket owns, and the bytes are copied out when
//! it completes. So a read that has to wait costs no system call of its own (no
//! `EAGAIN` attempt, no readiness round trip), and the kernel's buffer is never the
//! caller's borrowed one. On epoll (and on a ring that answers `EAGAIN`) it is
//! readiness: try `recv(2)` into the caller's buffer, else wait and try again.
//!
//! Bytes read ahead are handed out before anything else, to the native `read_owned`
//! path and to the borrowed-buffer readers (`try_read`, `peek`...), so mixing the
//! interfaces never reorders or drops data; nor is an error the read-ahead met
//! dropped. While a ring `recv` is in flight the next bytes are its: other readers
//! wait for it (readiness) or say `WouldBlock` (the `try_` calls), and it wakes
//! every task waiting for it, not only the last to poll it, so a `poll_read` that
//! was dropped with its `recv` in flight strands nobody. Must never block, and
//! never let the kernel write into a borrowed buffer.

// Without either trait feature nothing reads through here.
#![cfg_attr(
    not(any(feature = "tokio-io", feature = "futures-io")),
    allow(dead_code)
)]

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use super::borrowed::Take;
use super::io_socket::IoSocket;
use super::readiness::{lock, ReadinessOp};
use crate::driver::context;
use crate::driver::op::keep_fd::KeepFd;
use crate::driver::op::recv::Recv;
use crate::driver::op::Op;
use crate::io::{Interest, IoBufMut};
use crate::task::coop;

/// The read-ahead buffer's size bounds: the caller's room, within these.
const READ_AHEAD_MIN: usize = 4 * 1024;
const READ_AHEAD_MAX: usize = 64 * 1024;

enum ReadState {
    /// Nothing in flight; `spare` is a read-ahead buffer kept for the next one.
    Idle { spare: Option<Vec<u8>> },
    /// Waiting for readiness, then `recv(2)` into the caller's buffer.
    Waiting(ReadinessOp),
    /// A ring `recv` into the read-ahead buffer.
    Receiving(Op<KeepFd<Recv<Vec<u8>>>>),
    /// Bytes read ahead and not yet handed out: `buf[pos..]`.
    Buffered { buf: Vec<u8>, pos: usize },
    /// The read-ahead failed; the next read reports it.
    Failed(io::Error),
}

/// What the read-ahead holds for a reader that is not `poll_read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ahead {
    /// Bytes (or an error) to hand out before anything the kernel still has.
    Holds,
    /// A ring `recv` is in flight: the next bytes to arrive are its.
    InFlight,
    /// Nothing: read from the kernel.
    Empty,
}

/// The state of a socket's poll-based reading, kept between polls.
pub(crate) struct ReadSide {
    state: ReadState,
    /// Everyone waiting for the ring `recv` in flight. A `recv` wakes one waker, but
    /// besides `poll_read` any task may wait for it (`readable`, `peek`...): each
    /// poller joins this list and the `recv` wakes the list, so nobody's
    /// registration replaces another's. Made on first use.
    waiters: Option<Arc<WakeAll>>,
}

/// Wakes every waker it was given, once.
#[derive(Default)]
struct WakeAll(Mutex<Vec<Waker>>);

impl WakeAll {
    fn add(&self, waker: &Waker) {
        let mut list = lock(&self.0);
        if !list.iter().any(|w| w.will_wake(waker)) {
            list.push(waker.clone());
        }
    }
}

impl Wake for WakeAll {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Woken outside the lock, so that a waker that comes straight back to `add`
        // cannot deadlock; the emptied list goes back to keep its allocation.
        let mut list = std::mem::take(&mut *lock(&self.0));
        for waker in list.drain(..) {
            waker.wake();
        }
        let mut slot = lock(&self.0);
        if slot.capacity() == 0 {
            *slot = list;
        }
    }
}

/// Copy up to `dst.len()` bytes of `src` into `dst`; returns how many.
pub(crate) fn copy_out(src: &[u8], dst: &mut [MaybeUninit<u8>]) -> usize {
    let n = src.len().min(dst.len());
    // SAFETY: both ranges are valid for `n` bytes and cannot overlap (the source
    // is the socket's own buffer, the destination the caller's).
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast(), n) };
    n
}

impl ReadSide {
    pub(crate) fn new() -> ReadSide {
        ReadSide {
            state: ReadState::Idle { spare: None },
            waiters: None,
        }
    }

    /// Poll the ring `recv` in flight for `cx` (when given) and for every other
    /// waiter; `None` while it is pending.
    fn poll_receiving(
        &mut self,
        cx: Option<&mut Context<'_>>,
    ) -> Option<(io::Result<usize>, Vec<u8>)> {
        let ReadState::Receiving(op) = &mut self.state else {
            return None;
        };
        let all = self.waiters.get_or_insert_with(Arc::default);
        if let Some(cx) = &cx {
            all.add(cx.waker());
        }
        let waker = Waker::from(all.clone());
        let mut all_cx = Context::from_waker(&waker);
        let result = match cx {
            Some(_) => Pin::new(op).poll(&mut all_cx),
            // A look without a task to wake: no budget to spend either, so a task
            // out of budget still sees a `recv` that is done.
            None => coop::without_budget(|| Pin::new(op).poll(&mut all_cx)),
        };
        match result {
            Poll::Ready(done) => Some(done),
            Poll::Pending => None,
        }
    }

    /// One step of a poll-based read into `dst`: `Ready(n)` with the bytes now
    /// initialised at its start (0: end of stream, or `dst` is empty).
    pub(crate) fn poll_read(
        &mut self,
        io: &IoSocket,
        cx: &mut Context<'_>,
        dst: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        loop {
            if let ReadState::Receiving(_) = self.state {
                let Some(done) = self.poll_receiving(Some(cx)) else {
                    return Poll::Pending;
                };
                if self.received(io, done) {
                    return Poll::Ready(Ok(0));
                }
                continue;
            }
            match std::mem::replace(&mut self.state, ReadState::Idle { spare: None }) {
                ReadState::Buffered { buf, pos } => {
                    let n = copy_out(&buf[pos..], dst);
                    self.consumed(buf, pos + n);
                    return Poll::Ready(Ok(n));
                }
                ReadState::Failed(e) => return Poll::Ready(Err(e)),
                // Taken by the branch above on the next turn.
                ReadState::Receiving(op) => self.state = ReadState::Receiving(op),
                ReadState::Waiting(mut op) => match io.poll_wait(&mut op, cx, Interest::READABLE) {
                    Poll::Pending => {
                        self.state = ReadState::Waiting(op);
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Ready(Ok(_)) => match io.sys_recv(dst, Take::Consume) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            io.cache().clear(Interest::READABLE);
                            self.state = ReadState::Waiting(io.readiness(Interest::READABLE));
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        result => return Poll::Ready(result),
                    },
                },
                ReadState::Idle { spare } => {
                    if dst.is_empty() {
                        self.state = ReadState::Idle { spare };
                        return Poll::Ready(Ok(0));
                    }
                    if context::reads_ahead() {
                        let mut buf = spare.unwrap_or_default();
                        buf.clear();
                        buf.reserve(dst.len().clamp(READ_AHEAD_MIN, READ_AHEAD_MAX));
                        let recv = Recv::new(io.raw(), buf).poll_first(io.drained());
                        self.state = ReadState::Receiving(io.op(recv));
                        continue;
                    }
                    match io.sys_recv(dst, Take::Consume) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            io.cache().clear(Interest::READABLE);
                            self.state = ReadState::Waiting(io.readiness(Interest::READABLE));
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                            self.state = ReadState::Idle { spare };
                        }
                        result => {
                            self.state = ReadState::Idle { spare };
                            return Poll::Ready(result);
                        }
                    }
                }
            }
        }
    }

    /// `buf` was handed out up to `pos`: keep the rest, or keep `buf` as the spare.
    fn consumed(&mut self, buf: Vec<u8>, pos: usize) {
        self.state = if pos < buf.len() {
            ReadState::Buffered { buf, pos }
        } else {
            ReadState::Idle { spare: Some(buf) }
        };
    }

    /// Take a finished ring `recv` into the state; true at the end of the stream.
    fn received(&mut self, io: &IoSocket, (result, buf): (io::Result<usize>, Vec<u8>)) -> bool {
        io.note_received(&result, buf.capacity());
        let end = matches!(result, Ok(0));
        self.state = match result {
            Ok(0) => ReadState::Idle { spare: Some(buf) },
            Ok(_) => ReadState::Buffered { buf, pos: 0 },
            // A kernel whose ring answers `EAGAIN` on non-blocking sockets.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                io.cache().clear(Interest::READABLE);
                ReadState::Waiting(io.readiness(Interest::READABLE))
            }
            Err(e) => ReadState::Failed(e),
        };
        end
    }

    /// Finish a ring `recv` in flight if it is done, waking `cx` (when given) once
    /// it is; then say what the state holds for a reader other than `poll_read`.
    pub(crate) fn settle(&mut self, io: &IoSocket, cx: Option<&mut Context<'_>>) -> Ahead {
        if let ReadState::Receiving(_) = self.state {
            match self.poll_receiving(cx) {
                // The end of the stream stays there for the kernel to report again.
                Some(done) => drop(self.received(io, done)),
                None => return Ahead::InFlight,
            }
        }
        match self.state {
            ReadState::Buffered { .. } | ReadState::Failed(_) => Ahead::Holds,
            _ => Ahead::Empty,
        }
    }

    /// Hand the bytes read ahead to `take`, which returns how many it consumed
    /// and its result; an error the read-ahead met is taken instead. `None` when
    /// nothing is held.
    pub(crate) fn take_with<R>(
        &mut self,
        take: impl FnOnce(&[u8]) -> (usize, R),
    ) -> Option<io::Result<R>> {
        match std::mem::replace(&mut self.state, ReadState::Idle { spare: None }) {
            ReadState::Buffered { buf, pos } => {
                let (n, result) = take(&buf[pos..]);
                self.consumed(buf, pos + n);
                Some(Ok(result))
            }
            ReadState::Failed(e) => Some(Err(e)),
            other => {
                self.state = other;
                None
            }
        }
    }

    /// For the native path: move bytes read ahead (or the error met) into `buf`.
    /// `None` when there is nothing to hand out.
    pub(crate) fn take_into<B: IoBufMut>(&mut self, buf: &mut B) -> Option<io::Result<usize>> {
        self.take_with(|ahead| {
            let room = buf.bytes_total();
            // SAFETY: `stable_mut_ptr` is valid for writes of `bytes_total` bytes
            // (`IoBufMut`); the slice only lives for the copy.
            let dst = unsafe { std::slice::from_raw_parts_mut(buf.stable_mut_ptr().cast(), room) };
            let n = copy_out(ahead, dst);
            // SAFETY: the first `n` bytes were just written.
            unsafe { buf.set_init(n) };
            (n, n)
        })
    }
}

impl IoSocket {
    /// Where the read-ahead stands, for a reader that waits (`readable`, `peek`):
    /// a `recv` in flight wakes `cx` when it lands.
    pub(crate) fn poll_read_ahead(&self, cx: &mut Context<'_>) -> Ahead {
        self.lock_read_side().settle(self, Some(cx))
    }

    /// For a borrowed-buffer read that does not wait (`try_read`, `try_peek`...):
    /// `take` gets the bytes read ahead, if there are any, and returns how many it
    /// consumed (none, to peek). `WouldBlock` while a `recv` is in flight (the next
    /// bytes are its); `None` when the kernel is the place to read.
    pub(crate) fn read_ahead_now<R>(
        &self,
        take: impl FnOnce(&[u8]) -> (usize, R),
    ) -> Option<io::Result<R>> {
        let mut side = self.lock_read_side();
        match side.settle(self, None) {
            Ahead::Holds => side.take_with(take),
            Ahead::InFlight => Some(Err(super::readiness::not_ready())),
            Ahead::Empty => None,
        }
    }
}
