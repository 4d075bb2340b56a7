//! `UdpSocket`: datagrams over IP. Borrowed-buffer methods follow tokio (`send`,
//! `recv`, `send_to`, `recv_from`, readiness-based on both drivers); the `*_owned`
//! methods are the native path (ring operations on io_uring). Must never block a
//! worker.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use socket2::{Domain, Protocol, Socket, Type};

use super::addr::{addr_error, resolve, try_each, ToSocketAddrs};
use super::io_socket::IoSocket;
use super::tcp::inet;
use crate::driver::op::addr::RawAddr;
use crate::io::{BufResult, Interest, IoBuf, IoBufMut, Ready};

/// A UDP socket.
pub struct UdpSocket {
    io: IoSocket,
}

impl UdpSocket {
    /// Bind to `addr` (the first of its addresses that works).
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let addrs = resolve(&addr).await?;
        try_each(addrs, |addr| async move {
            let ty = Type::DGRAM.nonblocking().cloexec();
            let socket = Socket::new(Domain::for_address(addr), ty, Some(Protocol::UDP))?;
            socket
                .bind(&addr.into())
                .map_err(|e| addr_error(e, "bind to", addr))?;
            Ok(UdpSocket {
                io: IoSocket::from_nonblocking(socket.into()),
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

    /// Wait until the socket is ready for `interest`.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await
    }

    /// Wait until a receive would not block.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::READABLE).await.map(|_| ())
    }

    /// Wait until a send would not block.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::WRITABLE).await.map(|_| ())
    }

    /// Send `buf` as one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .io(Interest::WRITABLE, || self.io.try_send(buf))
            .await
    }

    /// Receive one datagram from the connected peer; a longer one is truncated.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .io(Interest::READABLE, || self.io.try_recv(buf))
            .await
    }

    /// Send `buf` as one datagram to `target` (its first address).
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let to = resolve(&target).await?[0];
        let to = socket2::SockAddr::from(to);
        self.io
            .io(Interest::WRITABLE, || self.io.sock().send_to(buf, &to))
            .await
    }

    /// Receive one datagram and the sender's address.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Interest::READABLE, || self.try_recv_from(buf))
            .await
    }

    /// Send without waiting; `WouldBlock` if the socket is full.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_send(buf)
    }

    /// Receive without waiting; `WouldBlock` if nothing is there.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_recv(buf)
    }

    /// Receive a datagram and its sender without waiting.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.with_std(|s: &std::net::UdpSocket| s.recv_from(buf))
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
    pub async fn recv_from_owned<B: IoBufMut>(&self, buf: B) -> BufResult<(usize, SocketAddr), B> {
        let (result, buf) = self.io.recv_from_owned(buf).await;
        let result = result.and_then(|(n, from)| Ok((n, from.to_inet()?)));
        (result, buf)
    }

    /// Allow sending to broadcast addresses.
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

    /// Whether IPv4 multicast sent here loops back to local listeners.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.sock().set_multicast_loop_v4(on)
    }

    /// Whether IPv6 multicast sent here loops back to local listeners.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.sock().set_multicast_loop_v6(on)
    }

    /// The IPv4 multicast time-to-live.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.sock().set_multicast_ttl_v4(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.sock().ttl_v4()
    }

    /// Set the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.sock().set_ttl_v4(ttl)
    }

    /// Take the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.sock().take_error()
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

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.raw()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}
