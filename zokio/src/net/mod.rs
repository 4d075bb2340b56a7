//! Networking: TCP, UDP and Unix sockets, with tokio's names and signatures.
//!
//! Every socket offers two I/O interfaces:
//!
//! - **native, with owned buffers**: `read_owned`, `read_exact_owned`,
//!   `write_owned`, `write_all_owned` (and `send_owned`, `recv_from_owned`... on
//!   datagram sockets). The buffer is handed to the driver and comes back with the
//!   result, `(io::Result<T>, B)`; on io_uring each call is a ring operation
//!   (`accept`, `connect`, `recv`, `send`, `recvmsg`, `sendmsg` are native too), on
//!   epoll a system call once the socket is ready. These names never collide with
//!   tokio's extension traits.
//! - **poll-based**: tokio's `AsyncRead`/`AsyncWrite` (feature `tokio-io`, on by
//!   default) and futures' (feature `futures-io`), so code written for tokio —
//!   `use tokio::io::AsyncReadExt; stream.read(&mut buf).await` — and the crates
//!   built on those traits (hyper, codecs, TLS) work unchanged.
//!
//! Writes never raise `SIGPIPE`: writing to a closed peer is an `io::Error`.
//! Listeners that run out of descriptors back off and keep the server alive.
//!
//! ```
//! use zokio::net::{TcpListener, TcpStream};
//!
//! # #[zokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! zokio::spawn(async move {
//!     let (stream, _) = listener.accept().await.unwrap();
//!     let (n, buf) = stream.read_owned(Vec::with_capacity(64)).await;
//!     let _ = n.unwrap();
//!     stream.write_all_owned(buf).await.0.unwrap();
//! });
//! let stream = TcpStream::connect(addr).await?;
//! stream.write_all_owned(b"ping".to_vec()).await.0?;
//! let (result, echo) = stream.read_exact_owned(Vec::with_capacity(4)).await;
//! result?;
//! assert_eq!(echo, b"ping");
//! # Ok(())
//! # }
//! ```

mod addr;
mod io_socket;
mod poll_traits;
mod read_ahead;
mod split;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
