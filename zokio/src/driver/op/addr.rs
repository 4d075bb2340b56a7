//! `RawAddr`: a socket address in the kernel's own layout, owned by the operations
//! that pass one to the kernel or receive one from it (`accept`, `connect`,
//! `send_to`, `recv_from`). It lives inside the operation's heap cell, so the kernel
//! may write it after the future is gone. Conversions to and from `std`'s address
//! types live here too; this file must never make a system call.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Room for any address family, and how much of it the address uses.
#[derive(Clone, Copy)]
pub(crate) struct RawAddr {
    pub(crate) storage: libc::sockaddr_storage,
    pub(crate) len: libc::socklen_t,
}

impl RawAddr {
    /// Empty, with room for the kernel to write any address.
    pub(crate) fn empty() -> RawAddr {
        RawAddr {
            // SAFETY: `sockaddr_storage` is plain bytes; all zeroes is a valid value.
            storage: unsafe { mem::zeroed() },
            len: mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t,
        }
    }

    pub(crate) fn from_inet(addr: &SocketAddr) -> RawAddr {
        let mut raw = RawAddr::empty();
        match addr {
            SocketAddr::V4(v4) => {
                // SAFETY: `sockaddr_in` is plain integers; all zeroes is a value (and
                // what `sin_zero` must hold).
                let mut sin: libc::sockaddr_in = unsafe { mem::zeroed() };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = v4.port().to_be();
                sin.sin_addr = libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                };
                #[cfg(any(
                    target_vendor = "apple",
                    target_os = "freebsd",
                    target_os = "dragonfly",
                    target_os = "netbsd",
                    target_os = "openbsd"
                ))]
                {
                    sin.sin_len = mem::size_of::<libc::sockaddr_in>() as u8;
                }
                // SAFETY: `sockaddr_storage` is larger than and aligned for any
                // address type, so a `sockaddr_in` fits at its start.
                unsafe { std::ptr::write(raw.storage_mut().cast(), sin) };
                raw.len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            }
            SocketAddr::V6(v6) => {
                // SAFETY: as above, for `sockaddr_in6`.
                let mut sin6: libc::sockaddr_in6 = unsafe { mem::zeroed() };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = v6.port().to_be();
                sin6.sin6_flowinfo = v6.flowinfo();
                sin6.sin6_addr = libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                };
                sin6.sin6_scope_id = v6.scope_id();
                #[cfg(any(
                    target_vendor = "apple",
                    target_os = "freebsd",
                    target_os = "dragonfly",
                    target_os = "netbsd",
                    target_os = "openbsd"
                ))]
                {
                    sin6.sin6_len = mem::size_of::<libc::sockaddr_in6>() as u8;
                }
                // SAFETY: as above, for `sockaddr_in6`.
                unsafe { std::ptr::write(raw.storage_mut().cast(), sin6) };
                raw.len = mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            }
        }
        raw
    }

    /// A Unix socket path; fails when it does not fit `sun_path` with its NUL.
    pub(crate) fn from_unix_path(path: &Path) -> io::Result<RawAddr> {
        let bytes = path.as_os_str().as_bytes();
        // SAFETY: `sockaddr_un` is plain integers; all zeroes is a value, and the
        // path's terminating NUL.
        let mut sun: libc::sockaddr_un = unsafe { mem::zeroed() };
        sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
        if bytes.len() >= sun.sun_path.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "Unix socket path {path:?} is {} bytes; the limit is {} (use a shorter path, \
                     e.g. a relative one)",
                    bytes.len(),
                    sun.sun_path.len() - 1
                ),
            ));
        }
        for (dst, src) in sun.sun_path.iter_mut().zip(bytes) {
            *dst = *src as libc::c_char;
        }
        // The path starts after the family (and, on the BSDs, the length byte).
        let len = mem::offset_of!(libc::sockaddr_un, sun_path) + bytes.len() + 1;
        #[cfg(any(
            target_vendor = "apple",
            target_os = "freebsd",
            target_os = "dragonfly",
            target_os = "netbsd",
            target_os = "openbsd"
        ))]
        {
            sun.sun_len = len as u8;
        }
        let mut raw = RawAddr::empty();
        // SAFETY: `sockaddr_storage` is larger than and aligned for `sockaddr_un`.
        unsafe { std::ptr::write(raw.storage_mut().cast(), sun) };
        raw.len = len as libc::socklen_t;
        Ok(raw)
    }

    pub(crate) fn storage_mut(&mut self) -> *mut libc::sockaddr {
        (&mut self.storage as *mut libc::sockaddr_storage).cast()
    }

    pub(crate) fn storage_ptr(&self) -> *const libc::sockaddr {
        (&self.storage as *const libc::sockaddr_storage).cast()
    }

    /// The address as an IP socket address; an error for other families.
    pub(crate) fn to_inet(self) -> io::Result<SocketAddr> {
        match self.storage.ss_family as libc::c_int {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a `sockaddr_in`, and the
                // storage is aligned for it.
                let sin = unsafe { &*(self.storage_ptr() as *const libc::sockaddr_in) };
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Ok(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says the storage holds a `sockaddr_in6`.
                let sin6 = unsafe { &*(self.storage_ptr() as *const libc::sockaddr_in6) };
                Ok(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            family => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the kernel returned an address of family {family}, not IPv4 or IPv6"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn miri_inet_round_trips() {
        for text in ["127.0.0.1:8080", "[::1]:443", "[fe80::1%2]:9"] {
            let addr: SocketAddr = text.parse().unwrap();
            assert_eq!(RawAddr::from_inet(&addr).to_inet().unwrap(), addr);
        }
    }

    #[test]
    fn miri_unix_path_too_long_is_refused() {
        let long = "x".repeat(200);
        let err = RawAddr::from_unix_path(Path::new(&long)).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(RawAddr::from_unix_path(Path::new("/tmp/a.sock")).is_ok());
    }
}
