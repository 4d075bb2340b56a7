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

    /// Shut down the reading, writing or both directions at once (`shutdown(2)`).
    /// For the write direction alone, tokio's `AsyncWriteExt::shutdown` does the same.
    pub fn shutdown_with(&self, how: Shutdown) -> io::Result<()> {
        self.io.sock().shutdown(how)
    }

    /// Wait until the stream is ready for `interest`.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await
    }

    /// Wait until a read would not block.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::READABLE).await.map(|_| ())
    }

    /// Wait until a write would not block.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::WRITABLE).await.map(|_| ())
    }

    /// Read what is there without waiting; `WouldBlock` if nothing is.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_recv(buf)
    }

    /// Write what fits without waiting; `WouldBlock` if nothing does.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_send(buf)
    }

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

    /// Read into `buf` (at most its capacity) with the native owned-buffer path;
    /// 0 means the peer closed its side.
    pub async fn read_owned<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
        self.io.recv_owned(buf).await
    }

    /// Fill `buf` to its capacity; `UnexpectedEof` if the stream ends first.
    pub async fn read_exact_owned<B: IoBufMut>(&self, buf: B) -> BufResult<(), B> {
        self.io.recv_exact_owned(buf).await
    }

    /// Write some of `buf`'s bytes with the native owned-buffer path.
    pub async fn write_owned<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        self.io.send_owned(buf, false).await
    }

    /// Write all of `buf`'s bytes.
    pub async fn write_all_owned<B: IoBuf>(&self, buf: B) -> BufResult<(), B> {
        self.io.send_all_owned(buf).await
    }

    /// Borrow a reading and a writing half, usable from two futures at once.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (split::ReadHalf(self), split::WriteHalf(self))
    }

    /// Split into halves that can move to different tasks; `reunite` joins them.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::split_owned(self)
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
