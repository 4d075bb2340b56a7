//! The native operations, as free functions on raw descriptors.
//!
//! Each returns a future that, on its first poll, submits the operation to the driver
//! of the worker it runs on. The descriptor is borrowed for as long as the future
//! lives; the buffer is owned and comes back with the result. Dropping a future early
//! is always safe: the driver keeps the buffer until the kernel is done with it and
//! cancels the operation. OS errors keep their kind and carry the operation and
//! descriptor in their message; the OS error itself, with its `raw_os_error`, is the
//! error's `source()`.
//!
//! A read dropped while in flight may still have consumed data: on io_uring the
//! kernel can finish it before the cancel arrives, and those bytes leave with the
//! dropped buffer. Do not race a read on a stream against a timer and then read on,
//! unless losing what the losing read took is acceptable.
//!
//! A buffer with no room (read) or no bytes (write) is refused with `InvalidInput`
//! before anything is submitted: its result, 0, would look like end of file.
//!
//! On a descriptor that cannot seek (a pipe, a socket, a terminal) an offset is
//! ignored and the descriptor's own position is used, as io_uring does; the epoll
//! driver behaves the same, so code does not change meaning with the driver.
//!
//! The operations on descriptors are Unix's for now. Not yet available on Windows:
//! only [`nop`] and [`timeout`] exist there.

use std::future::Future;
use std::io;
#[cfg(unix)]
use std::os::fd::{AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::time::Duration;

#[cfg(unix)]
use super::{BufResult, Interest, IoBuf, IoBufMut, Ready};
#[cfg(unix)]
use crate::driver::op::{close, poll, read, readv, write, writev};
use crate::driver::op::{nop, timeout, Op, OpKind};

/// The current position of the descriptor, for pipes, sockets and cursor I/O.
#[cfg(unix)]
const CURRENT_POSITION: u64 = u64::MAX;

/// Run `kind`, keeping the borrow of its descriptor alive as long as the future.
fn operation<'fd, K: OpKind>(kind: K) -> impl Future<Output = K::Output> + Send + 'fd
where
    K::Output: 'fd,
{
    Op::new(kind)
}

/// An operation that does nothing: the cost of the operation path itself.
pub fn nop() -> impl Future<Output = io::Result<()>> + Send + 'static {
    operation(nop::Nop)
}

#[cfg(unix)]
/// Read into `buf` from `fd` at `offset` (a file position; for pipes and sockets use
/// [`read`]). Reads at most `buf`'s capacity; on success the buffer holds exactly the
/// bytes read.
///
/// # Examples
///
/// The buffer moves into the operation and comes back with its result, since the
/// kernel may still write into it after the future is dropped:
///
/// ```
/// use std::os::fd::AsFd;
///
/// # let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let path = std::env::temp_dir().join(format!("zokio-doc-read-at-{}", std::process::id()));
/// std::fs::write(&path, b"hello, ring").unwrap();
/// let file = std::fs::File::open(&path).unwrap();
///
/// let (result, buf) = zokio::io::ops::read_at(file.as_fd(), Vec::with_capacity(4), 7).await;
/// assert_eq!(result.unwrap(), 4);
/// assert_eq!(buf, b"ring");
/// # std::fs::remove_file(&path).unwrap();
/// # });
/// ```
pub fn read_at<B: IoBufMut>(
    fd: BorrowedFd<'_>,
    buf: B,
    offset: u64,
) -> impl Future<Output = BufResult<usize, B>> + Send + '_ {
    operation(read::Read::new(fd.as_raw_fd(), buf, offset))
}

#[cfg(unix)]
/// Read into `buf` from `fd` at its current position.
pub fn read<B: IoBufMut>(
    fd: BorrowedFd<'_>,
    buf: B,
) -> impl Future<Output = BufResult<usize, B>> + Send + '_ {
    read_at(fd, buf, CURRENT_POSITION)
}

#[cfg(unix)]
/// Write `buf`'s bytes to `fd` at `offset`. Returns how many were written, which may
/// be fewer than all of them.
pub fn write_at<B: IoBuf>(
    fd: BorrowedFd<'_>,
    buf: B,
    offset: u64,
) -> impl Future<Output = BufResult<usize, B>> + Send + '_ {
    operation(write::Write::new(fd.as_raw_fd(), buf, offset))
}

#[cfg(unix)]
/// Write `buf`'s bytes to `fd` at its current position.
pub fn write<B: IoBuf>(
    fd: BorrowedFd<'_>,
    buf: B,
) -> impl Future<Output = BufResult<usize, B>> + Send + '_ {
    write_at(fd, buf, CURRENT_POSITION)
}

#[cfg(unix)]
/// Read into several buffers in order, at `offset` (`u64::MAX`: the current position).
pub fn readv_at<B: IoBufMut>(
    fd: BorrowedFd<'_>,
    bufs: Vec<B>,
    offset: u64,
) -> impl Future<Output = BufResult<usize, Vec<B>>> + Send + '_ {
    operation(readv::Readv::new(fd.as_raw_fd(), bufs, offset))
}

#[cfg(unix)]
/// Write several buffers in order, at `offset` (`u64::MAX`: the current position).
pub fn writev_at<B: IoBuf>(
    fd: BorrowedFd<'_>,
    bufs: Vec<B>,
    offset: u64,
) -> impl Future<Output = BufResult<usize, Vec<B>>> + Send + '_ {
    operation(writev::Writev::new(fd.as_raw_fd(), bufs, offset))
}

#[cfg(unix)]
/// Wait until `fd` is ready for `interest`.
pub fn poll_ready(
    fd: BorrowedFd<'_>,
    interest: Interest,
) -> impl Future<Output = io::Result<Ready>> + Send + '_ {
    operation(poll::PollReady {
        fd: fd.as_raw_fd(),
        interest,
    })
}

/// Complete after `duration`, through the kernel's timer (io_uring) or the driver's
/// deadline list (the readiness and IOCP drivers). For ordinary sleeps prefer
/// `zokio::time::sleep`, which the paused clock controls and which costs no
/// operation. A duration past about 30 years is cut to that, like every deadline
/// Zokio computes from a duration.
pub fn timeout(duration: Duration) -> impl Future<Output = io::Result<()>> + Send + 'static {
    operation(timeout::Timeout::new(duration))
}

#[cfg(unix)]
/// Close `fd`. The descriptor is released even when an error is reported.
pub fn close(fd: OwnedFd) -> impl Future<Output = io::Result<()>> + Send + 'static {
    operation(close::Close::new(fd.into_raw_fd()))
}
