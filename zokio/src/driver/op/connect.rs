//! `connect`: start a connection to an address. On io_uring the ring runs it; on
//! epoll it is one non-blocking `connect(2)`, whose `EINPROGRESS` the caller (the
//! `net` layer) turns into a wait for writability. Must never block.

use std::io;
use std::os::fd::RawFd;

use super::addr::RawAddr;
use super::{cvt, OpKind, ReadinessWait};

pub(crate) struct Connect {
    fd: RawFd,
    addr: RawAddr,
}

impl Connect {
    pub(crate) fn new(fd: RawFd, addr: RawAddr) -> Connect {
        Connect { fd, addr }
    }
}

impl OpKind for Connect {
    type Output = io::Result<()>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::Connect::new(
            io_uring::types::Fd(self.fd),
            self.addr.storage_ptr(),
            self.addr.len,
        )
        .build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        // SAFETY: the address lives in `self` and `len` is its size.
        cvt(unsafe { libc::connect(self.fd, self.addr.storage_ptr(), self.addr.len) } as isize)
    }

    // The caller adds the address to errors; the raw error keeps `EINPROGRESS`
    // recognisable.
    fn complete(self, result: io::Result<usize>) -> io::Result<()> {
        result.map(|_| ())
    }
}
