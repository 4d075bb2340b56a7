//! `connect` on Windows: an overlapped `ConnectEx`, which completes once the
//! handshake is done (or refused). `ConnectEx` wants a bound socket, so one that is
//! not bound yet is bound to the unspecified address of its family first, as a
//! plain `connect` would do by itself. Named `connect` in the operation layer, as
//! on Unix. Must never connect a socket the caller did not hand it.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;

use windows_sys::Win32::Networking::WinSock::{
    setsockopt, AF_INET6, LPFN_CONNECTEX, SOCKET, SOCKET_ERROR, SOL_SOCKET,
    SO_UPDATE_CONNECT_CONTEXT, WSAEINVAL, WSAID_CONNECTEX,
};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::addr::RawAddr;
use super::{with_context, wsa, IocpStart, OpKind, RawSock};

static CONNECT_EX: OnceLock<usize> = OnceLock::new();

pub(crate) struct Connect {
    sock: RawSock,
    addr: RawAddr,
}

impl Connect {
    pub(crate) fn new(sock: RawSock, addr: RawAddr) -> Connect {
        Connect { sock, addr }
    }
}

impl OpKind for Connect {
    type Output = io::Result<()>;

    wsa::winsock_methods!(sock);

    fn check(&self) -> io::Result<()> {
        let borrowed = wsa::borrowed(&self.sock);
        let socket = socket2::SockRef::from(&borrowed);
        match socket.local_addr() {
            Ok(_) => Ok(()),
            Err(e) if e.raw_os_error() == Some(WSAEINVAL) => {
                let any = if i32::from(self.addr.storage.ss_family) == AF_INET6 as i32 {
                    SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))
                } else {
                    SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))
                };
                socket
                    .bind(&any.into())
                    .map_err(|e| with_context(e, "bind before ConnectEx", self.sock))
            }
            Err(e) => Err(with_context(e, "getsockname", self.sock)),
        }
    }

    fn iocp_start(&mut self, overlapped: *mut OVERLAPPED) -> IocpStart {
        let found = match wsa::extension(&CONNECT_EX, self.sock, WSAID_CONNECTEX, "ConnectEx") {
            Ok(found) => found,
            Err(e) => return IocpStart::Failed(e.raw_os_error().unwrap_or(1) as u32),
        };
        // SAFETY: Winsock handed out this address for `WSAID_CONNECTEX`, whose type
        // is `LPFN_CONNECTEX`.
        let connect_ex: LPFN_CONNECTEX =
            unsafe { std::mem::transmute::<usize, LPFN_CONNECTEX>(found) };
        let Some(connect_ex) = connect_ex else {
            return IocpStart::Failed(WSAEINVAL as u32);
        };
        // SAFETY: the address and the `OVERLAPPED` are the cell's, which stays put
        // until the packet; no data is sent with the handshake.
        let ok = unsafe {
            connect_ex(
                self.sock as SOCKET,
                self.addr.storage_ptr(),
                self.addr.len,
                std::ptr::null(),
                0,
                std::ptr::null_mut(),
                overlapped,
            )
        };
        wsa::started_bool(ok)
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<()> {
        result.map_err(|e| with_context(e, "ConnectEx", self.sock))?;
        // Without this the socket does not know it is connected: `getpeername`,
        // `shutdown` and the rest would fail.
        // SAFETY: a plain option call on our open socket, with no value.
        let rc = unsafe {
            setsockopt(
                self.sock as SOCKET,
                SOL_SOCKET,
                SO_UPDATE_CONNECT_CONTEXT,
                std::ptr::null(),
                0,
            )
        };
        if rc == SOCKET_ERROR {
            return Err(with_context(
                io::Error::last_os_error(),
                "SO_UPDATE_CONNECT_CONTEXT",
                self.sock,
            ));
        }
        Ok(())
    }
}
