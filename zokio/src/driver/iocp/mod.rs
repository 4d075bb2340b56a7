//! The IOCP driver (Windows): one I/O completion port per worker (`port.rs`), which
//! its owner sleeps in and other threads wake by posting a packet to it.
//!
//! Completion-based, like io_uring: an operation on a handle (a socket call, a file
//! read or write) starts with the `OVERLAPPED` at the head of its heap cell, and the
//! cell stays with the driver until the packet for that `OVERLAPPED` arrives, even
//! when its future is dropped first (then `CancelIoEx` asks the system to hurry, and
//! the packet frees the cell). Operations with no handle are served here too: `nop` at once, `timeout`
//! from the shared deadline list. A handle reports to one port for life, so its
//! operations come to this driver from wherever their task runs (`Op::on_port`).
//! This file must never run a task, nor read a packet's fields the Win32
//! documentation reserves: results come from `GetOverlappedResult` (or its Winsock
//! form), which each kind asks (`OpKind::iocp_result`).

mod port;

use std::collections::HashMap;
use std::io;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::ERROR_NOT_FOUND;
use windows_sys::Win32::System::IO::{CancelIoEx, OVERLAPPED_ENTRY};

pub(crate) use port::CompletionPort;
use port::WAKE_KEY;

use super::counters::DriverCounters;
use super::deadlines::Deadlines;
use super::op::cell::{self, OpHeader};
use super::op::{IocpStart, ReadinessWait};
use super::shared::DriverShared;

const ENTRIES_PER_WAIT: usize = 64;
/// How long shutdown waits for the system to finish with cancelled operations'
/// buffers before leaking them (never freeing memory the system may still write).
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

pub(crate) struct IocpDriver {
    port: Arc<CompletionPort>,
    timers: Deadlines,
    entries: Vec<OVERLAPPED_ENTRY>,
    /// Handle operations started and not completed, by their cell's address: what
    /// shutdown must cancel and wait for, and what a packet may name. A packet for
    /// anything else is ignored, never followed to memory that may be freed.
    started: HashMap<usize, Started>,
    /// How many of `started` failed at their start (see `Started::failed`).
    failed_at_start: usize,
    /// Every operation this driver owns: started, timed or queued to finish.
    waiting: usize,
    counters: Arc<DriverCounters>,
}

struct Started {
    header: NonNull<OpHeader>,
    /// The call failed at once with this error. Windows queues no packet then,
    /// but Wine sometimes does; so the cell waits for the next turn of the
    /// driver, which takes such a packet, before it completes with this error.
    failed: Option<u32>,
}

// SAFETY: moved once to its owning thread; the cells it points at are co-owned by it.
unsafe impl Send for IocpDriver {}

impl IocpDriver {
    pub(crate) fn new(shared: &DriverShared) -> IocpDriver {
        IocpDriver {
            port: shared.completion_port().clone(),
            timers: Deadlines::default(),
            entries: vec![OVERLAPPED_ENTRY::default(); ENTRIES_PER_WAIT],
            started: HashMap::new(),
            failed_at_start: 0,
            waiting: 0,
            counters: shared.counters.clone(),
        }
    }

    pub(crate) fn submit(&mut self, header: NonNull<OpHeader>) {
        self.waiting += 1;
        self.counters.submitted(1);
        // SAFETY: the cell was just handed to this driver and is not complete.
        match unsafe { cell::iocp_start(header) } {
            IocpStart::Pending => {
                self.counters.kernel_call();
                self.track(header, None);
            }
            IocpStart::Failed(code) => {
                self.counters.kernel_call();
                self.track(header, Some(code.clamp(1, i32::MAX as u32)));
            }
            // SAFETY: as above.
            IocpStart::NoHandle => match unsafe { cell::readiness_wait(header) } {
                ReadinessWait::Never => self.finish(header, 0),
                ReadinessWait::Timer { after } => self.timers.push(after, header),
            },
        }
    }

    fn track(&mut self, header: NonNull<OpHeader>, failed: Option<u32>) {
        self.failed_at_start += usize::from(failed.is_some());
        self.started
            .insert(header.as_ptr() as usize, Started { header, failed });
    }

    /// Complete a cell this driver owns; its last touch of it.
    fn finish(&mut self, header: NonNull<OpHeader>, result: i32) {
        self.waiting -= 1;
        // SAFETY: the cell was submitted here and leaves the driver now, once: a
        // started operation on its packet (or its failure), anything else at its
        // start.
        unsafe { cell::complete(header, result) };
    }

    /// Complete a started operation that left `started`.
    fn finish_started(&mut self, started: Started) {
        let result = match started.failed {
            Some(code) => {
                self.failed_at_start -= 1;
                -(code as i32)
            }
            None => result_of(started.header),
        };
        self.finish(started.header, result);
    }

    /// Complete, with their errors, the operations that failed at their start and
    /// whose stray packet (if any) the last wait would have taken.
    fn settle_failed(&mut self) {
        if self.failed_at_start == 0 {
            return;
        }
        let failed: Vec<usize> = self
            .started
            .iter()
            .filter(|(_, started)| started.failed.is_some())
            .map(|(at, _)| *at)
            .collect();
        for at in failed {
            if let Some(started) = self.started.remove(&at) {
                self.finish_started(started);
            }
        }
    }

