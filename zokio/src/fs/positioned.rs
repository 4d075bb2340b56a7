//! `File`'s positioned I/O when it runs on the blocking pool, one half per system:
//! `pread`/`pwrite` on Unix, `seek_read`/`seek_write` on Windows, and the errors
//! for a buffer that could only ever transfer 0 bytes. Runs on a blocking-pool
//! thread only; must never decide whether an operation goes to the ring.
//!
//! Windows has no positioned call that leaves the cursor alone: on a synchronous
//! handle the cursor ends up after the bytes read or written (as `std` documents for
//! `seek_read`), which would move the cursor the poll-based reads and writes go on
//! from. So each positioned call there goes through a second file object on the
//! same file (`ReOpenFile`), whose cursor is nobody's. Only when that open is refused
//! (the file was opened with a share mode that admits no second opener) does the
//! call use the file's own handle, and then its cursor moves.

#[cfg(unix)]
pub(super) use unix::{no_room, nothing_to_write, read_at, write_at};
#[cfg(windows)]
pub(super) use windows::{no_room, nothing_to_write, read_at, write_at};

#[cfg(unix)]
mod unix {
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;

    pub(crate) use crate::driver::op::read::MAX_RW;

    /// See `driver/op/read.rs`: the message names the descriptor.
    pub(crate) fn no_room(op: &str, file: &File) -> io::Error {
        crate::driver::op::read::no_room(op, file.as_raw_fd())
    }

    /// See `driver/op/write.rs`: the message names the descriptor.
    pub(crate) fn nothing_to_write(op: &str, file: &File) -> io::Error {
        crate::driver::op::write::nothing_to_write(op, file.as_raw_fd())
    }

    /// Read at most `len` bytes at `offset` into `dst`; how many were read.
    ///
    /// # Safety
    /// `dst` is valid for writes of `len` bytes (initialised or not) for the call.
    pub(crate) unsafe fn read_at(
        file: &File,
        dst: *mut u8,
        len: usize,
        offset: u64,
    ) -> io::Result<usize> {
        let at = libc::off_t::try_from(offset).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("read_at: offset {offset} does not fit this platform's off_t"),
            )
        })?;
        loop {
            // SAFETY: the caller's promise on `dst`; a plain system call otherwise. The
            // room may be uninitialised, so it goes to the kernel as a pointer, never
            // as a Rust slice.
            let rc = unsafe { libc::pread(file.as_raw_fd(), dst.cast(), len.min(MAX_RW), at) };
            match crate::driver::op::cvt(rc) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
        }
    }

    /// Write the first bytes of `src` at `offset`; how many were written.
    pub(crate) fn write_at(file: &File, src: &[u8], offset: u64) -> io::Result<usize> {
        file.write_at(&src[..src.len().min(MAX_RW)], offset)
    }
}

#[cfg(windows)]
mod windows {
    use std::fs::File;
    use std::io;
    use std::os::windows::fs::FileExt;
    use std::os::windows::io::{AsRawHandle, FromRawHandle};

    use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
    use windows_sys::Win32::Storage::FileSystem::{
        ReOpenFile, FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_SHARE_DELETE, FILE_SHARE_READ,
        FILE_SHARE_WRITE,
    };

    /// The most one call transfers, as on Unix (Windows takes a 32-bit length).
    pub(crate) const MAX_RW: usize = 0x7fff_f000;

    /// A buffer with no room: reading into it could only ever return 0, which
    /// callers would take for the end of the file.
    pub(crate) fn no_room(op: &str, file: &File) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{op} on handle {:?}: the buffer has no room (capacity 0); give it capacity \
                 first, e.g. `Vec::with_capacity(4096)`",
                file.as_raw_handle()
            ),
        )
    }

    /// A buffer with no bytes: there is nothing to write.
    pub(crate) fn nothing_to_write(op: &str, file: &File) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{op} on handle {:?}: the buffer is empty (length 0); there is nothing to write",
                file.as_raw_handle()
            ),
        )
    }

    /// Read at most `len` bytes at `offset` into `dst`; how many were read.
    ///
    /// # Safety
    /// `dst` is valid for writes of `len` bytes (initialised or not) for the call.
    pub(crate) unsafe fn read_at(
        file: &File,
        dst: *mut u8,
        len: usize,
        offset: u64,
    ) -> io::Result<usize> {
        let len = len.min(MAX_RW);
        // `seek_read` takes a slice, so the room is zeroed first: a slice over
        // uninitialised bytes would be undefined behaviour.
        // SAFETY: the caller's promise: `dst` is valid for writes of `len` bytes.
        let room = unsafe {
            dst.write_bytes(0, len);
            std::slice::from_raw_parts_mut(dst, len)
        };
        let own = own_cursor(file, FILE_GENERIC_READ);
        let file = own.as_ref().unwrap_or(file);
        loop {
            match file.seek_read(room, offset) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
        }
    }

    /// Write the first bytes of `src` at `offset`; how many were written.
    pub(crate) fn write_at(file: &File, src: &[u8], offset: u64) -> io::Result<usize> {
        let own = own_cursor(file, FILE_GENERIC_WRITE);
        let file = own.as_ref().unwrap_or(file);
        file.seek_write(&src[..src.len().min(MAX_RW)], offset)
    }

    /// A second file object on `file`'s file, with `access`, whose cursor a
    /// positioned call may move; `None` when the system refuses it (a share mode
    /// that admits no second opener), and the caller then uses `file` itself.
    fn own_cursor(file: &File, access: u32) -> Option<File> {
        let share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
        // SAFETY: `file`'s handle is open for the whole call; ReOpenFile only reads it
        // and returns a new handle or INVALID_HANDLE_VALUE. Flags 0: synchronous I/O,
        // as `std`'s own handles.
        let handle = unsafe { ReOpenFile(file.as_raw_handle(), access, share, 0) };
        if handle == INVALID_HANDLE_VALUE || handle.is_null() {
            return None;
        }
        // SAFETY: a fresh handle that nothing else owns; the `File` closes it.
        Some(unsafe { File::from_raw_handle(handle) })
    }
}
