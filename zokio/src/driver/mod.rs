//! I/O and time drivers: what a worker sleeps in, and what wakes it.
//!
//! Each worker owns one `LocalDriver` (`local.rs`): an I/O driver (an io_uring ring
//! in `uring/`, or a readiness driver in `readiness/`: one core with an epoll, kqueue
//! or poll(2) backend), a timer wheel (`crate::time`), and a shared part
//! (`shared.rs`) through which other threads wake it or hand it operations. The
//! operations every driver serves live in `op/`, one file per kind; `context.rs`
//! routes an operation to the driver of the thread it is polled on; `select.rs` picks
//! the driver at start-up. This module must never poll a task.

pub(crate) mod context;
mod counters;
mod deadlines;
#[cfg(windows)]
pub(crate) mod iocp;
mod local;
pub(crate) mod op;
pub(crate) mod park_token;
#[cfg(unix)]
pub(crate) mod readiness;
mod request_queue;
mod select;
pub(crate) mod shared;
#[cfg(target_os = "linux")]
pub(crate) mod uring;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

pub(crate) use local::{LocalDriver, ParkHooks};
pub(crate) use select::{build_drivers, DriverOptions};
pub(crate) use shared::{DriverShared, Unparker};

pub(crate) use context::current_time_driver;
pub(crate) use counters::DriverCounters;
pub use counters::IoCounters;
#[cfg(unix)]
pub(crate) use readiness::poll_now;

use crate::time::driver::TimeDriver;

/// A wait's timeout as the kernel takes it (`epoll_pwait2`, `io_uring_enter`'s
/// extended argument, a futex wait); a duration past what a `timespec` holds waits
/// "forever", which it is.
#[cfg(unix)]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "android", target_os = "freebsd")),
    allow(dead_code)
)]
pub(crate) fn timespec(t: std::time::Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: t.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    }
}

/// Which I/O driver a runtime should use; see `Builder::driver`. A platform offers
/// only the drivers it has: io_uring and epoll on Linux, kqueue on macOS, iOS and
/// the BSDs, poll(2) on every Unix, IOCP on Windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Driver {
    /// The platform's best (the default): on Linux io_uring where the kernel allows
    /// it, else epoll, else poll; kqueue on macOS and the BSDs, else poll; IOCP on
    /// Windows.
    #[default]
    Auto,
    /// io_uring only (Linux): building the runtime fails if a ring cannot be set up.
    #[cfg(target_os = "linux")]
    IoUring,
    /// epoll (Linux), even where io_uring is available.
    #[cfg(target_os = "linux")]
    Epoll,
    /// kqueue (macOS, iOS, FreeBSD, NetBSD, OpenBSD, DragonFly).
    #[cfg(kqueue)]
    Kqueue,
    /// poll(2), on any Unix: the fallback, whose waits cost more the more
    /// descriptors wait (it has no `FD_SETSIZE` limit).
    #[cfg(unix)]
    Poll,
    /// An I/O completion port per worker (Windows).
    #[cfg(windows)]
    Iocp,
}

/// The I/O driver a runtime ended up with; see `Runtime::driver_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriverKind {
    /// One io_uring ring per worker (Linux).
    #[cfg(target_os = "linux")]
    IoUring,
    /// One epoll instance per worker (Linux).
    #[cfg(target_os = "linux")]
    Epoll,
    /// One kqueue per worker (macOS, iOS, the BSDs).
    #[cfg(kqueue)]
    Kqueue,
    /// poll(2) per worker (any Unix).
    #[cfg(unix)]
    Poll,
    /// An I/O completion port per worker (Windows).
    #[cfg(windows)]
    Iocp,
}

impl DriverKind {
    /// Whether operations run as system calls in their task once the driver reports
    /// their descriptor ready (epoll, kqueue, poll), rather than in the kernel
    /// (io_uring).
    pub(crate) fn is_readiness(self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            DriverKind::IoUring => false,
            #[cfg(target_os = "linux")]
            DriverKind::Epoll => true,
            #[cfg(kqueue)]
            DriverKind::Kqueue => true,
            #[cfg(unix)]
            DriverKind::Poll => true,
            #[cfg(windows)]
            DriverKind::Iocp => false,
        }
    }
}

impl fmt::Display for DriverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            #[cfg(target_os = "linux")]
            DriverKind::IoUring => "io_uring",
            #[cfg(target_os = "linux")]
            DriverKind::Epoll => "epoll",
            #[cfg(kqueue)]
            DriverKind::Kqueue => "kqueue",
            #[cfg(unix)]
            DriverKind::Poll => "poll",
            #[cfg(windows)]
            DriverKind::Iocp => "iocp",
        })
    }
}

/// Every driver of one runtime, for threads that are not its workers: they hand their
/// operations and timers to one of the workers' drivers, round robin.
pub(crate) struct Drivers {
    pub(crate) kind: DriverKind,
    shared: Box<[Arc<DriverShared>]>,
    time: Box<[Arc<TimeDriver>]>,
    next: AtomicUsize,
}

impl Drivers {
    fn pick(&self) -> usize {
        self.next.fetch_add(1, Relaxed) % self.shared.len()
    }

    pub(crate) fn remote_target(&self) -> Arc<DriverShared> {
        self.shared[self.pick()].clone()
    }

    pub(crate) fn remote_time(&self) -> Arc<TimeDriver> {
        self.time[self.pick()].clone()
    }

    /// Whether the runtime shut its drivers down.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shared.iter().any(|shared| shared.is_closed())
    }

    /// What every driver of the runtime did so far, summed.
    pub(crate) fn io_counters(&self) -> IoCounters {
        self.shared
            .iter()
            .map(|shared| shared.counters.snapshot())
            .fold(IoCounters::default(), |sum, one| sum + one)
    }

    /// Worker `index`'s driver counters (drivers are in worker order).
    pub(crate) fn worker_counters(&self, index: usize) -> &DriverCounters {
        &self.shared[index].counters
    }

    /// How many timers worker `index`'s wheel holds.
    pub(crate) fn timer_entries(&self, index: usize) -> usize {
        self.time[index].entries()
    }

    /// The runtime's clock (every driver shares it).
    pub(crate) fn clock(&self) -> &Arc<crate::time::clock::Clock> {
        self.time[0].clock()
    }
}

impl fmt::Debug for Drivers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drivers")
            .field("kind", &self.kind)
            .field("count", &self.shared.len())
            .finish()
    }
}
