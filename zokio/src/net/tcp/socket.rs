//! `TcpSocket`: a TCP socket before it is a listener or a stream, for setting
//! options (`SO_REUSEADDR`, `SO_REUSEPORT`, buffer sizes) first, as in tokio. Must
//! never block: the descriptor is non-blocking from its creation.

use std::io;
use std::net::SocketAddr;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::{
    AsRawSocket, AsSocket, BorrowedSocket, FromRawSocket, IntoRawSocket, OwnedSocket, RawSocket,
};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::{TcpListener, TcpStream};
use crate::driver::op::addr::RawAddr;
use crate::net::addr::addr_error;
use crate::net::io_socket::IoSocket;
use crate::net::sys;

/// A TCP socket that has not yet become a listener or a stream.
///
/// For the options that must be set before `bind`, `listen` or `connect` (buffer
/// sizes, `SO_REUSEADDR`, `SO_REUSEPORT`...); `TcpListener::bind` and
/// `TcpStream::connect` cover the rest.
///
/// # Examples
///
/// ```
/// # let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// use zokio::net::TcpSocket;
///
/// let socket = TcpSocket::new_v4().unwrap();
/// socket.set_reuseaddr(true).unwrap();
/// socket.set_recv_buffer_size(256 * 1024).unwrap();
/// socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// let listener = socket.listen(1024).unwrap();
///
/// let client = TcpSocket::new_v4().unwrap();
/// client.set_nodelay(true).unwrap();
/// let stream = client.connect(listener.local_addr().unwrap()).await.unwrap();
/// let (_accepted, peer) = listener.accept().await.unwrap();
/// assert_eq!(peer, stream.local_addr().unwrap());
/// # });
/// ```
#[derive(Debug)]
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 socket.
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4, "IPv4")
    }

    /// A new IPv6 socket.
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6, "IPv6")
    }

    /// A socket of `addr`'s family; a failure names the address it was for.
    pub(crate) fn new_for(addr: &SocketAddr) -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::for_address(*addr), &addr.to_string())
    }

    fn new(domain: Domain, what: &str) -> io::Result<TcpSocket> {
        let inner = sys::socket(domain, Type::STREAM, Some(Protocol::TCP)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "creating a TCP socket for {what} failed: {e} (out of descriptors? see \
                     `ulimit -n`)"
                ),
            )
        })?;
        Ok(TcpSocket { inner })
    }

    /// Allow binding an address still in `TIME_WAIT` (`SO_REUSEADDR`).
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// Whether `SO_REUSEADDR` is set.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Allow several sockets to bind the same address, the kernel spreading
    /// connections over them (`SO_REUSEPORT`). Not on Windows, which has no such option.
    #[cfg(unix)]
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// Whether `SO_REUSEPORT` is set. Not on Windows.
    #[cfg(unix)]
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Set the send buffer size (`SO_SNDBUF`).
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// The send buffer size.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner.send_buffer_size().map(|n| n as u32)
    }

    /// Set the receive buffer size (`SO_RCVBUF`).
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// The receive buffer size.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner.recv_buffer_size().map(|n| n as u32)
    }

    /// Disable Nagle's algorithm (`TCP_NODELAY`) on the future stream.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// Send keepalive probes on an idle connection (`SO_KEEPALIVE`).
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Set `SO_LINGER`: how long closing the socket may wait for unsent data to go
    /// out (`None`: it does not wait).
    ///
    /// Deprecated, as in tokio: with a non-zero duration, the `close(2)` of a
    /// dropped stream blocks the worker thread until the data is out or the time
    /// is up. [`set_zero_linger`](Self::set_zero_linger) is the useful case.
    #[deprecated = "`SO_LINGER` causes the socket to block the thread on drop"]
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(dur)
    }

    /// Set `SO_LINGER` to zero: closing the connection discards unsent data and
    /// resets it instead of closing it gracefully. Never blocks.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.inner.set_linger(Some(Duration::ZERO))
    }

    /// `SO_LINGER`: `None` when closing does not wait.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// The IPv6 traffic class (`IPV6_TCLASS`). Not on Windows.
    #[cfg(unix)]
    pub fn tclass_v6(&self) -> io::Result<u32> {
        self.inner.tclass_v6()
    }

    /// Set the IPv6 traffic class (`IPV6_TCLASS`). Not on Windows.
    #[cfg(unix)]
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        self.inner.set_tclass_v6(tclass)
    }

    /// The IPv4 type-of-service field (`IP_TOS`).
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.inner.tos_v4()
    }

    /// Set the IPv4 type-of-service field (`IP_TOS`).
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.inner.set_tos_v4(tos)
    }

    /// The old name of [`tos_v4`](Self::tos_v4).
    #[deprecated(
        note = "`tos` related methods have been renamed `tos_v4` since they are IPv4-specific."
    )]
    #[doc(hidden)]
    pub fn tos(&self) -> io::Result<u32> {
        self.tos_v4()
    }

    /// The old name of [`set_tos_v4`](Self::set_tos_v4).
    #[deprecated(
        note = "`tos` related methods have been renamed `tos_v4` since they are IPv4-specific."
    )]
    #[doc(hidden)]
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_tos_v4(tos)
    }

    /// The network interface the socket is bound to (`SO_BINDTODEVICE`), if any.
    ///
    /// Linux and Android only: other systems have no `SO_BINDTODEVICE`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        self.inner.device()
    }

    /// Bind the socket to the network interface `interface` (its name, such as
    /// `b"eth0"`), or unbind it with `None`. Needs `CAP_NET_RAW` to bind.
    ///
    /// Linux and Android only: other systems have no `SO_BINDTODEVICE`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        self.inner.bind_device(interface)
    }

    /// Take the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Bind to `addr`. A taken address gives `AddrInUse`, naming it.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner
            .bind(&addr.into())
            .map_err(|e| addr_error(e, "bind to", addr))
    }

    /// The address bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        inet(self.inner.local_addr()?)
    }

    /// Turn into a listener with room for `backlog` pending connections.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = backlog.min(i32::MAX as u32) as i32;
        self.inner.listen(backlog)?;
        Ok(TcpListener::from_socket(IoSocket::from_nonblocking(
            self.inner.into(),
        )?))
    }

    /// Connect to `addr`. A closed port gives `ConnectionRefused`.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        let io = IoSocket::from_nonblocking(self.inner.into())?;
        io.connect(RawAddr::from_inet(&addr))
            .await
            .map_err(|e| addr_error(e, "connect to", addr))?;
        Ok(TcpStream::from_socket(io))
    }

    /// Wrap a socket made elsewhere; it is switched to non-blocking mode.
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        let inner = Socket::from(stream);
        // Cannot fail for a valid descriptor, and the first operation reports a bad one.
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }
}

