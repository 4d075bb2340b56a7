//! An I/O completion port: the one object the IOCP driver of a worker sleeps in.
//! Handles are tied to it once (`associate`); other threads wake its owner by
//! posting a packet with no `OVERLAPPED`. Must never interpret a packet: the driver
//! (`mod.rs`) does.

use std::io;
use std::time::Duration;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE, WAIT_TIMEOUT};
use windows_sys::Win32::System::IO::{
    CreateIoCompletionPort, GetQueuedCompletionStatusEx, PostQueuedCompletionStatus,
    OVERLAPPED_ENTRY,
};

/// The completion key of a wake-up.
pub(super) const WAKE_KEY: usize = usize::MAX;
/// The completion key of every handle tied to a port: the packet's `OVERLAPPED` is
/// what names the operation.
const IO_KEY: usize = 0;

/// An I/O completion port, closed when dropped; any thread may post to it.
pub(crate) struct CompletionPort(HANDLE);

// SAFETY: a completion port handle may be used from any thread: posting, tying
// handles and waiting are thread-safe by the Win32 contract, and only `Drop` closes
// it, once.
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

    /// Tie `handle` (opened for overlapped I/O) to this port: every operation on it
    /// completes here from now on. A handle can be tied to one port only, for life:
    /// tying it again fails with `ERROR_INVALID_PARAMETER`, the OS error returned
    /// as it is, for the caller to tell apart.
    pub(crate) fn associate(&self, handle: HANDLE) -> io::Result<()> {
        // SAFETY: `handle` is an open handle of the caller's; the port is ours.
        let port = unsafe { CreateIoCompletionPort(handle, self.0, IO_KEY, 0) };
        if port.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(())
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

    /// Post a packet that names `overlapped` without any operation behind it, as
    /// Wine does for a call that failed at once (tests only).
    #[cfg(test)]
    pub(super) fn post_stray(&self, overlapped: usize) {
        // SAFETY: the port is ours; the system never follows the pointer.
        unsafe { PostQueuedCompletionStatus(self.0, 0, IO_KEY, overlapped as *const _) };
    }

    /// Wait up to `timeout` for packets into `entries`; how many arrived.
    pub(super) fn wait(
        &self,
        entries: &mut [OVERLAPPED_ENTRY],
        timeout: Option<Duration>,
    ) -> usize {
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
