//! The IOCP driver (Windows): one I/O completion port per worker, which its owner
//! sleeps in and other threads wake by posting a completion to
//! (`PostQueuedCompletionStatus`).
//!
//! This is the completion-based driver of Windows, like io_uring on Linux: an
//! operation's cell stays with the driver until its completion arrives. For now it
//! serves wake-ups and the operations that need no handle (`nop`, `timeout`, the
//! latter from the shared deadline list); sockets and files through overlapped
//! calls, whose completions will arrive on this same port, are not built yet. This
//! file must never run a task or an operation's system call.

use std::io;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE, WAIT_TIMEOUT};
use windows_sys::Win32::System::IO::{
    CreateIoCompletionPort, GetQueuedCompletionStatusEx, PostQueuedCompletionStatus,
    OVERLAPPED_ENTRY,
};

use super::counters::DriverCounters;
use super::deadlines::Deadlines;
use super::op::cell::{self, OpHeader};
use super::op::ReadinessWait;
use super::shared::DriverShared;

/// The completion key of a wake-up (overlapped operations will carry their own).
const WAKE_KEY: usize = usize::MAX;
const ENTRIES_PER_WAIT: usize = 64;

/// An I/O completion port, closed when dropped; any thread may post to it.
pub(crate) struct CompletionPort(HANDLE);

// SAFETY: a completion port handle may be used from any thread: posting and waiting
// are thread-safe by the Win32 contract, and only `Drop` closes it, once.
unsafe impl Send for CompletionPort {}
// SAFETY: as above.
unsafe impl Sync for CompletionPort {}

impl CompletionPort {
    pub(crate) fn new() -> io::Result<CompletionPort> {
        // SAFETY: creating a port associated with no handle; the result is checked.
        let port =
            unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, std::ptr::null_mut(), 0, 1) };
        if port.is_null() {
            let err = io::Error::last_os_error();
            return Err(io::Error::new(
                err.kind(),
                format!("creating an I/O completion port failed: {err}"),
            ));
        }
        Ok(CompletionPort(port))
    }

    /// Post a wake-up: the owner's current or next wait returns.
    pub(crate) fn wake(&self) {
        // SAFETY: posting a packet with no OVERLAPPED to our own open port.
        if unsafe { PostQueuedCompletionStatus(self.0, 0, WAKE_KEY, std::ptr::null()) } == 0 {
            log::error!(
                "waking an IOCP driver failed: {}",
                io::Error::last_os_error()
            );
        }
    }

    /// Wait up to `timeout` for completions into `entries`; how many arrived.
    fn wait(&self, entries: &mut [OVERLAPPED_ENTRY], timeout: Option<Duration>) -> usize {
        let millis = match timeout {
            None => windows_sys::Win32::System::Threading::INFINITE,
            // Rounded up: waking before a deadline would only mean waiting again.
            Some(t) => t.as_nanos().div_ceil(1_000_000).min(u32::MAX as u128 - 1) as u32,
        };
        let mut removed = 0u32;
        // SAFETY: `entries` is a live, writable array of its length; `removed` is a
        // live u32; the wait is not alertable.
        let ok = unsafe {
            GetQueuedCompletionStatusEx(
                self.0,
                entries.as_mut_ptr(),
                entries.len() as u32,
                &mut removed,
                millis,
                0,
            )
        };
        if ok == 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(WAIT_TIMEOUT as i32) {
                log::error!("GetQueuedCompletionStatusEx failed: {err}");
            }
            return 0;
        }
        removed as usize
    }
}

impl Drop for CompletionPort {
    fn drop(&mut self) {
        // SAFETY: the handle is ours and closed only here.
        unsafe { CloseHandle(self.0) };
    }
}

pub(crate) struct IocpDriver {
    port: Arc<CompletionPort>,
    timers: Deadlines,
    entries: Vec<OVERLAPPED_ENTRY>,
    waiting: usize,
    counters: Arc<DriverCounters>,
}

// SAFETY: moved once to its owning thread; the cells it points at are co-owned by it.
unsafe impl Send for IocpDriver {}

impl IocpDriver {
    pub(crate) fn new(shared: &DriverShared) -> IocpDriver {
        IocpDriver {
            port: shared.completion_port().clone(),
            timers: Deadlines::default(),
            entries: vec![OVERLAPPED_ENTRY::default(); ENTRIES_PER_WAIT],
            waiting: 0,
            counters: shared.counters.clone(),
        }
    }

    pub(crate) fn submit(&mut self, header: NonNull<OpHeader>) {
        self.waiting += 1;
        self.counters.submitted(1);
        // SAFETY: the cell was just handed to this driver and is not complete.
        match unsafe { cell::readiness_wait(header) } {
            ReadinessWait::Never => self.finish(header, 0),
            ReadinessWait::Timer { after } => self.timers.push(after, header),
        }
    }

    fn finish(&mut self, header: NonNull<OpHeader>, result: i32) {
        self.waiting -= 1;
        // SAFETY: the cell was submitted here and is completed exactly once: a `nop`,
        // which never enters the deadline list.
        unsafe { cell::complete(header, result) };
    }

    pub(crate) fn is_busy(&self) -> bool {
        self.waiting > 0
    }

    /// Wait up to `timeout` (`None`: no limit) for a completion or a wake-up, then
    /// fire due timers. Returns how many operations completed.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> usize {
        let timeout = self.timers.limit(timeout);
        self.counters.kernel_call();
        let arrived = self.port.wait(&mut self.entries, timeout);
        if arrived > 0 {
            self.counters.completed(arrived as u64);
        }
        // Every packet so far is a wake-up, which has done its work by ending the wait.
        debug_assert!(self.entries[..arrived]
            .iter()
            .all(|entry| entry.lpCompletionKey == WAKE_KEY));
        let expired = self.timers.expire_due();
        self.waiting -= expired;
        expired
    }

    /// Stop waiting for an operation whose future is gone.
    pub(crate) fn cancel(&mut self, header: NonNull<OpHeader>) {
        if self.timers.cancel(header) {
            self.waiting -= 1;
        }
    }

    /// Shutdown: complete every waiting operation as cancelled.
    pub(crate) fn drain(&mut self) {
        self.waiting -= self.timers.cancel_all();
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
    fn a_timed_wait_returns_after_its_timeout() {
        let shared = DriverShared::new(DriverKind::Iocp).unwrap();
        let mut driver = IocpDriver::new(&shared);
        let start = Instant::now();
        assert_eq!(driver.park(Some(Duration::from_millis(30))), 0);
        assert!(start.elapsed() >= Duration::from_millis(25));
        assert!(!driver.is_busy());
    }
}
