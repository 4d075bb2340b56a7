//! `close`: close a descriptor the caller owned. Must never close a descriptor that
//! is still borrowed: it takes an `OwnedFd`.

use std::io;
use std::os::fd::RawFd;

use super::{cvt, with_context, EpollWait, OpKind};

pub(crate) struct Close {
    /// Owned: taken out of an `OwnedFd` with `into_raw_fd`.
    pub(crate) fd: RawFd,
}

impl OpKind for Close {
    type Output = io::Result<()>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::Close::new(io_uring::types::Fd(self.fd)).build()
    }

    fn epoll_wait(&self) -> EpollWait {
        EpollWait::Never
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        // SAFETY: the fd was owned by the caller and handed to us; nothing else closes it.
        match cvt(unsafe { libc::close(self.fd) } as isize) {
            // Linux has released the descriptor even then; retrying could close a new
            // descriptor that reused the number.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            result => result,
        }
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<()> {
        result
            .map(drop)
            .map_err(|e| with_context(e, "close", self.fd))
    }
}
