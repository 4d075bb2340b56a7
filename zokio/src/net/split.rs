//! The halves a stream splits into, shared by TCP and Unix streams (`tcp::ReadHalf`
//! and friends are these types for `TcpStream`). Borrowed halves come from
//! `split(&mut self)`; owned halves from `into_split(self)` share the stream through
//! an `Arc` and can move to different tasks. Dropping an `OwnedWriteHalf` shuts the
//! write direction down, as in tokio. Nothing here may read from a write half or
//! write to a read half.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::sync::Arc;

use bytes::BufMut;

use super::borrowed::{as_uninit, fill_buf_mut, Take};
use super::io_socket::IoSocket;
use crate::io::{BufResult, Interest, IoBuf, IoBufMut, Ready};

pub(crate) mod sealed {
    /// A stream that can be split: it exposes its socket.
    pub trait Stream: Send + Sync + 'static {
        #[doc(hidden)]
        fn io(&self) -> &super::IoSocket;
    }
}

use sealed::Stream;

/// The reading half of a stream borrowed by `split`.
pub struct ReadHalf<'a, S>(pub(crate) &'a S);
/// The writing half of a stream borrowed by `split`.
pub struct WriteHalf<'a, S>(pub(crate) &'a S);

/// The reading half of a stream taken by `into_split`.
pub struct OwnedReadHalf<S>(pub(crate) Arc<S>);

/// The writing half of a stream taken by `into_split`. Dropping it shuts the write
/// direction down (the peer reads end of stream), unless `forget` was called.
pub struct OwnedWriteHalf<S: Stream> {
    pub(crate) stream: Arc<S>,
    pub(crate) shutdown_on_drop: bool,
}

pub(crate) fn split_owned<S: Stream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let stream = Arc::new(stream);
    (
        OwnedReadHalf(stream.clone()),
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        },
    )
}

/// `reunite` was given halves of two different streams; both come back.
pub struct ReuniteError<S: Stream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: Stream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: Stream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the two halves given to `reunite` come from different streams")
    }
}

impl<S: Stream> std::error::Error for ReuniteError<S> {}

impl<S: Stream> OwnedReadHalf<S> {
    /// Put the stream back together; fails if the halves are not from one stream.
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.0, &other.stream) {
            return Err(ReuniteError(self, other));
        }
        let stream = other.forget_shutdown();
        drop(self);
        Ok(Arc::try_unwrap(stream)
            .unwrap_or_else(|_| unreachable!("both halves were given, so no other owner is left")))
    }
}

impl<S: Stream> OwnedWriteHalf<S> {
    /// Put the stream back together; fails if the halves are not from one stream.
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        other.reunite(self)
    }

    /// Drop the half without shutting the write direction down.
    pub fn forget(self) {
        drop(self.forget_shutdown());
    }

    fn forget_shutdown(mut self) -> Arc<S> {
        self.shutdown_on_drop = false;
        self.stream.clone()
    }
}

impl<S: Stream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // Best effort, as in tokio: the peer may already be gone.
            let _ = self.stream.io().sock().shutdown(Shutdown::Write);
        }
    }
}

macro_rules! native_read {
    () => {
        /// Wait until the stream is ready for `interest` (see `TcpStream::ready`).
        pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
            self.stream().io().ready(interest).await
        }

        /// Wait until a read would not block (see `TcpStream::ready`).
        pub async fn readable(&self) -> io::Result<()> {
            self.ready(Interest::READABLE).await.map(|_| ())
        }

        /// Read what is there without waiting; `WouldBlock` if nothing is.
        pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.stream().io().read_now(as_uninit(buf), Take::Consume)
        }

        /// [`try_read`](Self::try_read) into several buffers, filled in order.
        pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
            self.stream().io().read_vectored_now(bufs)
        }

        /// [`try_read`](Self::try_read) into the spare room of `buf`, advancing it.
        pub fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
            fill_buf_mut(buf, |dst| {
                let n = self.stream().io().read_now(dst, Take::Consume)?;
                Ok((n, n))
            })
        }

        /// Read into `buf` (at most its capacity) with the native owned-buffer path.
        pub async fn read_owned<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
            self.stream().io().recv_owned(buf).await
        }

        /// Fill `buf` to its capacity; `UnexpectedEof` if the stream ends first.
        pub async fn read_exact_owned<B: IoBufMut>(&self, buf: B) -> BufResult<(), B> {
            self.stream().io().recv_exact_owned(buf).await
        }
    };
}

macro_rules! native_write {
    () => {
        /// Wait until the stream is ready for `interest` (see `TcpStream::ready`).
        pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
            self.stream().io().ready(interest).await
        }

        /// Wait until a write would not block (see `TcpStream::ready`).
        pub async fn writable(&self) -> io::Result<()> {
            self.ready(Interest::WRITABLE).await.map(|_| ())
        }

        /// Write what fits without waiting; `WouldBlock` if nothing does.
        pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
            self.stream().io().write_now(buf)
        }

        /// [`try_write`](Self::try_write) of several buffers, in order.
        pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
            self.stream().io().write_vectored_now(bufs)
        }

        /// Write some of `buf`'s bytes with the native owned-buffer path.
        pub async fn write_owned<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
            self.stream().io().send_owned(buf, false).await
        }

        /// Write all of `buf`'s bytes.
        pub async fn write_all_owned<B: IoBuf>(&self, buf: B) -> BufResult<(), B> {
            self.stream().io().send_all_owned(buf).await
        }
    };
}

impl<S: Stream> ReadHalf<'_, S> {
    pub(crate) fn stream(&self) -> &S {
        self.0
    }
    native_read!();
}

impl<S: Stream> WriteHalf<'_, S> {
    pub(crate) fn stream(&self) -> &S {
        self.0
    }
    native_write!();
}

impl<S: Stream> OwnedReadHalf<S> {
    pub(crate) fn stream(&self) -> &S {
        &self.0
    }
    native_read!();
}

impl<S: Stream> OwnedWriteHalf<S> {
    pub(crate) fn stream(&self) -> &S {
        &self.stream
    }
    native_write!();
}

impl<S: Stream> AsRef<S> for ReadHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.0
    }
}

impl<S: Stream> AsRef<S> for WriteHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.0
    }
}

impl<S: Stream> AsRef<S> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &S {
        &self.0
    }
}

impl<S: Stream> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S> fmt::Debug for ReadHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReadHalf(..)")
    }
}
impl<S> fmt::Debug for WriteHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriteHalf(..)")
    }
}
impl<S> fmt::Debug for OwnedReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnedReadHalf(..)")
    }
}
impl<S: Stream> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnedWriteHalf(..)")
    }
}
