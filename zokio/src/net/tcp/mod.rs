//! TCP: `TcpListener`, `TcpStream`, `TcpSocket`, and the halves a stream splits into.

mod listener;
mod socket;
pub(crate) use socket::inet;
mod stream;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use stream::TcpStream;

pub use crate::net::split::ReuniteError;

/// The reading half of a `TcpStream` borrowed by [`TcpStream::split`].
pub type ReadHalf<'a> = crate::net::split::ReadHalf<'a, TcpStream>;
/// The writing half of a `TcpStream` borrowed by [`TcpStream::split`].
pub type WriteHalf<'a> = crate::net::split::WriteHalf<'a, TcpStream>;
/// The reading half of a `TcpStream` taken by [`TcpStream::into_split`].
pub type OwnedReadHalf = crate::net::split::OwnedReadHalf<TcpStream>;
/// The writing half of a `TcpStream` taken by [`TcpStream::into_split`]; dropping it
/// shuts the write direction down.
pub type OwnedWriteHalf = crate::net::split::OwnedWriteHalf<TcpStream>;
