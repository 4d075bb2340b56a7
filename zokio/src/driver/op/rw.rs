//! The system calls behind `read`, `write`, `readv` and `writev` on the epoll driver,
//! shared by those four kinds so that they answer alike.
//!
//! Two promises make the epoll driver behave like io_uring. A descriptor left in
//! blocking mode (as `std` hands pipes out) never blocks the worker: calls at the
//! current position carry `RWF_NOWAIT`, which turns "would block" into `EAGAIN`, and
//! the operation then waits for readiness instead. Only where epoll cannot wait (a
//! regular file, which is always "ready") does the call go ahead without it. And an
//! offset on a descriptor that cannot seek is ignored, as io_uring ignores it. This
//! file must never touch buffers beyond the iovecs it is given.

use std::io;
use std::os::fd::RawFd;

use super::cvt;

/// The argument check `readv` and `writev` share: some room (or bytes) in all, and
/// no more buffers than one system call takes. `empty` names what an empty list is.
pub(crate) fn check_iovecs(
    op: &str,
    fd: RawFd,
    iovecs: &[libc::iovec],
    empty: fn(&str, RawFd) -> io::Error,
) -> io::Result<()> {
    if iovecs.iter().all(|v| v.iov_len == 0) {
        return Err(empty(op, fd));
    }
    if iovecs.len() > libc::UIO_MAXIOV as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{op} on fd {fd}: {} buffers, more than the {} the kernel accepts at once",
                iovecs.len(),
                libc::UIO_MAXIOV
            ),
        ));
    }
    Ok(())
}

/// Which way the data goes.
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// Run one transfer over `iov` at `offset` (`u64::MAX`: the current position).
///
/// `nowait` starts true and is cleared for good when the kernel does not support
/// `RWF_NOWAIT` on this descriptor, or when the driver found that it cannot be
/// waited on (see `OpKind::may_block`).
///
/// # Safety
/// `iov` points at `count` iovecs whose buffers are valid for the transfer: readable
/// for `Write`, writable for `Read`.
pub(crate) unsafe fn transfer(
    fd: RawFd,
    iov: *const libc::iovec,
    count: usize,
    offset: u64,
    direction: Direction,
    nowait: &mut bool,
) -> io::Result<usize> {
    let count = count as libc::c_int;
    if offset != u64::MAX {
        // SAFETY: the caller's contract.
        let positioned = cvt(unsafe {
            match direction {
                Direction::Read => libc::preadv(fd, iov, count, offset as libc::off_t),
                Direction::Write => libc::pwritev(fd, iov, count, offset as libc::off_t),
            }
        });
        match positioned {
            // Cannot seek (pipe, socket): use the descriptor's own position instead.
            Err(e) if e.raw_os_error() == Some(libc::ESPIPE) => {}
            result => return result,
        }
    }
    if *nowait {
        // SAFETY: the caller's contract; offset -1 means the current position.
        let result = cvt(unsafe {
            match direction {
                Direction::Read => libc::preadv2(fd, iov, count, -1, libc::RWF_NOWAIT),
                Direction::Write => libc::pwritev2(fd, iov, count, -1, libc::RWF_NOWAIT),
            }
        });
        match result {
            // This kernel or this kind of file has no non-blocking mode of its own.
            Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => *nowait = false,
            result => return result,
        }
    }
    // SAFETY: the caller's contract.
    cvt(unsafe {
        match direction {
            Direction::Read => libc::readv(fd, iov, count),
            Direction::Write => libc::writev(fd, iov, count),
        }
    })
}
