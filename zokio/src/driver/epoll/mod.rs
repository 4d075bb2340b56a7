//! The epoll driver, for kernels or sandboxes without io_uring: an epoll instance per
//! worker with the driver's eventfd registered for wake-ups, and the same park contract
//! as the ring (sleep until a wake-up, a ready descriptor, or the timeout).
//!
//! Operations run as system calls in their task; the driver only waits for readiness.
//! A descriptor's waiters share one level-triggered, one-shot registration that is
//! re-armed while waiters remain. Regular files, which epoll refuses, are always ready.
//! The `timeout` operation waits in a deadline heap. This file must never run an
//! operation's system call: the task does.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use super::counters::DriverCounters;
use super::op::cell::{self, OpHeader};
use super::op::EpollWait;
use super::shared::DriverShared;

/// The epoll token of the wake-up eventfd (descriptors use their own number).
const WAKE_TOKEN: u64 = u64::MAX;
const EVENTS_PER_WAIT: usize = 256;

pub(crate) struct EpollDriver {
    epoll: OwnedFd,
    fds: HashMap<RawFd, Waiters>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    events: Vec<libc::epoll_event>,
    waiting: usize,
    /// `epoll_pwait2` (Linux 5.11) takes a nanosecond timeout; cleared on ENOSYS.
    precise_timeout: bool,
    counters: std::sync::Arc<DriverCounters>,
}

// SAFETY: as for the io_uring driver: moved once to its owning thread; the cells it
// points at are co-owned by it.
unsafe impl Send for EpollDriver {}

#[derive(Default)]
struct Waiters {
    list: Vec<(NonNull<OpHeader>, u32)>,
    registered: bool,
}

/// Whether `fd` is ready for `events` right now: the ready bits, or `None` if not.
/// An invalid descriptor counts as ready, so that the system call reports it.
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

impl EpollDriver {
    pub(crate) fn new(shared: &DriverShared) -> io::Result<EpollDriver> {
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
        Ok(EpollDriver {
            epoll,
            fds: HashMap::new(),
            timers: BinaryHeap::new(),
            events: Vec::with_capacity(EVENTS_PER_WAIT),
            waiting: 0,
            precise_timeout: true,
            counters: shared.counters.clone(),
        })
    }

    pub(crate) fn submit(&mut self, header: NonNull<OpHeader>) {
        self.waiting += 1;
        // SAFETY: the cell was just handed to this driver and is not complete.
        match unsafe { cell::epoll_wait(header) } {
            EpollWait::Never => self.finish(header, 0),
            EpollWait::Timer { after } => {
                let deadline = Instant::now() + after;
                self.timers
                    .push(Reverse((deadline, header.as_ptr() as usize)));
            }
            EpollWait::Fd { fd, events, .. } => {
                self.fds.entry(fd).or_default().list.push((header, events));
                self.arm(fd);
            }
        }
    }

