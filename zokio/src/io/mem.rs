//! `duplex` and `simplex`: tokio's in-memory pipes, whose reads and writes spend
//! Zokio's cooperative budget where tokio's spend tokio's (a unit per call, given
//! back when the call ends `Pending`). The buffering and waking are tokio's; this
//! file must only add the budget.

use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{split, AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};
use crate::task::coop;

/// Run one read or write of a pipe under the budget: a unit is taken first and
/// kept only if the call completed.
fn budgeted<T>(cx: &mut Context<'_>, call: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> Poll<T> {
    let unit = ready!(coop::poll_proceed(cx));
    let result = call(cx);
    if result.is_ready() {
        unit.made_progress();
    }
    result
}

/// Writes the `AsyncRead`, `AsyncWrite` and `Debug` impls of a pipe wrapping tokio's:
/// reads and writes go through `budgeted`, flush and shutdown spend nothing. Both
/// pipes need exactly the same impls, and a macro is how one body serves two types.
macro_rules! budgeted_pipe_io {
    ($pipe:ident) => {
        impl AsyncRead for $pipe {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                budgeted(cx, |cx| Pin::new(&mut self.inner).poll_read(cx, buf))
            }
        }

        impl AsyncWrite for $pipe {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                budgeted(cx, |cx| Pin::new(&mut self.inner).poll_write(cx, buf))
            }

            fn poll_write_vectored(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                budgeted(cx, |cx| {
                    Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
                })
            }

            fn is_write_vectored(&self) -> bool {
                self.inner.is_write_vectored()
            }

            fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.inner).poll_flush(cx)
            }

            fn poll_shutdown(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                Pin::new(&mut self.inner).poll_shutdown(cx)
            }
        }

        impl fmt::Debug for $pipe {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }
    };
}

/// One end of an in-memory, two-way pipe; made in pairs by [`duplex`].
///
/// What one end writes the other reads. Each direction holds at most the
/// `max_buf_size` given to [`duplex`]: a write waits while it is full, a read while
/// it is empty. Shutting an end down ends what the other end reads (0, once the
/// buffered bytes are read); dropping an end also makes the other end's writes
/// fail with `BrokenPipe`.
pub struct DuplexStream {
    inner: tokio::io::DuplexStream,
}

/// Two connected [`DuplexStream`]s, each direction buffering up to `max_buf_size`
/// bytes, as `tokio::io::duplex`.
///
/// An in-memory stand-in for a socket in tests: code written for
/// `AsyncRead + AsyncWrite` runs against it with no network.
///
/// # Examples
///
/// ```
/// # let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// use zokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// let (mut client, mut server) = zokio::io::duplex(64);
/// zokio::spawn(async move {
///     let mut request = [0u8; 4];
///     server.read_exact(&mut request).await.unwrap();
///     server.write_all(b"pong").await.unwrap();
/// });
/// client.write_all(b"ping").await.unwrap();
/// let mut reply = [0u8; 4];
/// client.read_exact(&mut reply).await.unwrap();
/// assert_eq!(&reply, b"pong");
/// # });
/// ```
///
/// # Panics
/// If `max_buf_size` is 0 (tokio's condition: such a pipe could never move a byte).
#[track_caller]
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let (a, b) = tokio::io::duplex(max_buf_size);
    (DuplexStream { inner: a }, DuplexStream { inner: b })
}

budgeted_pipe_io!(DuplexStream);

/// An in-memory, one-way pipe: what is written is read back in order, at most
/// `max_buf_size` bytes buffered. Made whole by [`SimplexStream::new_unsplit`], or
/// as two halves by [`simplex`].
pub struct SimplexStream {
    inner: tokio::io::SimplexStream,
}

impl SimplexStream {
    /// A pipe that buffers up to `max_buf_size` bytes, as one value that is both the
    /// reader and the writer (split it with [`split`] to use the ends apart).
    ///
    /// # Panics
    /// If `max_buf_size` is 0, as tokio's.
    #[track_caller]
    pub fn new_unsplit(max_buf_size: usize) -> SimplexStream {
        SimplexStream {
            inner: tokio::io::SimplexStream::new_unsplit(max_buf_size),
        }
    }
}

/// A one-way pipe buffering up to `max_buf_size` bytes, as its reading and writing
/// halves, as `tokio::io::simplex`.
///
/// # Panics
/// If `max_buf_size` is 0, as tokio's.
#[track_caller]
pub fn simplex(max_buf_size: usize) -> (ReadHalf<SimplexStream>, WriteHalf<SimplexStream>) {
    split(SimplexStream::new_unsplit(max_buf_size))
}

budgeted_pipe_io!(SimplexStream);
