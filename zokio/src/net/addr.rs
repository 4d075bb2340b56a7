//! Addresses: `ToSocketAddrs` (what `bind`, `connect` and `send_to` accept, as in
//! tokio), `lookup_host` (name resolution on the blocking pool), and the error
//! context that names the address an operation failed on. Must never resolve a name
//! on a worker thread: `getaddrinfo` blocks.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Types that name one or more socket addresses: `SocketAddr`, `(IpAddr, u16)`,
/// `"127.0.0.1:8080"`, `("localhost", 8080)`, `String`s, slices of addresses.
/// Names that are not literal addresses are resolved on the blocking pool.
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) mod sealed {
    use super::Resolve;

    /// How an address argument becomes addresses; not for use outside Zokio.
    pub trait Sealed {
        #[doc(hidden)]
        fn to_resolve(&self) -> Resolve;
    }
}

/// Addresses known now, or a `host:port` name to look up.
#[doc(hidden)]
pub enum Resolve {
    Ready(Vec<SocketAddr>),
    Lookup(String),
}

macro_rules! ready_addrs {
    ($($ty:ty => |$v:ident| $e:expr),* $(,)?) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::Sealed for $ty {
            fn to_resolve(&self) -> Resolve {
                let $v = self;
                Resolve::Ready(vec![$e])
            }
        }
    )*};
}

ready_addrs! {
    SocketAddr => |a| *a,
    SocketAddrV4 => |a| SocketAddr::V4(*a),
    SocketAddrV6 => |a| SocketAddr::V6(*a),
    (IpAddr, u16) => |a| SocketAddr::new(a.0, a.1),
    (Ipv4Addr, u16) => |a| SocketAddr::new(IpAddr::V4(a.0), a.1),
    (Ipv6Addr, u16) => |a| SocketAddr::new(IpAddr::V6(a.0), a.1),
}

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Sealed for [SocketAddr] {
    fn to_resolve(&self) -> Resolve {
        Resolve::Ready(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn to_resolve(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Resolve::Ready(vec![addr]),
            Err(_) => Resolve::Lookup(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn to_resolve(&self) -> Resolve {
        self.as_str().to_resolve()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn to_resolve(&self) -> Resolve {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Resolve::Ready(vec![SocketAddr::new(ip, self.1)]),
            Err(_) => Resolve::Lookup(format!("{}:{}", self.0, self.1)),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn to_resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).to_resolve()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: sealed::Sealed + ?Sized> sealed::Sealed for &T {
    fn to_resolve(&self) -> Resolve {
        (**self).to_resolve()
    }
}

/// The addresses `addr` names, looking names up on the blocking pool. An empty
/// answer is an error, so callers always have an address to try.
pub(crate) async fn resolve<A: ToSocketAddrs + ?Sized>(addr: &A) -> io::Result<Vec<SocketAddr>> {
    let addrs = match addr.to_resolve() {
        Resolve::Ready(addrs) => addrs,
        Resolve::Lookup(name) => lookup(name).await?,
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no socket address was given (an empty list); pass at least one address",
        ));
    }
    Ok(addrs)
}

async fn lookup(name: String) -> io::Result<Vec<SocketAddr>> {
    let handle = crate::task::spawn_blocking(move || {
        std::net::ToSocketAddrs::to_socket_addrs(name.as_str())
            .map(|addrs| addrs.collect::<Vec<_>>())
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("looking up {name:?} failed: {e} (expected \"host:port\")"),
                )
            })
    });
    match handle.await {
        Ok(result) => result,
        Err(join) => Err(io::Error::other(format!(
            "the name lookup task did not finish: {join}"
        ))),
    }
}

/// Resolve `host` ("name:port", `(name, port)`, or a literal address) to socket
/// addresses. Lookups of names run on the blocking pool, as in tokio.
///
/// ```
/// # #[zokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let addrs: Vec<_> = zokio::net::lookup_host("localhost:80").await?.collect();
/// assert!(addrs.iter().all(|a| a.port() == 80));
/// # Ok(())
/// # }
/// ```
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(&host).await?.into_iter())
}

/// Try `f` on each address in turn; the first success wins, else the last error.
pub(crate) async fn try_each<T, F, Fut>(addrs: Vec<SocketAddr>, mut f: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in addrs {
        match f(addr).await {
            Ok(value) => return Ok(value),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("`resolve` never returns an empty list"))
}

/// An OS error with what was being done and to which address; the kind is kept and
/// the OS error stays reachable as the `source()`.
pub(crate) fn addr_error(
    err: io::Error,
    doing: &'static str,
    addr: impl fmt::Display,
) -> io::Error {
    let hint = match err.kind() {
        io::ErrorKind::AddrInUse => {
            "; another socket already uses this address: pick another port, or stop the other \
             process"
        }
        io::ErrorKind::AddrNotAvailable => "; this machine has no such local address",
        io::ErrorKind::ConnectionRefused => "; nothing is listening there",
        io::ErrorKind::PermissionDenied => "; ports below 1024 need privileges",
        _ => "",
    };
    io::Error::new(
        err.kind(),
        AddrError {
            text: format!("{doing} {addr} failed: {err}{hint}"),
            os: err,
        },
    )
}

#[derive(Debug)]
struct AddrError {
    text: String,
    os: io::Error,
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for AddrError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.os)
    }
}
