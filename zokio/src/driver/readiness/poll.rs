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

    /// A closed descriptor comes back `POLLNVAL` from the next wait, which finishes
    /// its waiters, whose system call then reports it. A negative number is refused
    /// here: poll would skip it, and its waiters would wait forever.
    fn arm(&mut self, fd: RawFd, interest: u32, _known: bool) -> Result<(), i32> {
        if fd < 0 {
            return Err(libc::EBADF);
        }
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

#[cfg(all(test, target_os = "linux", not(loom)))]
mod tests {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;

    use super::*;
    use crate::driver::DriverKind;

    const IN: u32 = libc::POLLIN as u32;

    fn wait(s: &mut Poll, shared: &DriverShared, millis: Option<u64>) -> Vec<(RawFd, u32)> {
        let mut ready = Vec::new();
        s.wait(shared, millis.map(Duration::from_millis), &mut ready);
        ready
    }

    fn setup() -> (Arc<DriverShared>, Poll) {
        let shared = DriverShared::new(DriverKind::Poll).unwrap();
        let poll = Poll::new(&shared);
        (shared, poll)
    }

    #[test]
    fn readiness_is_reported_once_until_armed_again() {
        let (shared, mut s) = setup();
        let (a, mut b) = UnixStream::pair().unwrap();
        s.arm(a.as_raw_fd(), IN, false).unwrap();
        assert!(wait(&mut s, &shared, Some(0)).is_empty());
        b.write_all(b"x").unwrap();
        assert_eq!(wait(&mut s, &shared, Some(5_000)), [(a.as_raw_fd(), IN)]);
        assert!(wait(&mut s, &shared, Some(20)).is_empty(), "one-shot");
        s.arm(a.as_raw_fd(), IN, true).unwrap();
        assert_eq!(wait(&mut s, &shared, Some(5_000)), [(a.as_raw_fd(), IN)]);
    }

    #[test]
    fn a_closed_descriptor_comes_back_invalid_and_a_negative_one_is_refused() {
        let (shared, mut s) = setup();
        let (a, _b) = UnixStream::pair().unwrap();
        let fd = a.as_raw_fd();
        s.arm(fd, IN, false).unwrap();
        drop(a);
        assert_eq!(
            wait(&mut s, &shared, Some(5_000)),
            [(fd, libc::POLLNVAL as u32)]
        );
        assert_eq!(s.arm(-1, IN, false), Err(libc::EBADF));
    }

    #[test]
    fn a_wake_up_ends_an_unlimited_wait() {
        let (shared, mut s) = setup();
        let waker = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                // The owner may not be parked yet by the token's account; end its
                // kernel wait through the descriptor directly.
                let one: u64 = 1;
                // SAFETY: writes 8 bytes from a live u64 to the driver's eventfd.
                unsafe { libc::write(shared.wake_fd(), (&one as *const u64).cast(), 8) };
            })
        };
        assert!(wait(&mut s, &shared, None).is_empty());
        waker.join().unwrap();
        // Drained: the next wait sleeps until its timeout.
        assert!(wait(&mut s, &shared, Some(10)).is_empty());
    }
}
