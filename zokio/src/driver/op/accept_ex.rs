//! `accept` on Windows: an overlapped `AcceptEx` into a socket made for it, which
//! the operation owns until the connection is handed out. A connection accepted
//! after the future was dropped goes to the listener's stash for the next
//! `accept`, never lost or leaked. Named `accept` in the operation layer, as on
//! Unix, with the same non-blocking `accept_now`. Must never touch the listener's
//! own options.

use std::io;
use std::os::windows::io::{AsRawSocket, OwnedSocket};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use windows_sys::Win32::Networking::WinSock::{
    setsockopt, LPFN_ACCEPTEX, SOCKADDR_STORAGE, SOCKET, SOCKET_ERROR, SOL_SOCKET,
    SO_UPDATE_ACCEPT_CONTEXT, WSAEINVAL, WSAID_ACCEPTEX,
};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::addr::RawAddr;
use super::{with_context, wsa, IocpStart, OpKind, RawSock};

/// Connections accepted for futures that were dropped, kept for the next `accept`.
pub(crate) type Stash = Arc<Mutex<Vec<(OwnedSocket, RawAddr)>>>;

static ACCEPT_EX: OnceLock<usize> = OnceLock::new();

/// Room `AcceptEx` wants for each of the two addresses it writes.
const ADDRESS_ROOM: usize = std::mem::size_of::<SOCKADDR_STORAGE>() + 16;

pub(crate) struct Accept {
    listener: RawSock,
    stash: Stash,
    /// The socket the connection lands in, made when the operation starts.
    accepted: Option<OwnedSocket>,
    /// Where `AcceptEx` writes both addresses (read back with `getpeername`);
    /// boxed, so that a listener's waiting accept stays small.
    addresses: Box<[u8; 2 * ADDRESS_ROOM]>,
    received: u32,
}

impl Accept {
    pub(crate) fn new(listener: RawSock, stash: Stash) -> Accept {
        Accept {
            listener,
            stash,
            accepted: None,
            addresses: Box::new([0; 2 * ADDRESS_ROOM]),
            received: 0,
        }
    }

    /// The accepted socket, told which listener it came from, and its peer.
    fn finish(&mut self) -> io::Result<(OwnedSocket, RawAddr)> {
        let accepted = self.accepted.take().ok_or_else(|| {
            io::Error::other("AcceptEx completed without a socket to accept into")
        })?;
        let listener = self.listener as SOCKET;
        // SAFETY: a plain option call on the open accepted socket; the value is the
        // listener's handle, live for the call, with its size.
        let rc = unsafe {
            setsockopt(
                accepted.as_raw_socket() as SOCKET,
                SOL_SOCKET,
                SO_UPDATE_ACCEPT_CONTEXT,
                (&listener as *const SOCKET).cast(),
                std::mem::size_of::<SOCKET>() as i32,
            )
        };
        if rc == SOCKET_ERROR {
            return Err(with_context(
                io::Error::last_os_error(),
                "SO_UPDATE_ACCEPT_CONTEXT",
                self.listener,
            ));
        }
        let peer = peer_of(&accepted)?;
        Ok((accepted, peer))
    }
}

fn peer_of(socket: &OwnedSocket) -> io::Result<RawAddr> {
    let peer = socket2::SockRef::from(socket).peer_addr()?;
    let peer = peer.as_socket().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "an accepted peer that is not IPv4 or IPv6",
        )
    })?;
    Ok(RawAddr::from_inet(&peer))
}

/// Accept a connection that is already waiting, without waiting (`WouldBlock` when
/// none is): the listener drains a burst this way before it starts an `AcceptEx`.
pub(crate) fn accept_now(listener: RawSock) -> io::Result<(OwnedSocket, RawAddr)> {
    let (socket, peer) = socket2::SockRef::from(&wsa::borrowed(&listener))
        .accept()
        .map_err(|e| with_context(e, "accept", listener))?;
    socket.set_nonblocking(true)?;
    let peer = peer.as_socket().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "an accepted peer that is not IPv4 or IPv6",
        )
    })?;
    Ok((socket.into(), RawAddr::from_inet(&peer)))
}

impl OpKind for Accept {
    type Output = io::Result<(OwnedSocket, RawAddr)>;

    wsa::winsock_methods!(listener);

    fn iocp_start(&mut self, overlapped: *mut OVERLAPPED) -> IocpStart {
        let failed = |e: io::Error| IocpStart::Failed(e.raw_os_error().unwrap_or(1) as u32);
        let found = match wsa::extension(&ACCEPT_EX, self.listener, WSAID_ACCEPTEX, "AcceptEx") {
            Ok(found) => found,
            Err(e) => return failed(e),
        };
        // SAFETY: Winsock handed out this address for `WSAID_ACCEPTEX`, whose type is
        // `LPFN_ACCEPTEX`.
        let accept_ex: LPFN_ACCEPTEX =
            unsafe { std::mem::transmute::<usize, LPFN_ACCEPTEX>(found) };
        let Some(accept_ex) = accept_ex else {
            return IocpStart::Failed(WSAEINVAL as u32);
        };
        // The connection's socket: same family as the listener, overlapped (as
        // `socket2` makes every socket on Windows), not inherited by children.
        let domain = match socket2::SockRef::from(&wsa::borrowed(&self.listener)).local_addr() {
            Ok(local) => local.domain(),
            Err(e) => return failed(e),
        };
        let socket = match socket2::Socket::new(domain, socket2::Type::STREAM, None) {
            Ok(socket) => OwnedSocket::from(socket),
            Err(e) => return failed(e),
        };
        let accepted = socket.as_raw_socket() as SOCKET;
        self.accepted = Some(socket);
        // SAFETY: both sockets are open (the new one is the cell's); the address room,
        // the count and the `OVERLAPPED` are the cell's, which stays put until the
        // packet; no data is received with the connection.
        let ok = unsafe {
            accept_ex(
                self.listener as SOCKET,
                accepted,
                self.addresses.as_mut_ptr().cast(),
                0,
                ADDRESS_ROOM as u32,
                ADDRESS_ROOM as u32,
                &mut self.received,
                overlapped,
            )
        };
        wsa::started_bool(ok)
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        match result {
            Ok(_) => {
                let (socket, peer) = self.finish()?;
                socket2::SockRef::from(&socket).set_nonblocking(true)?;
                Ok((socket, peer))
            }
            Err(e) => Err(with_context(e, "AcceptEx", self.listener)),
        }
    }

    fn abandoned(&mut self, result: i32) {
        if result < 0 {
            return;
        }
        // Accepted for a future that is gone: kept for the listener's next `accept`
        // (accept is cancel-safe, as in tokio); closed with the stash if the
        // listener is gone too.
        if let Ok(accepted) = self.finish() {
            let _ = socket2::SockRef::from(&accepted.0).set_nonblocking(true);
            self.stash
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(accepted);
        }
    }
}
