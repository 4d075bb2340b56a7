//! `RawAddr` on Windows: a socket address in Winsock's own layout, owned by the
//! operations that hand one to the system or receive one from it (`ConnectEx`,
//! `WSASendTo`, `WSARecvFrom`). It lives inside the operation's heap cell, so the
//! system may write it after the future is gone. The layouts themselves are
//! `socket2`'s to know: this file only copies bytes to and from its `SockAddr`,
//! and must never make a system call.

use std::io;
use std::mem;
use std::net::SocketAddr;

use socket2::SockAddr;
use windows_sys::Win32::Networking::WinSock::{SOCKADDR, SOCKADDR_STORAGE};

/// Room for any address family, and how much of it the address uses.
#[derive(Clone, Copy)]
pub(crate) struct RawAddr {
    pub(crate) storage: SOCKADDR_STORAGE,
    pub(crate) len: i32,
}

impl RawAddr {
    /// Empty, with room for the system to write any address.
    pub(crate) fn empty() -> RawAddr {
        RawAddr {
            // SAFETY: `SOCKADDR_STORAGE` is plain bytes; all zeroes is a valid value.
            storage: unsafe { mem::zeroed() },
            len: mem::size_of::<SOCKADDR_STORAGE>() as i32,
        }
    }

    pub(crate) fn from_inet(addr: &SocketAddr) -> RawAddr {
        RawAddr::from_sock_addr(&SockAddr::from(*addr))
    }

    fn from_sock_addr(addr: &SockAddr) -> RawAddr {
        let mut raw = RawAddr::empty();
        let len = (addr.len() as usize).min(mem::size_of::<SOCKADDR_STORAGE>());
        // SAFETY: `addr` holds `len` initialised bytes, and the storage has room for
        // any address; the two do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                addr.as_ptr().cast::<u8>(),
                (&mut raw.storage as *mut SOCKADDR_STORAGE).cast::<u8>(),
                len,
            )
        };
        raw.len = len as i32;
        raw
    }

    pub(crate) fn storage_mut(&mut self) -> *mut SOCKADDR {
        (&mut self.storage as *mut SOCKADDR_STORAGE).cast()
    }

    pub(crate) fn storage_ptr(&self) -> *const SOCKADDR {
        (&self.storage as *const SOCKADDR_STORAGE).cast()
    }

    /// The address as an IP socket address; an error for other families.
    pub(crate) fn to_inet(self) -> io::Result<SocketAddr> {
        let len = (self.len.max(0) as usize).min(mem::size_of::<SOCKADDR_STORAGE>());
        // SAFETY: `init` fills at most the storage's size from ours, and says how
        // much it filled.
        let ((), addr) = unsafe {
            SockAddr::try_init(|storage, storage_len| {
                std::ptr::copy_nonoverlapping(
                    self.storage_ptr().cast::<u8>(),
                    storage.cast::<u8>(),
                    len.min(*storage_len as usize),
                );
                *storage_len = len as _;
                Ok(())
            })
        }?;
        addr.as_socket().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the system returned an address of family {}, not IPv4 or IPv6",
                    self.storage.ss_family
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_round_trips() {
        for text in ["127.0.0.1:8080", "[::1]:443", "[fe80::1%2]:9"] {
            let addr: SocketAddr = text.parse().unwrap();
            assert_eq!(RawAddr::from_inet(&addr).to_inet().unwrap(), addr);
        }
    }
}
