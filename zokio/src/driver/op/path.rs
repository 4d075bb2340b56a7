//! The path operations on io_uring (the operations are Linux only; `c_path` and
//! `PathOp` are everywhere): `openat`, `unlinkat`, `mkdirat`, `renameat`,
//! each relative to the current directory. The paths live, NUL-terminated, in the
//! operation's heap cell, so the kernel may read them after the future is gone.
//! These kinds are only submitted where the ring has the opcode (see
//! `uring/probe.rs`); elsewhere `fs` uses the blocking pool, so their epoll
//! system calls exist only for completeness and must never be the fallback path.

use std::ffi::CString;
use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

#[cfg(target_os = "linux")]
use super::{cvt, OpKind, ReadinessWait};

/// A path as the kernel wants it; a NUL inside is `InvalidInput`.
pub(crate) fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the path {path:?} contains a NUL byte, which no file name can hold"),
        )
    })
}

/// Which path operation, with its arguments.
// Only a ring reads the arguments (Linux); elsewhere `fs` builds the operation and
// runs `std`'s call on the blocking pool instead.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) enum PathOp {
    Open { flags: i32, mode: u32 },
    Unlink { dir: bool },
    Mkdir { mode: u32 },
    Rename { to: CString },
}

#[cfg(target_os = "linux")]
pub(crate) struct PathCall {
    path: CString,
    op: PathOp,
}

#[cfg(target_os = "linux")]
impl PathCall {
    pub(crate) fn new(path: CString, op: PathOp) -> PathCall {
        PathCall { path, op }
    }

    /// The io_uring opcode this call needs.
    #[cfg(target_os = "linux")]
    pub(crate) fn opcode(op: &PathOp) -> u8 {
        use io_uring::opcode;
        match op {
            PathOp::Open { .. } => opcode::OpenAt::CODE,
            PathOp::Unlink { .. } => opcode::UnlinkAt::CODE,
            PathOp::Mkdir { .. } => opcode::MkDirAt::CODE,
            PathOp::Rename { .. } => opcode::RenameAt::CODE,
        }
    }
}

#[cfg(target_os = "linux")]
const CWD: io_uring::types::Fd = io_uring::types::Fd(libc::AT_FDCWD);

#[cfg(target_os = "linux")]
impl OpKind for PathCall {
    /// The new descriptor for `Open`, else nothing.
    type Output = io::Result<Option<OwnedFd>>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        use io_uring::opcode;
        let path = self.path.as_ptr();
        match &self.op {
            PathOp::Open { flags, mode } => opcode::OpenAt::new(CWD, path)
                .flags(*flags | libc::O_CLOEXEC)
                .mode(*mode)
                .build(),
            PathOp::Unlink { dir } => opcode::UnlinkAt::new(CWD, path)
                .flags(if *dir { libc::AT_REMOVEDIR } else { 0 })
                .build(),
            PathOp::Mkdir { mode } => opcode::MkDirAt::new(CWD, path).mode(*mode).build(),
            PathOp::Rename { to } => opcode::RenameAt::new(CWD, path, CWD, to.as_ptr()).build(),
        }
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        let path = self.path.as_ptr();
        // SAFETY: every pointer is a NUL-terminated string owned by `self`.
        let rc = unsafe {
            match &self.op {
                PathOp::Open { flags, mode } => {
                    libc::open(path, *flags | libc::O_CLOEXEC, *mode as libc::c_uint)
                }
                PathOp::Unlink { dir: false } => libc::unlink(path),
                PathOp::Unlink { dir: true } => libc::rmdir(path),
                PathOp::Mkdir { mode } => libc::mkdir(path, *mode as libc::mode_t),
                PathOp::Rename { to } => libc::rename(path, to.as_ptr()),
            }
        };
        cvt(rc as isize)
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<Option<OwnedFd>> {
        let n = result?;
        Ok(match self.op {
            // SAFETY: a successful open returns a new descriptor nobody owns yet.
            PathOp::Open { .. } => Some(unsafe { OwnedFd::from_raw_fd(n as i32) }),
            _ => None,
        })
    }

    fn abandoned(&mut self, result: i32) {
        if result >= 0 {
            if let PathOp::Open { .. } = self.op {
                // SAFETY: opened for a future that is gone; nobody else has it.
                drop(unsafe { OwnedFd::from_raw_fd(result) });
            }
        }
    }
}
