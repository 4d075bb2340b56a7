//! `TcpStream`: a TCP connection. It offers both I/O interfaces: the native
//! owned-buffer methods (`read_owned`, `write_all_owned`...), which are ring
//! operations on io_uring, and the poll-based `AsyncRead`/`AsyncWrite` traits (see
//! `net/poll_traits.rs`). No inherent method here may take the name of a method of
//! tokio's `AsyncReadExt`/`AsyncWriteExt`, so tokio code calling those compiles
//! unchanged.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BufMut;
use tokio::io::ReadBuf;

use super::socket::{inet, TcpSocket};
use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::io::{BufResult, Interest, IoBuf, IoBufMut, Ready};
use crate::net::addr::{resolve, try_each, ToSocketAddrs};
use crate::net::borrowed::{as_uninit, fill_buf_mut, fill_read_buf, Take};
use crate::net::io_socket::IoSocket;
use crate::net::readiness::Direction;
use crate::net::split::{self, sealed::Stream};

/// A TCP connection.
pub struct TcpStream {
    io: IoSocket,
}

impl TcpStream {
    /// Connect to `addr`, trying each of its addresses in turn. A closed port gives
    /// `ConnectionRefused`, naming the address.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let addrs = resolve(&addr).await?;
        try_each(addrs, |addr| async move {
            TcpSocket::new_for(&addr)?.connect(addr).await
        })
        .await
    }

    pub(crate) fn from_socket(io: IoSocket) -> TcpStream {
        TcpStream { io }
    }

    /// A stream `accept` returned: assumed readable and writable, as in tokio, so
    /// its first read and write try the socket without waiting for readiness (a
    /// wrong guess costs one `WouldBlock`).
    pub(crate) fn from_accepted(io: IoSocket) -> TcpStream {
        TcpStream {
            io: io.assume_ready(&[Direction::Read, Direction::Write]),
        }
    }

    /// Wrap a connected `std` stream; it is switched to non-blocking mode.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: IoSocket::new(stream.into())?,
        })
    }

    /// Hand the stream back to `std` (still in non-blocking mode, as in tokio).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.io.into_fd()?.into())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        inet(self.io.sock().local_addr()?)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        inet(self.io.sock().peer_addr()?)
    }

    /// Disable (or enable) Nagle's algorithm (`TCP_NODELAY`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.sock().set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.sock().tcp_nodelay()
    }

    /// Set `SO_LINGER`: how long closing the stream may wait for unsent data to go
    /// out (`None`: it does not wait, the kernel sends in the background).
    ///
    /// Deprecated, as in tokio: with a non-zero duration, the `close(2)` of a
    /// dropped stream blocks the worker thread until the data is out or the time
    /// is up. [`set_zero_linger`](Self::set_zero_linger) is the useful case.
    #[deprecated = "`SO_LINGER` causes the socket to block the thread on drop"]
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.io.sock().set_linger(linger)
    }

    /// Set `SO_LINGER` to zero: closing the stream discards unsent data and
    /// resets the connection (the peer's next read fails with `ConnectionReset`)
    /// instead of closing it gracefully. Never blocks.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.io.sock().set_linger(Some(Duration::ZERO))
    }

    /// `SO_LINGER`: `None` when closing does not wait.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.io.sock().linger()
    }

    /// Whether `TCP_QUICKACK` is on: acknowledgements go out at once instead of
    /// being delayed. Linux turns it off again on its own; see `tcp(7)`.
    ///
    /// Linux and Android only: other systems have no `TCP_QUICKACK`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn quickack(&self) -> io::Result<bool> {
        self.io.sock().tcp_quickack()
    }

    /// Set `TCP_QUICKACK` (see [`quickack`](Self::quickack)).
    ///
    /// Linux and Android only: other systems have no `TCP_QUICKACK`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn set_quickack(&self, quickack: bool) -> io::Result<()> {
        self.io.sock().set_tcp_quickack(quickack)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.sock().ttl_v4()
    }

    /// Set the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.sock().set_ttl_v4(ttl)
    }

    stream_methods!();

    /// Look at incoming bytes without taking them, waiting until there are some;
    /// the next read returns them again. `Ok(0)`: the peer closed its side.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .io(Interest::READABLE, || {
                self.io.read_now(as_uninit(buf), Take::Peek)
            })
            .await
    }

    /// Poll-based [`peek`](Self::peek): the bytes looked at fill `buf`, and their
    /// count is the result. Only the task of the latest call (or of `poll_read`,
    /// `poll_read_ready`) is woken.
    pub fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, || {
            fill_read_buf(buf, |dst| {
                let n = self.io.read_now(dst, Take::Peek)?;
                Ok((n, n))
            })
        })
    }
}

macro_rules! peek_methods {
    ($($half:ty),*) => {$(
        impl $half {
            /// Look at incoming bytes without taking them, waiting until there are
            /// some (see [`TcpStream::peek`]).
            pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.stream().peek(buf).await
            }

            /// Poll-based [`peek`](Self::peek) (see [`TcpStream::poll_peek`]).
            pub fn poll_peek(
                &mut self,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<usize>> {
                self.stream().poll_peek(cx, buf)
            }
        }
    )*};
}

peek_methods!(ReadHalf<'_>, OwnedReadHalf);

impl AsRef<TcpStream> for TcpStream {
    fn as_ref(&self) -> &TcpStream {
        self
    }
}

impl Stream for TcpStream {
    fn io(&self) -> &IoSocket {
        &self.io
    }
}

macro_rules! addr_getters {
    ($($half:ty),*) => {$(
        impl $half {
            /// The peer's address.
            pub fn peer_addr(&self) -> io::Result<SocketAddr> {
                self.stream().peer_addr()
            }

            /// The local address.
            pub fn local_addr(&self) -> io::Result<SocketAddr> {
                self.stream().local_addr()
            }
        }
    )*};
}

addr_getters!(ReadHalf<'_>, WriteHalf<'_>, OwnedReadHalf, OwnedWriteHalf);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("fd", &self.io.raw())
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

socket_handle_impls!(TcpStream);

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}
