//! `TcpListener`: accepts TCP connections. When the process or the system runs out
//! of descriptors (`EMFILE`, `ENFILE`) or memory, `accept` backs off and retries
//! instead of failing or spinning (see `IoSocket::accept`), so the server keeps
//! serving the connections it has. Must never block a worker.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::task::{ready, Context, Poll};

use super::socket::{inet, TcpSocket};
use super::TcpStream;
use crate::net::addr::{resolve, try_each, ToSocketAddrs};
use crate::net::io_socket::IoSocket;

/// A TCP socket listening for connections.
///
/// Unlike tokio's, [`from_std`](TcpListener::from_std) works outside a runtime: the
/// socket only meets a driver when an operation runs. Used outside a runtime, an
/// operation fails with an `io::Error` that says where it must run.
pub struct TcpListener {
    io: IoSocket,
}

impl TcpListener {
    /// Bind to `addr` (the first of its addresses that works) and listen, with
    /// `SO_REUSEADDR` set on Unix as tokio does (on Windows that option would let
    /// another socket take the port, so it stays off there, as in tokio). A taken
    /// port gives `AddrInUse`, naming the address.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let addrs = resolve(&addr).await?;
        try_each(addrs, |addr| async move {
            let socket = TcpSocket::new_for(&addr)?;
            #[cfg(unix)]
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(1024)
        })
        .await
    }

    pub(crate) fn from_socket(io: IoSocket) -> TcpListener {
        TcpListener { io }
    }

    /// Accept the next connection. Running out of descriptors or memory is not an
    /// error here: the listener waits (5 ms, doubling to 500 ms) and tries again,
    /// so the server keeps serving what it has. A connection the peer aborted
    /// before it was accepted is skipped.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (fd, peer) = self.io.accept().await?;
        let stream = TcpStream::from_accepted(IoSocket::from_nonblocking(fd)?);
        Ok((stream, peer.to_inet()?))
    }

    /// Poll for the next connection, as [`accept`](Self::accept) waits for it.
    /// The wait is kept in the listener between polls, so only the task of the
    /// latest call is woken (any number of tasks may `accept` at once instead).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (fd, peer) = ready!(self.io.poll_accept(cx))?;
        let stream = TcpStream::from_accepted(IoSocket::from_nonblocking(fd)?);
        Poll::Ready(Ok((stream, peer.to_inet()?)))
    }

    /// The address listened on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        inet(self.io.sock().local_addr()?)
    }

    /// Wrap a `std` listener; it is switched to non-blocking mode.
    ///
    /// tokio panics when this is called outside a runtime; Zokio does not, and the
    /// listener works in whichever runtime later accepts on it.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: IoSocket::new(listener.into())?,
        })
    }

    /// Hand the listener back to `std` (still in non-blocking mode, as in tokio).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_fd()?.into())
    }

    /// The IP time-to-live of accepted connections.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.sock().ttl_v4()
    }

    /// Set the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.sock().set_ttl_v4(ttl)
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("fd", &self.io.raw())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

socket_handle_impls!(TcpListener);

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}
