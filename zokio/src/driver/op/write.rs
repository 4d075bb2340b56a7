//! `write`: write an owned buffer's initialised bytes to a descriptor, at an offset or
//! at the descriptor's current position. The buffer comes back with the result. Must
//! never hand the kernel a pointer outside the buffer.

use std::io;
use std::os::fd::RawFd;

use super::read::MAX_RW;
use super::rw::{self, Direction};
use super::{with_context, OpKind, ReadinessWait};
use crate::io::IoBuf;

/// `offset` of `u64::MAX` means "the current position" (pipes, sockets, cursors).
pub(crate) struct Write<B> {
    fd: RawFd,
    buf: B,
    offset: u64,
    /// Epoll driver only: see `rw::transfer`.
    nowait: bool,
}

impl<B> Write<B> {
    pub(crate) fn new(fd: RawFd, buf: B, offset: u64) -> Write<B> {
        Write {
            fd,
            buf,
            offset,
            nowait: true,
        }
    }
}

/// The error for an empty buffer: a write of nothing would report 0 bytes written,
/// which loops that write until everything is out would spin on forever.
pub(crate) fn nothing_to_write(op: &str, fd: RawFd) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{op} on fd {fd}: the buffer is empty (length 0); there is nothing to write"),
    )
}

impl<B: IoBuf> OpKind for Write<B> {
    type Output = (io::Result<usize>, B);

    fn check(&self) -> io::Result<()> {
        if self.buf.bytes_init() == 0 {
            return Err(nothing_to_write("write", self.fd));
        }
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        let len = self.buf.bytes_init().min(MAX_RW) as u32;
        io_uring::opcode::Write::new(io_uring::types::Fd(self.fd), self.buf.stable_ptr(), len)
            .offset(self.offset)
            .build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Fd {
            fd: self.fd,
            events: libc::POLLOUT as u32,
            then_run: true,
        }
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        let iov = libc::iovec {
            iov_base: self.buf.stable_ptr() as *mut libc::c_void,
            iov_len: self.buf.bytes_init().min(MAX_RW),
        };
        // SAFETY: the buffer holds `bytes_init` initialised bytes (`IoBuf`).
        unsafe {
            rw::transfer(
                self.fd,
                &iov,
                1,
                self.offset,
                Direction::Write,
                &mut self.nowait,
            )
        }
    }

    fn may_block(&mut self) {
        self.nowait = false;
    }

    fn complete(self, result: io::Result<usize>) -> (io::Result<usize>, B) {
        let result = result.map_err(|e| with_context(e, "write", self.fd));
        (result, self.buf)
    }
}
