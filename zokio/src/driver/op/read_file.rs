//! `ReadFile` at an offset (Windows, IOCP): a positioned read of an overlapped file
//! handle into an owned buffer, which stays in the operation's cell until the
//! completion packet, even when its future is dropped. The handle never has a cursor
//! to move: the offset travels in the `OVERLAPPED`. Must never be handed a handle
//! opened without `FILE_FLAG_OVERLAPPED`, whose reads would block the driver.

use std::any::Any;
use std::io;
use std::sync::Arc;

use windows_sys::Win32::Foundation::{GetLastError, ERROR_HANDLE_EOF, ERROR_IO_PENDING};
use windows_sys::Win32::Storage::FileSystem::ReadFile as read_file;
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::{IocpStart, OpKind, RawIocpHandle, ReadinessWait};
use crate::io::{BufResult, IoBufMut};

/// The most one call moves, as on Linux: a count that fits the result's `i32`.
pub(crate) const MAX_RW: usize = 0x7fff_f000;

pub(crate) struct ReadFile<B> {
    /// The overlapped handle, as an address (`HANDLE` is a pointer, not `Send`).
    handle: usize,
    /// Keeps `handle` open until the system is done with the operation.
    _keep: Arc<dyn Any + Send + Sync>,
    buf: B,
    offset: u64,
}

impl<B: IoBufMut> ReadFile<B> {
    /// Read into `buf` at `offset` of `handle`, which `keep` holds open.
    pub(crate) fn new(
        handle: RawIocpHandle,
        keep: Arc<dyn Any + Send + Sync>,
        buf: B,
        offset: u64,
    ) -> ReadFile<B> {
        ReadFile {
            handle: handle as usize,
            _keep: keep,
            buf,
            offset,
        }
    }
}

/// Put `offset` in an operation's `OVERLAPPED`.
///
/// # Safety
/// `overlapped` is valid for writes.
pub(super) unsafe fn set_offset(overlapped: *mut OVERLAPPED, offset: u64) {
    // SAFETY: the caller's promise; the union's offset half is plain data.
    unsafe {
        (*overlapped).Anonymous.Anonymous.Offset = offset as u32;
        (*overlapped).Anonymous.Anonymous.OffsetHigh = (offset >> 32) as u32;
    }
}

/// How a `ReadFile`/`WriteFile` call's return says the start went.
pub(super) fn started(ok: i32) -> IocpStart {
    if ok != 0 {
        return IocpStart::Pending;
    }
    // SAFETY: reads this thread's last error, right after the call that set it.
    match unsafe { GetLastError() } {
        ERROR_IO_PENDING => IocpStart::Pending,
        code => IocpStart::Failed(code),
    }
}

impl<B: IoBufMut> OpKind for ReadFile<B> {
    type Output = BufResult<usize, B>;

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn iocp_start(&mut self, overlapped: *mut OVERLAPPED) -> IocpStart {
        let len = self.buf.bytes_total().min(MAX_RW) as u32;
        // SAFETY: `overlapped` is the cell's, valid and zeroed; the buffer is owned
        // by the cell, which stays put until the completion packet, so the system may
        // write its `len` bytes (initialised or not) until then; the handle is kept
        // open by `_keep`.
        let ok = unsafe {
            set_offset(overlapped, self.offset);
            read_file(
                self.handle as RawIocpHandle,
                self.buf.stable_mut_ptr(),
                len,
                std::ptr::null_mut(),
                overlapped,
            )
        };
        started(ok)
    }

    fn iocp_handle(&self) -> Option<RawIocpHandle> {
        Some(self.handle as RawIocpHandle)
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        match result {
            Ok(n) => {
                // SAFETY: the system wrote the first `n` bytes.
                unsafe { self.buf.set_init(n) };
                (Ok(n), self.buf)
            }
            // Reading at or past the end is how Windows says "end of file".
            Err(e) if e.raw_os_error() == Some(ERROR_HANDLE_EOF as i32) => (Ok(0), self.buf),
            Err(e) => (
                Err(io::Error::new(
                    e.kind(),
                    format!("ReadFile at offset {} failed: {e}", self.offset),
                )),
                self.buf,
            ),
        }
    }
}