    /// (Re-)register `fd` for the union of its waiters' interests, one-shot.
    fn arm(&mut self, fd: RawFd) {
        let Some(waiters) = self.fds.get_mut(&fd) else {
            return;
        };
        if waiters.list.is_empty() {
            return;
        }
        let interest = waiters.list.iter().fold(0, |acc, (_, e)| acc | e);
        let mut event = libc::epoll_event {
            events: interest | libc::EPOLLONESHOT as u32,
            u64: fd as u64,
        };
        let op = if waiters.registered {
            libc::EPOLL_CTL_MOD
        } else {
            libc::EPOLL_CTL_ADD
        };
        self.counters.kernel_call();
        self.counters.submitted(1);
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
            waiters.registered = true;
            return;
        }
        let err = errno();
        // epoll refuses regular files and directories (EPERM): they are always ready,
        // so the waiters go ahead. Any other error (EBADF) is each waiter's result.
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
        // just been taken out of the wait list or the timer heap.
        unsafe { cell::complete(header, result) };
    }

    /// Whether any operation waits here.
    pub(crate) fn is_busy(&self) -> bool {
        self.waiting > 0
    }

    /// Wait up to `timeout` (`None`: no limit) for readiness or a wake-up. Returns how
    /// many operations completed.
    pub(crate) fn park(&mut self, shared: &DriverShared, timeout: Option<Duration>) -> usize {
        let timeout = match (timeout, self.timers.peek()) {
            (t, Some(Reverse((deadline, _)))) => {
                let until = deadline.saturating_duration_since(Instant::now());
                Some(t.map_or(until, |t| t.min(until)))
            }
            (t, None) => t,
        };
        self.events.clear();
        self.counters.kernel_call();
        let n = self.wait(timeout);
        if n > 0 {
            self.counters.completed(n as u64);
            // SAFETY: the kernel initialised the first `n` events.
            unsafe { self.events.set_len(n as usize) };
        } else if n < 0 && errno() != libc::EINTR {
            log::error!("epoll_wait failed: {}", io::Error::last_os_error());
        }
        let mut completed = 0;
        let events = std::mem::take(&mut self.events);
        for event in &events {
            let (token, ready) = (event.u64, event.events);
            if token == WAKE_TOKEN {
                shared.drain_wake_fd();
                continue;
            }
            completed += self.dispatch(token as RawFd, ready);
        }
        self.events = events;
        completed + self.fire_timers()
    }

    /// One wait in the kernel, filling `events`' spare room; returns the count or -1.
    /// A timer's deadline is met to the microsecond where the kernel takes a
    /// nanosecond timeout, and rounded up to the next millisecond where it does not.
    fn wait(&mut self, timeout: Option<Duration>) -> i32 {
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
        let millis = match timeout {
            None => -1,
            // Round up: waking before the deadline would only mean waiting again.
            Some(t) => t.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
        };
        // SAFETY: the buffer has room for `room` events; the kernel fills what it returns.
        unsafe { libc::epoll_wait(epoll, buffer, room, millis) }
    }

    /// `fd` is ready: complete the waiters it satisfies, re-arm for the rest.
    fn dispatch(&mut self, fd: RawFd, ready: u32) -> usize {
        let Some(waiters) = self.fds.get_mut(&fd) else {
            return 0;
        };
        let errors = (libc::EPOLLERR | libc::EPOLLHUP) as u32;
        let (done, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut waiters.list)
            .into_iter()
            .partition(|(_, interest)| ready & (interest | errors) != 0);
        waiters.list = rest;
        let count = done.len();
        for (header, _) in done {
            self.finish(header, ready as i32);
        }
        self.arm(fd);
        count
    }

    fn fire_timers(&mut self) -> usize {
        let now = Instant::now();
        let mut fired = 0;
        while let Some(Reverse((deadline, ptr))) = self.timers.peek().copied() {
            if deadline > now {
                break;
            }
            self.timers.pop();
            if let Some(header) = NonNull::new(ptr as *mut OpHeader) {
                self.finish(header, -libc::ETIME);
                fired += 1;
            }
        }
        fired
    }

    /// Stop waiting for an operation whose future is gone.
    pub(crate) fn cancel(&mut self, header: NonNull<OpHeader>) {
        for waiters in self.fds.values_mut() {
            if let Some(at) = waiters.list.iter().position(|(h, _)| *h == header) {
                waiters.list.swap_remove(at);
                self.finish(header, -libc::ECANCELED);
                return;
            }
        }
        let before = self.timers.len();
        let target = header.as_ptr() as usize;
        self.timers.retain(|Reverse((_, ptr))| *ptr != target);
        if self.timers.len() < before {
            self.finish(header, -libc::ECANCELED);
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
            self.finish(header, -libc::ECANCELED);
        }
        while let Some(Reverse((_, ptr))) = self.timers.pop() {
            if let Some(header) = NonNull::new(ptr as *mut OpHeader) {
                self.finish(header, -libc::ECANCELED);
            }
        }
    }
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}