    pub(crate) fn is_busy(&self) -> bool {
        self.waiting > 0
    }

    /// Wait up to `timeout` (`None`: no limit) for a completion or a wake-up, then
    /// fire due timers. Returns how many operations completed.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> usize {
        let mut timeout = self.timers.limit(timeout);
        if self.failed_at_start > 0 {
            timeout = Some(Duration::ZERO);
        }
        self.counters.kernel_call();
        let before = self.waiting;
        self.take_packets(timeout);
        self.settle_failed();
        let expired = self.timers.expire_due();
        self.waiting -= expired;
        before - self.waiting
    }

    /// Wait up to `timeout` for packets and complete the operations they end.
    fn take_packets(&mut self, timeout: Option<Duration>) {
        let arrived = self.port.wait(&mut self.entries, timeout);
        if arrived > 0 {
            self.counters.completed(arrived as u64);
        }
        for i in 0..arrived {
            let entry = self.entries[i];
            // A wake-up has done its work by ending the wait.
            if entry.lpCompletionKey == WAKE_KEY {
                continue;
            }
            match self.started.remove(&(entry.lpOverlapped as usize)) {
                Some(started) => self.finish_started(started),
                None => log::debug!(
                    "IOCP: a packet for no operation in flight, ignored (one for a call \
                     that failed at once, which Wine sends)"
                ),
            }
        }
    }

    /// Stop waiting for an operation whose future is gone. A started one is
    /// cancelled; its packet (cancelled, or done after all) then frees the cell.
    pub(crate) fn cancel(&mut self, header: NonNull<OpHeader>) {
        if self.timers.cancel(header) {
            self.waiting -= 1;
            return;
        }
        if let Some(Started { failed: None, .. }) = self.started.get(&(header.as_ptr() as usize)) {
            cancel_started(header);
        }
    }

    /// Shutdown: cancel everything and wait for the system to give every buffer
    /// back. What does not come back within the limit is leaked, never freed.
    pub(crate) fn drain(&mut self) {
        self.waiting -= self.timers.cancel_all();
        for started in self.started.values() {
            if started.failed.is_none() {
                cancel_started(started.header);
            }
        }
        let deadline = Instant::now() + DRAIN_LIMIT;
        loop {
            self.settle_failed();
            if self.started.is_empty() {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                log::error!(
                    "shutdown: {} IOCP operations did not finish within {DRAIN_LIMIT:?}; \
                     their buffers are leaked rather than freed while the system may use them",
                    self.started.len()
                );
                return;
            }
            self.take_packets(Some((deadline - now).min(Duration::from_millis(100))));
        }
    }
}

/// What the system says of a finished operation: its count, or `-error`.
fn result_of(header: NonNull<OpHeader>) -> i32 {
    // SAFETY: the packet says the operation ended: the cell is still the driver's.
    unsafe { cell::iocp_result(header) }
}

/// Ask the system to end a started operation soon. Not finding it is fine: it has
/// finished and its packet is on the way.
fn cancel_started(header: NonNull<OpHeader>) {
    // SAFETY: the cell is the driver's until its packet, which has not come.
    let Some(handle) = (unsafe { cell::iocp_handle(header) }) else {
        return;
    };
    // SAFETY: the handle is kept open by the cell's data; the `OVERLAPPED` is the
    // one the operation was started with.
    if unsafe { CancelIoEx(handle, cell::overlapped_of(header)) } == 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(ERROR_NOT_FOUND as i32) {
            log::error!("CancelIoEx failed: {err}; the operation runs to its end");
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::driver::DriverKind;

    #[test]
    fn a_posted_wake_up_ends_an_unlimited_wait() {
        let shared = DriverShared::new(DriverKind::Iocp).unwrap();
        let mut driver = IocpDriver::new(&shared);
        let port = shared.completion_port().clone();
        let waker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            port.wake();
        });
        assert_eq!(driver.park(None), 0, "a wake-up completes no operation");
        waker.join().unwrap();
        let counts = shared.counters.snapshot();
        assert_eq!((counts.kernel_calls, counts.completed), (1, 1));
    }

    #[test]
    fn a_packet_for_no_operation_in_flight_is_ignored() {
        let shared = DriverShared::new(DriverKind::Iocp).unwrap();
        let mut driver = IocpDriver::new(&shared);
        // An address no cell has: were it followed, the test would crash.
        shared.completion_port().post_stray(0x10);
        assert_eq!(driver.park(Some(Duration::from_secs(5))), 0);
        assert!(!driver.is_busy());
    }

    #[test]
    fn a_timed_wait_returns_after_its_timeout() {
        let shared = DriverShared::new(DriverKind::Iocp).unwrap();
        let mut driver = IocpDriver::new(&shared);
        let start = Instant::now();
        assert_eq!(driver.park(Some(Duration::from_millis(30))), 0);
        assert!(start.elapsed() >= Duration::from_millis(25));
        assert!(!driver.is_busy());
    }
}
