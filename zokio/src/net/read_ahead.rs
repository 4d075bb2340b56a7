//! The poll-based read side of a stream socket (`AsyncRead::poll_read`).
//!
//! On io_uring it reads ahead: when the caller finds nothing buffered, a ring
//! `recv` goes out into a buffer the socket owns, and the bytes are copied out when
//! it completes. So a read that has to wait costs no system call of its own (no
//! `EAGAIN` attempt, no readiness round trip), and the kernel's buffer is never the
//! caller's borrowed one. On epoll (and on a ring that answers `EAGAIN`) it is
//! readiness: try `recv(2)` into the caller's buffer, else wait and try again.
//!
//! Bytes read ahead are handed out before anything else, including to the native
//! `read_owned` path, so mixing the two interfaces never reorders or drops data;
//! nor is an error the read-ahead met dropped. Must never block, and never let the
//! kernel write into a borrowed buffer.

// Without either trait feature nothing reads through here.
#![cfg_attr(
    not(any(feature = "tokio-io", feature = "futures-io")),
    allow(dead_code)
)]

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::io_socket::IoSocket;
use crate::driver::context;
use crate::driver::op::keep_fd::KeepFd;
use crate::driver::op::poll::PollReady;
use crate::driver::op::recv::Recv;
use crate::driver::op::Op;
use crate::io::{Interest, IoBufMut};

/// The read-ahead buffer's size bounds: the caller's room, within these.
const READ_AHEAD_MIN: usize = 4 * 1024;
const READ_AHEAD_MAX: usize = 64 * 1024;

pub(crate) enum ReadSide {
    /// Nothing in flight; `spare` is a read-ahead buffer kept for the next one.
    Idle { spare: Option<Vec<u8>> },
    /// Waiting for readiness, then `recv(2)` into the caller's buffer.
    Waiting(Op<KeepFd<PollReady>>),
    /// A ring `recv` into the read-ahead buffer.
    Receiving(Op<KeepFd<Recv<Vec<u8>>>>),
    /// Bytes read ahead and not yet handed out: `buf[pos..]`.
    Buffered { buf: Vec<u8>, pos: usize },
    /// The read-ahead failed; the next read reports it.
    Failed(io::Error),
}

impl ReadSide {
    pub(crate) fn new() -> ReadSide {
        ReadSide::Idle { spare: None }
    }
}

/// Copy up to `dst.len()` bytes of `src` into `dst`; returns how many.
fn copy_out(src: &[u8], dst: &mut [MaybeUninit<u8>]) -> usize {
    let n = src.len().min(dst.len());
    // SAFETY: both ranges are valid for `n` bytes and cannot overlap (the source
    // is the socket's own buffer, the destination the caller's).
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast(), n) };
    n
}

impl ReadSide {
    /// One step of a poll-based read into `dst`: `Ready(n)` with the bytes now
    /// initialised at its start (0: end of stream, or `dst` is empty).
    pub(crate) fn poll_read(
        &mut self,
        io: &IoSocket,
        cx: &mut Context<'_>,
        dst: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        loop {
            match std::mem::replace(self, ReadSide::new()) {
                ReadSide::Buffered { buf, pos } => {
                    let n = copy_out(&buf[pos..], dst);
                    *self = if pos + n < buf.len() {
                        ReadSide::Buffered { buf, pos: pos + n }
                    } else {
                        ReadSide::Idle { spare: Some(buf) }
                    };
                    return Poll::Ready(Ok(n));
                }
                ReadSide::Failed(e) => return Poll::Ready(Err(e)),
                ReadSide::Receiving(mut op) => match Pin::new(&mut op).poll(cx) {
                    Poll::Pending => {
                        *self = ReadSide::Receiving(op);
                        return Poll::Pending;
                    }
                    Poll::Ready(done) => {
                        if self.received(io, done) {
                            return Poll::Ready(Ok(0));
                        }
                    }
                },
                ReadSide::Waiting(mut op) => match Pin::new(&mut op).poll(cx) {
                    Poll::Pending => {
                        *self = ReadSide::Waiting(op);
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Ready(Ok(_)) => match io.try_recv_uninit(dst) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            *self = ReadSide::Waiting(io.readiness(Interest::READABLE));
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        result => return Poll::Ready(result),
                    },
                },
                ReadSide::Idle { spare } => {
                    if dst.is_empty() {
                        *self = ReadSide::Idle { spare };
                        return Poll::Ready(Ok(0));
                    }
                    if context::on_ring() {
                        let mut buf = spare.unwrap_or_default();
                        buf.clear();
                        buf.reserve(dst.len().clamp(READ_AHEAD_MIN, READ_AHEAD_MAX));
                        let recv = Recv::new(io.raw(), buf).poll_first(io.drained());
                        *self = ReadSide::Receiving(io.op(recv));
                        continue;
                    }
                    match io.try_recv_uninit(dst) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            *self = ReadSide::Waiting(io.readiness(Interest::READABLE));
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                            *self = ReadSide::Idle { spare };
                        }
                        result => {
                            *self = ReadSide::Idle { spare };
                            return Poll::Ready(result);
                        }
                    }
                }
            }
        }
    }

    /// Take a finished ring `recv` into the state; true at the end of the stream.
    fn received(&mut self, io: &IoSocket, (result, buf): (io::Result<usize>, Vec<u8>)) -> bool {
        io.note_received(&result, buf.capacity());
        let end = matches!(result, Ok(0));
        *self = match result {
            Ok(0) => ReadSide::Idle { spare: Some(buf) },
            Ok(_) => ReadSide::Buffered { buf, pos: 0 },
            // A kernel whose ring answers `EAGAIN` on non-blocking sockets.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                ReadSide::Waiting(io.readiness(Interest::READABLE))
            }
            Err(e) => ReadSide::Failed(e),
        };
        end
    }

    /// For the native path: finish a read-ahead still in flight, so that what it
    /// brings is handed out first.
    pub(crate) fn poll_settle(&mut self, io: &IoSocket, cx: &mut Context<'_>) -> Poll<()> {
        if let ReadSide::Receiving(op) = self {
            let done = std::task::ready!(Pin::new(op).poll(cx));
            // The end of the stream stays there for the native read to find again.
            let _ = self.received(io, done);
        }
        Poll::Ready(())
    }

    /// For the native path: move bytes read ahead (or the error met) into `buf`.
    /// `None` when there is nothing to hand out.
    pub(crate) fn take_into<B: IoBufMut>(&mut self, buf: &mut B) -> Option<io::Result<usize>> {
        match std::mem::replace(self, ReadSide::new()) {
            ReadSide::Buffered { buf: ahead, pos } => {
                let room = buf.bytes_total();
                // SAFETY: `stable_mut_ptr` is valid for writes of `bytes_total` bytes
                // (`IoBufMut`); the slice only lives for the copy.
                let dst =
                    unsafe { std::slice::from_raw_parts_mut(buf.stable_mut_ptr().cast(), room) };
                let n = copy_out(&ahead[pos..], dst);
                // SAFETY: the first `n` bytes were just written.
                unsafe { buf.set_init(n) };
                *self = if pos + n < ahead.len() {
                    ReadSide::Buffered {
                        buf: ahead,
                        pos: pos + n,
                    }
                } else {
                    ReadSide::Idle { spare: Some(ahead) }
                };
                Some(Ok(n))
            }
            ReadSide::Failed(e) => Some(Err(e)),
            other => {
                *self = other;
                None
            }
        }
    }
}
