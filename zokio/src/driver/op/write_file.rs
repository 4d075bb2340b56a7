//! `WriteFile` at an offset (Windows, IOCP): a positioned write of an owned buffer
//! through an overlapped file handle; the buffer stays in the operation's cell until
//! the completion packet, even when its future is dropped. Must never be handed a
//! handle opened without `FILE_FLAG_OVERLAPPED`.

use std::any::Any;
use std::io;
use std::sync::Arc;

use windows_sys::Win32::Storage::FileSystem::WriteFile as write_file;
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::read_file::{set_offset, started, MAX_RW};
use super::{IocpStart, OpKind, RawIocpHandle, ReadinessWait};
use crate::io::{BufResult, IoBuf};

pub(crate) struct WriteFile<B> {
    /// The overlapped handle, as an address (`HANDLE` is a pointer, not `Send`).
    handle: usize,
    /// Keeps `handle` open until the system is done with the operation.
    _keep: Arc<dyn Any + Send + Sync>,
    buf: B,
    offset: u64,
}

impl<B: IoBuf> WriteFile<B> {
    /// Write `buf`'s bytes at `offset` of `handle`, which `keep` holds open.
    pub(crate) fn new(
        handle: RawIocpHandle,
        keep: Arc<dyn Any + Send + Sync>,
        buf: B,
        offset: u64,
    ) -> WriteFile<B> {
        WriteFile {
            handle: handle as usize,
            _keep: keep,
            buf,
            offset,
        }
    }
}

impl<B: IoBuf> OpKind for WriteFile<B> {
    type Output = BufResult<usize, B>;

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn iocp_start(&mut self, overlapped: *mut OVERLAPPED) -> IocpStart {
        let len = self.buf.bytes_init().min(MAX_RW) as u32;
        // SAFETY: `overlapped` is the cell's, valid and zeroed; the buffer's first
        // `len` bytes are initialised and owned by the cell, which stays put until
        // the completion packet; the handle is kept open by `_keep`.
        let ok = unsafe {
            set_offset(overlapped, self.offset);
            write_file(
                self.handle as RawIocpHandle,
                self.buf.stable_ptr(),
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

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        let result = result.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("WriteFile at offset {} failed: {e}", self.offset),
            )
        });
        (result, self.buf)
    }
}
