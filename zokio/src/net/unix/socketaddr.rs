//! `SocketAddr`: the address of a Unix socket, tokio's thin wrapper over `std`'s
//! (a path, an abstract name, or unnamed), converting to and from it with `From`.
//! The conversions into the layouts `socket2` and the driver take live here too.
//! Must never touch the file system.

#[cfg(target_os = "linux")]
use std::ffi::OsStr;
use std::fmt;
use std::io;
#[cfg(target_os = "linux")]
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

use socket2::SockAddr;

use crate::driver::op::addr::RawAddr;

/// The address of a Unix socket: a path, a name in Linux's abstract namespace, or
/// nothing (an unbound socket, or one end of a pair).
#[derive(Clone)]
pub struct SocketAddr(pub(crate) std::os::unix::net::SocketAddr);

impl SocketAddr {
    /// Whether the address is unnamed (neither a path nor an abstract name).
    pub fn is_unnamed(&self) -> bool {
        self.0.is_unnamed()
    }

    /// The path, for an address bound to one.
    pub fn as_pathname(&self) -> Option<&Path> {
        self.0.as_pathname()
    }

    /// The name, for an address in Linux's abstract namespace (no file exists).
    ///
    /// Linux only: other systems have no abstract namespace.
    #[cfg(target_os = "linux")]
    pub fn as_abstract_name(&self) -> Option<&[u8]> {
        self.0.as_abstract_name()
    }
}

/// As `std`'s (and tokio's): `"path"`, `"\"name\" (abstract)"` or `(unnamed)`.
impl fmt::Debug for SocketAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<std::os::unix::net::SocketAddr> for SocketAddr {
    fn from(addr: std::os::unix::net::SocketAddr) -> SocketAddr {
        SocketAddr(addr)
    }
}

impl From<SocketAddr> for std::os::unix::net::SocketAddr {
    fn from(addr: SocketAddr) -> std::os::unix::net::SocketAddr {
        addr.0
    }
}

/// `addr` as `socket2` takes it: a path, or an abstract name (a leading NUL byte, as
/// Linux spells it); an unnamed address names no socket, so it is refused.
pub(crate) fn sock_addr(addr: &SocketAddr) -> io::Result<SockAddr> {
    if let Some(path) = addr.as_pathname() {
        return SockAddr::unix(path);
    }
    #[cfg(target_os = "linux")]
    if let Some(name) = addr.as_abstract_name() {
        let mut bytes = Vec::with_capacity(name.len() + 1);
        bytes.push(0);
        bytes.extend_from_slice(name);
        return SockAddr::unix(OsStr::from_bytes(&bytes));
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "an unnamed Unix socket address names no socket to bind or connect to; use a path \
         or an abstract name",
    ))
}

/// `addr` in the layout the driver's operations take.
pub(crate) fn raw_addr(addr: &SocketAddr) -> io::Result<RawAddr> {
    Ok(raw_from(&sock_addr(addr)?))
}

/// A path in the layout the driver's operations take. A leading NUL byte names
/// Linux's abstract namespace, as `socket2` (and so `bind`) reads such a path.
pub(crate) fn path_raw_addr(path: &Path) -> io::Result<RawAddr> {
    if path.as_os_str().as_bytes().first() == Some(&0) {
        return Ok(raw_from(&SockAddr::unix(path)?));
    }
    RawAddr::from_unix_path(path)
}

fn raw_from(from: &SockAddr) -> RawAddr {
    let mut raw = RawAddr::empty();
    let len = (from.len() as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: `from` holds `from.len()` bytes of address, and `raw`'s storage is a
    // `sockaddr_storage`, which any address fits; `len` is capped to both.
    unsafe {
        std::ptr::copy_nonoverlapping(
            from.as_ptr().cast::<u8>(),
            raw.storage_mut().cast::<u8>(),
            len,
        )
    };
    raw.len = len as libc::socklen_t;
    raw
}

/// The address the kernel reported for a peer (a datagram's sender).
pub(crate) fn from_sock_addr(addr: &SockAddr) -> io::Result<SocketAddr> {
    use std::os::unix::net::SocketAddr as StdAddr;
    if let Some(path) = addr.as_pathname() {
        return StdAddr::from_pathname(path).map(SocketAddr);
    }
    #[cfg(target_os = "linux")]
    if let Some(name) = addr.as_abstract_namespace() {
        return StdAddr::from_abstract_name(name).map(SocketAddr);
    }
    unnamed().map(SocketAddr)
}

/// An unnamed address (an unbound sender). `std` has no constructor for one, so
/// it is the address of an unbound socket, asked of the kernel once per process.
fn unnamed() -> io::Result<std::os::unix::net::SocketAddr> {
    static UNNAMED: OnceLock<std::os::unix::net::SocketAddr> = OnceLock::new();
    if let Some(addr) = UNNAMED.get() {
        return Ok(addr.clone());
    }
    let addr = std::os::unix::net::UnixDatagram::unbound()?.local_addr()?;
    Ok(UNNAMED.get_or_init(|| addr).clone())
}
