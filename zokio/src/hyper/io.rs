//! `ZokioIo<T>`: the bridge between tokio's I/O traits, which Zokio's sockets
//! implement, and hyper's own `rt::Read`/`rt::Write`, in both directions.
//!
//! Wrap a Zokio `TcpStream` (or anything `tokio::io::AsyncRead + AsyncWrite`) to hand
//! it to hyper; wrap something hyper gives back (an upgraded connection, say) to use
//! it as tokio I/O. `hyper_util::rt::TokioIo` works just as well on Zokio's sockets,
//! since they implement tokio's traits; this type only saves the dependency.
//!
//! It only forwards each call to the inner value: it must never buffer, nor read or
//! write on its own.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Adapts tokio I/O to hyper's I/O traits, and hyper I/O to tokio's.
///
/// ```
/// # async fn f(stream: zokio::net::TcpStream) {
/// let io = zokio::hyper::ZokioIo::new(stream);
/// // hand `io` to `hyper::server::conn::http1::Builder::serve_connection`, or to
/// // `hyper::client::conn::http1::handshake`
/// # drop(io);
/// # }
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct ZokioIo<T> {
    inner: T,
}

impl<T> ZokioIo<T> {
    /// Wrap `inner`.
    pub fn new(inner: T) -> ZokioIo<T> {
        ZokioIo { inner }
    }

    /// The wrapped value.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped value, mutably.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwrap, giving back the wrapped value.
    pub fn into_inner(self) -> T {
        self.inner
    }

    fn pinned(self: Pin<&mut Self>) -> Pin<&mut T> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of a pinned
        // `ZokioIo` (`into_inner` takes `self` by value, `inner_mut` needs `&mut self`,
        // which a pinned `ZokioIo` only gives when `T: Unpin`), and `ZokioIo` has no
        // `Drop` of its own.
        unsafe { self.map_unchecked_mut(|io| &mut io.inner) }
    }
}

/// tokio I/O read through hyper's trait.
impl<T: tokio::io::AsyncRead> ::hyper::rt::Read for ZokioIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ::hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: the tokio `ReadBuf` only ever initialises the bytes it is handed,
        // so the cursor's unfilled part stays valid whatever it writes.
        let unfilled = unsafe { buf.as_mut() };
        let mut tokio_buf = tokio::io::ReadBuf::uninit(unfilled);
        match tokio::io::AsyncRead::poll_read(self.pinned(), cx, &mut tokio_buf) {
            Poll::Ready(Ok(())) => {
                let n = tokio_buf.filled().len();
                // SAFETY: tokio's `ReadBuf` vouches that its first `n` bytes, the
                // cursor's next `n`, are initialised.
                unsafe { buf.advance(n) };
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

/// tokio I/O written through hyper's trait.
impl<T: tokio::io::AsyncWrite> ::hyper::rt::Write for ZokioIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(self.pinned(), cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_flush(self.pinned(), cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_shutdown(self.pinned(), cx)
    }

    fn is_write_vectored(&self) -> bool {
        tokio::io::AsyncWrite::is_write_vectored(&self.inner)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write_vectored(self.pinned(), cx, bufs)
    }
}

/// hyper I/O read through tokio's trait.
impl<T: ::hyper::rt::Read> tokio::io::AsyncRead for ZokioIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let filled = buf.filled().len();
        // SAFETY: hyper's `ReadBuf` only ever initialises the bytes it is handed.
        let unfilled = unsafe { buf.unfilled_mut() };
        let mut hyper_buf = ::hyper::rt::ReadBuf::uninit(unfilled);
        let n = match ::hyper::rt::Read::poll_read(self.pinned(), cx, hyper_buf.unfilled()) {
            Poll::Ready(Ok(())) => hyper_buf.filled().len(),
            other => return other,
        };
        // SAFETY: hyper's `ReadBuf` vouches that its first `n` bytes, the tokio
        // buffer's next `n`, are initialised.
        unsafe { buf.assume_init(n) };
        buf.set_filled(filled + n);
        Poll::Ready(Ok(()))
    }
}

