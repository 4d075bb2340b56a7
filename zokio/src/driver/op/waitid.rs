//! `waitid`: wait until a child process has exited, through its pidfd, without
//! reaping it. On io_uring this is `IORING_OP_WAITID` with `WNOWAIT` where the kernel
//! has the opcode (Linux 6.7+), else a `POLL_ADD` on the pidfd (which turns readable
//! when the process exits); on epoll it is the pidfd's readiness.
//!
//! The child stays a zombie after this completes: `process` reaps it with a
//! non-blocking `waitid` in the task that owns it. So an operation that completes
//! after its future was dropped never consumes an exit status nobody reads, and
//! must never be changed to reap.

// Linux only: pidfds (and the ring's `waitid`) exist only there.
#![cfg(target_os = "linux")]

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use super::{with_context, OpKind, ReadinessWait};

/// Set by this crate's tests to take the `POLL_ADD` path on a kernel that has
/// `IORING_OP_WAITID`, so that both paths are tested on one machine.
#[cfg(test)]
pub(crate) static PRETEND_NO_WAITID: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

pub(crate) struct WaitExit {
    /// Shared with the child's handle, so the descriptor stays open until the kernel
    /// is done with this operation even if the handle is dropped first.
    pidfd: Arc<OwnedFd>,
    /// Where io_uring's `waitid` writes what it saw; read by nobody (the reap that
    /// follows reads the status again), but the kernel needs somewhere to put it.
    info: SigInfo,
}

/// A `siginfo_t` as plain data that may move between threads.
struct SigInfo(libc::siginfo_t);

// SAFETY: `siginfo_t` holds integers and, in some union members, pointer-sized
// values that the kernel writes as numbers; nothing here ever dereferences them.
unsafe impl Send for SigInfo {}

impl WaitExit {
    pub(crate) fn new(pidfd: Arc<OwnedFd>) -> WaitExit {
        WaitExit {
            pidfd,
            // SAFETY: `siginfo_t` is plain integers and unions of them, for which
            // all zeroes is a value.
            info: SigInfo(unsafe { std::mem::zeroed() }),
        }
    }

    /// Whether the running kernel's io_uring has `IORING_OP_WAITID` (and, in this
    /// crate's own tests, whether the test asked to pretend it has not).
    #[cfg(target_os = "linux")]
    pub(crate) fn native_on_ring() -> bool {
        #[cfg(test)]
        if PRETEND_NO_WAITID.load(std::sync::atomic::Ordering::Relaxed) {
            return false;
        }
        crate::driver::uring::probe::supports(io_uring::opcode::WaitId::CODE)
    }
}

impl OpKind for WaitExit {
    type Output = io::Result<()>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        let fd = self.pidfd.as_raw_fd();
        if Self::native_on_ring() {
            let info = std::ptr::addr_of_mut!(self.info.0);
            io_uring::opcode::WaitId::new(
                libc::P_PIDFD,
                fd as libc::id_t,
                libc::WEXITED | libc::WNOWAIT,
            )
            .infop(info.cast_const())
            .build()
        } else {
            io_uring::opcode::PollAdd::new(io_uring::types::Fd(fd), libc::POLLIN as u32).build()
        }
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Fd {
            fd: self.pidfd.as_raw_fd(),
            events: libc::POLLIN as u32,
            then_run: false,
        }
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<()> {
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err(with_context(e, "waitid", self.pidfd.as_raw_fd())),
        }
    }
}
