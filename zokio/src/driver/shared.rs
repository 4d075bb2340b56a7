//! The part of a driver other threads may touch: its park token and wake-up source
//! (`Unparker`), and the queue through which other threads hand it operations to
//! submit or cancel.
//!
//! A wake-up is a token (`park_token.rs`): only a driver that is parked inside the
//! kernel costs a write to its wake-up source (an eventfd on Linux, `EVFILT_USER` on
//! kqueue, a pipe for poll elsewhere), and only one parked quietly (Linux: nothing in
//! flight, so asleep on a futex rather than in its driver) a futex wake. The queue
//! (`request_queue.rs`) is bounded, and closed when the driver drains at shutdown; a
//! request that arrives later is refused so it is never forgotten. Nothing here may
//! submit to a ring: only the owner does.

use std::io;
#[cfg(unix)]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::Arc;
#[cfg(target_os = "linux")]
use std::time::Duration;

use super::counters::DriverCounters;
use super::op::cell::OpHeader;
use super::park_token::{ParkToken, Wake};
use super::request_queue::{RequestQueue, Room};
use super::DriverKind;

/// Work handed to a driver by another thread.
pub(crate) enum Request {
    Submit(NonNull<OpHeader>),
    Cancel(NonNull<OpHeader>),
}

// SAFETY: a request carries an operation cell to the thread that owns the driver; the
// cell's header is `Send + Sync` and its ownership moves with the request.
unsafe impl Send for Request {}

pub(crate) struct DriverShared {
    token: ParkToken,
    wake: WakeSource,
    requests: RequestQueue<Request>,
    pub(crate) kind: DriverKind,
    /// Shared with the I/O driver, which counts its own work here.
    pub(crate) counters: Arc<DriverCounters>,
}

/// What ends the owner's kernel wait when another thread writes to it.
enum WakeSource {
    /// An eventfd (Linux): the ring, epoll and poll all wait on it.
    #[cfg(target_os = "linux")]
    EventFd(OwnedFd),
    /// A non-blocking pipe (poll, off Linux): a byte in it means "wake up".
    #[cfg(all(unix, not(target_os = "linux")))]
    Pipe { read: OwnedFd, write: OwnedFd },
    /// kqueue: the queue itself, whose notification is an `EVFILT_USER` event.
    #[cfg(kqueue)]
    Kqueue(Arc<polling::Poller>),
    /// IOCP: the completion port itself, which a wake-up posts a packet to.
    #[cfg(windows)]
    Iocp(Arc<super::iocp::CompletionPort>),
}

impl WakeSource {
    fn new(kind: DriverKind) -> io::Result<WakeSource> {
        #[cfg(kqueue)]
        if kind == DriverKind::Kqueue {
            let poller = polling::Poller::new().map_err(|err| {
                io::Error::new(err.kind(), format!("creating a kqueue failed: {err}"))
            })?;
            return Ok(WakeSource::Kqueue(Arc::new(poller)));
        }
        let _ = kind;
        #[cfg(windows)]
        return Ok(WakeSource::Iocp(Arc::new(
            super::iocp::CompletionPort::new()?,
        )));
        #[cfg(target_os = "linux")]
        {
            // SAFETY: plain system call; the result is checked before use.
            let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
            if fd < 0 {
                let err = io::Error::last_os_error();
                return Err(io::Error::new(
                    err.kind(),
                    format!("creating the driver's wake-up eventfd failed: {err}"),
                ));
            }
            // SAFETY: `fd` is a fresh descriptor nobody else owns.
            Ok(WakeSource::EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
        }
        #[cfg(all(unix, not(target_os = "linux")))]
        {
            let (read, write) = nonblocking_pipe().map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!("creating the driver's wake-up pipe failed: {err}"),
                )
            })?;
            Ok(WakeSource::Pipe { read, write })
        }
    }
}

/// A pipe whose two ends are non-blocking and closed on exec.
#[cfg(all(unix, not(target_os = "linux")))]
fn nonblocking_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: two fresh descriptors nobody else owns.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    for fd in [fds[0], fds[1]] {
        // SAFETY: fcntl on a descriptor we own; the results are checked.
        let ok = unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) == 0
                && libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) == 0
        };
        if !ok {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(ends)
}

impl DriverShared {
    pub(crate) fn new(kind: DriverKind) -> io::Result<Arc<DriverShared>> {
        Ok(Arc::new(DriverShared {
            token: ParkToken::new(),
            wake: WakeSource::new(kind)?,
            requests: RequestQueue::new(),
            kind,
            counters: Arc::default(),
        }))
    }

