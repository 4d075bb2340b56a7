//! `UnixStream`: a connected Unix stream socket, with the same two I/O interfaces as
//! `TcpStream` (native owned-buffer methods, and the poll-based traits in
//! `net/poll_traits.rs`). No inherent method may take the name of a method of
//! tokio's `AsyncReadExt`/`AsyncWriteExt`.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;

use socket2::{Domain, Socket, Type};

use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SocketAddr, WriteHalf};
use crate::driver::op::addr::RawAddr;
use crate::io::{BufResult, Interest, IoBuf, IoBufMut, Ready};
use crate::net::addr::addr_error;
use crate::net::io_socket::IoSocket;
use crate::net::split::{self, sealed::Stream};

/// A connected Unix stream socket.
pub struct UnixStream {
    io: IoSocket,
}

/// A non-blocking, close-on-exec Unix socket of type `ty`.
pub(crate) fn unix_socket(ty: Type) -> io::Result<Socket> {
    Socket::new(Domain::UNIX, ty.nonblocking().cloexec(), None)
}

impl UnixStream {
    /// Connect to the socket bound at `path`.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let addr = RawAddr::from_unix_path(path)?;
        let io = IoSocket::from_nonblocking(unix_socket(Type::STREAM)?.into());
        io.connect(addr)
            .await
            .map_err(|e| addr_error(e, "connect to", path.display()))?;
        Ok(UnixStream { io })
    }

    /// A connected pair of streams.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = Socket::pair(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
        Ok((
            UnixStream::from_socket(IoSocket::from_nonblocking(a.into())),
            UnixStream::from_socket(IoSocket::from_nonblocking(b.into())),
        ))
    }

    pub(crate) fn from_socket(io: IoSocket) -> UnixStream {
        UnixStream { io }
    }

    /// Wrap a connected `std` stream; it is switched to non-blocking mode.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: IoSocket::new(stream.into())?,
        })
    }

    /// Hand the stream back to `std` (still in non-blocking mode, as in tokio).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.io.into_fd()?.into())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io
            .with_std(|s: &std::os::unix::net::UnixStream| s.local_addr())
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io
            .with_std(|s: &std::os::unix::net::UnixStream| s.peer_addr())
    }

    stream_methods!();
}

impl Stream for UnixStream {
    fn io(&self) -> &IoSocket {
        &self.io
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("fd", &self.io.raw())
            .finish()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.raw()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}
