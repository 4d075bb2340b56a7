//! The epoll backend of the readiness core (Linux): one epoll instance per worker,
//! with the driver's wake-up eventfd registered in it, and each descriptor registered
//! level-triggered and one-shot (`EPOLLONESHOT`), for the core to re-arm.
//!
//! epoll's event bits are poll(2)'s on Linux, so interest and readiness pass through
//! unchanged. This file must never keep waiters: the core does.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::{errno, timeout_millis, Selector};
use crate::driver::shared::DriverShared;

/// The epoll token of the wake-up eventfd (descriptors use their own number).
const WAKE_TOKEN: u64 = u64::MAX;
const EVENTS_PER_WAIT: usize = 256;

// The core speaks poll(2) bits; epoll's are the same numbers on Linux.
const _: () = assert!(
    libc::EPOLLIN == libc::POLLIN as i32
        && libc::EPOLLOUT == libc::POLLOUT as i32
        && libc::EPOLLPRI == libc::POLLPRI as i32
        && libc::EPOLLERR == libc::POLLERR as i32
        && libc::EPOLLHUP == libc::POLLHUP as i32
        && libc::EPOLLRDHUP == libc::POLLRDHUP as i32
);

pub(crate) struct Epoll {
    epoll: OwnedFd,
    events: Vec<libc::epoll_event>,
    /// `epoll_pwait2` (Linux 5.11) takes a nanosecond timeout; cleared on ENOSYS.
    precise_timeout: bool,
}

impl Epoll {
    pub(crate) fn new(shared: &DriverShared) -> io::Result<Epoll> {
        // SAFETY: plain system call; the result is checked.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            let err = io::Error::last_os_error();
            return Err(io::Error::new(
                err.kind(),
                format!("epoll_create1 failed: {err}"),
            ));
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: WAKE_TOKEN,
        };
        // SAFETY: both descriptors are open; `event` is a valid epoll_event.
        let rc = unsafe {
            libc::epoll_ctl(
                epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                shared.wake_fd(),
                &mut event,
            )
        };
        if rc < 0 {
            let err = io::Error::last_os_error();
            return Err(io::Error::new(
                err.kind(),
                format!("registering the wake-up eventfd with epoll failed: {err}"),
            ));
        }
        Ok(Epoll {
            epoll,
            events: Vec::with_capacity(EVENTS_PER_WAIT),
            precise_timeout: true,
        })
    }
}

impl Selector for Epoll {
    fn arm_is_a_syscall(&self) -> bool {
        true
    }

    fn arm(&mut self, fd: RawFd, interest: u32, known: bool) -> Result<(), i32> {
        let mut event = libc::epoll_event {
            events: interest | libc::EPOLLONESHOT as u32,
            u64: fd as u64,
        };
        let op = if known {
            libc::EPOLL_CTL_MOD
        } else {
            libc::EPOLL_CTL_ADD
        };
        // SAFETY: `event` is valid; a bad `fd` is reported through the return value.
        let mut rc = unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut event) };
        if rc < 0 && op == libc::EPOLL_CTL_MOD && errno() == libc::ENOENT {
            // The descriptor was closed and its number reused since we registered.
            // SAFETY: as above.
            rc = unsafe {
                libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event)
            };
        } else if rc < 0 && op == libc::EPOLL_CTL_ADD && errno() == libc::EEXIST {
            // SAFETY: as above.
            rc = unsafe {
                libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_MOD, fd, &mut event)
            };
        }
        if rc == 0 {
            Ok(())
        } else {
            Err(errno())
        }
    }

    fn wait(
        &mut self,
        shared: &DriverShared,
        timeout: Option<Duration>,
        ready: &mut Vec<(RawFd, u32)>,
    ) -> usize {
        self.events.clear();
        let n = self.wait_raw(timeout);
        if n < 0 {
            if errno() != libc::EINTR {
                log::error!("epoll_wait failed: {}", io::Error::last_os_error());
            }
            return 0;
        }
        // SAFETY: the kernel initialised the first `n` events.
        unsafe { self.events.set_len(n as usize) };
        for event in &self.events {
            let (token, bits) = (event.u64, event.events);
            if token == WAKE_TOKEN {
                shared.drain_wake_fd();
            } else {
                ready.push((token as RawFd, bits));
            }
        }
        n as usize
    }
}

impl Epoll {
    /// One wait in the kernel, filling `events`' spare room; returns the count or -1.
    /// A timer's deadline is met to the microsecond where the kernel takes a
    /// nanosecond timeout, and rounded up to the next millisecond where it does not.
    fn wait_raw(&mut self, timeout: Option<Duration>) -> i32 {
        let epoll = self.epoll.as_raw_fd();
        let (buffer, room) = (self.events.as_mut_ptr(), self.events.capacity() as i32);
        if let (Some(t), true) = (timeout, self.precise_timeout) {
            let spec = crate::driver::timespec(t);
            // SAFETY: the buffer has room for `room` events; `spec` is a valid
            // timespec; no signal mask is passed. Called through `syscall` so that no
            // particular C library version is needed.
            let n = unsafe {
                libc::syscall(
                    libc::SYS_epoll_pwait2,
                    epoll,
                    buffer,
                    room,
                    &spec as *const libc::timespec,
                    std::ptr::null::<libc::sigset_t>(),
                    0usize,
                )
            };
            if n >= 0 || errno() != libc::ENOSYS {
                return n as i32;
            }
            self.precise_timeout = false;
        }
        // SAFETY: the buffer has room for `room` events; the kernel fills what it returns.
        unsafe { libc::epoll_wait(epoll, buffer, room, timeout_millis(timeout)) }
    }
}
