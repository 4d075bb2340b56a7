//! `UnixSocket`: a Unix socket before it is a listener, a stream or a datagram
//! socket, for binding it (or setting options through its descriptor) first, as
//! in tokio. Must never block: the descriptor is non-blocking from its creation.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, RawFd};
use std::path::Path;

use socket2::{SockAddr, Socket, Type};

use super::socketaddr::path_raw_addr;
use super::stream::unix_socket;
use super::{UnixDatagram, UnixListener, UnixStream};
use crate::net::addr::addr_error;
use crate::net::io_socket::IoSocket;

/// A Unix socket that has not yet become a listener, a stream or a datagram socket.
pub struct UnixSocket {
    inner: Socket,
}

impl UnixSocket {
    /// A new stream socket: it becomes a [`UnixListener`] with
    /// [`listen`](Self::listen) or a [`UnixStream`] with [`connect`](Self::connect).
    pub fn new_stream() -> io::Result<UnixSocket> {
        Ok(UnixSocket {
            inner: unix_socket(Type::STREAM)?,
        })
    }

    /// A new datagram socket: it becomes a [`UnixDatagram`] with
    /// [`datagram`](Self::datagram).
    pub fn new_datagram() -> io::Result<UnixSocket> {
        Ok(UnixSocket {
            inner: unix_socket(Type::DGRAM)?,
        })
    }

    fn is_stream(&self) -> io::Result<bool> {
        Ok(self.inner.r#type()? == Type::STREAM)
    }

    /// `what` needs a socket of the other type.
    fn wrong_type(&self, what: &str, wants_stream: bool) -> io::Result<()> {
        if self.is_stream()? == wants_stream {
            return Ok(());
        }
        let (this, other) = if wants_stream {
            ("datagram", "UnixSocket::new_stream")
        } else {
            ("stream", "UnixSocket::new_datagram")
        };
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} cannot be called on a {this} socket; make it with {other}"),
        ))
    }

    /// Bind to `path`, which must not exist yet (`AddrInUse` otherwise, naming it).
    pub fn bind(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.inner
            .bind(&SockAddr::unix(path)?)
            .map_err(|e| addr_error(e, "bind to", path.display()))
    }

    /// Listen, with room for `backlog` pending connections. A stream socket only.
    pub fn listen(self, backlog: u32) -> io::Result<UnixListener> {
        self.wrong_type("listen", true)?;
        self.inner.listen(backlog.min(i32::MAX as u32) as i32)?;
        Ok(UnixListener::from_socket(IoSocket::from_nonblocking(
            self.inner.into(),
        )?))
    }

    /// Connect to the socket bound at `path`. A stream socket only.
    pub async fn connect(self, path: impl AsRef<Path>) -> io::Result<UnixStream> {
        self.wrong_type("connect", true)?;
        let path = path.as_ref();
        let io = IoSocket::from_nonblocking(self.inner.into())?;
        io.connect(path_raw_addr(path)?)
            .await
            .map_err(|e| addr_error(e, "connect to", path.display()))?;
        Ok(UnixStream::from_socket(io))
    }

    /// Become a datagram socket. A datagram socket only.
    pub fn datagram(self) -> io::Result<UnixDatagram> {
        self.wrong_type("datagram", false)?;
        Ok(UnixDatagram::from_socket(self.inner))
    }
}

impl fmt::Debug for UnixSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixSocket")
            .field("fd", &self.inner.as_raw_fd())
            .finish()
    }
}

impl AsRawFd for UnixSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for UnixSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

/// Takes `fd`, which must be an open Unix socket that nothing else owns; it is
/// switched to non-blocking mode at once.
impl FromRawFd for UnixSocket {
    unsafe fn from_raw_fd(fd: RawFd) -> UnixSocket {
        // SAFETY: the caller hands over ownership of an open socket (the trait's
        // contract).
        let inner = unsafe { Socket::from_raw_fd(fd) };
        // Cannot fail for a valid descriptor, and the first operation reports a bad one.
        let _ = inner.set_nonblocking(true);
        UnixSocket { inner }
    }
}

impl IntoRawFd for UnixSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}
