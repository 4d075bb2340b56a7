//! The readiness core, shared by every readiness-based driver (epoll on Linux, kqueue
//! on macOS and the BSDs, poll(2) on any Unix): per-descriptor waiter lists, the
//! deadline heap of `timeout` operations, and the park contract of the ring (sleep
//! until a wake-up, a ready descriptor, or the timeout).
//!
//! Operations run as system calls in their task; a driver only waits for readiness.
//! A descriptor's waiters share one one-shot registration with the backend, for the
//! union of their interests, re-armed while waiters remain. Interest and readiness are
//! poll(2) bits (`POLLIN`, `POLLOUT`, ...) on every backend. A backend (`Selector`)
//! only registers descriptors and waits; everything else is here, once, so that the
//! Linux runs of the epoll and poll drivers test what kqueue runs on machines this
//! project cannot run on. This file must never run an operation's system call: the
//! task does.

#[cfg(target_os = "linux")]
pub(crate) mod epoll;
// On Linux only its unit tests build it, over `polling`'s epoll backend (real
// system calls: not under Miri, whose `queue::` filter their path would match).
#[cfg(any(kqueue, all(test, target_os = "linux", not(loom), not(miri))))]
pub(crate) mod kqueue;
pub(crate) mod poll;

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

use super::counters::DriverCounters;
use super::deadlines::Deadlines;
use super::op::cell::{self, OpHeader};
use super::op::ReadinessWait;
use super::shared::DriverShared;
use super::DriverKind;

/// What a readiness backend does: keep one-shot registrations and wait for them.
/// Each is built for the driver whose shared part it is given, whose wake-up must end
/// its waits.
pub(crate) trait Selector {
    /// Whether `arm` is a system call (it is not for poll(2), which is told the whole
    /// interest set at each wait): counted as one in the driver's counters.
    fn arm_is_a_syscall(&self) -> bool;

    /// Report `fd` once, when it is ready for any of `interest` or has an error;
    /// `known`: it was armed here before (and may still be registered). An error is
    /// the errno the waiters get (`EPERM`: the backend cannot wait on this kind of
    /// file, which is then always ready).
    fn arm(&mut self, fd: RawFd, interest: u32, known: bool) -> Result<(), i32>;

    /// Wait up to `timeout` (`None`: no limit) and append each armed descriptor that
    /// became ready, with its ready bits, to `ready`; a wake-up through `shared` ends
    /// the wait too. Returns how many events the kernel reported (wake-ups included),
    /// for the counters. An interrupted wait reports nothing.
    fn wait(
        &mut self,
        shared: &DriverShared,
        timeout: Option<Duration>,
        ready: &mut Vec<(RawFd, u32)>,
    ) -> usize;
}

/// The readiness bits that finish every waiter, whatever it asked for: the error is
/// then what its system call reports.
const ERRORS: u32 = (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) as u32;

/// The backend of one driver, by its kind.
pub(crate) enum Backend {
    #[cfg(target_os = "linux")]
    Epoll(epoll::Epoll),
    Poll(poll::Poll),
    #[cfg(kqueue)]
    Kqueue(kqueue::Kqueue),
}

impl Backend {
    fn new(shared: &DriverShared) -> io::Result<Backend> {
        Ok(match shared.kind {
            #[cfg(target_os = "linux")]
            DriverKind::Epoll => Backend::Epoll(epoll::Epoll::new(shared)?),
            #[cfg(kqueue)]
            DriverKind::Kqueue => Backend::Kqueue(kqueue::Kqueue::new(shared)?),
            DriverKind::Poll => Backend::Poll(poll::Poll::new(shared)),
            #[allow(unreachable_patterns)]
            other => unreachable!("{other} is not a readiness driver"),
        })
    }

    fn selector(&mut self) -> &mut dyn Selector {
        match self {
            #[cfg(target_os = "linux")]
            Backend::Epoll(s) => s,
            Backend::Poll(s) => s,
            #[cfg(kqueue)]
            Backend::Kqueue(s) => s,
        }
    }
}

pub(crate) struct ReadinessDriver {
    backend: Backend,
    fds: HashMap<RawFd, Waiters>,
    timers: Deadlines,
    ready: Vec<(RawFd, u32)>,
    waiting: usize,
    counters: Arc<DriverCounters>,
}

// SAFETY: as for the io_uring driver: moved once to its owning thread; the cells it
// points at are co-owned by it. Every backend's own state is plain descriptors.
unsafe impl Send for ReadinessDriver {}

#[derive(Default)]
struct Waiters {
    list: Vec<(NonNull<OpHeader>, u32)>,
    registered: bool,
}