/// A `socket2` address that must be IPv4 or IPv6.
pub(crate) fn inet(addr: socket2::SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the socket has an address that is not IPv4 or IPv6",
        )
    })
}

#[cfg(unix)]
impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

#[cfg(unix)]
impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

#[cfg(unix)]
/// Takes `fd`, which must be an open TCP socket that nothing else owns; it is
/// switched to non-blocking mode at once, as `from_std_stream` does.
impl FromRawFd for TcpSocket {
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        // SAFETY: the caller hands over ownership of an open socket (the trait's
        // contract).
        let inner = unsafe { Socket::from_raw_fd(fd) };
        // Cannot fail for a valid descriptor, and the first operation reports a bad one.
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }
}

#[cfg(unix)]
impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}

#[cfg(unix)]
impl From<TcpSocket> for OwnedFd {
    fn from(socket: TcpSocket) -> OwnedFd {
        socket.inner.into()
    }
}

#[cfg(windows)]
impl AsRawSocket for TcpSocket {
    fn as_raw_socket(&self) -> RawSocket {
        self.inner.as_raw_socket()
    }
}

#[cfg(windows)]
impl AsSocket for TcpSocket {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.inner.as_socket()
    }
}

#[cfg(windows)]
/// Takes `socket`, which must be an open TCP socket that nothing else owns, made
/// for overlapped I/O (as `std` and `socket2` make them); it is switched to
/// non-blocking mode at once, as `from_std_stream` does.
impl FromRawSocket for TcpSocket {
    unsafe fn from_raw_socket(socket: RawSocket) -> TcpSocket {
        // SAFETY: the caller hands over ownership of an open socket (the trait's
        // contract).
        let inner = unsafe { Socket::from_raw_socket(socket) };
        // Cannot fail for a valid socket, and the first operation reports a bad one.
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }
}

#[cfg(windows)]
impl IntoRawSocket for TcpSocket {
    fn into_raw_socket(self) -> RawSocket {
        self.inner.into_raw_socket()
    }
}

#[cfg(windows)]
impl From<TcpSocket> for OwnedSocket {
    fn from(socket: TcpSocket) -> OwnedSocket {
        socket.inner.into()
    }
}
