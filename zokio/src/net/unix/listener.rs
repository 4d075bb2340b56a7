//! `UnixListener`: accepts connections on a Unix socket path. Like `TcpListener`, it
//! backs off instead of failing when descriptors run out. Must never block a worker.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::task::{ready, Context, Poll};

use socket2::{SockAddr, Type};

use super::socketaddr::sock_addr;
use super::stream::unix_socket;
use super::{SocketAddr, UnixStream};
use crate::net::addr::addr_error;
use crate::net::io_socket::IoSocket;

/// A Unix socket listening for connections.
pub struct UnixListener {
    io: IoSocket,
}

impl UnixListener {
    /// Bind to `path` and listen. The path must not exist yet (`AddrInUse`
    /// otherwise, naming it). Like tokio's, this is not `async`.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        UnixListener::bind_sock_addr(SockAddr::unix(path)?, path.display())
    }

    /// Bind to `socket_addr` (a path, or a name in Linux's abstract namespace) and
    /// listen.
    pub fn bind_addr(socket_addr: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::bind_sock_addr(sock_addr(socket_addr)?, format!("{socket_addr:?}"))
    }

    pub(crate) fn from_socket(io: IoSocket) -> UnixListener {
        UnixListener { io }
    }

    fn bind_sock_addr(addr: SockAddr, name: impl fmt::Display) -> io::Result<UnixListener> {
        let socket = unix_socket(Type::STREAM)?;
        socket
            .bind(&addr)
            .map_err(|e| addr_error(e, "bind to", name))?;
        socket.listen(1024)?;
        Ok(UnixListener {
            io: IoSocket::from_nonblocking(socket.into())?,
        })
    }

    /// Accept the next connection, backing off while descriptors or memory run out.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (fd, _) = self.io.accept().await?;
        UnixListener::accepted(fd)
    }

    /// Poll for the next connection, as [`accept`](Self::accept) waits for it.
    /// The wait is kept in the listener between polls, so only the task of the
    /// latest call is woken (any number of tasks may `accept` at once instead).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (fd, _) = ready!(self.io.poll_accept(cx))?;
        Poll::Ready(UnixListener::accepted(fd))
    }

    fn accepted(fd: std::os::fd::OwnedFd) -> io::Result<(UnixStream, SocketAddr)> {
        let stream = UnixStream::from_accepted(IoSocket::from_nonblocking(fd)?);
        let peer = stream.peer_addr()?;
        Ok((stream, peer))
    }

    /// The address listened on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io
            .with_std(|s: &std::os::unix::net::UnixListener| s.local_addr())
            .map(SocketAddr)
    }

    /// Take the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.sock().take_error()
    }

    /// Wrap a `std` listener; it is switched to non-blocking mode.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: IoSocket::new(listener.into())?,
        })
    }

    /// Hand the listener back to `std` (still in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_fd()?.into())
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("fd", &self.io.raw())
            .finish()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.raw()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}
