//! Zokio's I/O: its native completion-based operations, readiness, and tokio's
//! runtime-independent I/O vocabulary.
//!
//! - [`ops`]: the native operations on raw descriptors, with owned buffers
//!   ([`IoBuf`], [`IoBufMut`]) handed back with the result ([`BufResult`]). On
//!   io_uring each is one submission entry, on epoll a system call made once the
//!   descriptor is ready. Buffers are taken by value because the kernel may still
//!   use one after its future is dropped; Zokio keeps it until the kernel is done.
//! - [`Interest`] and [`Ready`]: readiness, as tokio's; `unix::AsyncFd` waits for
//!   the readiness of any descriptor (Unix; not yet available on Windows).
//! - tokio's traits (`AsyncRead`, `AsyncWrite`, ...), extension traits, buffers
//!   and adapters, re-exported: they do not depend on a runtime, so
//!   `zokio::io::X` is `tokio::io::X`.
//! - `copy`, `empty`, `repeat`, `sink`, `duplex`, `simplex` and the like: tokio's,
//!   wrapped so that they spend Zokio's cooperative budget where tokio's spend
//!   tokio's (outside a tokio runtime tokio's budget never runs out).
//!
//! tokio's `stdin`, `stdout` and `stderr` are not here: they hand each call to
//! tokio's blocking pool, which only exists inside a tokio runtime.
//!
//! Nothing in this module may block a worker.

mod always_ready;
mod buf;
mod cooperative;
mod copy;
// The translations between readiness and `poll(2)` bits: only descriptors have those.
#[cfg(unix)]
mod interest;
mod mem;
pub mod ops;
mod ready;
mod tail;
#[cfg(unix)]
pub mod unix;

pub(crate) use tail::until_done;
// Named outside this module only by the ring's whole-file reads (Linux).
#[cfg(target_os = "linux")]
pub(crate) use tail::Tail;

pub use always_ready::{empty, repeat, sink, Empty, Repeat, Sink};
pub use buf::{IoBuf, IoBufMut};
pub use copy::{copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf};
#[cfg(unix)]
pub(crate) use interest::{InterestExt, POLLRDHUP};
pub use mem::{duplex, simplex, DuplexStream, SimplexStream};
pub(crate) use ready::ReadyExt;
/// Which readiness a caller wants to wait for, and what a source turned out to be
/// ready for: tokio's own types, so that code naming `tokio::io::Interest` and code
/// naming `zokio::io::Interest` pass the same values to Zokio's sockets.
pub use tokio::io::{Interest, Ready};

pub use std::io::{Error, ErrorKind, Result, SeekFrom};
pub use tokio::io::{
    join, split, AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt,
    AsyncWrite, AsyncWriteExt, BufReader, BufStream, BufWriter, Chain, Join, Lines, ReadBuf,
    ReadHalf, Split, Take, WriteHalf,
};

/// An operation's result together with the buffer it used.
pub type BufResult<T, B> = (std::io::Result<T>, B);

/// The most buffers one vectored system call takes (`readv`, `writev`,
/// `sendmsg`...): `UIO_MAXIOV` on Linux, `IOV_MAX` from `<limits.h>` elsewhere
/// (1024 on macOS and FreeBSD too, but `libc` does not name it there).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const IOV_MAX: usize = libc::UIO_MAXIOV as usize;
/// See the Linux definition.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const IOV_MAX: usize = 1024;
