//! `File`'s positioned I/O when it runs on the blocking pool, one half per system:
//! `pread`/`pwrite` on Unix, `seek_read`/`seek_write` on Windows, and the errors
//! for a buffer that could only ever transfer 0 bytes. Runs on a blocking-pool
//! thread only; must never decide whether an operation goes to the ring.
//!
//! On Windows this half serves only files IOCP cannot (`overlapped.rs`: a share mode
//! that admits no second handle, a handle of unknown access). Windows has no
//! positioned call that leaves a synchronous handle's cursor alone (`std` documents
//! that `seek_read` moves it), and the poll-based reads and writes go on from that
//! cursor, so each call puts it back where it was, under a lock that keeps two
//! positioned calls on one handle from putting back each other's positions. A second
//! handle of our own (`ReOpenFile`) would leave the cursor alone, but the system
//! checks the file's permissions for it, not the first handle's access: a file
//! opened to read could be written through it.

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
    use std::io::{Seek, SeekFrom};
    use std::os::windows::fs::FileExt;
    use std::os::windows::io::AsRawHandle;
    use std::sync::{Mutex, PoisonError};

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
        keeping_the_cursor(file, |file| loop {
            match file.seek_read(room, offset) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
        })
    }

    /// Write the first bytes of `src` at `offset`; how many were written.
    pub(crate) fn write_at(file: &File, src: &[u8], offset: u64) -> io::Result<usize> {
        keeping_the_cursor(file, |file| {
            file.seek_write(&src[..src.len().min(MAX_RW)], offset)
        })
    }

    /// Run a positioned call on `file`, then put its cursor back where it was.
    fn keeping_the_cursor(
        file: &File,
        call: impl FnOnce(&File) -> io::Result<usize>,
    ) -> io::Result<usize> {
        // One lock per handle would need a table; a few shared ones, picked by the
        // handle's value, only make unrelated files wait for each other now and then.
        static LOCKS: [Mutex<()>; 16] = [const { Mutex::new(()) }; 16];
        let handle = file.as_raw_handle() as usize;
        let _held = LOCKS[(handle >> 2) % LOCKS.len()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut cursor = file;
        let at = cursor.stream_position()?;
        let result = call(file);
        if let Err(err) = cursor.seek(SeekFrom::Start(at)) {
            // The bytes moved; only the cursor is off, which the caller must hear of.
            return Err(io::Error::new(
                err.kind(),
                format!(
                    "putting the file's cursor back at {at} after a positioned call failed: {err}"
                ),
            ));
        }
        result
    }
}
