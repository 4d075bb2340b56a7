//! The system calls behind `read`, `write`, `readv` and `writev` on the epoll driver,
//! shared by those four kinds so that they answer alike.
//!
//! Two promises make the epoll driver behave like io_uring. A descriptor left in
//! blocking mode (as `std` hands pipes out) never blocks the worker: calls at the
//! current position carry `RWF_NOWAIT`, which turns "would block" into `EAGAIN`, and
//! the operation then waits for readiness instead (other Unix systems lack the flag:
//! see `without_blocking`). Only where epoll cannot wait (a
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
    if iovecs.len() > crate::io::IOV_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{op} on fd {fd}: {} buffers, more than the {} the kernel accepts at once",
                iovecs.len(),
                crate::io::IOV_MAX
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
    #[cfg(target_os = "linux")]
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
    #[cfg(not(target_os = "linux"))]
    if *nowait {
        // SAFETY: the caller's contract, passed on.
        if let Some(result) = unsafe { without_blocking(fd, iov, count, direction) } {
            return result;
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

/// Without `RWF_NOWAIT` (every Unix but Linux), the promise that a blocking-mode
/// descriptor never blocks the worker is kept by looking first. A descriptor in
/// non-blocking mode needs nothing: `None`, make the ordinary call, which says
/// `EAGAIN` itself. One in blocking mode must be reported ready by a zero-timeout
/// `poll(2)` (else `EAGAIN`, and the operation waits for readiness); a read then
/// returns what is there without waiting, and a write goes to the first non-empty
/// buffer only, at most `PIPE_BUF` bytes of it, which a pipe or socket reported
/// writable takes without blocking. A short write is a valid answer: the caller
/// writes the rest. A reader racing on the same descriptor can still empty it
/// between the look and the read; only `O_NONBLOCK` closes that gap.
///
/// # Safety
/// As for `transfer`: `iov` points at `count` iovecs whose buffers are valid.
#[cfg(not(target_os = "linux"))]
unsafe fn without_blocking(
    fd: RawFd,
    iov: *const libc::iovec,
    count: libc::c_int,
    direction: Direction,
) -> Option<io::Result<usize>> {
    // SAFETY: F_GETFL only reads the descriptor's status flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Some(Err(io::Error::last_os_error()));
    }
    if flags & libc::O_NONBLOCK != 0 {
        return None;
    }
    let events = match direction {
        Direction::Read => libc::POLLIN,
        Direction::Write => libc::POLLOUT,
    };
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one pollfd on this stack frame, a zero timeout.
    match unsafe { libc::poll(&mut pfd, 1, 0) } {
        n if n < 0 => return Some(Err(io::Error::last_os_error())),
        0 => return Some(Err(io::Error::from_raw_os_error(libc::EAGAIN))),
        _ => {}
    }
    match direction {
        Direction::Read => None,
        Direction::Write => {
            // SAFETY: the caller's contract: `count` valid iovecs at `iov`.
            let iovecs = unsafe { std::slice::from_raw_parts(iov, count.max(0) as usize) };
            let first = iovecs.iter().find(|v| v.iov_len > 0)?;
            let len = first.iov_len.min(libc::PIPE_BUF);
            // SAFETY: `first` is one of the caller's iovecs, readable for `len`
            // bytes, as `len <= iov_len`.
            Some(cvt(unsafe { libc::write(fd, first.iov_base, len) }))
        }
    }
}
