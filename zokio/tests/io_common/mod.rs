//! Helpers for the I/O operation tests (`io_ops`, `io_cancel`, `driver_select`):
//! pipes, temporary files, descriptor checks, deterministic data, and a buffer type
//! that reports when the runtime finally drops it.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use zokio::io::{IoBuf, IoBufMut};

/// A pipe `(read end, write end)`, both non-blocking and close-on-exec.
pub fn pipe() -> (OwnedFd, OwnedFd) {
    pipe_with(libc::O_NONBLOCK | libc::O_CLOEXEC)
}

/// A pipe whose ends are in blocking mode (as `std` hands out descriptors).
pub fn blocking_pipe() -> (OwnedFd, OwnedFd) {
    pipe_with(libc::O_CLOEXEC)
}

#[cfg(target_os = "linux")]
fn pipe_with(flags: i32) -> (OwnedFd, OwnedFd) {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), flags) };
    assert_eq!(rc, 0, "pipe2 failed: {}", std::io::Error::last_os_error());
    // SAFETY: pipe2 succeeded, so both descriptors are fresh and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Without `pipe2` (macOS): `pipe`, then the flags one by one. The tests spawn no
/// process between the two steps, so close-on-exec set late loses nothing.
#[cfg(not(target_os = "linux"))]
fn pipe_with(flags: i32) -> (OwnedFd, OwnedFd) {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors pipe writes.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "pipe failed: {}", std::io::Error::last_os_error());
    // SAFETY: pipe succeeded, so both descriptors are fresh and owned by nobody else.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    for fd in fds {
        // SAFETY: fcntl on descriptors owned by `ends`, alive for these calls.
        unsafe {
            if flags & libc::O_CLOEXEC != 0 {
                assert_eq!(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC), 0);
            }
            if flags & libc::O_NONBLOCK != 0 {
                let status = libc::fcntl(fd, libc::F_GETFL);
                assert_eq!(libc::fcntl(fd, libc::F_SETFL, status | libc::O_NONBLOCK), 0);
            }
        }
    }
    ends
}

/// Write all of `data` to `fd` with plain system calls (a non-runtime writer).
/// Spins on `EAGAIN`, so only for small amounts into a pipe someone is reading.
pub fn write_all_sync(fd: RawFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: `data` is a live slice of `data.len()` bytes.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::WouldBlock
                || err.kind() == std::io::ErrorKind::Interrupted
            {
                std::thread::yield_now();
                continue;
            }
            panic!("write to fd {fd} failed: {err}");
        }
        data = &data[n as usize..];
    }
}

/// A regular file in the temporary directory, removed when dropped.
pub struct TempFile {
    pub path: PathBuf,
    pub file: File,
}

impl TempFile {
    pub fn new(tag: &str) -> TempFile {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "zokio-test-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        TempFile { path, file }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether `fd` is closed (`fcntl(F_GETFD)` fails with `EBADF`).
pub fn fd_is_closed(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries the descriptor table; a bad number is reported.
    let rc = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
}

/// A duplicate of `fd` at a high descriptor number that no other test in the process
/// will be handed meanwhile (Linux hands out the lowest free number), so that checks
/// on "this number is closed now" cannot race with other tests opening files.
pub fn dup_high(fd: &OwnedFd) -> OwnedFd {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // Leave room under the usual soft limit (1024) when it is that low.
    // SAFETY: getrlimit writes into a live struct.
    let limit = unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
        rl.rlim_cur
    };
    let base = if limit > 20_000 {
        15_000
    } else {
        (limit as usize * 3) / 4
    };
    let min = base + NEXT.fetch_add(1, Ordering::Relaxed) % 200;
    // SAFETY: duplicating a live descriptor; the result is checked.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, min as libc::c_int) };
    assert!(
        new >= 0,
        "F_DUPFD failed: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: a fresh descriptor nobody else owns.
    unsafe { OwnedFd::from_raw_fd(new) }
}

/// `len` bytes of deterministic pseudo-random data from `seed` (xorshift64*).
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// A tiny deterministic generator, so the tests need no `rand`.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Byte the kernel never writes in the cancellation tests (payload bytes are < 200).
pub const CANARY: u8 = 0xEE;

/// Counts of [`TrackedBuf`]s created and dropped.
#[derive(Clone, Default)]
pub struct BufStats(Arc<(AtomicUsize, AtomicUsize)>);

impl BufStats {
    pub fn new() -> BufStats {
        BufStats::default()
    }
    pub fn created(&self) -> usize {
        self.0 .0.load(Ordering::SeqCst)
    }
    pub fn dropped(&self) -> usize {
        self.0 .1.load(Ordering::SeqCst)
    }
    /// A buffer of `capacity` bytes, all [`CANARY`], with no initialised length.
    pub fn buf(&self, capacity: usize) -> TrackedBuf {
        self.0 .0.fetch_add(1, Ordering::SeqCst);
        TrackedBuf {
            data: vec![CANARY; capacity].into_boxed_slice(),
            len: 0,
            stats: self.clone(),
            on_drop: None,
        }
    }
    /// A buffer of `len` bytes of `byte`, all of them data (for writes).
    pub fn full_buf(&self, len: usize, byte: u8) -> TrackedBuf {
        let mut buf = self.buf(len);
        buf.data.fill(byte);
        buf.len = len;
        buf
    }
}

/// An owned read buffer that counts its drop and, optionally, sends its whole memory
/// (the canary-filled slice the kernel may have written into) when it is dropped.
/// That lets a test see what a cancelled read consumed, after the runtime let go.
pub struct TrackedBuf {
    data: Box<[u8]>,
    len: usize,
    stats: BufStats,
    on_drop: Option<zokio::sync::mpsc::UnboundedSender<Vec<u8>>>,
}

impl TrackedBuf {
    /// Report the buffer's memory through `tx` when dropped.
    pub fn report_to(mut self, tx: zokio::sync::mpsc::UnboundedSender<Vec<u8>>) -> TrackedBuf {
        self.on_drop = Some(tx);
        self
    }
    /// The bytes a completed read filled in.
    pub fn filled(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

impl Drop for TrackedBuf {
    fn drop(&mut self) {
        self.stats.0 .1.fetch_add(1, Ordering::SeqCst);
        if let Some(tx) = self.on_drop.take() {
            let _ = tx.send(self.data.to_vec());
        }
    }
}

// SAFETY: the bytes live in a boxed slice, which does not move when the value moves;
// all `data.len()` bytes are initialised (canary-filled at creation), `len` of them
// count as data.
unsafe impl IoBuf for TrackedBuf {
    fn stable_ptr(&self) -> *const u8 {
        self.data.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len
    }
    fn bytes_total(&self) -> usize {
        self.data.len()
    }
}

// SAFETY: as above; the whole slice is valid for writes.
unsafe impl IoBufMut for TrackedBuf {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.data.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, len: usize) {
        assert!(len <= self.data.len(), "set_init({len}) beyond capacity");
        self.len = len;
    }
}

/// The prefix of `memory` the kernel wrote into (bytes before the first canary).
pub fn written_prefix(memory: &[u8]) -> &[u8] {
    let end = memory
        .iter()
        .position(|&b| b == CANARY)
        .unwrap_or(memory.len());
    &memory[..end]
}
