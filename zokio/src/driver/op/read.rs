//! `read`: read into an owned buffer from a descriptor, at an offset or at the
//! descriptor's current position. The buffer comes back with the result. Must never
//! hand the kernel a pointer outside the buffer.

use std::io;
use std::os::fd::RawFd;

use super::rw::{self, Direction};
use super::{with_context, OpKind, ReadinessWait};
use crate::io::IoBufMut;

/// `offset` of `u64::MAX` means "the current position" (pipes, sockets, cursors).
pub(crate) struct Read<B> {
    fd: RawFd,
    buf: B,
    offset: u64,
    /// Epoll driver only: see `rw::transfer`.
    nowait: bool,
    /// See `OpKind::eager`: set for regular files.
    eager: bool,
}

impl<B> Read<B> {
    pub(crate) fn new(fd: RawFd, buf: B, offset: u64) -> Read<B> {
        Read {
            fd,
            buf,
            offset,
            nowait: true,
            eager: false,
        }
    }

    /// A read from a regular file, which the page cache usually answers during the
    /// submission: see `OpKind::eager` (rings only, hence Linux only).
    #[cfg(target_os = "linux")]
    pub(crate) fn from_file(fd: RawFd, buf: B, offset: u64) -> Read<B> {
        Read {
            eager: true,
            ..Read::new(fd, buf, offset)
        }
    }
}

/// The error for a buffer with no room: reading into it could only ever return 0,
/// which callers would take for end of file.
pub(crate) fn no_room(op: &str, fd: RawFd) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{op} on fd {fd}: the buffer has no room (capacity 0); give it capacity first, \
             e.g. `Vec::with_capacity(4096)`"
        ),
    )
}

/// The largest single transfer Linux performs; longer requests are capped to it.
pub(crate) const MAX_RW: usize = 0x7fff_f000;

impl<B: IoBufMut> OpKind for Read<B> {
    type Output = (io::Result<usize>, B);

    fn check(&self) -> io::Result<()> {
        if self.buf.bytes_total() == 0 {
            return Err(no_room("read", self.fd));
        }
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        let len = self.buf.bytes_total().min(MAX_RW) as u32;
        io_uring::opcode::Read::new(io_uring::types::Fd(self.fd), self.buf.stable_mut_ptr(), len)
            .offset(self.offset)
            .build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Fd {
            fd: self.fd,
            events: libc::POLLIN as u32,
            then_run: true,
        }
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        let iov = libc::iovec {
            iov_base: self.buf.stable_mut_ptr().cast(),
            iov_len: self.buf.bytes_total().min(MAX_RW),
        };
        // SAFETY: the buffer is valid for writes of `bytes_total` bytes (`IoBufMut`).
        unsafe {
            rw::transfer(
                self.fd,
                &iov,
                1,
                self.offset,
                Direction::Read,
                &mut self.nowait,
            )
        }
    }

    fn may_block(&mut self) {
        self.nowait = false;
    }

    fn eager(&self) -> bool {
        self.eager
    }

    fn complete(mut self, result: io::Result<usize>) -> (io::Result<usize>, B) {
        match result {
            Ok(n) => {
                // SAFETY: the kernel wrote `n <= bytes_total` bytes at the start.
                unsafe { self.buf.set_init(n) };
                (Ok(n), self.buf)
            }
            Err(e) => (Err(with_context(e, "read", self.fd)), self.buf),
        }
    }
}
