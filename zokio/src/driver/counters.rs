//! What each driver counts about its own work: system calls into the kernel's I/O
//! interface, entries handed to it, completions taken back, and eventfd writes made
//! to wake it. Read through `Handle::io_counters`, so that benchmarks and users can
//! see what one request costs in kernel crossings.
//!
//! Only the driver's owner writes the first three, so each count is a plain load and
//! store (no locked instruction on the hot path); wake-up writes come from any thread
//! and use an atomic add, on a path that is about to make a system call anyway. This
//! file must never decide anything: it only counts.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of what the drivers of a runtime did since it was built; see
/// [`Handle::io_counters`](crate::runtime::Handle::io_counters).
///
/// Zokio's own view, without a tokio counterpart. Counts only grow; subtract two
/// snapshots to see what a stretch of work cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IoCounters {
    /// System calls into the driver: `io_uring_enter` on io_uring; `epoll_wait` and
    /// `epoll_ctl` on epoll; and on both, the futex waits of a driver parked with
    /// nothing in flight.
    pub kernel_calls: u64,
    /// Entries handed to the kernel: submission queue entries on io_uring (wake-up
    /// reads and cancels included), registrations and re-arms on epoll.
    pub submitted: u64,
    /// Completions the driver took back: completion queue entries on io_uring, ready
    /// events on epoll.
    pub completed: u64,
    /// System calls that woke a sleeping driver: `write(2)`s to its eventfd, for one
    /// asleep in its kernel wait, and futex wakes, for one parked with nothing in
    /// flight.
    pub wake_writes: u64,
}

impl std::ops::Add for IoCounters {
    type Output = IoCounters;

    fn add(self, other: IoCounters) -> IoCounters {
        IoCounters {
            kernel_calls: self.kernel_calls + other.kernel_calls,
            submitted: self.submitted + other.submitted,
            completed: self.completed + other.completed,
            wake_writes: self.wake_writes + other.wake_writes,
        }
    }
}

impl std::ops::Sub for IoCounters {
    type Output = IoCounters;

    /// What happened between two snapshots, `self` being the later one.
    fn sub(self, earlier: IoCounters) -> IoCounters {
        IoCounters {
            kernel_calls: self.kernel_calls.saturating_sub(earlier.kernel_calls),
            submitted: self.submitted.saturating_sub(earlier.submitted),
            completed: self.completed.saturating_sub(earlier.completed),
            wake_writes: self.wake_writes.saturating_sub(earlier.wake_writes),
        }
    }
}

/// The live counts of one driver.
#[derive(Default)]
pub(crate) struct DriverCounters {
    kernel_calls: AtomicU64,
    submitted: AtomicU64,
    completed: AtomicU64,
    wake_writes: AtomicU64,
    /// io_uring only: `io_uring_enter` calls (also in `kernel_calls`), and the
    /// operations submitted and not yet completed, for `RuntimeMetrics`.
    ring_enters: AtomicU64,
    in_flight: AtomicU64,
}

/// Add on the owner's thread: the only writer, so no read-modify-write is needed.
fn owner_add(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

impl DriverCounters {
    pub(crate) fn kernel_call(&self) {
        owner_add(&self.kernel_calls, 1);
    }

    /// An `io_uring_enter` call: a kernel call of its own kind as well.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // io_uring only
    pub(crate) fn ring_enter(&self) {
        owner_add(&self.kernel_calls, 1);
        owner_add(&self.ring_enters, 1);
    }

    /// The ring's operations in flight, now (owner only).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // io_uring only
    pub(crate) fn set_in_flight(&self, n: usize) {
        self.in_flight.store(n as u64, Relaxed);
    }

    pub(crate) fn ring_enters(&self) -> u64 {
        self.ring_enters.load(Relaxed)
    }

    pub(crate) fn in_flight(&self) -> u64 {
        self.in_flight.load(Relaxed)
    }

    pub(crate) fn submitted(&self, n: u64) {
        owner_add(&self.submitted, n);
    }

    pub(crate) fn completed(&self, n: u64) {
        owner_add(&self.completed, n);
    }

    /// From any thread.
    pub(crate) fn wake_write(&self) {
        self.wake_writes.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> IoCounters {
        IoCounters {
            kernel_calls: self.kernel_calls.load(Relaxed),
            submitted: self.submitted.load(Relaxed),
            completed: self.completed.load(Relaxed),
            wake_writes: self.wake_writes.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_subtract_to_what_happened_between() {
        let live = DriverCounters::default();
        live.kernel_call();
        live.submitted(3);
        let before = live.snapshot();
        live.kernel_call();
        live.completed(2);
        live.wake_write();
        let between = live.snapshot() - before;
        assert_eq!(
            between,
            IoCounters {
                kernel_calls: 1,
                submitted: 0,
                completed: 2,
                wake_writes: 1
            }
        );
        assert_eq!(before + between, live.snapshot());
    }
}