/// hyper I/O written through tokio's trait.
impl<T: ::hyper::rt::Write> tokio::io::AsyncWrite for ZokioIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ::hyper::rt::Write::poll_write(self.pinned(), cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ::hyper::rt::Write::poll_flush(self.pinned(), cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ::hyper::rt::Write::poll_shutdown(self.pinned(), cx)
    }

    fn is_write_vectored(&self) -> bool {
        ::hyper::rt::Write::is_write_vectored(&self.inner)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ::hyper::rt::Write::poll_write_vectored(self.pinned(), cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::poll_fn;

    /// Read all of `io` through hyper's trait, `chunk` bytes at a time.
    async fn read_all_hyper<R: ::hyper::rt::Read + Unpin>(io: &mut R, chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let mut storage = vec![0u8; chunk];
            let mut buf = ::hyper::rt::ReadBuf::new(&mut storage);
            poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, buf.unfilled()))
                .await
                .unwrap();
            if buf.filled().is_empty() {
                return out;
            }
            out.extend_from_slice(buf.filled());
        }
    }

    #[test]
    fn tokio_io_reads_and_writes_through_hyper_traits() {
        futures::executor::block_on(async {
            let mut reader = ZokioIo::new(&b"hello, hyper"[..]);
            assert_eq!(read_all_hyper(&mut reader, 5).await, b"hello, hyper");

            let mut writer = ZokioIo::new(Vec::new());
            let n = poll_fn(|cx| ::hyper::rt::Write::poll_write(Pin::new(&mut writer), cx, b"abc"))
                .await
                .unwrap();
            assert_eq!(n, 3);
            let slices = [io::IoSlice::new(b"de"), io::IoSlice::new(b"f")];
            let n = poll_fn(|cx| {
                ::hyper::rt::Write::poll_write_vectored(Pin::new(&mut writer), cx, &slices)
            })
            .await
            .unwrap();
            assert_eq!(n, 3);
            poll_fn(|cx| ::hyper::rt::Write::poll_flush(Pin::new(&mut writer), cx))
                .await
                .unwrap();
            poll_fn(|cx| ::hyper::rt::Write::poll_shutdown(Pin::new(&mut writer), cx))
                .await
                .unwrap();
            assert_eq!(writer.inner(), b"abcdef");
            assert_eq!(writer.into_inner(), b"abcdef");
        });
    }

    #[test]
    fn hyper_io_reads_and_writes_through_tokio_traits() {
        futures::executor::block_on(async {
            // Twice wrapped: tokio -> hyper -> tokio.
            let mut reader = ZokioIo::new(ZokioIo::new(&b"round trip"[..]));
            let mut storage = [0u8; 32];
            let mut buf = tokio::io::ReadBuf::new(&mut storage);
            buf.put_slice(b">");
            loop {
                let before = buf.filled().len();
                poll_fn(|cx| tokio::io::AsyncRead::poll_read(Pin::new(&mut reader), cx, &mut buf))
                    .await
                    .unwrap();
                if buf.filled().len() == before {
                    break;
                }
            }
            assert_eq!(buf.filled(), b">round trip");

            let mut writer = ZokioIo::new(ZokioIo::new(Vec::new()));
            let n =
                poll_fn(|cx| tokio::io::AsyncWrite::poll_write(Pin::new(&mut writer), cx, b"xyz"))
                    .await
                    .unwrap();
            assert_eq!(n, 3);
            poll_fn(|cx| tokio::io::AsyncWrite::poll_flush(Pin::new(&mut writer), cx))
                .await
                .unwrap();
            poll_fn(|cx| tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut writer), cx))
                .await
                .unwrap();
            assert_eq!(writer.into_inner().into_inner(), b"xyz");
        });
    }
}