    /// The descriptor a driver waits on for wake-ups (not kqueue's, which is woken
    /// through its queue).
    #[cfg(unix)]
    pub(crate) fn wake_fd(&self) -> RawFd {
        match &self.wake {
            #[cfg(target_os = "linux")]
            WakeSource::EventFd(fd) => fd.as_raw_fd(),
            #[cfg(all(unix, not(target_os = "linux")))]
            WakeSource::Pipe { read, .. } => read.as_raw_fd(),
            #[cfg(kqueue)]
            WakeSource::Kqueue(_) => unreachable!("a kqueue driver has no wake-up descriptor"),
        }
    }

    /// The completion port this driver waits in, which its wake-ups are posted to.
    #[cfg(windows)]
    pub(crate) fn completion_port(&self) -> &Arc<super::iocp::CompletionPort> {
        let WakeSource::Iocp(port) = &self.wake;
        port
    }

    /// The kqueue this driver waits in, which its wake-ups are posted to.
    #[cfg(kqueue)]
    pub(crate) fn poller(&self) -> &Arc<polling::Poller> {
        match &self.wake {
            WakeSource::Kqueue(poller) => poller,
            _ => unreachable!("only a kqueue driver has a poller"),
        }
    }

    /// End the owner's kernel wait.
    fn write_wake(&self) {
        match &self.wake {
            #[cfg(target_os = "linux")]
            WakeSource::EventFd(fd) => {
                let one: u64 = 1;
                // SAFETY: writes 8 bytes from a live u64 to our own eventfd. It can
                // only fail when the counter is about to overflow, and then a wake-up
                // is pending anyway.
                unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
            }
            #[cfg(all(unix, not(target_os = "linux")))]
            WakeSource::Pipe { write, .. } => {
                // SAFETY: writes one byte from a live u8 to our own non-blocking pipe.
                // It fails only when the pipe is full, and then a wake-up is pending.
                unsafe { libc::write(write.as_raw_fd(), (&1u8 as *const u8).cast(), 1) };
            }
            #[cfg(kqueue)]
            WakeSource::Kqueue(poller) => {
                if let Err(err) = poller.notify() {
                    log::error!("waking a kqueue driver failed: {err}");
                }
            }
            #[cfg(windows)]
            WakeSource::Iocp(port) => port.wake(),
        }
    }

    /// Whether the driver drained at shutdown and takes no more operations.
    pub(crate) fn is_closed(&self) -> bool {
        self.requests.is_closed()
    }

    /// Take a pending wake-up without sleeping; true if there was one.
    pub(crate) fn take_notification(&self) -> bool {
        self.token.take_notification()
    }

    /// About to sleep in the kernel. False if a wake-up came first (it is consumed).
    pub(crate) fn begin_park(&self) -> bool {
        self.token.begin_park()
    }

    /// Back from the kernel; a wake-up that raced in is consumed with it.
    pub(crate) fn end_park(&self) {
        self.token.end_park();
    }

    pub(crate) fn unpark(&self) {
        match self.token.unpark() {
            Wake::Nothing => {}
            Wake::KernelWait => {
                self.counters.wake_write();
                self.write_wake();
            }
            #[cfg(not(target_os = "linux"))]
            Wake::Futex => unreachable!("quiet parks are Linux-only"),
            #[cfg(target_os = "linux")]
            Wake::Futex => {
                self.counters.wake_write();
                let (word, _) = self.token.futex_word();
                // SAFETY: FUTEX_WAKE only reads the address, which is the token's
                // live atomic word (`self` is borrowed for the call); waking nobody is
                // harmless.
                unsafe {
                    libc::syscall(
                        libc::SYS_futex,
                        word,
                        libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                        1,
                    );
                }
            }
        }
    }

