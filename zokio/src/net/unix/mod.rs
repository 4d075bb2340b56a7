//! Unix sockets: `UnixListener`, `UnixStream`, `UnixDatagram`, `UnixSocket` (one
//! not yet any of those), the halves a stream splits into, their addresses
//! (`SocketAddr`) and peer credentials (`UCred`).

mod datagram;
mod listener;
mod socket;
mod socketaddr;
mod stream;
mod ucred;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use socket::UnixSocket;
pub use socketaddr::SocketAddr;
pub use stream::UnixStream;
pub use ucred::{gid_t, pid_t, uid_t, UCred};

pub use crate::net::split::ReuniteError;

/// The reading half of a `UnixStream` borrowed by [`UnixStream::split`].
pub type ReadHalf<'a> = crate::net::split::ReadHalf<'a, UnixStream>;
/// The writing half of a `UnixStream` borrowed by [`UnixStream::split`].
pub type WriteHalf<'a> = crate::net::split::WriteHalf<'a, UnixStream>;
/// The reading half of a `UnixStream` taken by [`UnixStream::into_split`].
pub type OwnedReadHalf = crate::net::split::OwnedReadHalf<UnixStream>;
/// The writing half of a `UnixStream` taken by [`UnixStream::into_split`]; dropping it
/// shuts the write direction down.
pub type OwnedWriteHalf = crate::net::split::OwnedWriteHalf<UnixStream>;
