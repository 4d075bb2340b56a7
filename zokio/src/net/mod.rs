//! Networking: TCP, UDP and (on Unix) Unix sockets, with tokio's names and
//! signatures.
//!
//! On Windows every native operation is an overlapped Winsock call on the worker's
//! completion port (`AcceptEx`, `ConnectEx`, `WSARecv`, `WSASend`, `WSARecvFrom`,
//! `WSASendTo`), and a readiness wait is one too (a one-byte `MSG_PEEK` receive for
//! reading, an empty send for writing, which Winsock completes at once: see
//! `driver/op/peek_ready.rs`). A socket reports to the completion port of the
//! worker that made or adopted it, for life: its operations go to that worker's
//! driver from wherever its task runs, and it needs a runtime when it is made
//! (`from_std` too, as in tokio). Unix sockets (`zokio::net::unix`) exist only on
//! Unix.
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
//! Beside them, tokio's readiness API: `ready`, `readable`, `writable`,
//! `poll_read_ready`/`poll_recv_ready`..., the `try_*` calls with borrowed buffers
//! (`try_read`, `try_read_vectored`, `try_read_buf`, `try_recv_from`...), the
//! `poll_*` forms of the datagram calls, and `try_io`/`async_io` for system calls
//! of one's own. Each wait is a poll operation on the driver; what it reports is
//! cached until an operation says `WouldBlock`, as tokio's reactor does.
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

/// The methods `TcpStream` and `UnixStream` share, for a type with an `io:
/// IoSocket` field and `ReadHalf`/`WriteHalf`/`OwnedReadHalf`/`OwnedWriteHalf`
/// aliases in scope. None of them may take the name of a method of tokio's
/// `AsyncReadExt`/`AsyncWriteExt`.
macro_rules! stream_methods {
    () => {
        /// Shut down the reading, writing or both directions at once (`shutdown(2)`).
        /// For the write direction alone, tokio's `AsyncWriteExt::shutdown` does the same.
        pub fn shutdown_with(&self, how: Shutdown) -> io::Result<()> {
            self.io.sock().shutdown(how)
        }

        /// Wait until the stream is ready for `interest`, and say what it is ready
        /// for. It may answer without the stream really being ready (a read that
        /// drained it since, for one): the next `try_*` call then says `WouldBlock`,
        /// and the stream is waited for again. Any number of tasks may wait at once.
        pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
            self.io.ready(interest).await
        }

        /// Wait until a read would not block (see [`ready`](Self::ready)).
        pub async fn readable(&self) -> io::Result<()> {
            self.io.ready(Interest::READABLE).await.map(|_| ())
        }

        /// Wait until a write would not block (see [`ready`](Self::ready)).
        pub async fn writable(&self) -> io::Result<()> {
            self.io.ready(Interest::WRITABLE).await.map(|_| ())
        }

        /// Poll for read readiness. Only the task of the latest call (or of
        /// `poll_read`) is woken; `readable` has no such limit.
        pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.io
                .poll_ready(cx, Direction::Read)
                .map(|ready| ready.map(|_| ()))
        }

        /// Poll for write readiness. Only the task of the latest call (or of
        /// `poll_write`) is woken; `writable` has no such limit.
        pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.io
                .poll_ready(cx, Direction::Write)
                .map(|ready| ready.map(|_| ()))
        }

        /// Read what is there without waiting; `WouldBlock` if nothing is. `Ok(0)`:
        /// the peer closed its side, or `buf` is empty.
        pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.io.read_now(as_uninit(buf), Take::Consume)
        }

        /// [`try_read`](Self::try_read) into several buffers, filled in order.
        pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
            self.io.read_vectored_now(bufs)
        }

        /// [`try_read`](Self::try_read) into the spare room of `buf`, advancing it.
        pub fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
            fill_buf_mut(buf, |dst| {
                let n = self.io.read_now(dst, Take::Consume)?;
                Ok((n, n))
            })
        }

        /// Write what fits without waiting; `WouldBlock` if nothing does.
        pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
            self.io.write_now(buf)
        }

        /// [`try_write`](Self::try_write) of several buffers, in order.
        pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
            self.io.write_vectored_now(bufs)
        }

        /// Run `f`, a non-blocking operation on the stream's descriptor, if the
        /// stream is thought ready for `interest`; else `WouldBlock` without calling
        /// it. `f` must answer `WouldBlock` only when its system call did, which
        /// marks the stream not ready until a wait says otherwise.
        ///
        /// A read in `f` goes to the kernel directly: on io_uring, bytes that
        /// `AsyncRead` already read ahead are not there any more, so read a stream
        /// either through `f` or through the stream's own calls, not both.
        pub fn try_io<R>(
            &self,
            interest: Interest,
            f: impl FnOnce() -> io::Result<R>,
        ) -> io::Result<R> {
            self.io.try_io(interest, f)
        }

        /// Wait for `interest`, then run `f` (as in [`try_io`](Self::try_io)),
        /// waiting again for as long as it answers `WouldBlock`.
        pub async fn async_io<R>(
            &self,
            interest: Interest,
            f: impl FnMut() -> io::Result<R>,
        ) -> io::Result<R> {
            self.io.async_io(interest, f).await
        }

        /// Take the pending socket error (`SO_ERROR`), if any.
        pub fn take_error(&self) -> io::Result<Option<io::Error>> {
            self.io.sock().take_error()
        }

        /// Read into `buf` (at most its capacity) with the native owned-buffer path;
        /// 0 means the peer closed its side.
        pub async fn read_owned<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
            self.io.recv_owned(buf).await
        }

        /// Fill `buf` to its capacity; `UnexpectedEof` if the stream ends first.
        pub async fn read_exact_owned<B: IoBufMut>(&self, buf: B) -> BufResult<(), B> {
            self.io.recv_exact_owned(buf).await
        }

        /// Write some of `buf`'s bytes with the native owned-buffer path.
        pub async fn write_owned<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
            self.io.send_owned(buf, false).await
        }

        /// Write all of `buf`'s bytes.
        pub async fn write_all_owned<B: IoBuf>(&self, buf: B) -> BufResult<(), B> {
            self.io.send_all_owned(buf).await
        }

        /// Borrow a reading and a writing half, usable from two futures at once.
        pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
            (split::ReadHalf(self), split::WriteHalf(self))
        }

        /// Split into halves that can move to different tasks; `reunite` joins them.
        pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
            split::split_owned(self)
        }
    };
}

/// The raw-handle traits for a socket type with an `io: IoSocket` field: `AsRawFd`
/// and `AsFd` on Unix, `AsRawSocket` and `AsSocket` on Windows.
macro_rules! socket_handle_impls {
    ($ty:ty) => {
        #[cfg(unix)]
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.raw()
            }
        }

        #[cfg(unix)]
        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(&self.io)
            }
        }

        #[cfg(windows)]
        impl std::os::windows::io::AsRawSocket for $ty {
            fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
                self.io.raw()
            }
        }

        #[cfg(windows)]
        impl std::os::windows::io::AsSocket for $ty {
            fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
                std::os::windows::io::AsSocket::as_socket(&self.io)
            }
        }
    };
}

#[macro_use]
mod datagram;

mod accept;
mod addr;
mod borrowed;
mod io_socket;
mod poll_traits;
mod read_ahead;
mod readiness;
#[cfg(windows)]
mod send_behind;
mod split;
pub(crate) mod sys;
pub mod tcp;
#[cfg(windows)]
mod tie;
mod udp;
#[cfg(unix)]
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixDatagram, UnixListener, UnixSocket, UnixStream};