    /// Sleep on the park token until a wake-up or `timeout`: the owner's park when
    /// its driver has nothing in flight, so that no completion can come and only
    /// another thread (or a timer) can give it work. A futex wait, the cheapest
    /// sleep to be woken from (a kernel wait is woken through its eventfd, its
    /// readiness and, on io_uring, a completion). Returns early on a signal, which
    /// is harmless: the caller looks for work and parks again.
    #[cfg(target_os = "linux")]
    pub(crate) fn park_quiet(&self, timeout: Option<Duration>) {
        if !self.token.begin_park_quiet() {
            return;
        }
        self.counters.kernel_call();
        let (word, asleep) = self.token.futex_word();
        let timespec = timeout.map(super::timespec);
        let timespec_ptr = timespec
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: FUTEX_WAIT reads the token's live atomic word and, if it still holds
        // `asleep`, sleeps until a FUTEX_WAKE on it (`unpark`) or the relative
        // timeout, which points at a live timespec or is null (no limit). Any result
        // (woken, word already changed, timed out, interrupted) ends the park.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word,
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                asleep,
                timespec_ptr,
            );
        }
        self.token.end_park();
    }

    /// Empty the wake-up descriptor (epoll and poll wait on it level-triggered).
    #[cfg(unix)]
    pub(crate) fn drain_wake_fd(&self) {
        match &self.wake {
            #[cfg(target_os = "linux")]
            WakeSource::EventFd(fd) => {
                let mut value: u64 = 0;
                // SAFETY: reads 8 bytes into a live u64; the fd is non-blocking.
                unsafe { libc::read(fd.as_raw_fd(), (&mut value as *mut u64).cast(), 8) };
            }
            #[cfg(all(unix, not(target_os = "linux")))]
            WakeSource::Pipe { read, .. } => {
                let mut sink = [0u8; 64];
                // SAFETY: reads into a live buffer of its length; the pipe is
                // non-blocking, so the loop ends once it is empty.
                while unsafe { libc::read(read.as_raw_fd(), sink.as_mut_ptr().cast(), 64) } > 0 {}
            }
            #[cfg(kqueue)]
            WakeSource::Kqueue(_) => {}
        }
    }

    /// Hand the owner a request, and wake it. A submission from a thread that may
    /// block waits while the queue is full (see `request_queue.rs`). Refused once the
    /// driver has drained.
    pub(crate) fn push(&self, request: Request, may_block: bool) -> Result<(), Request> {
        let room = match request {
            Request::Submit(_) if may_block => Room::WaitForIt,
            _ => Room::Never,
        };
        self.requests.push(request, room, || self.unpark())?;
        self.unpark();
        Ok(())
    }

    /// The owner takes up to `limit` of what other threads handed it, oldest first;
    /// true if more are left.
    pub(crate) fn take_requests(&self, into: &mut Vec<Request>, limit: usize) -> bool {
        self.requests.take(into, limit)
    }

    /// Refuse later requests; returns the ones still queued.
    pub(crate) fn close(&self) -> Vec<Request> {
        self.requests.close()
    }
}

/// Wakes the thread that owns a driver, from any thread.
#[derive(Clone)]
pub(crate) struct Unparker {
    inner: UnparkerInner,
}

#[derive(Clone)]
enum UnparkerInner {
    Driver(Arc<DriverShared>),
    #[cfg(test)]
    Fn(Arc<dyn Fn() + Send + Sync>),
}

impl Unparker {
    pub(crate) fn new(shared: Arc<DriverShared>) -> Unparker {
        Unparker {
            inner: UnparkerInner::Driver(shared),
        }
    }

    /// For unit tests of parts that only need to wake someone.
    #[cfg(test)]
    pub(crate) fn from_fn(f: impl Fn() + Send + Sync + 'static) -> Unparker {
        Unparker {
            inner: UnparkerInner::Fn(Arc::new(f)),
        }
    }

    /// Make the owner's current or next park return.
    pub(crate) fn unpark(&self) {
        match &self.inner {
            UnparkerInner::Driver(shared) => shared.unpark(),
            #[cfg(test)]
            UnparkerInner::Fn(f) => f(),
        }
    }
}

#[cfg(all(test, not(loom), target_os = "linux"))]
mod tests {
    use std::thread;
    use std::time::{Duration, Instant};

    use super::*;

    fn shared() -> Arc<DriverShared> {
        DriverShared::new(DriverKind::Epoll).unwrap()
    }

    #[test]
    fn a_quiet_park_sleeps_until_its_timeout() {
        let shared = shared();
        let start = Instant::now();
        shared.park_quiet(Some(Duration::from_millis(20)));
        // A signal could end it early; none is sent to test threads.
        assert!(start.elapsed() >= Duration::from_millis(20));
        let counts = shared.counters.snapshot();
        assert_eq!((counts.kernel_calls, counts.wake_writes), (1, 0));
    }

    #[test]
    fn a_quiet_park_is_woken_by_one_futex_wake_from_another_thread() {
        let shared = shared();
        let waker = {
            let shared = shared.clone();
            thread::spawn(move || {
                // Wait until the owner is asleep on the token, so that this wake is
                // the futex one (an earlier wake would leave a token instead).
                while !shared.token.is_parked_quiet() {
                    thread::yield_now();
                }
                shared.unpark();
            })
        };
        shared.park_quiet(None);
        waker.join().unwrap();
        let counts = shared.counters.snapshot();
        assert_eq!((counts.kernel_calls, counts.wake_writes), (1, 1));
    }

    #[test]
    fn a_wake_up_before_a_quiet_park_ends_it_without_a_system_call() {
        let shared = shared();
        shared.unpark();
        shared.park_quiet(None);
        let counts = shared.counters.snapshot();
        assert_eq!((counts.kernel_calls, counts.wake_writes), (0, 0));
        // The token was consumed: the next park sleeps (here, until its timeout).
        shared.park_quiet(Some(Duration::from_millis(1)));
        assert_eq!(shared.counters.snapshot().kernel_calls, 1);
    }
}
