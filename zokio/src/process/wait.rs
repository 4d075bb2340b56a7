//! The child process as the kernel sees it (its pid and pidfd) and the one small
//! interface to its end: [`Process::try_reap`] (never waits) and
//! [`Process::wait`] (waits natively, then reaps).
//!
//! Waiting never reaps in the background: the operation that waits
//! (`driver::op::waitid`) only learns that the child has exited, and the reap is a
//! non-blocking `waitid` made here, under a lock, by whoever asks. So a wait whose
//! future is dropped consumes nothing, two reapers (a `wait` and the orphan sweep)
//! can never both reap, and a pid is never used after its child was reaped (the
//! pidfd names the process itself). Only a kernel without pidfds (before Linux 5.3,
//! and every system but Linux) waits through `SIGCHLD` (`sigchld.rs`), reaping with
//! a non-blocking `waitpid` of the child's own pid. Nothing here may call
//! `waitpid(-1)`, which would steal other code's children.

use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
#[cfg(target_os = "linux")]
use std::sync::Arc;
use std::sync::{Mutex, PoisonError};

#[cfg(target_os = "linux")]
use crate::driver::op::waitid::WaitExit;
#[cfg(target_os = "linux")]
use crate::driver::op::Op;

/// One spawned child, until and after it is reaped.
pub(crate) struct Process {
    pid: u32,
    /// `None` only where the kernel has no pidfds (before Linux 5.3).
    #[cfg(target_os = "linux")]
    pidfd: Option<Arc<OwnedFd>>,
    /// The exit status, once reaped. Locked for the whole reap, so that exactly one
    /// caller reaps and the others read what it found.
    status: Mutex<Option<ExitStatus>>,
}

impl Process {
    /// Take charge of the child `pid`, which nobody else waits for. Without pidfds
    /// (every system but Linux) waiting goes through `SIGCHLD`.
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn open(pid: u32) -> io::Result<Process> {
        Ok(Process {
            pid,
            status: Mutex::new(None),
        })
    }

