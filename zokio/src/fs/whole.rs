//! Whole-file reads (`fs::read`, `fs::read_to_string`) and `try_exists` as ring
//! operations: `openat`, then `read`s (sized by one `statx` once the first read
//! fills its buffer), and the descriptor closes when done. Used only where the
//! worker's ring has every opcode involved; `paths.rs` falls back to the blocking
//! pool elsewhere. Must never stop reading before a read returns 0 (files in
//! `/proc` report length 0 and still have contents).
//!
//! `fs::write` is not here on purpose: an `openat` that creates or truncates is
//! always handed to the kernel's io-wq threads, and so is a buffered write on file
//! systems without non-blocking buffered writes (ext4), so on the ring it costs two
//! hand-offs where the blocking pool costs one. In a one-off comparison made while
//! choosing (ext4, 64 tasks writing 100-byte files; not a `zokio-bench` figure) the
//! ring reached about 19k files/s against the pool's 34k. Reads are the other way
//! round: an `openat` for reading resolves cached paths inline, without a hand-off.

use std::io;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

use super::native::{native, on_file, path_call};
use crate::driver::op::close::Close;
use crate::driver::op::path::{c_path, PathOp};
use crate::driver::op::read::Read;
use crate::driver::op::statx::Statx;
use crate::driver::op::Op;
use crate::io::Tail;

/// The first read's buffer: most files read whole are small, and a file that fits
/// needs no `statx` at all.
const FIRST_READ: usize = 8 * 1024;

/// Room left after the bytes `statx` promised, so that the read which finds the
/// end needs no larger buffer.
const END_PROBE: usize = 32;

/// Whether this thread can read whole files on its ring.
pub(crate) fn native_whole_files() -> bool {
    use io_uring::opcode;
    [
        opcode::OpenAt::CODE,
        opcode::Read::CODE,
        opcode::Statx::CODE,
        opcode::Close::CODE,
    ]
    .into_iter()
    .all(native)
}

async fn open(path: &Path, flags: i32, mode: u32) -> io::Result<Arc<OwnedFd>> {
    let opened = path_call(path, PathOp::Open { flags, mode }).await;
    let fd = opened.ok_or_else(|| io::Error::other("openat is not available on this thread"))??;
    let fd = fd.ok_or_else(|| io::Error::other("openat returned no descriptor"))?;
    Ok(Arc::new(fd))
}

/// Read the file at `path` to its end.
pub(crate) async fn read(path: &Path) -> io::Result<Vec<u8>> {
    let fd = open(path, libc::O_RDONLY, 0).await?;
    let raw = fd.as_raw_fd();
    let mut buf = Vec::with_capacity(FIRST_READ);
    let mut sized = false;
    loop {
        if buf.len() == buf.capacity() {
            if sized {
                // The file grew past what `statx` said: grow by doubling.
                buf.reserve(buf.len());
            } else {
                sized = true;
                let stat = on_file(Statx::fd(raw), fd.clone()).await?;
                let promised = usize::try_from(stat.size).unwrap_or(usize::MAX);
                let more = promised.saturating_sub(buf.len()).max(buf.len());
                buf.try_reserve_exact(more.saturating_add(END_PROBE))
                    .map_err(|e| {
                        io::Error::new(
                            io::ErrorKind::OutOfMemory,
                            format!("no memory for a file of {promised} bytes: {e}"),
                        )
                    })?;
            }
        }
        let len = buf.len();
        let read = Read::from_file(raw, Tail::new(buf, len), len as u64);
        let (result, tail) = on_file(read, fd.clone()).await;
        buf = tail.into_inner();
        match result {
            Ok(0) => {
                close(fd).await;
                return Ok(buf);
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Close on the ring rather than on this worker: `close(2)` can wait (a FUSE or
/// NFS file flushes on close). A read-only descriptor has nothing to lose there, so
/// an error closing it is not the caller's concern. Should an operation dropped
/// earlier still hold a share, the descriptor closes when that share goes.
async fn close(fd: Arc<OwnedFd>) {
    if let Ok(fd) = Arc::try_unwrap(fd) {
        let _ = Op::new(Close::new(fd.into_raw_fd())).await;
    }
}

/// Whether `path` exists, following links: `statx` succeeds. Like `std`, only
/// `NotFound` means "no"; any other failure (permissions) is an error.
pub(crate) async fn try_exists(path: &Path) -> io::Result<bool> {
    match Op::new(Statx::path(c_path(path)?)).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
