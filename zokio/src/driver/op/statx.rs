//! `statx`: what the kernel knows of a path or of an open file (its type and size).
//! The answer is written into a `statx` record inside the operation, which sits in
//! the operation's heap cell, so the kernel may write it after the future is gone.
//! `fs` submits this kind only where the ring has the opcode; elsewhere it uses the
//! blocking pool, so the system call here is only for completeness and must never
//! be the fallback path on a worker. It answers only what `fs` asks (existence,
//! size): `std::fs::Metadata` cannot be built from it.

// Linux only: `statx(2)` and its ring opcode exist only on Linux.
#![cfg(target_os = "linux")]

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

use super::{cvt, OpKind, ReadinessWait};

/// What `fs` needs from a `statx` answer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stat {
    /// The file's length in bytes; 0 for files whose length the kernel cannot tell
    /// in advance (`/proc`, pipes), which must be read to their end regardless.
    pub(crate) size: u64,
}

pub(crate) struct Statx {
    /// `AT_FDCWD` with a path, or an open descriptor with an empty path.
    dir: RawFd,
    path: CString,
    flags: i32,
    answer: libc::statx,
}

impl Statx {
    /// Ask about `path`, following a final symbolic link (as `metadata` does).
    pub(crate) fn path(path: CString) -> Statx {
        Statx::new(libc::AT_FDCWD, path, 0)
    }

    /// Ask about the open file `fd`; the caller keeps it open until the operation
    /// is over.
    pub(crate) fn fd(fd: RawFd) -> Statx {
        Statx::new(fd, CString::default(), libc::AT_EMPTY_PATH)
    }

    fn new(dir: RawFd, path: CString, flags: i32) -> Statx {
        Statx {
            dir,
            path,
            flags,
            // SAFETY: `statx` is plain integers, for which all zeroes is a value.
            answer: unsafe { std::mem::zeroed() },
        }
    }

    /// The fields asked for: type and size.
    const MASK: u32 = libc::STATX_TYPE | libc::STATX_SIZE;
}

impl OpKind for Statx {
    type Output = io::Result<Stat>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        let answer = std::ptr::addr_of_mut!(self.answer).cast::<io_uring::types::statx>();
        io_uring::opcode::Statx::new(io_uring::types::Fd(self.dir), self.path.as_ptr(), answer)
            .flags(self.flags)
            .mask(Self::MASK)
            .build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        // SAFETY: the path is NUL-terminated and `answer` is a `statx` record, both
        // owned by `self` for the length of the call.
        let rc = unsafe {
            libc::statx(
                self.dir,
                self.path.as_ptr(),
                self.flags,
                Self::MASK,
                &mut self.answer,
            )
        };
        cvt(rc as isize)
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<Stat> {
        result?;
        let size = if self.answer.stx_mask & libc::STATX_SIZE != 0 {
            self.answer.stx_size
        } else {
            0
        };
        Ok(Stat { size })
    }
}