    /// Take charge of the child `pid`, which nobody else waits for. Opens its
    /// pidfd, if the kernel has pidfds (else waiting goes through `SIGCHLD`).
    #[cfg(target_os = "linux")]
    pub(crate) fn open(pid: u32) -> io::Result<Process> {
        if super::sigchld::pretending() {
            return Ok(Process {
                pid,
                pidfd: None,
                status: Mutex::new(None),
            });
        }
        // SAFETY: `pidfd_open` takes a pid and flags and returns a new descriptor or
        // -1; it touches no memory of ours.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        let pidfd = if fd >= 0 {
            // SAFETY: the kernel just returned this descriptor; nobody else owns it.
            Some(Arc::new(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
        } else {
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::ENOSYS) {
                return Err(err);
            }
            None
        };
        Ok(Process {
            pid,
            pidfd,
            status: Mutex::new(None),
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit status, if the child was reaped already.
    pub(crate) fn status(&self) -> Option<ExitStatus> {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reap the child if it has exited; `Ok(None)` while it runs. Never waits.
    pub(crate) fn try_reap(&self) -> io::Result<Option<ExitStatus>> {
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if status.is_none() {
            *status = self.waitid_now()?;
        }
        Ok(*status)
    }

    /// One `waitpid(pid, WNOHANG)` on this child: systems without pidfds, where
    /// `waitpid` is the one wait every Unix has alike (macOS's `waitid` has not
    /// always filled `si_pid`, which tells an exit from "still running").
    #[cfg(not(target_os = "linux"))]
    fn waitid_now(&self) -> io::Result<Option<ExitStatus>> {
        loop {
            let mut raw: libc::c_int = 0;
            // SAFETY: `raw` is a valid `int` to write, alive for the call.
            let rc = unsafe { libc::waitpid(self.pid as libc::pid_t, &mut raw, libc::WNOHANG) };
            if rc > 0 {
                return Ok(Some(ExitStatus::from_raw(raw)));
            }
            if rc == 0 {
                return Ok(None);
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => return Err(reaped_elsewhere(self.pid, err)),
                _ => return Err(err),
            }
        }
    }

    /// One `waitid(WEXITED | WNOHANG)` on this child, by pidfd where there is one.
    #[cfg(target_os = "linux")]
    fn waitid_now(&self) -> io::Result<Option<ExitStatus>> {
        let (idtype, id) = match &self.pidfd {
            Some(fd) => (libc::P_PIDFD, fd.as_raw_fd() as libc::id_t),
            None => (libc::P_PID, self.pid as libc::id_t),
        };
        loop {
            // SAFETY: all zeroes is a `siginfo_t` value.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: `info` is a valid `siginfo_t` to write, alive for the call.
            let rc = unsafe { libc::waitid(idtype, id, &mut info, libc::WEXITED | libc::WNOHANG) };
            if rc == 0 {
                return Ok(exit_status(&info));
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => return Err(reaped_elsewhere(self.pid, err)),
                _ => return Err(err),
            }
        }
    }

    /// Wait until the child exits, then reap it, through `SIGCHLD` (`sigchld.rs`):
    /// systems without pidfds.
    #[cfg(not(target_os = "linux"))]
    pub(crate) async fn wait(&self) -> io::Result<ExitStatus> {
        super::sigchld::wait(self).await
    }

    /// Wait until the child exits, then reap it. Waiting is an operation on the
    /// current worker's driver (io_uring's `waitid` or the pidfd's readiness), so
    /// no thread blocks and no signal is involved; only without a pidfd is it
    /// `SIGCHLD` (`sigchld.rs`).
    #[cfg(target_os = "linux")]
    pub(crate) async fn wait(&self) -> io::Result<ExitStatus> {
        let Some(pidfd) = &self.pidfd else {
            return super::sigchld::wait(self).await;
        };
        loop {
            if let Some(status) = self.try_reap()? {
                return Ok(status);
            }
            Op::new(WaitExit::new(pidfd.clone())).await?;
        }
    }

    /// Send `SIGKILL`, unless the child was reaped already (then its pid may name
    /// another process, and there is nothing left to kill).
    pub(crate) fn kill(&self) -> io::Result<()> {
        let status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if status.is_some() {
            return Ok(());
        }
        #[cfg(not(target_os = "linux"))]
        // SAFETY: `kill` takes a pid and a signal. The pid is still this child's: it
        // is not reaped (checked above, under the lock every reaper takes).
        let rc = unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) };
        #[cfg(target_os = "linux")]
        let rc = match &self.pidfd {
            // SAFETY: `pidfd_send_signal` takes a descriptor, a signal, a null
            // `siginfo` (the kernel fills a default one) and flags.
            Some(fd) => unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd.as_raw_fd(),
                    libc::SIGKILL,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                ) as i32
            },
            // SAFETY: `kill` takes a pid and a signal. The pid is still this child's:
            // it is not reaped (checked above, under the lock every reaper takes).
            None => unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) },
        };
        drop(status);
        if rc == 0 {
            Ok(())
        } else {
            let err = io::Error::last_os_error();
            Err(io::Error::new(
                err.kind(),
                format!("could not kill child process {}: {err}", self.pid),
            ))
        }
    }
}

/// The error for a child whose status someone else took.
fn reaped_elsewhere(pid: u32, err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        format!(
            "child process {pid} was reaped by someone else (a `waitpid(-1)` or `SIGCHLD` \
             set to be ignored in this program), so its exit status is lost: {err}"
        ),
    )
}

