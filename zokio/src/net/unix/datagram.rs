//! `UnixDatagram`: a Unix datagram socket, bound to a path, unbound, or one of a
//! pair. Borrowed-buffer methods follow tokio (async, poll and `try_` forms,
//! readiness-based on both drivers); `*_owned` ones are the native path. Must
//! never block a worker.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixDatagram as StdDatagram;
use std::path::Path;
use std::task::{Context, Poll};

use bytes::BufMut;
use socket2::{Domain, SockAddr, Socket, Type};
use tokio::io::ReadBuf;

use super::socketaddr::{from_sock_addr, path_raw_addr};
use super::stream::unix_socket;
use super::SocketAddr;
use crate::io::{BufResult, Interest, IoBuf, IoBufMut, Ready};
use crate::net::addr::addr_error;
use crate::net::borrowed::{as_uninit, fill_buf_mut, fill_read_buf, Take};
use crate::net::io_socket::IoSocket;
use crate::net::readiness::Direction;
use crate::net::sys;

/// A Unix datagram socket.
pub struct UnixDatagram {
    io: IoSocket,
}

impl UnixDatagram {
    /// A socket bound to `path` (which must not exist yet).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let socket = unix_socket(Type::DGRAM)?;
        socket
            .bind(&SockAddr::unix(path)?)
            .map_err(|e| addr_error(e, "bind to", path.display()))?;
        Ok(UnixDatagram::from_socket(socket))
    }

    /// A socket bound to no path.
    pub fn unbound() -> io::Result<UnixDatagram> {
        Ok(UnixDatagram::from_socket(unix_socket(Type::DGRAM)?))
    }

    /// A connected pair of sockets. Both start writable without a readiness wait,
    /// as in tokio.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = sys::pair(Domain::UNIX, Type::DGRAM)?;
        let end = |s: Socket| UnixDatagram {
            io: IoSocket::from_nonblocking_fd(s.into()).assume_ready(&[Direction::Write]),
        };
        Ok((end(a), end(b)))
    }

    pub(crate) fn from_socket(socket: Socket) -> UnixDatagram {
        UnixDatagram {
            io: IoSocket::from_nonblocking_fd(socket.into()),
        }
    }

    /// Wrap a `std` socket; it is switched to non-blocking mode.
    pub fn from_std(socket: StdDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: IoSocket::new(socket.into())?,
        })
    }

    /// Hand the socket back to `std` (still in non-blocking mode).
    pub fn into_std(self) -> io::Result<StdDatagram> {
        Ok(self.io.into_fd()?.into())
    }

    /// Send to and receive from `path` only.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.io
            .with_std(|s: &StdDatagram| s.connect(path))
            .map_err(|e| addr_error(e, "connect to", path.display()))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io
            .with_std(|s: &StdDatagram| s.local_addr())
            .map(SocketAddr)
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io
            .with_std(|s: &StdDatagram| s.peer_addr())
            .map(SocketAddr)
    }

    datagram_methods!(SocketAddr, from_sock_addr);

    /// Send `buf` as one datagram to the socket bound at `target`.
    pub async fn send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        let to = SockAddr::unix(target)?;
        self.io
            .io(Interest::WRITABLE, || self.io.sys_send_to(buf, &to))
            .await
    }

    /// Poll-based [`send_to`](Self::send_to). Only the task of the latest call (or
    /// of another `poll_send*` call) is woken.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: impl AsRef<Path>,
    ) -> Poll<io::Result<usize>> {
        let to = SockAddr::unix(target)?;
        self.io
            .poll_io(cx, Direction::Write, || self.io.sys_send_to(buf, &to))
    }

    /// Send one datagram to `target` without waiting; `WouldBlock` if the socket
    /// has no room.
    pub fn try_send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        self.io.send_to_now(buf, &SockAddr::unix(target)?)
    }

    /// Send `buf` to the connected peer with the native owned-buffer path.
    pub async fn send_owned<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        self.io.send_owned(buf, true).await
    }

    /// Receive into `buf` from the connected peer with the native owned-buffer path.
    pub async fn recv_owned<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
        self.io.recv_owned(buf).await
    }

    /// Send `buf` to `path` with the native owned-buffer path.
    pub async fn send_to_owned<B: IoBuf>(
        &self,
        buf: B,
        path: impl AsRef<Path>,
    ) -> BufResult<usize, B> {
        match path_raw_addr(path.as_ref()) {
            Ok(to) => self.io.send_to_owned(buf, to).await,
            Err(e) => (Err(e), buf),
        }
    }

    /// Shut down the reading, writing or both directions.
    pub fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        self.io.sock().shutdown(how)
    }
}

impl TryFrom<StdDatagram> for UnixDatagram {
    type Error = io::Error;

    fn try_from(socket: StdDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("fd", &self.io.raw())
            .finish()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.raw()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}
