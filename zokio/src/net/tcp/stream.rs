//! `TcpStream`: a TCP connection. It offers both I/O interfaces: the native
//! owned-buffer methods (`read_owned`, `write_all_owned`...), which are ring
//! operations on io_uring, and the poll-based `AsyncRead`/`AsyncWrite` traits (see
//! `net/poll_traits.rs`). No inherent method here may take the name of a method of
//! tokio's `AsyncReadExt`/`AsyncWriteExt`, so tokio code calling those compiles
//! unchanged.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use super::socket::{inet, TcpSocket};
use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::io::{BufResult, Interest, IoBuf, IoBufMut, Ready};
use crate::net::addr::{resolve, try_each, ToSocketAddrs};
use crate::net::io_socket::IoSocket;
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

    /// Set `SO_LINGER`.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.io.sock().set_linger(linger)
    }

    /// `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.io.sock().linger()
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

    /// Look at incoming bytes without taking them, waiting until there are some.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .io(Interest::READABLE, || {
                // SAFETY: `buf` is valid for writes of its length.
                let n = unsafe {
                    libc::recv(
                        self.io.raw(),
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                        libc::MSG_PEEK | libc::MSG_DONTWAIT,
                    )
                };
                crate::driver::op::cvt(n)
            })
            .await
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

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.raw()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}
