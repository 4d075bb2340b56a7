//! `timeout`: an operation that completes after a duration, served by the kernel's
//! timer on io_uring and by the driver's own deadline list elsewhere. Must never be
//! used for `zokio::time`, whose timer wheel is far cheaper per timer.

use std::io;
use std::time::Duration;

use super::{OpKind, ReadinessWait};

/// The positive errno with which an expired `timeout` operation completes: io_uring
/// reports `ETIME`, and the epoll driver says the same; systems without `ETIME`
/// (FreeBSD) use `ETIMEDOUT`, which drivers there complete timers with.
#[cfg(target_os = "linux")]
pub(crate) const EXPIRED: i32 = libc::ETIME;
/// See the Linux definition.
#[cfg(all(unix, not(target_os = "linux")))]
pub(crate) const EXPIRED: i32 = libc::ETIMEDOUT;
/// Windows: the IOCP driver completes timers with `ERROR_TIMEOUT`.
#[cfg(windows)]
pub(crate) const EXPIRED: i32 = windows_sys::Win32::Foundation::ERROR_TIMEOUT as i32;

pub(crate) struct Timeout {
    pub(crate) after: Duration,
    #[cfg(target_os = "linux")]
    timespec: io_uring::types::Timespec,
}

impl Timeout {
    pub(crate) fn new(after: Duration) -> Timeout {
        // Saturated like every deadline from a user's duration: the kernel refuses a
        // timespec past `i64::MAX` seconds, and epoll's deadline would overflow.
        let after = after.min(crate::time::FAR_FUTURE);
        Timeout {
            after,
            #[cfg(target_os = "linux")]
            timespec: io_uring::types::Timespec::from(after),
        }
    }
}

impl OpKind for Timeout {
    type Output = io::Result<()>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        // The kernel copies the timespec while preparing the entry; it lives in the
        // cell anyway, so its address is good for as long as the entry is.
        io_uring::opcode::Timeout::new(&self.timespec).build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Timer { after: self.after }
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<()> {
        match result {
            // The driver reports an expired timer as `EXPIRED`: that is success here.
            Err(e) if e.raw_os_error() == Some(EXPIRED) => Ok(()),
            Ok(_) => Ok(()),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("timeout of {:?} failed: {e}", self.after),
            )),
        }
    }
}
