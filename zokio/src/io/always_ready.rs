//! `empty`, `repeat` and `sink`: tokio's readers and writers that are always ready,
//! each call spending one unit of Zokio's cooperative budget first (see
//! `cooperative.rs`), so that a loop over them still lets the other tasks of its
//! worker run. The reading and writing are tokio's; this file must only add the
//! budget.

use std::fmt;
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::cooperative::spend_budget;
use super::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

// The three types share their impls word for word; these macros write each once.

/// `AsyncRead` for a wrapper of one of tokio's always-ready readers: a unit of
/// budget, then tokio's read.
macro_rules! budgeted_read {
    ($ty:ident) => {
        impl AsyncRead for $ty {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                ready!(spend_budget(cx));
                Pin::new(&mut self.inner).poll_read(cx, buf)
            }
        }
    };
}

/// `AsyncWrite` for a wrapper of one of tokio's always-ready writers: a unit of
/// budget before each write, flush and shutdown, then tokio's call.
macro_rules! budgeted_write {
    ($ty:ident) => {
        impl AsyncWrite for $ty {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                ready!(spend_budget(cx));
                Pin::new(&mut self.inner).poll_write(cx, buf)
            }

            fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                ready!(spend_budget(cx));
                Pin::new(&mut self.inner).poll_flush(cx)
            }

            fn poll_shutdown(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                ready!(spend_budget(cx));
                Pin::new(&mut self.inner).poll_shutdown(cx)
            }

            fn poll_write_vectored(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                ready!(spend_budget(cx));
                Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                self.inner.is_write_vectored()
            }
        }
    };
}

/// `Debug` that shows the wrapped tokio value.
macro_rules! debug_as_inner {
    ($ty:ident) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }
    };
}

/// A reader at its end and a writer that takes everything; made by [`empty`].
pub struct Empty {
    inner: tokio::io::Empty,
}

/// A reader that is always at its end (reads give 0 bytes) and a writer that
/// accepts and drops every byte, as `tokio::io::empty`.
pub fn empty() -> Empty {
    Empty {
        inner: tokio::io::empty(),
    }
}

budgeted_read!(Empty);

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(spend_budget(cx));
        Pin::new(&mut self.get_mut().inner).poll_fill_buf(cx)
    }

    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.inner).consume(amt)
    }
}

budgeted_write!(Empty);

impl AsyncSeek for Empty {
    fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        Pin::new(&mut self.inner).start_seek(position)
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        ready!(spend_budget(cx));
        Pin::new(&mut self.inner).poll_complete(cx)
    }
}

debug_as_inner!(Empty);

/// A reader that gives one byte over and over; made by [`repeat`].
pub struct Repeat {
    inner: tokio::io::Repeat,
}

/// A reader that fills every read with `byte` and never ends, as
/// `tokio::io::repeat`.
pub fn repeat(byte: u8) -> Repeat {
    Repeat {
        inner: tokio::io::repeat(byte),
    }
}

budgeted_read!(Repeat);
debug_as_inner!(Repeat);

/// A writer that drops every byte; made by [`sink`].
pub struct Sink {
    inner: tokio::io::Sink,
}

/// A writer that accepts every byte and drops it, as `tokio::io::sink`.
pub fn sink() -> Sink {
    Sink {
        inner: tokio::io::sink(),
    }
}

budgeted_write!(Sink);
debug_as_inner!(Sink);
