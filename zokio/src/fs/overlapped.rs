//! `File`'s positioned I/O on IOCP (Windows): `read_at` and `write_at` as overlapped
//! `ReadFile`/`WriteFile` calls, completed by the worker's driver.
//!
//! `std` opens files for synchronous I/O, which would block the driver, so each
//! direction gets a second handle on the same file, opened for overlapped I/O
//! (`ReOpenFile` with `FILE_FLAG_OVERLAPPED` and the access of that direction only).
//! It is opened on first use and tied to the completion port of the driver that
//! opens it; its operations go to that driver from wherever the task runs, since a
//! handle reports to one port for life. Its offset travels with each call, so no
//! cursor moves. A handle tied to a runtime that has shut down is replaced.
//!
//! `ReOpenFile` checks the file's permissions, not the first handle's access: it
//! would hand a writing handle to a file opened only to read. So a direction gets
//! its handle only when the first handle is known to have that access: from the
//! `OpenOptions` it was opened with, or, for reading a disk file of unknown origin
//! (`File::from_std`), from a read of 0 bytes through it, which the system refuses
//! without read access and which moves nothing. Without that knowledge, or when the
//! system refuses the second handle (a share mode that admits no second opener),
//! the direction keeps to the blocking pool (`positioned.rs`), for good. Must never
//! block a worker.

use std::fs::File;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::sync::{Arc, Mutex, PoisonError};

use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
use windows_sys::Win32::Storage::FileSystem::{
    GetFileType, ReOpenFile, ReadFile, FILE_FLAG_OVERLAPPED, FILE_GENERIC_READ, FILE_GENERIC_WRITE,
    FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_TYPE_DISK,
};

use crate::driver::context;
use crate::driver::op::read_file::ReadFile;
use crate::driver::op::write_file::WriteFile;
use crate::driver::op::Op;
use crate::driver::DriverShared;
use crate::io::{BufResult, IoBuf, IoBufMut};

/// The two overlapped handles of a `File`, opened on demand.
pub(crate) struct Overlapped {
    reader: Mutex<Twin>,
    writer: Mutex<Twin>,
}

enum Twin {
    /// The first handle has this direction's access: open one when first needed.
    Untried,
    /// Whether the first handle may read is not known: look, then open one.
    Unknown,
    Open(Arc<TiedHandle>),
    /// No overlapped handle for this direction: use the blocking pool.
    Refused,
}

impl Twin {
    fn allowed(allowed: bool) -> Mutex<Twin> {
        Mutex::new(if allowed {
            Twin::Untried
        } else {
            Twin::Refused
        })
    }

    /// The same knowledge, for a clone of the first handle (same access).
    fn for_clone(twin: &Mutex<Twin>) -> Mutex<Twin> {
        Mutex::new(
            match &*twin.lock().unwrap_or_else(PoisonError::into_inner) {
                Twin::Untried | Twin::Open(_) => Twin::Untried,
                Twin::Unknown => Twin::Unknown,
                Twin::Refused => Twin::Refused,
            },
        )
    }
}

/// An overlapped handle and the driver whose port it reports to.
struct TiedHandle {
    handle: OwnedHandle,
    driver: Arc<DriverShared>,
}

impl Overlapped {
    /// For a file opened with `read` and `write` access (`write` without append:
    /// an appending handle may not write at an offset).
    pub(crate) fn opened_with(read: bool, write: bool) -> Overlapped {
        Overlapped {
            reader: Twin::allowed(read),
            writer: Twin::allowed(write),
        }
    }

    /// For a handle of unknown access (`File::from_std`): reading is looked into,
    /// writing stays on the blocking pool.
    pub(crate) fn unknown() -> Overlapped {
        Overlapped {
            reader: Mutex::new(Twin::Unknown),
            writer: Mutex::new(Twin::Refused),
        }
    }

    /// For `File::try_clone`'s new handle, which has the same access.
    pub(crate) fn for_clone(&self) -> Overlapped {
        Overlapped {
            reader: Twin::for_clone(&self.reader),
            writer: Twin::for_clone(&self.writer),
        }
    }

