//! `close`: close a descriptor the caller owned. Must never close a descriptor that
//! is still borrowed (it takes an `OwnedFd`), and never close one twice: the
//! descriptor is closed exactly once, by the kernel or, when the operation never ran
//! (dropped unpolled, no runtime, cancelled at shutdown), synchronously here.

use std::io;
use std::os::fd::RawFd;

use super::{cvt, with_context, OpKind, ReadinessWait};

pub(crate) struct Close {
    /// Owned: taken out of an `OwnedFd` with `into_raw_fd`.
    fd: RawFd,
    /// Still ours to close: no system call has consumed it yet.
    open: bool,
}

impl Close {
    pub(crate) fn new(fd: RawFd) -> Close {
        Close { fd, open: true }
    }

    /// Close it here and now; Linux releases the descriptor even when reporting an
    /// error, so this is never retried.
    fn close_now(&mut self) -> io::Result<usize> {
        self.open = false;
        // SAFETY: the fd was owned by the caller and handed to us; nothing else closes
        // it, and `open` makes sure we close it once.
        match cvt(unsafe { libc::close(self.fd) } as isize) {
            // Interrupted or not, the descriptor is gone; retrying could close a new
            // one that reused the number.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            result => result,
        }
    }
}

/// Whether the kernel ran the close (successfully or not), as opposed to cancelling
/// it before it started.
fn kernel_ran(result: i32) -> bool {
    result != -libc::ECANCELED
}

impl OpKind for Close {
    type Output = io::Result<()>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::Close::new(io_uring::types::Fd(self.fd)).build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        self.close_now()
    }

    fn complete(mut self, result: io::Result<usize>) -> io::Result<()> {
        let result = match result {
            Ok(n) => {
                self.open = false;
                Ok(n)
            }
            Err(e) if e.raw_os_error().is_some_and(|errno| kernel_ran(-errno)) => {
                self.open = false;
                Err(e)
            }
            // Never ran (no runtime, shutting down, cancelled): close it here, and still
            // report why the operation itself failed.
            Err(e) => {
                if self.open {
                    let _ = self.close_now();
                }
                Err(e)
            }
        };
        result
            .map(drop)
            .map_err(|e| with_context(e, "close", self.fd))
    }

    fn abandoned(&mut self, result: i32) {
        if kernel_ran(result) {
            self.open = false;
        }
    }
}

impl Drop for Close {
    fn drop(&mut self) {
        if self.open {
            let _ = self.close_now();
        }
    }
}
