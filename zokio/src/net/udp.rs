//! `UdpSocket`: datagrams over IP. Borrowed-buffer methods follow tokio (`send`,
//! `recv`, `send_to`, `recv_from`, `peek*`, in async, poll and `try_` forms,
//! readiness-based on both drivers); the `*_owned` methods are the native path
//! (ring operations on io_uring). Must never block a worker.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::{Context, Poll};

use bytes::BufMut;
use socket2::{Domain, Protocol, SockAddr, Type};
use tokio::io::ReadBuf;

use super::addr::{addr_error, resolve, try_each, ToSocketAddrs};
use super::borrowed::{as_uninit, fill_buf_mut, fill_read_buf, Take};
use super::io_socket::IoSocket;
use super::readiness::Direction;
use super::sys;
use super::tcp::inet;
use crate::driver::op::addr::RawAddr;
use crate::io::{BufResult, Interest, IoBuf, IoBufMut, Ready};

/// A sender's address, which must be IPv4 or IPv6 on a UDP socket.
fn inet_from(addr: &SockAddr) -> io::Result<SocketAddr> {
    inet(addr.clone())
}

/// A UDP socket.
pub struct UdpSocket {
    io: IoSocket,
}

impl UdpSocket {
    /// Bind to `addr` (the first of its addresses that works).
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let addrs = resolve(&addr).await?;
        try_each(addrs, |addr| async move {
            let socket = sys::socket(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
            socket
                .bind(&addr.into())
                .map_err(|e| addr_error(e, "bind to", addr))?;
            Ok(UdpSocket {
                io: IoSocket::from_nonblocking(socket.into())?,
            })
        })
        .await
    }