    /// `read_at` through the reading handle; the buffer back untouched (`Err`) when
    /// the file cannot have one, for the caller's blocking-pool path.
    pub(crate) async fn read_at<B: IoBufMut>(
        &self,
        file: &File,
        buf: B,
        offset: u64,
    ) -> Result<BufResult<usize, B>, B> {
        let Some(tied) = tie(&self.reader, file, FILE_GENERIC_READ) else {
            return Err(buf);
        };
        let handle = tied.handle.as_raw_handle();
        let driver = tied.driver.clone();
        Ok(Op::on_port(ReadFile::new(handle, tied, buf, offset), driver).await)
    }

    /// `write_at` through the writing handle; as `read_at` otherwise.
    pub(crate) async fn write_at<B: IoBuf>(
        &self,
        file: &File,
        buf: B,
        offset: u64,
    ) -> Result<BufResult<usize, B>, B> {
        let Some(tied) = tie(&self.writer, file, FILE_GENERIC_WRITE) else {
            return Err(buf);
        };
        let handle = tied.handle.as_raw_handle();
        let driver = tied.driver.clone();
        Ok(Op::on_port(WriteFile::new(handle, tied, buf, offset), driver).await)
    }
}

/// The overlapped handle of `twin`, opened and tied to this thread's driver if it has
/// none yet (or only one tied to a runtime that shut down); `None` when the file
/// cannot have one, or when no runtime is here (the caller's fallback then says so).
fn tie(twin: &Mutex<Twin>, file: &File, access: u32) -> Option<Arc<TiedHandle>> {
    let mut twin = twin.lock().unwrap_or_else(PoisonError::into_inner);
    match &*twin {
        Twin::Open(tied) if !tied.driver.is_closed() => return Some(tied.clone()),
        Twin::Refused => return None,
        Twin::Unknown if !may_read(file) => {
            *twin = Twin::Refused;
            return None;
        }
        _ => {}
    }
    let driver = context::current_driver().ok()?;
    let Some(handle) = reopen_overlapped(file, access) else {
        *twin = Twin::Refused;
        return None;
    };
    if let Err(err) = driver.completion_port().associate(handle.as_raw_handle()) {
        log::warn!(
            "file I/O falls back to the blocking pool: tying its handle to the I/O \
             completion port failed: {err}"
        );
        *twin = Twin::Refused;
        return None;
    }
    let tied = Arc::new(TiedHandle { handle, driver });
    *twin = Twin::Open(tied.clone());
    Some(tied)
}

/// Whether `file` is a disk file its handle may read: a read of 0 bytes, refused
/// without read access, moves no cursor. Never tried on pipes and devices, where
/// it could wait for data.
fn may_read(file: &File) -> bool {
    let handle = file.as_raw_handle();
    // SAFETY: `file`'s handle is open for the whole call.
    if unsafe { GetFileType(handle) } != FILE_TYPE_DISK {
        return false;
    }
    let mut byte = 0u8;
    let mut read = 0u32;
    // SAFETY: as above; a read of 0 bytes into a live byte, synchronous (the handle
    // is `std`'s, opened without `FILE_FLAG_OVERLAPPED`).
    unsafe { ReadFile(handle, &mut byte, 0, &mut read, std::ptr::null_mut()) != 0 }
}

/// A second handle on `file`'s file, for overlapped I/O with `access`.
fn reopen_overlapped(file: &File, access: u32) -> Option<OwnedHandle> {
    let share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    // SAFETY: `file`'s handle is open for the whole call; ReOpenFile only reads it and
    // returns a new handle or INVALID_HANDLE_VALUE.
    let handle = unsafe { ReOpenFile(file.as_raw_handle(), access, share, FILE_FLAG_OVERLAPPED) };
    if handle == INVALID_HANDLE_VALUE || handle.is_null() {
        log::debug!(
            "no overlapped handle on this file ({}): its positioned I/O runs on the blocking pool",
            io::Error::last_os_error()
        );
        return None;
    }
    // SAFETY: a fresh handle that nothing else owns.
    Some(unsafe { OwnedHandle::from_raw_handle(handle) })
}
