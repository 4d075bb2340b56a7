//! `ftruncate`: cut or extend a file to a length. A ring operation where the kernel
//! has the opcode (Linux 6.9); `fs` uses the blocking pool elsewhere, so the
//! system call here is only for completeness and must never be the fallback path.

// Linux only: `fs` runs it only on a ring, and rings exist only on Linux.
#![cfg(target_os = "linux")]

use std::io;
use std::os::fd::RawFd;

use super::{cvt, with_context, OpKind, ReadinessWait};

pub(crate) struct Ftruncate {
    pub(crate) fd: RawFd,
    pub(crate) len: u64,
}

impl OpKind for Ftruncate {
    type Output = io::Result<()>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::Ftruncate::new(io_uring::types::Fd(self.fd), self.len).build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        let len = libc::off_t::try_from(self.len).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} bytes is beyond the largest file length", self.len),
            )
        })?;
        // SAFETY: a plain system call on a descriptor number.
        cvt(unsafe { libc::ftruncate(self.fd, len) } as isize)
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<()> {
        result
            .map(|_| ())
            .map_err(|e| with_context(e, "ftruncate", self.fd))
    }
}