    /// Wrap a `std` socket; it is switched to non-blocking mode.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: IoSocket::new(socket.into())?,
        })
    }

    /// Hand the socket back to `std` (still in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.io.into_fd()?.into())
    }

    /// Send to and receive from `addr` only (the first of its addresses that works).
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let addrs = resolve(&addr).await?;
        try_each(addrs, |addr| async move {
            self.io
                .sock()
                .connect(&addr.into())
                .map_err(|e| addr_error(e, "connect to", addr))
        })
        .await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        inet(self.io.sock().local_addr()?)
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        inet(self.io.sock().peer_addr()?)
    }

    datagram_methods!(SocketAddr, inet_from);

    /// Send `buf` as one datagram to `target` (its first address).
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let to = SockAddr::from(resolve(&target).await?[0]);
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
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let to = SockAddr::from(target);
        self.io
            .poll_io(cx, Direction::Write, || self.io.sys_send_to(buf, &to))
    }

    /// Send one datagram to `target` without waiting; `WouldBlock` if the socket
    /// has no room.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.send_to_now(buf, &SockAddr::from(target))
    }

    /// Look at the next datagram from the connected peer without taking it,
    /// waiting until there is one; the next receive returns it again.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .io(Interest::READABLE, || {
                self.io.sys_recv(as_uninit(buf), Take::Peek)
            })
            .await
    }

    /// Poll-based [`peek`](Self::peek), into the unfilled part of `buf`.
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.io.poll_io(cx, Direction::Read, || {
            fill_read_buf(buf, |dst| Ok((self.io.sys_recv(dst, Take::Peek)?, ())))
        })
    }

    /// [`peek`](Self::peek) without waiting; `WouldBlock` if no datagram is there.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let peeked = self.io.sys_recv(as_uninit(buf), Take::Peek);
        self.io.note(Interest::READABLE, peeked)
    }

    /// Look at the next datagram and its sender without taking it, waiting until
    /// there is one.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Interest::READABLE, || {
                self.datagram_now(as_uninit(buf), Take::Peek)
            })
            .await
    }

    /// Poll-based [`peek_from`](Self::peek_from), into the unfilled part of `buf`.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(cx, Direction::Read, || {
            fill_read_buf(buf, |dst| self.datagram_now(dst, Take::Peek))
        })
    }

    /// [`peek_from`](Self::peek_from) without waiting.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.datagram_now(as_uninit(buf), Take::Peek)
    }

    /// The sender of the next datagram, without taking it (none of its bytes are
    /// copied), waiting until there is one.
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.io(Interest::READABLE, || self.sender_now()).await
    }

    /// Poll-based [`peek_sender`](Self::peek_sender).
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(cx, Direction::Read, || self.sender_now())
    }

    /// [`peek_sender`](Self::peek_sender) without waiting.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.sender_now()
    }

    fn sender_now(&self) -> io::Result<SocketAddr> {
        let (_, from) = self.io.recv_from_now(&mut [], Take::Peek)?;
        inet_from(&from)
    }

    /// Send `buf` to the connected peer with the native owned-buffer path.
    pub async fn send_owned<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        self.io.send_owned(buf, true).await
    }

    /// Receive into `buf` from the connected peer with the native owned-buffer path.
    pub async fn recv_owned<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
        self.io.recv_owned(buf).await
    }

    /// Send `buf` to `target` with the native owned-buffer path.
    pub async fn send_to_owned<B: IoBuf>(&self, buf: B, target: SocketAddr) -> BufResult<usize, B> {
        self.io
            .send_to_owned(buf, RawAddr::from_inet(&target))
            .await
    }

    /// Receive into `buf` with the sender's address, with the native owned-buffer path.
    ///
    /// # Examples
    ///
    /// A buffer can go back and forth between receives and sends without a copy:
    ///
    /// ```
    /// # let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// use zokio::net::UdpSocket;
    ///
    /// let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let server_addr = server.local_addr().unwrap();
    ///
    /// client.send_to_owned(b"ping".to_vec(), server_addr).await.0.unwrap();
    /// let (received, buf) = server.recv_from_owned(Vec::with_capacity(1500)).await;
    /// let (n, from) = received.unwrap();
    /// assert_eq!(&buf[..n], b"ping");
    /// // Echo the very same buffer back.
    /// server.send_to_owned(buf, from).await.0.unwrap();
    /// let (received, buf) = client.recv_from_owned(Vec::with_capacity(1500)).await;
    /// assert_eq!(received.unwrap().1, server_addr);
    /// assert_eq!(buf, b"ping");
    /// # });
    /// ```
    pub async fn recv_from_owned<B: IoBufMut>(&self, buf: B) -> BufResult<(usize, SocketAddr), B> {
        let (result, buf) = self.io.recv_from_owned(buf).await;
        let result = result.and_then(|(n, from)| Ok((n, from.to_inet()?)));
        (result, buf)
    }

    /// Allow sending to broadcast addresses (`SO_BROADCAST`).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.sock().set_broadcast(on)
    }

    /// Whether broadcast is allowed.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.sock().broadcast()
    }

    /// Join the IPv4 multicast group `multiaddr` on `interface` (`0.0.0.0`: any).
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.sock().join_multicast_v4(&multiaddr, &interface)
    }

    /// Leave an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.sock().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Join the IPv6 multicast group `multiaddr` on interface index `interface`.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.sock().join_multicast_v6(multiaddr, interface)
    }

    /// Leave an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.sock().leave_multicast_v6(multiaddr, interface)
    }

    /// Set whether IPv4 multicast sent here loops back to local listeners.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.sock().set_multicast_loop_v4(on)
    }

    /// Whether IPv4 multicast sent here loops back to local listeners.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.sock().multicast_loop_v4()
    }

    /// Set whether IPv6 multicast sent here loops back to local listeners.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.sock().set_multicast_loop_v6(on)
    }

    /// Whether IPv6 multicast sent here loops back to local listeners.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.sock().multicast_loop_v6()
    }

    /// Set the IPv4 multicast time-to-live (how many routers a multicast datagram
    /// may cross; 1, the default, keeps it on the local network).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.sock().set_multicast_ttl_v4(ttl)
    }

    /// The IPv4 multicast time-to-live.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.sock().multicast_ttl_v4()
    }

    /// The IPv6 traffic class (`IPV6_TCLASS`). Not on Windows.
    #[cfg(unix)]
    pub fn tclass_v6(&self) -> io::Result<u32> {
        self.io.sock().tclass_v6()
    }

    /// Set the IPv6 traffic class (`IPV6_TCLASS`). Not on Windows.
    #[cfg(unix)]
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        self.io.sock().set_tclass_v6(tclass)
    }

    /// The IPv4 type-of-service field (`IP_TOS`).
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.io.sock().tos_v4()
    }

    /// Set the IPv4 type-of-service field (`IP_TOS`).
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.io.sock().set_tos_v4(tos)
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
        self.io.sock().device()
    }

    /// Bind the socket to the network interface `interface` (its name, such as
    /// `b"eth0"`), or unbind it with `None`: only packets of that interface are
    /// then sent and received. Needs `CAP_NET_RAW` to bind.
    ///
    /// Linux and Android only: other systems have no `SO_BINDTODEVICE`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        self.io.sock().bind_device(interface)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.sock().ttl_v4()
    }

    /// Set the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.sock().set_ttl_v4(ttl)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("fd", &self.io.raw())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

socket_handle_impls!(UdpSocket);