/// Whether `fd` is ready for `events` (poll bits) right now: the ready bits, or
/// `None` if not. An invalid descriptor counts as ready, so that the system call
/// reports it.
pub(crate) fn poll_now(fd: RawFd, events: u32) -> Option<u32> {
    let mut pfd = libc::pollfd {
        fd,
        events: events as i16,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    if n > 0 {
        Some(pfd.revents as u16 as u32)
    } else {
        None
    }
}

impl ReadinessDriver {
    /// The driver of `shared.kind`, which must be a readiness kind.
    pub(crate) fn new(shared: &DriverShared) -> io::Result<ReadinessDriver> {
        Ok(ReadinessDriver {
            backend: Backend::new(shared)?,
            fds: HashMap::new(),
            timers: Deadlines::default(),
            ready: Vec::new(),
            waiting: 0,
            counters: shared.counters.clone(),
        })
    }

    pub(crate) fn submit(&mut self, header: NonNull<OpHeader>) {
        self.waiting += 1;
        // SAFETY: the cell was just handed to this driver and is not complete.
        match unsafe { cell::readiness_wait(header) } {
            ReadinessWait::Never => self.finish(header, 0),
            ReadinessWait::Timer { after } => self.timers.push(after, header),
            ReadinessWait::Fd { fd, events, .. } => {
                self.fds.entry(fd).or_default().list.push((header, events));
                self.arm(fd);
            }
        }
    }

    /// (Re-)arm `fd` for the union of its waiters' interests; finish them all if the
    /// backend refuses it.
    fn arm(&mut self, fd: RawFd) {
        let Some(waiters) = self.fds.get_mut(&fd) else {
            return;
        };
        if waiters.list.is_empty() {
            return;
        }
        let interest = waiters.list.iter().fold(0, |acc, (_, e)| acc | e);
        let selector = self.backend.selector();
        if selector.arm_is_a_syscall() {
            self.counters.kernel_call();
        }
        self.counters.submitted(1);
        let err = match selector.arm(fd, interest, waiters.registered) {
            Ok(()) => {
                waiters.registered = true;
                return;
            }
            Err(err) => err,
        };
        // A backend that cannot wait on this file (epoll refuses regular files and
        // directories with EPERM) leaves it always ready: the waiters go ahead. Any
        // other error (EBADF) is each waiter's result.
        let result = if err == libc::EPERM {
            interest as i32 | super::op::ALWAYS_READY
        } else {
            -err
        };
        let list = std::mem::take(&mut waiters.list);
        self.fds.remove(&fd);
        for (header, _) in list {
            self.finish(header, result);
        }
    }

    fn finish(&mut self, header: NonNull<OpHeader>, result: i32) {
        self.waiting -= 1;
        // SAFETY: the cell was submitted here and is completed exactly once: it has
        // just been taken out of its wait list (or never entered one).
        unsafe { cell::complete(header, result) };
    }

    /// Whether any operation waits here.
    pub(crate) fn is_busy(&self) -> bool {
        self.waiting > 0
    }

    /// Wait up to `timeout` (`None`: no limit) for readiness or a wake-up. Returns how
    /// many operations completed.
    pub(crate) fn park(&mut self, shared: &DriverShared, timeout: Option<Duration>) -> usize {
        let timeout = self.timers.limit(timeout);
        self.counters.kernel_call();
        let mut ready = std::mem::take(&mut self.ready);
        let reported = self.backend.selector().wait(shared, timeout, &mut ready);
        if reported > 0 {
            self.counters.completed(reported as u64);
        }
        let mut completed = 0;
        for &(fd, bits) in &ready {
            completed += self.dispatch(fd, bits);
        }
        ready.clear();
        self.ready = ready;
        let expired = self.timers.expire_due();
        self.waiting -= expired;
        completed + expired
    }

    /// `fd` is ready: complete the waiters it satisfies, re-arm for the rest.
    fn dispatch(&mut self, fd: RawFd, ready: u32) -> usize {
        let Some(waiters) = self.fds.get_mut(&fd) else {
            return 0;
        };
        let (done, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut waiters.list)
            .into_iter()
            .partition(|(_, interest)| ready & (interest | ERRORS) != 0);
        waiters.list = rest;
        let count = done.len();
        for (header, _) in done {
            self.finish(header, ready as i32);
        }
        self.arm(fd);
        count
    }

    /// Stop waiting for an operation whose future is gone.
    pub(crate) fn cancel(&mut self, header: NonNull<OpHeader>) {
        for waiters in self.fds.values_mut() {
            if let Some(at) = waiters.list.iter().position(|(h, _)| *h == header) {
                waiters.list.swap_remove(at);
                self.finish(header, -super::op::CANCELED);
                return;
            }
        }
        if self.timers.cancel(header) {
            self.waiting -= 1;
        }
    }

    /// Shutdown, once the request queue is closed: complete every waiter as
    /// cancelled. Nothing here is in the kernel's hands, so nothing needs waiting for.
    pub(crate) fn drain(&mut self) {
        let waiters: Vec<NonNull<OpHeader>> = self
            .fds
            .drain()
            .flat_map(|(_, w)| w.list.into_iter().map(|(h, _)| h))
            .collect();
        for header in waiters {
            self.finish(header, -super::op::CANCELED);
        }
        self.waiting -= self.timers.cancel_all();
    }
}

/// The calling thread's last OS error number.
pub(crate) fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// A kernel wait's timeout in whole milliseconds, rounded up (waking before a
/// deadline would only mean waiting again); -1 for no limit.
#[cfg_attr(any(target_os = "android", target_os = "freebsd"), allow(dead_code))]
pub(crate) fn timeout_millis(timeout: Option<Duration>) -> i32 {
    match timeout {
        None => -1,
        Some(t) => t.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
    }
}
