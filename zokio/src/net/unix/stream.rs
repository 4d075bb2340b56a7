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

    /// Shut down the reading, writing or both directions (`shutdown(2)`).
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

    /// Read into `buf` (at most its capacity) with the native owned-buffer path.
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
