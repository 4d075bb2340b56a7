//! The poll-based I/O traits on Zokio's streams: tokio's `AsyncRead`/`AsyncWrite`
//! (feature `tokio-io`, on by default) and futures' (feature `futures-io`), so that
//! hyper, codecs and TLS crates run over Zokio's sockets unchanged.
//!
//! Reads read ahead on io_uring and IOCP and use readiness on epoll
//! (`read_ahead.rs`); writes try `send(2)` and wait for readiness when it would
//! block, except on Windows, where a full send buffer hands the bytes to a send of
//! the socket's own (`send_behind.rs`), which flushing waits for. A borrowed buffer
//! is only ever used by a synchronous call or a copy, never handed to the kernel to
//! keep. Elsewhere writes complete at once and so need no flushing. This file must never add
//! behaviour of its own: each impl forwards to the socket.

// Without either trait feature the traits are not built, and their plumbing is idle.
#![cfg_attr(
    not(any(feature = "tokio-io", feature = "futures-io")),
    allow(dead_code, unused_imports)
)]

use std::io;
use std::task::{Context, Poll};

use super::io_socket::IoSocket;
#[cfg(unix)]
use super::readiness::Direction;

impl IoSocket {
    #[cfg(feature = "futures-io")]
    pub(crate) fn poll_read_slice(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_uninit(cx, super::borrowed::as_uninit(buf))
    }

    pub(crate) fn poll_write_slice(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        #[cfg(unix)]
        return self.poll_io(cx, Direction::Write, || self.sys_send(buf));
        #[cfg(windows)]
        self.poll_write_behind(cx, buf)
    }

    pub(crate) fn poll_write_slices(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        #[cfg(unix)]
        return self.poll_io(cx, Direction::Write, || self.sys_send_vectored(bufs));
        // Windows: the first non-empty slice, through `poll_write` (vectored sends
        // save little where a full buffer hands the bytes over anyway).
        #[cfg(windows)]
        {
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            self.poll_write_behind(cx, first)
        }
    }

    /// Wait until every byte reported written is with the system: on Windows a
    /// send of the socket's own may still hold some (`send_behind.rs`); elsewhere
    /// writes are done when they return.
    pub(crate) fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        #[cfg(unix)]
        {
            let _ = cx;
            Poll::Ready(Ok(()))
        }
        #[cfg(windows)]
        self.behind().poll_idle(self, cx)
    }

    /// Flush, then shut the write direction down.
    pub(crate) fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_flush(cx))?;
        Poll::Ready(self.shutdown_write())
    }

    /// Shut the write direction down; the peer then reads end of stream.
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self.sock().shutdown(std::net::Shutdown::Write) {
            // Already reset by the peer: there is nothing left to shut down.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            result => result,
        }
    }

    #[cfg(feature = "tokio-io")]
    pub(crate) fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut pending = false;
        let result =
            super::borrowed::fill_read_buf(buf, |dst| match self.poll_read_uninit(cx, dst) {
                Poll::Ready(result) => result.map(|n| (n, ())),
                Poll::Pending => {
                    pending = true;
                    Ok((0, ()))
                }
            });
        if pending {
            return Poll::Pending;
        }
        Poll::Ready(result)
    }
}

/// Implement both trait families for a reading type and a writing type whose socket
/// `$io` reaches.
macro_rules! poll_read_impls {
    ([$($gen:tt)*] $ty:ty, |$s:ident| $io:expr) => {
        #[cfg(feature = "tokio-io")]
        impl<$($gen)*> tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = &*self;
                $io.poll_read_buf(cx, buf)
            }
        }

        #[cfg(feature = "futures-io")]
        impl<$($gen)*> futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $io.poll_read_slice(cx, buf)
            }
        }
    };
}

macro_rules! poll_write_impls {
    ([$($gen:tt)*] $ty:ty, |$s:ident| $io:expr) => {
        #[cfg(feature = "tokio-io")]
        impl<$($gen)*> tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $io.poll_write_slice(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $io.poll_write_slices(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = &*self;
                $io.poll_flush(cx)
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = &*self;
                $io.poll_shutdown(cx)
            }
        }

        #[cfg(feature = "futures-io")]
        impl<$($gen)*> futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $io.poll_write_slice(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $io.poll_write_slices(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = &*self;
                $io.poll_flush(cx)
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = &*self;
                $io.poll_shutdown(cx)
            }
        }
    };
}

use super::split::sealed::Stream;
use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::tcp::TcpStream;
#[cfg(unix)]
use super::unix::UnixStream;

poll_read_impls!([] TcpStream, |s| s.io());
poll_write_impls!([] TcpStream, |s| s.io());
#[cfg(unix)]
poll_read_impls!([] UnixStream, |s| s.io());
#[cfg(unix)]
poll_write_impls!([] UnixStream, |s| s.io());
poll_read_impls!(['a, S: Stream] ReadHalf<'a, S>, |s| s.stream().io());
poll_write_impls!(['a, S: Stream] WriteHalf<'a, S>, |s| s.stream().io());
poll_read_impls!([S: Stream] OwnedReadHalf<S>, |s| s.stream().io());
poll_write_impls!([S: Stream] OwnedWriteHalf<S>, |s| s.stream().io());
