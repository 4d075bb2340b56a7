//! `UnixStream`: a connected Unix stream socket, with the same two I/O interfaces as
//! `TcpStream` (native owned-buffer methods, and the poll-based traits in
//! `net/poll_traits.rs`). No inherent method may take the name of a method of
//! tokio's `AsyncReadExt`/`AsyncWriteExt`.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::task::{Context, Poll};

use bytes::BufMut;
use socket2::{Domain, Socket, Type};

use super::socketaddr::{path_raw_addr, raw_addr};
use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SocketAddr, UCred, WriteHalf};
use crate::driver::op::addr::RawAddr;
use crate::io::{BufResult, Interest, IoBuf, IoBufMut, Ready};
use crate::net::addr::addr_error;
use crate::net::borrowed::{as_uninit, fill_buf_mut, Take};
use crate::net::io_socket::IoSocket;
use crate::net::readiness::Direction;
use crate::net::split::{self, sealed::Stream};
use crate::net::sys;

/// A connected Unix stream socket.
pub struct UnixStream {
    io: IoSocket,
}

/// A non-blocking, close-on-exec Unix socket of type `ty`.
pub(crate) fn unix_socket(ty: Type) -> io::Result<Socket> {
    sys::socket(Domain::UNIX, ty, None)
}

impl UnixStream {
    /// Connect to the socket bound at `path`.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        UnixStream::connect_raw(path_raw_addr(path)?, path.display()).await
    }

    /// Connect to the socket at `socket_addr` (a path, or a name in Linux's
    /// abstract namespace).
    pub async fn connect_addr(socket_addr: &SocketAddr) -> io::Result<UnixStream> {
        UnixStream::connect_raw(raw_addr(socket_addr)?, format!("{socket_addr:?}")).await
    }

    async fn connect_raw(addr: RawAddr, name: impl std::fmt::Display) -> io::Result<UnixStream> {
        let io = IoSocket::from_nonblocking(unix_socket(Type::STREAM)?.into())?;
        io.connect(addr)
            .await
            .map_err(|e| addr_error(e, "connect to", name))?;
        Ok(UnixStream { io })
    }

    /// A connected pair of streams. Both start writable without a readiness wait,
    /// as in tokio.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = sys::pair(Domain::UNIX, Type::STREAM)?;
        let end = |s: Socket| {
            UnixStream::from_socket(
                IoSocket::from_nonblocking_fd(s.into()).assume_ready(&[Direction::Write]),
            )
        };
        Ok((end(a), end(b)))
    }

    pub(crate) fn from_socket(io: IoSocket) -> UnixStream {
        UnixStream { io }
    }

    /// A stream `accept` returned: assumed readable and writable, as in tokio.
    pub(crate) fn from_accepted(io: IoSocket) -> UnixStream {
        UnixStream {
            io: io.assume_ready(&[Direction::Read, Direction::Write]),
        }
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
            .map(SocketAddr)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io
            .with_std(|s: &std::os::unix::net::UnixStream| s.peer_addr())
            .map(SocketAddr)
    }

    /// The credentials of the peer process, as the kernel recorded them when the
    /// connection was made (`SO_PEERCRED` on Linux; `getpeereid` elsewhere, with the
    /// process ID from `LOCAL_PEERPID` on macOS and unknown on the other BSDs).
    pub fn peer_cred(&self) -> io::Result<UCred> {
        super::ucred::peer_cred(self.io.raw())
    }

    stream_methods!();
}

impl AsRef<UnixStream> for UnixStream {
    fn as_ref(&self) -> &UnixStream {
        self
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

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    fn try_from(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(stream)
    }
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
