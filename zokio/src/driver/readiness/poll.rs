//! The poll(2) backend of the readiness core, for any Unix: the fallback where
//! neither io_uring nor epoll (nor kqueue) can be set up, and a choice of its own
//! (`Driver::Poll`, `ZOKIO_DRIVER=poll`).
//!
//! poll has no registrations: the armed descriptors live in a table here, one-shot
//! like epoll's (a descriptor reported ready leaves the table until the core arms it
//! again), and each wait hands the kernel the whole table plus the driver's wake-up
//! descriptor. That makes a wait cost grow with the descriptors waited on, which is
//! why it is the last choice; unlike select(2) it has no `FD_SETSIZE` limit. This
//! file must never keep waiters: the core does.

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use super::{errno, Selector};
use crate::driver::shared::DriverShared;

pub(crate) struct Poll {
    wake_fd: RawFd,
    /// Armed descriptors and what they wait for.
    armed: HashMap<RawFd, u32>,
    /// The array handed to the kernel, rebuilt at each wait; kept for its capacity.
    pollfds: Vec<libc::pollfd>,
}

impl Poll {
    pub(crate) fn new(shared: &DriverShared) -> Poll {
        Poll {
            wake_fd: shared.wake_fd(),
            armed: HashMap::new(),
            pollfds: Vec::new(),
        }
    }
}

impl Selector for Poll {
    fn arm_is_a_syscall(&self) -> bool {
        false
    }

    /// Never fails: a descriptor poll cannot wait on comes back `POLLNVAL` from the
    /// next wait, which finishes its waiters, whose system call then reports it.
    fn arm(&mut self, fd: RawFd, interest: u32, _known: bool) -> Result<(), i32> {
        self.armed.insert(fd, interest);
        Ok(())
    }

    fn wait(
        &mut self,
        shared: &DriverShared,
        timeout: Option<Duration>,
        ready: &mut Vec<(RawFd, u32)>,
    ) -> usize {
        self.pollfds.clear();
        let entry = |fd, events: u32| libc::pollfd {
            fd,
            events: events as i16,
            revents: 0,
        };
        self.pollfds.push(entry(self.wake_fd, libc::POLLIN as u32));
        let armed = self.armed.iter();
        self.pollfds
            .extend(armed.map(|(&fd, &interest)| entry(fd, interest)));
        let n = wait_raw(&mut self.pollfds, timeout);
        if n < 0 {
            if errno() != libc::EINTR {
                log::error!("poll failed: {}", io::Error::last_os_error());
            }
            return 0;
        }
        if self.pollfds[0].revents != 0 {
            shared.drain_wake_fd();
        }
        for pfd in &self.pollfds[1..] {
            if pfd.revents != 0 {
                self.armed.remove(&pfd.fd);
                ready.push((pfd.fd, pfd.revents as u16 as u32));
            }
        }
        n as usize
    }
}

/// One poll of `fds`; the count of descriptors with events, or -1. Linux's ppoll
/// takes the timeout to the nanosecond; plain poll, to the millisecond, rounded up.
fn wait_raw(fds: &mut [libc::pollfd], timeout: Option<Duration>) -> i32 {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        let spec = timeout.map(crate::driver::timespec);
        let spec_ptr = spec
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `fds` is a live array of `fds.len()` pollfds the kernel may write
        // revents into; the timeout is a live timespec or null (no limit); no signal
        // mask is passed.
        unsafe {
            libc::ppoll(
                fds.as_mut_ptr(),
                fds.len() as libc::nfds_t,
                spec_ptr,
                std::ptr::null(),
            )
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    {
        // SAFETY: `fds` is a live array of `fds.len()` pollfds the kernel may write
        // revents into.
        unsafe {
            libc::poll(
                fds.as_mut_ptr(),
                fds.len() as libc::nfds_t,
                super::timeout_millis(timeout),
            )
        }
    }
}
