//! Unix sockets: `UnixListener`, `UnixStream`, `UnixDatagram`, and the halves a
//! stream splits into.

mod datagram;
mod listener;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use stream::UnixStream;

pub use crate::net::split::ReuniteError;
/// The address of a Unix socket (`std`'s type).
pub use std::os::unix::net::SocketAddr;

/// The reading half of a `UnixStream` borrowed by [`UnixStream::split`].
pub type ReadHalf<'a> = crate::net::split::ReadHalf<'a, UnixStream>;
/// The writing half of a `UnixStream` borrowed by [`UnixStream::split`].
pub type WriteHalf<'a> = crate::net::split::WriteHalf<'a, UnixStream>;
/// The reading half of a `UnixStream` taken by [`UnixStream::into_split`].
pub type OwnedReadHalf = crate::net::split::OwnedReadHalf<UnixStream>;
/// The writing half of a `UnixStream` taken by [`UnixStream::into_split`]; dropping it
/// shuts the write direction down.
pub type OwnedWriteHalf = crate::net::split::OwnedWriteHalf<UnixStream>;