/// The status a `waitid` reported, as `std` represents it (the raw `wait` status):
/// `None` when no child had exited (a `WNOHANG` call, `si_pid` left 0).
#[cfg(target_os = "linux")]
fn exit_status(info: &libc::siginfo_t) -> Option<ExitStatus> {
    // SAFETY: for a `waitid` result these fields are the `SIGCHLD` member of the
    // union, which the kernel filled (or left zeroed).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return None;
    }
    let raw = match info.si_code {
        libc::CLD_EXITED => (status & 0xff) << 8,
        libc::CLD_KILLED => status & 0x7f,
        libc::CLD_DUMPED => (status & 0x7f) | 0x80,
        // Only exits are asked for (`WEXITED`); anything else reads as a plain exit
        // with the reported number.
        _ => (status & 0xff) << 8,
    };
    Some(ExitStatus::from_raw(raw))
}

// The tests build Linux's `siginfo_t` and use io_uring: Linux only.
#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn info(code: i32, status: i32) -> libc::siginfo_t {
        // Build a siginfo the way the kernel lays out SIGCHLD's: the pid and the
        // status sit at fixed offsets after the three leading ints and a pad; 8-byte
        // aligned like `siginfo_t` (its union holds pointers), so that reading one
        // out of it is an aligned read.
        #[repr(C, align(8))]
        struct Raw {
            signo: i32,
            errno: i32,
            code: i32,
            pad: i32,
            pid: i32,
            uid: u32,
            status: i32,
            rest: [u8; 100],
        }
        let raw = Raw {
            signo: libc::SIGCHLD,
            errno: 0,
            code,
            pad: 0,
            pid: 42,
            uid: 0,
            status,
            rest: [0; 100],
        };
        assert!(std::mem::size_of::<Raw>() >= std::mem::size_of::<libc::siginfo_t>());
        assert!(std::mem::align_of::<Raw>() >= std::mem::align_of::<libc::siginfo_t>());
        // SAFETY: `Raw` is at least as large and as aligned as `siginfo_t` (asserted
        // above), and every bit pattern is a `siginfo_t`.
        unsafe { std::ptr::read((&raw as *const Raw).cast::<libc::siginfo_t>()) }
    }

    #[test]
    fn siginfo_becomes_the_wait_status_std_expects() {
        let exited = exit_status(&info(libc::CLD_EXITED, 3)).unwrap();
        assert_eq!(exited.code(), Some(3));
        let killed = exit_status(&info(libc::CLD_KILLED, libc::SIGKILL)).unwrap();
        assert_eq!(
            (killed.code(), killed.signal()),
            (None, Some(libc::SIGKILL))
        );
        assert!(!killed.core_dumped());
        let dumped = exit_status(&info(libc::CLD_DUMPED, libc::SIGSEGV)).unwrap();
        assert_eq!(dumped.signal(), Some(libc::SIGSEGV));
        assert!(dumped.core_dumped());
    }

    /// Spawn and wait on an io_uring current-thread runtime; `None` where no ring
    /// can be set up here.
    fn exit_code_on_a_ring() -> Option<i32> {
        let rt = crate::runtime::Builder::new_current_thread()
            .driver(crate::runtime::Driver::IoUring)
            .build()
            .ok()?;
        Some(rt.block_on(async {
            let mut child = crate::process::Command::new("sh")
                .args(["-c", "sleep 0.05; exit 7"])
                .spawn()
                .unwrap();
            child.wait().await.unwrap().code().unwrap()
        }))
    }

    #[test]
    fn a_ring_waits_natively_and_by_readiness() {
        use crate::driver::op::waitid::PRETEND_NO_WAITID;
        use std::sync::atomic::Ordering::Relaxed;
        if let Some(code) = exit_code_on_a_ring() {
            assert_eq!(code, 7);
        }
        PRETEND_NO_WAITID.store(true, Relaxed);
        let by_readiness = exit_code_on_a_ring();
        PRETEND_NO_WAITID.store(false, Relaxed);
        if let Some(code) = by_readiness {
            assert_eq!(code, 7);
        }
    }

    #[test]
    fn no_child_exited_is_none() {
        // SAFETY: all zeroes is a `siginfo_t` value.
        let zero: libc::siginfo_t = unsafe { std::mem::zeroed() };
        assert!(exit_status(&zero).is_none());
    }
}
