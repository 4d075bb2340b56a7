//! `fsync`: write a file's data (and with `data_only` false, its metadata) to the
//! disk. On io_uring a ring operation; on epoll `fs` uses the blocking pool
//! instead, so the system call here is only for completeness. Must never be the
//! fallback path on a worker.

// Linux only: `fs` runs it only on a ring, and rings exist only on Linux.
#![cfg(target_os = "linux")]

use std::io;
use std::os::fd::RawFd;

use super::{cvt, with_context, OpKind, ReadinessWait};

pub(crate) struct Fsync {
    pub(crate) fd: RawFd,
    pub(crate) data_only: bool,
}

impl OpKind for Fsync {
    type Output = io::Result<()>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        let mut entry = io_uring::opcode::Fsync::new(io_uring::types::Fd(self.fd));
        if self.data_only {
            entry = entry.flags(io_uring::types::FsyncFlags::DATASYNC);
        }
        entry.build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        // SAFETY: plain system calls on a descriptor number.
        let rc = unsafe {
            if self.data_only {
                libc::fdatasync(self.fd)
            } else {
                libc::fsync(self.fd)
            }
        };
        cvt(rc as isize)
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<()> {
        result
            .map(|_| ())
            .map_err(|e| with_context(e, "fsync", self.fd))
    }
}
