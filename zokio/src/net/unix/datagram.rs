//! `UnixDatagram`: a Unix datagram socket, bound to a path, unbound, or one of a
//! pair. Borrowed-buffer methods follow tokio; `*_owned` ones are the native path.
//! Must never block a worker.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixDatagram as StdDatagram;
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

use super::stream::unix_socket;
use super::SocketAddr;
use crate::driver::op::addr::RawAddr;
use crate::io::{BufResult, Interest, IoBuf, IoBufMut};
use crate::net::addr::addr_error;
use crate::net::io_socket::IoSocket;

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

    /// A connected pair of sockets.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = Socket::pair(Domain::UNIX, Type::DGRAM.nonblocking().cloexec(), None)?;
        Ok((UnixDatagram::from_socket(a), UnixDatagram::from_socket(b)))
    }

    fn from_socket(socket: Socket) -> UnixDatagram {
        UnixDatagram {
            io: IoSocket::from_nonblocking(socket.into()),
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
        self.io.with_std(|s: &StdDatagram| s.local_addr())
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.with_std(|s: &StdDatagram| s.peer_addr())
    }

    /// Send `buf` as one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .io(Interest::WRITABLE, || {
                self.io.with_std(|s: &StdDatagram| s.send(buf))
            })
            .await
    }

    /// Receive one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .io(Interest::READABLE, || self.io.try_recv(buf))
            .await
    }

    /// Send `buf` as one datagram to `path`.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .io(Interest::WRITABLE, || {
                self.io.with_std(|s: &StdDatagram| s.send_to(buf, path))
            })
            .await
    }

    /// Receive one datagram and the sender's address.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Interest::READABLE, || {
                self.io.with_std(|s: &StdDatagram| s.recv_from(buf))
            })
            .await
    }

    /// Send without waiting; `WouldBlock` if the socket is full.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.with_std(|s: &StdDatagram| s.send(buf))
    }

    /// Receive without waiting; `WouldBlock` if nothing is there.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_recv(buf)
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
        match RawAddr::from_unix_path(path.as_ref()) {
            Ok(to) => self.io.send_to_owned(buf, to).await,
            Err(e) => (Err(e), buf),
        }
    }

    /// Shut down the reading, writing or both directions.
    pub fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        self.io.sock().shutdown(how)
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
