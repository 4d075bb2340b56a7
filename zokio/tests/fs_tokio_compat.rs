//! Code written against `tokio::fs` must run unchanged against `zokio::fs`.
//!
//! These tests restate, in their own words, the behaviours that tokio's own file
//! system suites check on Linux (`fs*.rs` and the io_uring `fs_uring_*.rs` ones):
//! the poll-based `File` (reads, writes, seeks, flushes, bytes read ahead and
//! handed back, errors of background writes, `set_len`/`sync_all` ordered after
//! pending writes, the read/write size cap, clones and `std` conversions),
//! `OpenOptions` (every option, and one converted from `std`), `DirBuilder`,
//! `read_dir` and its entries, the path functions, futures of `open`/`read`/
//! `try_exists` dropped while in flight (no descriptor leaks, no panic), runtime
//! shutdown with file operations in flight, and many concurrent reads.
//!
//! The expectations are tokio's: a failure here is a difference from tokio (the
//! one deliberate difference, errors that name their path, is marked where it
//! shows). Run it under each driver (`ZOKIO_DRIVER=io_uring` and `ZOKIO_DRIVER=epoll`).

mod common;

use std::future::Future;
use std::io::{ErrorKind, IoSlice, SeekFrom};
#[cfg(unix)]
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
#[cfg(unix)]
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};
use zokio::fs::{self, DirBuilder, File, OpenOptions};
use zokio::runtime::{Builder, Runtime};
use zokio::sync::mpsc::{unbounded_channel, UnboundedSender};

use common::HANG_GUARD;

const HELLO: &[u8] = b"hello world...";
const FOO: &[u8] = b"foo bar baz...";

/// tokio's default cap on the bytes one background read or write moves.
const DEFAULT_MAX_BUF_SIZE: usize = 2 * 1024 * 1024;

// ------------------------------------------------------------------ helpers

/// A fresh directory, unique to this process and test, removed (with whatever a
/// test left in it, permissions restored first) when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("zokio-fs-compat-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("creating a temporary directory");
        // Descriptors are matched against the resolved path (see `fds_naming`).
        let path = std::fs::canonicalize(&path).expect("resolving the temporary directory");
        TempDir { path }
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// A file in this directory holding `contents`.
    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, contents).expect("writing a fixture file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // The tests that take permissions away are Unix's.
        #[cfg(unix)]
        give_back_permissions(&self.path);
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(unix)]
fn give_back_permissions(dir: &Path) {
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                give_back_permissions(&entry.path());
            }
        }
    }
}

#[cfg(unix)]
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// This process's umask, read without changing it (`umask(2)` would race with the
/// other tests).
#[cfg(unix)]
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .expect("a Umask line in /proc/self/status");
    u32::from_str_radix(line.trim(), 8).expect("an octal umask")
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .expect("metadata of a test path")
        .permissions()
        .mode()
        & 0o7777
}

/// The OS error code, whether the error is the OS error itself or carries it as
/// its source.
#[cfg(unix)]
fn errno(e: &std::io::Error) -> Option<i32> {
    e.raw_os_error().or_else(|| {
        e.get_ref()?
            .source()?
            .downcast_ref::<std::io::Error>()?
            .raw_os_error()
    })
}

/// Deterministic bytes that depend on the seed and the position.
fn pattern(seed: u32, len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(31).wrapping_add(seed.wrapping_mul(7)) % 251) as u8)
        .collect()
}

async fn read_to_end(file: &mut File) -> Vec<u8> {
    let mut out = Vec::new();
    file.read_to_end(&mut out).await.expect("read_to_end");
    out
}

/// How many of this process's descriptors are open on `path`.
#[cfg(unix)]
fn fds_naming(path: &Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("listing /proc/self/fd")
        .flatten()
        .filter(|entry| std::fs::read_link(entry.path()).is_ok_and(|target| target == path))
        .count()
}

/// Windows cannot list a process's handles by the file they name, but an exclusive
/// open fails (a sharing violation) while any handle is open on the file: that tells
/// none from some, counted as one.
#[cfg(windows)]
fn fds_naming(path: &Path) -> usize {
    use std::os::windows::fs::OpenOptionsExt;
    const ERROR_SHARING_VIOLATION: i32 = 32;
    match std::fs::OpenOptions::new()
        .read(true)
        .share_mode(0)
        .open(path)
    {
        Err(e) if e.raw_os_error() == Some(ERROR_SHARING_VIOLATION) => 1,
        _ => 0,
    }
}

/// Wait (at most [`HANG_GUARD`]) until no descriptor is open on `path`: an operation
/// that was dropped in flight may close its descriptor a little after the drop, but
/// it must close it.
async fn assert_no_fd_left_on(path: &Path) {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let open = fds_naming(path);
        if open == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{open} descriptor(s) still open on {} after every future using it was dropped",
            path.display()
        );
        zokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `assert_no_fd_left_on` outside a runtime.
fn assert_no_fd_left_on_blocking(path: &Path) {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let open = fds_naming(path);
        if open == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{open} descriptor(s) still open on {} after the runtime shut down",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Start a read of up to `want` bytes and drop its future after one poll, while
/// the background read is still running: what it fetches waits in the file's
/// buffer for the next operation, as in tokio. Retries (after rewinding) in the
/// unlikely case the read finished within that one poll.
async fn read_ahead_then_drop(file: &mut File, want: usize) {
    for _ in 0..1000 {
        let mut buf = vec![0u8; want];
        let polled = {
            let mut read = Box::pin(file.read(&mut buf));
            futures::poll!(read.as_mut())
        };
        match polled {
            Poll::Pending => return,
            Poll::Ready(done) => {
                done.expect("read");
                file.seek(SeekFrom::Start(0)).await.expect("rewind");
            }
        }
    }
    panic!("a file read never stayed pending for one poll");
}

fn runtimes() -> Vec<(&'static str, Runtime)> {
    let multi = |n| {
        Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()
            .expect("building a multi-thread runtime")
    };
    vec![
        (
            "current_thread",
            Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("building a current-thread runtime"),
        ),
        ("multi_thread(1)", multi(1)),
        ("multi_thread(4)", multi(4)),
    ]
}

// ------------------------------------------------------- File: read & write

#[zokio::test]
async fn file_read_returns_the_contents() {
    let dir = TempDir::new();
    let path = dir.file("hello", HELLO);
    let mut file = File::open(&path).await.unwrap();
    let mut buf = [0u8; 1024];
    let n = file.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], HELLO);
    // At the end: 0, again and again.
    assert_eq!(file.read(&mut buf).await.unwrap(), 0);
    assert_eq!(file.read(&mut buf).await.unwrap(), 0);
}

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_read_exact_to_end_and_to_string() {
    let dir = TempDir::new();
    let path = dir.file("exact", b"exactly these bytes");
    let mut file = File::open(&path).await.unwrap();
    let mut buf = [0u8; 19];
    file.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"exactly these bytes");
    let e = file.read_exact(&mut [0u8; 1]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedEof);

    for (i, len) in [0usize, 100, 100_000, 3_000_000].into_iter().enumerate() {
        let data = pattern(i as u32, len);
        let path = dir.file(&format!("len-{len}"), &data);
        let mut file = File::open(&path).await.unwrap();
        assert_eq!(read_to_end(&mut file).await, data, "{len} bytes");
    }

    let text = "héllo, wörld: ✓";
    let path = dir.file("text", text.as_bytes());
    let mut s = String::new();
    File::open(&path)
        .await
        .unwrap()
        .read_to_string(&mut s)
        .await
        .unwrap();
    assert_eq!(s, text);
}

#[zokio::test]
async fn file_read_of_an_empty_file_is_zero() {
    let dir = TempDir::new();
    let path = dir.file("empty", b"");
    let mut file = File::open(&path).await.unwrap();
    assert_eq!(file.read(&mut [0u8; 100]).await.unwrap(), 0);
}

#[zokio::test]
async fn empty_read_is_ready_at_once_and_is_not_the_end() {
    let dir = TempDir::new();
    let path = dir.file("hello", HELLO);
    let mut file = File::open(&path).await.unwrap();
    // Nothing to fill: done without waiting, and the file is not at its end.
    assert!(matches!(file.read(&mut []).now_or_never(), Some(Ok(0))));
    let mut buf = [0u8; 1024];
    let n = file.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], HELLO);
}

#[zokio::test]
async fn partial_read_then_the_rest() {
    let dir = TempDir::new();
    let data: Vec<u8> = (0..100u8).collect();
    let path = dir.file("partial", &data);
    let mut file = File::open(&path).await.unwrap();
    let mut head = [0u8; 5];
    file.read_exact(&mut head).await.unwrap();
    assert_eq!(head, data[..5]);
    assert_eq!(read_to_end(&mut file).await, data[5..]);
}

#[zokio::test]
async fn file_write_then_flush_reaches_the_file() {
    let dir = TempDir::new();
    let path = dir.join("written");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(HELLO).await.unwrap();
    // A second write before the first one is known to be done.
    file.write_all(FOO).await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), [HELLO, FOO].concat());
}

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_write_then_shutdown_reaches_the_file() {
    let dir = TempDir::new();
    let path = dir.join("written");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(HELLO).await.unwrap();
    file.shutdown().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), HELLO);
}

/// tokio's `File` takes every slice of a vectored write in one call (up to the
/// buffer cap) and says so with `is_write_vectored`.
#[zokio::test]
async fn write_vectored_takes_every_slice() {
    let dir = TempDir::new();
    for shutdown in [false, true] {
        let path = dir.join(if shutdown { "shutdown" } else { "flush" });
        let mut file = File::create(&path).await.unwrap();
        let n = file
            .write_vectored(&[IoSlice::new(HELLO), IoSlice::new(FOO)])
            .await
            .unwrap();
        if shutdown {
            file.shutdown().await.unwrap();
        } else {
            file.flush().await.unwrap();
        }
        assert_eq!(
            n,
            HELLO.len() + FOO.len(),
            "one vectored write takes every slice"
        );
        assert_eq!(std::fs::read(&path).unwrap(), [HELLO, FOO].concat());
        assert!(
            file.is_write_vectored(),
            "File should say it writes vectors"
        );
    }
}

#[zokio::test]
async fn flush_of_an_idle_file_is_ready_at_once() {
    let dir = TempDir::new();
    let path = dir.file("idle", HELLO);
    let mut file = File::open(&path).await.unwrap();
    assert!(matches!(file.flush().now_or_never(), Some(Ok(()))));
}

// --------------------------------------------------------------- File: seek

#[zokio::test]
async fn seek_rewind_and_stream_position() {
    let dir = TempDir::new();
    let path = dir.join("seek");
    let mut file = File::create(&path).await.unwrap();
    assert_eq!(file.seek(SeekFrom::Current(10)).await.unwrap(), 10);
    file.rewind().await.unwrap();
    assert_eq!(file.stream_position().await.unwrap(), 0);
}

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seek_then_read_and_seek_back() {
    let dir = TempDir::new();
    let path = dir.file("seek", b"hello world");
    let mut file = File::open(&path).await.unwrap();
    file.seek(SeekFrom::Start(6)).await.unwrap();
    assert_eq!(read_to_end(&mut file).await, b"world");

    let mut file = File::open(&path).await.unwrap();
    let mut head = [0u8; 5];
    file.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"hello");
    file.seek(SeekFrom::Start(0)).await.unwrap();
    assert_eq!(read_to_end(&mut file).await, b"hello world");
    assert_eq!(file.seek(SeekFrom::End(-5)).await.unwrap(), 6);
    assert_eq!(read_to_end(&mut file).await, b"world");
}

/// A task that reads and seeks for ever still lets the scheduler in.
#[zokio::test]
async fn reading_and_seeking_in_a_loop_yields() {
    let dir = TempDir::new();
    let path = dir.file("coop", HELLO);
    let mut looping = Box::pin(async move {
        let mut file = File::open(&path).await.unwrap();
        let mut buf = [0u8; 1024];
        loop {
            let _ = file.read(&mut buf).await.unwrap();
            file.seek(SeekFrom::Start(0)).await.unwrap();
        }
    });
    for _ in 0..1000 {
        if futures::poll!(looping.as_mut()).is_pending() {
            return;
        }
    }
    panic!("reading and seeking a file never returned Pending");
}

// ------------------------------------- File: reads and writes on one handle

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_after_write_on_the_same_file() {
    let dir = TempDir::new();
    let path = dir.file("rw", b"");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(b"hello uring").await.unwrap();
    file.flush().await.unwrap();
    file.seek(SeekFrom::Start(0)).await.unwrap();
    assert_eq!(read_to_end(&mut file).await, b"hello uring");

    // Without a flush: the read waits for the write, then goes on from where
    // the write left the cursor.
    let path = dir.file("rw2", HELLO);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(b"HE").await.unwrap();
    assert_eq!(read_to_end(&mut file).await, &HELLO[2..]);
    file.seek(SeekFrom::Start(0)).await.unwrap();
    assert_eq!(read_to_end(&mut file).await, b"HEllo world...");
}

/// Bytes a read fetched but did not hand out are handed out by the next reads.
#[zokio::test]
async fn bytes_read_ahead_go_to_the_next_reads() {
    let dir = TempDir::new();
    let path = dir.file("ahead", HELLO);
    let mut file = File::open(&path).await.unwrap();
    read_ahead_then_drop(&mut file, 32).await;
    let mut small = [0u8; 4];
    assert_eq!(file.read(&mut small).await.unwrap(), 4);
    assert_eq!(&small, &HELLO[..4]);
    let mut rest = [0u8; 32];
    let n = file.read(&mut rest).await.unwrap();
    assert_eq!(&rest[..n], &HELLO[4..]);
    assert_eq!(file.stream_position().await.unwrap(), HELLO.len() as u64);
}

/// A write after a read lands where the reader stopped, not where the read ahead
/// left the OS cursor.
#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_after_a_partial_read_lands_after_what_was_read() {
    let dir = TempDir::new();
    let path = dir.file("partial-write", HELLO);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .unwrap();
    read_ahead_then_drop(&mut file, 32).await;
    let mut small = [0u8; 4];
    file.read_exact(&mut small).await.unwrap();
    file.write_all(b"XYZ").await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"hellXYZorld...");
}

/// A read ahead that was never handed out, a flush, then a write: the write goes
/// where the cursor was before the read.
#[zokio::test]
async fn write_after_an_unclaimed_read_and_a_flush() {
    let dir = TempDir::new();
    let path = dir.file("unclaimed", HELLO);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .unwrap();
    read_ahead_then_drop(&mut file, 32).await;
    file.flush().await.unwrap();
    file.write_all(FOO).await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), FOO);
}

/// tokio's `set_len` gives back bytes read ahead and not handed out (the cursor
/// moves back to where the reader is) before it truncates, so later reads see
/// the file as it is after `set_len`, not bytes from before it.
#[zokio::test]
async fn set_len_after_a_partial_read_forgets_the_bytes_read_ahead() {
    let dir = TempDir::new();
    let path = dir.file("truncated", HELLO);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .unwrap();
    read_ahead_then_drop(&mut file, 32).await;
    let mut small = [0u8; 4];
    file.read_exact(&mut small).await.unwrap();
    file.set_len(4).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"hell");
    assert_eq!(
        read_to_end(&mut file).await,
        b"",
        "a read after set_len(4) at position 4 must find the end"
    );
    assert_eq!(file.stream_position().await.unwrap(), 4);
}

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_len_and_sync_wait_for_a_pending_write() {
    let dir = TempDir::new();
    let path = dir.join("ordered");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(HELLO).await.unwrap(); // not flushed
    file.set_len(5).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"hello");
    assert_eq!(file.metadata().await.unwrap().len(), 5);
    file.set_len(20).await.unwrap();
    assert_eq!(file.metadata().await.unwrap().len(), 20);

    let path = dir.join("synced");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(HELLO).await.unwrap(); // not flushed
    file.sync_all().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), HELLO);
    file.write_all(FOO).await.unwrap(); // not flushed
    file.sync_data().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), [HELLO, FOO].concat());
}

// ------------------------------------------------- File: background errors

/// A write runs in the background: on a file opened read-only it returns at once,
/// and its error comes out of the next write, flush, or (after a read or a seek
/// that went through it) the next write or flush. Once reported, it is gone.
#[zokio::test]
async fn background_write_errors_surface_later() {
    let dir = TempDir::new();
    let path = dir.file("read-only", HELLO);
    let mut file = File::open(&path).await.unwrap();

    // write, flush
    assert_eq!(file.write(FOO).await.unwrap(), FOO.len());
    file.flush().await.unwrap_err();
    file.flush().await.unwrap();

    // write, write
    assert_eq!(file.write(FOO).await.unwrap(), FOO.len());
    file.write(FOO).await.unwrap_err();
    file.flush().await.unwrap();

    // write, read (which succeeds), flush
    assert_eq!(file.write(FOO).await.unwrap(), FOO.len());
    let mut buf = [0u8; 32];
    let n = file.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], HELLO);
    file.flush().await.unwrap_err();

    // write, read, write
    file.seek(SeekFrom::Start(0)).await.unwrap();
    assert_eq!(file.write(FOO).await.unwrap(), FOO.len());
    let n = file.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], HELLO);
    file.write(FOO).await.unwrap_err();
    file.flush().await.unwrap();

    // write, seek, flush
    assert_eq!(file.write(FOO).await.unwrap(), FOO.len());
    file.seek(SeekFrom::Start(0)).await.unwrap();
    file.flush().await.unwrap_err();

    // write, seek, write
    assert_eq!(file.write(FOO).await.unwrap(), FOO.len());
    file.seek(SeekFrom::Start(0)).await.unwrap();
    file.write(FOO).await.unwrap_err();
    file.flush().await.unwrap();

    assert_eq!(std::fs::read(&path).unwrap(), HELLO, "nothing was written");
}

/// A failed read leaves the file usable.
#[zokio::test]
async fn read_error_then_the_file_still_works() {
    let dir = TempDir::new();
    let path = dir.join("write-only");
    let mut file = File::create(&path).await.unwrap();
    file.read(&mut [0u8; 16]).await.unwrap_err();
    file.write_all(HELLO).await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), HELLO);
}

// -------------------------------------------------- File: the buffer cap

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_read_or_write_moves_at_most_the_default_cap() {
    let dir = TempDir::new();
    let big = pattern(5, DEFAULT_MAX_BUF_SIZE + (1 << 20));
    let path = dir.join("big");
    let mut file = File::create(&path).await.unwrap();
    assert_eq!(file.max_buf_size(), DEFAULT_MAX_BUF_SIZE);
    assert_eq!(file.write(&big).await.unwrap(), DEFAULT_MAX_BUF_SIZE);
    file.flush().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), big[..DEFAULT_MAX_BUF_SIZE]);

    std::fs::write(&path, &big).unwrap();
    let mut file = File::open(&path).await.unwrap();
    let mut buf = vec![0u8; big.len()];
    let mut at = 0;
    while at < big.len() {
        let n = file.read(&mut buf[at..]).await.unwrap();
        assert!(
            n > 0 && n <= DEFAULT_MAX_BUF_SIZE,
            "one read gave {n} bytes"
        );
        at += n;
    }
    assert_eq!(buf, big);
}

#[zokio::test]
async fn set_max_buf_size_caps_reads_and_writes() {
    let dir = TempDir::new();
    let path = dir.file("hello", HELLO);
    let mut file = File::open(&path).await.unwrap();
    file.set_max_buf_size(1);
    assert_eq!(file.max_buf_size(), 1);
    let mut buf = [0u8; 1024];
    assert_eq!(file.read(&mut buf).await.unwrap(), 1, "one byte per read");
    assert_eq!(buf[0], HELLO[0]);

    let path = dir.join("one-byte");
    let mut file = File::create(&path).await.unwrap();
    file.set_max_buf_size(1);
    assert_eq!(file.write(HELLO).await.unwrap(), 1, "one byte per write");
    file.write_all(&HELLO[1..]).await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), HELLO);

    // A small cap still reads everything, in more steps.
    let data = pattern(9, 1000);
    let path = dir.file("capped", &data);
    let mut file = File::open(&path).await.unwrap();
    file.set_max_buf_size(64);
    assert_eq!(read_to_end(&mut file).await, data);
}

#[zokio::test]
async fn try_clone_keeps_the_buffer_cap() {
    let dir = TempDir::new();
    let path = dir.file("hello", HELLO);
    let mut file = File::open(&path).await.unwrap();
    file.set_max_buf_size(3);
    let mut clone = file.try_clone().await.unwrap();
    assert_eq!(clone.max_buf_size(), 3);
    let mut buf = [0u8; 32];
    assert_eq!(clone.read(&mut buf).await.unwrap(), 3);
}

#[zokio::test]
async fn set_max_buf_size_of_zero_panics() {
    // The runtime's message for the panic provoked here; should it change, the
    // panic merely prints again.
    common::quiet_panics_with(&["`max_buf_size` must be greater than 0"]);
    let dir = TempDir::new();
    let path = dir.file("hello", HELLO);
    let mut file = File::open(&path).await.unwrap();
    let zero = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        file.set_max_buf_size(0);
    }));
    assert!(zero.is_err(), "a cap of 0 bytes must be refused");
}

// ------------------------------------------- File: handles and conversions

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_through_a_clone() {
    let dir = TempDir::new();
    let path = dir.join("cloned");
    let file = File::create(&path).await.unwrap();
    let mut clone = file.try_clone().await.unwrap();
    clone.write_all(HELLO).await.unwrap();
    clone.flush().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), HELLO);
    // The clone shares the cursor.
    assert_eq!(
        file.try_clone()
            .await
            .unwrap()
            .stream_position()
            .await
            .unwrap(),
        HELLO.len() as u64
    );
}

#[zokio::test]
async fn into_std_waits_for_the_pending_write() {
    use std::io::Write as _;
    let dir = TempDir::new();
    let path = dir.join("into-std");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(HELLO).await.unwrap(); // not flushed
    let mut std_file = file.into_std().await;
    assert_eq!(std::fs::read(&path).unwrap(), HELLO);
    std_file.write_all(FOO).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), [HELLO, FOO].concat());
}

#[zokio::test]
async fn try_into_std_of_an_idle_file() {
    use std::io::Write as _;
    let dir = TempDir::new();
    let path = dir.join("try-into-std");
    let file = File::create(&path).await.unwrap();
    let mut std_file = file.try_into_std().expect("nothing is in flight");
    std_file.write_all(HELLO).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), HELLO);
}

#[zokio::test]
async fn file_from_std_reads() {
    let dir = TempDir::new();
    let path = dir.file("from-std", HELLO);
    let mut file = File::from(std::fs::File::open(&path).unwrap());
    let mut buf = [0u8; 1024];
    let n = file.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], HELLO);
    let mut file = File::from_std(std::fs::File::open(&path).unwrap());
    assert_eq!(read_to_end(&mut file).await, HELLO);
}

#[cfg(unix)]
#[zokio::test]
async fn raw_descriptors_round_trip() {
    let dir = TempDir::new();
    let path = dir.file("raw", HELLO);
    let file = File::open(&path).await.unwrap();
    let fd = file.as_raw_fd();
    assert!(fd > 0);
    // Debug output names the descriptor.
    let shown = format!("{file:?}");
    assert!(shown.contains(&format!("fd: {fd}")), "{shown}");

    let raw = file.into_std().await.into_raw_fd();
    assert!(raw > 0);
    // SAFETY: `raw` is an open descriptor that nothing else owns.
    let mut file = unsafe { File::from_raw_fd(raw) };
    let mut buf = [0u8; 1024];
    let n = file.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], HELLO);
}

/// A `File` made from an `OwnedFd` reads what the descriptor has.
#[cfg(unix)]
#[zokio::test]
async fn file_from_an_owned_descriptor() {
    let dir = TempDir::new();
    let path = dir.file("owned", HELLO);
    let owned: std::os::fd::OwnedFd = std::fs::File::open(&path).unwrap().into();
    let mut file = File::from(owned);
    let mut got = Vec::new();
    file.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, HELLO);
}

/// `set_times`/`set_modified` reach the file, after a pending write (which would
/// otherwise move the modification time again when it lands).
#[zokio::test]
async fn set_times_and_set_modified() {
    let dir = TempDir::new();
    let path = dir.file("times", HELLO);
    let mut file = OpenOptions::new().write(true).open(&path).await.unwrap();
    let then = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    file.write_all(FOO).await.unwrap();
    file.set_modified(then).await.unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), then);
    let earlier = then - Duration::from_secs(3600);
    let times = fs::FileTimes::new()
        .set_accessed(earlier)
        .set_modified(earlier);
    file.set_times(times).await.unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.modified().unwrap(), earlier);
    assert_eq!(meta.accessed().unwrap(), earlier);
    assert_eq!(std::fs::read(&path).unwrap(), FOO);
}

#[zokio::test]
async fn file_metadata_and_permissions() {
    let dir = TempDir::new();
    let path = dir.file("meta", HELLO);
    let file = File::open(&path).await.unwrap();
    let meta = file.metadata().await.unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.len(), HELLO.len() as u64);
    // Permission bits are Unix's.
    #[cfg(unix)]
    {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .await
            .unwrap();
        assert_eq!(mode_of(&path), 0o600);
    }
}

// ----------------------------------------------------------- OpenOptions

#[zokio::test]
async fn open_options_read() {
    let dir = TempDir::new();
    let path = dir.file("hello", HELLO);
    let mut file = OpenOptions::new().read(true).open(&path).await.unwrap();
    let mut buf = [0u8; 1024];
    let n = file.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], HELLO);
    // A file opened for reading only refuses writes (reported by flush).
    file.write_all(FOO).await.unwrap();
    file.flush().await.unwrap_err();
}

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_options_write_append_truncate_create() {
    let dir = TempDir::new();

    // write: from the start, over what is there.
    let path = dir.file("write", HELLO);
    let mut file = OpenOptions::new().write(true).open(&path).await.unwrap();
    file.write_all(b"HELLO").await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"HELLO world...");

    // append: at the end, whatever the cursor says.
    let path = dir.file("append", HELLO);
    let mut file = OpenOptions::new().append(true).open(&path).await.unwrap();
    file.write_all(FOO).await.unwrap();
    file.seek(SeekFrom::Start(0)).await.unwrap();
    file.write_all(b"!").await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), [HELLO, FOO, b"!"].concat());

    // truncate: emptied on open.
    let path = dir.file("truncate", HELLO);
    let file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .await
        .unwrap();
    assert_eq!(file.metadata().await.unwrap().len(), 0);

    // create: only with it is a missing file made.
    let path = dir.join("created");
    let e = OpenOptions::new()
        .write(true)
        .open(&path)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    OpenOptions::new()
        .write(true)
        .create(true)
        .open(&path)
        .await
        .unwrap();
    assert!(path.is_file());
    // ... and an existing one is kept as it is.
    std::fs::write(&path, HELLO).unwrap();
    OpenOptions::new()
        .write(true)
        .create(true)
        .open(&path)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), HELLO);

    // Default is new: no access at all, which cannot open anything.
    OpenOptions::default().open(&path).await.unwrap_err();
}

#[zokio::test]
async fn open_options_create_new_and_file_create_new() {
    let dir = TempDir::new();
    let path = dir.join("new");
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(HELLO).await.unwrap();
    file.flush().await.unwrap();
    let e = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    let e = File::create_new(&path).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&path).unwrap(), HELLO);
}

/// tokio's `File::create_new` opens the new file for reading and writing.
#[zokio::test]
async fn file_create_new_is_readable_and_writable() {
    let dir = TempDir::new();
    let path = dir.join("rw-new");
    let mut file = File::create_new(&path).await.unwrap();
    file.write_all(HELLO).await.unwrap();
    file.seek(SeekFrom::Start(0)).await.unwrap();
    let mut back = Vec::new();
    file.read_to_end(&mut back)
        .await
        .expect("File::create_new must open for reading too");
    assert_eq!(back, HELLO);
}

#[cfg(unix)]
#[zokio::test]
async fn open_options_mode_sets_the_permissions_of_a_new_file() {
    let dir = TempDir::new();
    let mask = umask();
    for mode in [0o600, 0o640, 0o755] {
        let path = dir.join(&format!("mode-{mode:o}"));
        OpenOptions::new()
            .write(true)
            .create(true)
            .mode(mode)
            .open(&path)
            .await
            .unwrap();
        assert_eq!(
            mode_of(&path),
            mode & !mask,
            "mode {mode:o}, umask {mask:o}"
        );
    }
    // An existing file keeps its permissions.
    let path = dir.join("mode-600");
    OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o777)
        .open(&path)
        .await
        .unwrap();
    assert_eq!(mode_of(&path), 0o600 & !mask);
}

#[cfg(unix)]
#[zokio::test]
async fn open_options_custom_flags_reach_open() {
    let dir = TempDir::new();
    // O_TRUNC given as a custom flag truncates.
    let path = dir.file("trunc", HELLO);
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TRUNC)
        .open(&path)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"");

    // O_NOFOLLOW refuses a symbolic link.
    let target = dir.file("target", HELLO);
    let link = dir.join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&link)
        .await
        .unwrap_err();
    assert_eq!(errno(&e), Some(libc::ELOOP), "{e}");
    // Without it, the link is followed.
    let mut file = OpenOptions::new().read(true).open(&link).await.unwrap();
    assert_eq!(read_to_end(&mut file).await, HELLO);
}

/// Options built with `std` and converted keep every choice, including after
/// more choices are added on the converted value.
#[cfg(unix)]
#[zokio::test]
async fn open_options_from_std() {
    let dir = TempDir::new();
    let mask = umask();

    // Converted as they are.
    let mut std_options = std::fs::OpenOptions::new();
    std_options.read(true).write(true).create(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut std_options, 0o600);
    let path = dir.join("converted");
    let mut file = OpenOptions::from(std_options).open(&path).await.unwrap();
    assert_eq!(mode_of(&path), 0o600 & !mask);
    file.write_all(HELLO).await.unwrap();
    file.seek(SeekFrom::Start(0)).await.unwrap();
    assert_eq!(read_to_end(&mut file).await, HELLO);

    // Converted, then added to: reading is added to write + create + mode.
    let mut std_options = std::fs::OpenOptions::new();
    std_options.write(true).create(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut std_options, 0o600);
    let mut options: OpenOptions = std_options.into();
    options.read(true);
    let path = dir.join("added-read");
    let mut file = options
        .open(&path)
        .await
        .expect("write + create from std, read added: creates the file");
    assert_eq!(mode_of(&path), 0o600 & !mask);
    file.write_all(HELLO).await.unwrap();
    file.seek(SeekFrom::Start(0)).await.unwrap();
    assert_eq!(read_to_end(&mut file).await, HELLO);

    // Converted, then added to: writing and creating are added to read.
    let mut std_options = std::fs::OpenOptions::new();
    std_options.read(true);
    let mut options: OpenOptions = std_options.into();
    options.write(true).create(true);
    let path = dir.join("added-write");
    let mut file = options.open(&path).await.unwrap();
    file.write_all(HELLO).await.unwrap();
    file.seek(SeekFrom::Start(0)).await.unwrap();
    let mut back = Vec::new();
    file.read_to_end(&mut back)
        .await
        .expect("read from std, write + create added: the file is readable too");
    assert_eq!(back, HELLO);
}

// ------------------------------------------------------------ directories

#[zokio::test]
async fn create_dir_create_dir_all_and_remove_dir() {
    let dir = TempDir::new();
    let one = dir.join("foo");
    fs::create_dir(&one).await.unwrap();
    assert!(one.is_dir());
    let deep = dir.join("a").join("b");
    fs::create_dir_all(&deep).await.unwrap();
    assert!(deep.is_dir());
    fs::remove_dir(&one).await.unwrap();
    assert!(!one.exists());
}

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_builder_recursive_or_not() {
    let dir = TempDir::new();
    let nested = dir.join("foo").join("bar");
    DirBuilder::new()
        .recursive(true)
        .create(&nested)
        .await
        .unwrap();
    assert!(nested.is_dir());
    // Recursive: an existing directory is fine.
    DirBuilder::new()
        .recursive(true)
        .create(&nested)
        .await
        .unwrap();
    // Not recursive: an existing directory is an error...
    let e = DirBuilder::new()
        .recursive(false)
        .create(&nested)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    // ... and so is a missing parent (the default is not recursive).
    let orphan = dir.join("no").join("parent");
    let e = DirBuilder::new().create(&orphan).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = DirBuilder::default().create(&orphan).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    DirBuilder::default()
        .create(dir.join("plain"))
        .await
        .unwrap();
    assert!(dir.join("plain").is_dir());
}

#[cfg(unix)]
#[zokio::test]
async fn dir_builder_mode() {
    let dir = TempDir::new();
    let read_only = dir.join("abc");
    DirBuilder::new()
        .recursive(true)
        .mode(0o444)
        .create(&read_only)
        .await
        .unwrap();
    assert!(fs::metadata(&read_only)
        .await
        .unwrap()
        .permissions()
        .readonly());

    let mask = umask();
    let private = dir.join("private");
    DirBuilder::new()
        .mode(0o700)
        .create(&private)
        .await
        .unwrap();
    assert_eq!(mode_of(&private), 0o700 & !mask);
    // Recursive with a mode: every directory it makes gets it.
    let deep = dir.join("x").join("y");
    DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(&deep)
        .await
        .unwrap();
    assert_eq!(mode_of(&deep), 0o750 & !mask);
    assert_eq!(mode_of(&dir.join("x")), 0o750 & !mask);
}

#[zokio::test]
async fn read_dir_next_entry_lists_every_name_once() {
    let dir = TempDir::new();
    for name in ["aa", "bb", "cc"] {
        std::fs::create_dir(dir.join(name)).unwrap();
    }
    let mut entries = fs::read_dir(dir.path()).await.unwrap();
    let mut names = Vec::new();
    while let Some(entry) = entries.next_entry().await.unwrap() {
        names.push(entry.file_name().into_string().unwrap());
    }
    names.sort();
    assert_eq!(names, ["aa", "bb", "cc"]);
    assert!(entries.next_entry().await.unwrap().is_none());
}

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_dir_as_a_stream_lists_every_name_once() {
    let dir = TempDir::new();
    for name in ["aa", "bb", "cc"] {
        std::fs::create_dir(dir.join(name)).unwrap();
    }
    let mut entries = fs::read_dir(dir.path()).await.unwrap();
    let mut names = Vec::new();
    while let Some(entry) = entries.next().await {
        names.push(entry.unwrap().file_name().into_string().unwrap());
    }
    names.sort();
    assert_eq!(names, ["aa", "bb", "cc"]);
}

#[zokio::test]
async fn read_dir_entry_details() {
    let dir = TempDir::new();
    let file_path = dir.join("a.txt");
    fs::write(&file_path, b"Hello File!").await.unwrap();
    let mut entries = fs::read_dir(dir.path()).await.unwrap();
    let entry = entries.next_entry().await.unwrap().unwrap();
    assert_eq!(entry.path(), file_path);
    assert_eq!(entry.file_name(), "a.txt");
    let meta = entry.metadata().await.unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.len(), 11);
    assert!(entry.file_type().await.unwrap().is_file());
    #[cfg(unix)]
    {
        assert_eq!(entry.ino(), meta.ino());
        assert_eq!(entry.ino(), std::fs::metadata(&file_path).unwrap().ino());
    }
    assert!(entries.next_entry().await.unwrap().is_none());
}

#[zokio::test]
async fn remove_dir_all_takes_the_tree() {
    let dir = TempDir::new();
    let tree = dir.join("test");
    fs::create_dir(&tree).await.unwrap();
    let inner = tree.join("a.txt");
    fs::write(&inner, b"Hello File!").await.unwrap();
    fs::create_dir_all(tree.join("x/y")).await.unwrap();
    fs::write(tree.join("x/y/z"), b"deep").await.unwrap();
    fs::remove_dir_all(&tree).await.unwrap();
    assert!(!fs::try_exists(&tree).await.unwrap());
    assert!(!fs::try_exists(&inner).await.unwrap());
}

// -------------------------------------------------------- path functions

#[zokio::test]
async fn write_then_read_and_read_to_string() {
    let dir = TempDir::new();
    let path = dir.join("bar");
    fs::write(&path, b"bytes").await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"bytes");
    fs::write(&path, "Hello, World!").await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "Hello, World!");
    // A shorter write replaces everything.
    fs::write(&path, String::from("Hi")).await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "Hi");
}

#[zokio::test]
#[cfg_attr(
    windows,
    ignore = "Wine's CopyFileExW reports 0 bytes copied to std::fs::copy (the copy is whole)"
)]
async fn copy_duplicates_the_contents() {
    let dir = TempDir::new();
    let (from, to) = (dir.join("foo.txt"), dir.join("bar.txt"));
    fs::write(&from, b"Hello File!").await.unwrap();
    assert_eq!(fs::copy(&from, &to).await.unwrap(), 11);
    assert_eq!(fs::read(&from).await.unwrap(), fs::read(&to).await.unwrap());
}

#[zokio::test]
async fn copy_carries_the_permissions() {
    let dir = TempDir::new();
    let (from, to) = (dir.join("foo.txt"), dir.join("bar.txt"));
    let source = File::create(&from).await.unwrap();
    let mut perms = source.metadata().await.unwrap().permissions();
    perms.set_readonly(true);
    source.set_permissions(perms.clone()).await.unwrap();
    fs::copy(&from, &to).await.unwrap();
    assert_eq!(fs::metadata(&to).await.unwrap().permissions(), perms);
}

#[zokio::test]
async fn hard_link_shares_contents_and_is_not_a_symlink() {
    use std::io::Write as _;
    let dir = TempDir::new();
    let (src, dst) = (dir.file("src.txt", b"hello"), dir.join("dst.txt"));
    fs::hard_link(&src, &dst).await.unwrap();
    std::fs::File::create(&src)
        .unwrap()
        .write_all(b"new-data")
        .unwrap();
    assert_eq!(std::fs::read_to_string(&dst).unwrap(), "new-data");
    fs::read_link(&dst).await.unwrap_err();
}

#[cfg(unix)]
#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlink_follows_and_reads_back() {
    use std::io::Write as _;
    let dir = TempDir::new();
    let (src, dst) = (dir.file("src.txt", b"hello"), dir.join("dst.txt"));
    fs::symlink(&src, &dst).await.unwrap();
    std::fs::File::create(&src)
        .unwrap()
        .write_all(b"new-data")
        .unwrap();
    assert_eq!(std::fs::read_to_string(&dst).unwrap(), "new-data");
    assert_eq!(fs::read_link(&dst).await.unwrap(), src);
    assert!(fs::symlink_metadata(&dst)
        .await
        .unwrap()
        .file_type()
        .is_symlink());
}

#[zokio::test]
async fn metadata_agrees_with_std() {
    let dir = TempDir::new();
    let path = dir.file("meta", HELLO);
    let got = fs::metadata(&path).await.unwrap();
    let expected = std::fs::metadata(&path).unwrap();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got.modified().unwrap(), expected.modified().unwrap());
    match (got.created(), expected.created()) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("created(): zokio {a:?}, std {b:?}"),
    }
    #[cfg(unix)]
    {
        assert_eq!(got.size(), expected.size());
        assert_eq!(got.uid(), expected.uid());
        assert_eq!(got.ino(), expected.ino());
        assert_eq!(got.mode(), expected.mode());
    }
}

#[zokio::test]
async fn remove_file_and_rename() {
    let dir = TempDir::new();
    let a = dir.join("a.txt");
    fs::write(&a, b"Hello File!").await.unwrap();
    assert!(fs::try_exists(&a).await.unwrap());
    let b = dir.join("b.txt");
    fs::rename(&a, &b).await.unwrap();
    assert!(fs::try_exists(&b).await.unwrap());
    assert!(!fs::try_exists(&a).await.unwrap());
    assert_eq!(fs::read(&b).await.unwrap(), b"Hello File!");
    fs::remove_file(&b).await.unwrap();
    assert!(!fs::try_exists(&b).await.unwrap());
}

#[zokio::test]
async fn try_exists_yes_no_and_permission_denied() {
    let dir = TempDir::new();
    let existing = dir.file("foo.txt", b"Hello File!");
    assert!(fs::try_exists(&existing).await.unwrap());
    assert!(!fs::try_exists(dir.join("bar.txt")).await.unwrap());
    assert!(fs::try_exists(dir.path()).await.unwrap());
    // A small file and a larger one alike.
    let large = dir.file("large", &pattern(1, 5000));
    assert!(fs::try_exists(&large).await.unwrap());

    // Permission bits are Unix's.
    #[cfg(unix)]
    try_exists_without_permission(&dir).await;
}

/// `try_exists` under a directory without search permission: `PermissionDenied`.
#[cfg(unix)]
async fn try_exists_without_permission(dir: &TempDir) {
    if is_root() {
        eprintln!(
            "SKIPPED: try_exists without search permission (running as root, which \
             bypasses permissions)"
        );
        return;
    }
    let locked = dir.join("baz");
    fs::create_dir(&locked).await.unwrap();
    let inside = locked.join("baz.txt");
    fs::write(&inside, b"Hello File!").await.unwrap();
    fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o244))
        .await
        .unwrap();
    let e = fs::try_exists(&inside).await.unwrap_err();
    fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755))
        .await
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(errno(&e), Some(libc::EACCES), "{e}");
}

/// Two links pointing at each other: whether they exist cannot be told, and the
/// error is the OS's `ELOOP`. One deliberate difference
/// from tokio: Zokio's file-system errors name the path in their message, so the
/// OS error is their `source()` and `raw_os_error()` on the outer error is `None`.
#[cfg(unix)]
#[zokio::test]
async fn try_exists_of_a_symlink_loop_is_eloop() {
    let dir = TempDir::new();
    let (first, second) = (dir.join("bar"), dir.join("foo"));
    fs::symlink(&first, &second).await.unwrap();
    fs::symlink(&second, &first).await.unwrap();
    for path in [&first, &second] {
        let e = fs::try_exists(path).await.unwrap_err();
        assert_eq!(errno(&e), Some(libc::ELOOP), "{e}");
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    }
}

#[cfg(unix)]
#[zokio::test]
async fn try_exists_of_a_path_over_path_max_is_an_invalid_filename() {
    let dir = TempDir::new();
    let long = dir.path().join("a".repeat(libc::PATH_MAX as usize + 1));
    let e = fs::try_exists(&long).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidFilename, "{e}");
}

/// A Unix path: on Windows `/.` is the root of the current drive.
#[cfg(unix)]
#[zokio::test]
async fn canonicalize_of_the_root() {
    assert_eq!(fs::canonicalize("/.").await.unwrap(), Path::new("/"));
}

// ---------------------------------------------- futures dropped mid-flight

/// Futures of `open`, `read`, `read_to_string`, `try_exists` and `metadata`,
/// polled once and dropped, inside tasks that are then aborted: no descriptor is
/// left open, and the runtime goes on working.
#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_dropped_after_their_first_poll_leak_nothing() {
    let dir = TempDir::new();
    let path = dir.file("target", &[20u8; 1023]);
    // The counter sees a descriptor open on the file (so a leak would show).
    let held = std::fs::File::open(&path).unwrap();
    assert_eq!(fds_naming(&path), 1);
    drop(held);
    for what in ["open", "read", "read_to_string", "try_exists", "metadata"] {
        for _ in 0..64 {
            let (tx, mut rx) = unbounded_channel();
            let p = path.clone();
            let task = zokio::spawn(async move {
                let mut first = true;
                std::future::poll_fn(move |cx| {
                    if std::mem::take(&mut first) {
                        let mut options = OpenOptions::new();
                        options.read(true);
                        let op: Pin<Box<dyn Future<Output = ()> + Send + '_>> = match what {
                            "open" => Box::pin(options.open(&p).map(drop)),
                            "read" => Box::pin(fs::read(&p).map(drop)),
                            "read_to_string" => Box::pin(fs::read_to_string(&p).map(drop)),
                            "try_exists" => Box::pin(fs::try_exists(&p).map(drop)),
                            _ => Box::pin(fs::metadata(&p).map(drop)),
                        };
                        let mut op = op;
                        let _ = op.as_mut().poll(cx);
                        drop(op);
                        let _ = tx.send(());
                    }
                    Poll::<()>::Pending
                })
                .await
            });
            rx.recv().await.unwrap();
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled(), "{what}");
        }
    }
    assert_no_fd_left_on(&path).await;
    assert_eq!(fs::read(&path).await.unwrap(), [20u8; 1023]);
    let mut file = File::open(&path).await.unwrap();
    assert_eq!(read_to_end(&mut file).await, [20u8; 1023]);
}

enum Event {
    Polled,
    Finished,
}

/// Polls `inner` at most `polls` times, each time only when woken; after that it
/// stays pending for ever without polling `inner` again, so that a result that
/// arrived in the meantime is never taken, and the task can be aborted with the
/// operation completed but not consumed.
struct Abandon<F> {
    inner: Pin<Box<F>>,
    polls: usize,
    events: UnboundedSender<Event>,
}

impl<F: Future> Future for Abandon<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.polls > 0 {
            this.polls -= 1;
            if this.inner.as_mut().poll(cx).is_ready() {
                this.polls = 0;
                let _ = this.events.send(Event::Finished);
                return Poll::Pending;
            }
        }
        let _ = this.events.send(Event::Polled);
        Poll::Pending
    }
}

/// Run `op` in a task polled `polls` times, wait for the wake-up that follows the
/// last poll (its operation finished), then abort the task without polling again.
async fn abandon_after<F>(op: F, polls: usize)
where
    F: Future + Send + 'static,
{
    let (tx, mut rx) = unbounded_channel();
    let task = zokio::spawn(Abandon {
        inner: Box::pin(op),
        polls,
        events: tx,
    });
    // One event per poll: the first poll, then one per wake-up.
    for _ in 0..=polls {
        match zokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
            Ok(Some(Event::Polled)) => {}
            Ok(Some(Event::Finished)) | Ok(None) | Err(_) => break,
        }
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
}

#[test]
fn open_completed_then_dropped_before_being_polled_again_leaks_nothing() {
    let dir = TempDir::new();
    let path = dir.file("target", HELLO);
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..128 {
            let p = path.clone();
            let open = async move {
                let mut options = OpenOptions::new();
                options.read(true);
                options.open(&p).await
            };
            abandon_after(open, 1).await;
        }
        assert_no_fd_left_on(&path).await;
    });
}

#[test]
fn whole_file_read_dropped_between_its_steps_leaks_nothing() {
    let dir = TempDir::new();
    let path = dir.file("target", &pattern(3, 20_000));
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for polls in 1..=3 {
            for _ in 0..32 {
                abandon_after(fs::read(path.clone()), polls).await;
                abandon_after(fs::try_exists(path.clone()), polls).await;
            }
        }
        assert_no_fd_left_on(&path).await;
        assert_eq!(fs::read(&path).await.unwrap(), pattern(3, 20_000));
    });
}

#[zokio::test]
async fn aborted_file_read_task_then_the_runtime_still_reads() {
    let dir = TempDir::new();
    let data = pattern(4, 10_000);
    let path = dir.file("target", &data);
    let p = path.clone();
    let task = zokio::spawn(async move {
        let mut file = File::open(&p).await.unwrap();
        read_to_end(&mut file).await
    });
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let mut file = File::open(&path).await.unwrap();
    assert_eq!(read_to_end(&mut file).await, data);
    drop(file);
    assert_no_fd_left_on(&path).await;
}

// ------------------------------------------------------- runtime shutdown

/// Runtimes shut down while whole-file reads, `File` reads and existence checks
/// are in flight: the shutdown finishes, every read that finished read the right
/// bytes, and no descriptor is left open on the file.
#[test]
fn shutdown_with_file_operations_in_flight() {
    let dir = TempDir::new();
    let path = dir.file("target", &[20u8; 1023]);
    let wrong = Arc::new(AtomicUsize::new(0));
    for (name, rt) in runtimes() {
        let done = Arc::new(AtomicUsize::new(0));
        {
            let (path, done, wrong) = (path.clone(), done.clone(), wrong.clone());
            rt.spawn(async move {
                loop {
                    let (path, done, wrong) = (path.clone(), done.clone(), wrong.clone());
                    zokio::spawn(async move {
                        if let Ok(bytes) = fs::read(&path).await {
                            if bytes != [20u8; 1023] {
                                wrong.fetch_add(1, Ordering::Relaxed);
                            }
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                    zokio::task::yield_now().await;
                }
            });
        }
        {
            let path = path.clone();
            rt.spawn(async move {
                // Existence checks polled once and held, never finished.
                let mut held = Vec::new();
                for _ in 0..100 {
                    let mut check = Box::pin(fs::try_exists(path.clone()));
                    let _ = futures::poll!(check.as_mut());
                    held.push(check);
                }
                std::future::pending::<()>().await;
            });
        }
        for _ in 0..50 {
            let (path, wrong) = (path.clone(), wrong.clone());
            rt.spawn(async move {
                if let Ok(mut file) = File::open(&path).await {
                    let mut bytes = Vec::new();
                    if file.read_to_end(&mut bytes).await.is_ok() && bytes != [20u8; 1023] {
                        wrong.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        // Let the operations get going before shutting down (only reads that make
        // no progress at all take the whole guard).
        let progress = done.clone();
        rt.block_on(async move {
            let started = Instant::now();
            while progress.load(Ordering::Relaxed) < 200 && started.elapsed() < HANG_GUARD {
                zokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        assert!(
            done.load(Ordering::Relaxed) >= 200,
            "{name}: reads made no progress"
        );
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            rt.shutdown_timeout(Duration::from_millis(300));
            let _ = tx.send(());
        });
        rx.recv_timeout(HANG_GUARD)
            .unwrap_or_else(|_| panic!("{name}: shutdown did not finish"));
    }
    assert_eq!(
        wrong.load(Ordering::Relaxed),
        0,
        "reads returned wrong bytes"
    );
    assert_no_fd_left_on_blocking(&path);
}

/// Opens dropped after one poll, then `shutdown_background`: no descriptor is
/// left open on the file.
#[test]
fn shutdown_background_after_cancelled_opens_leaks_nothing() {
    let dir = TempDir::new();
    let path = dir.file("target", HELLO);
    let rt = Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        for _ in 0..128 {
            let (tx, mut rx) = unbounded_channel();
            let p = path.clone();
            let task = zokio::spawn(async move {
                let mut options = OpenOptions::new();
                options.read(true);
                let mut open = Box::pin(options.open(&p));
                std::future::poll_fn(|cx| {
                    let _ = open.as_mut().poll(cx);
                    let _ = tx.send(());
                    Poll::<()>::Pending
                })
                .await
            });
            rx.recv().await.unwrap();
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
        }
    });
    rt.shutdown_background();
    assert_no_fd_left_on_blocking(&path);
}

// ------------------------------------------------------ many concurrent reads

#[test]
fn many_concurrent_whole_file_reads_and_existence_checks() {
    const FILES: usize = 128;
    let dir = TempDir::new();
    let paths: Arc<Vec<PathBuf>> = Arc::new(
        (0..FILES)
            .map(|i| dir.file(&format!("f{i}"), &[i as u8; 1023]))
            .collect(),
    );
    for (name, rt) in runtimes() {
        let paths = paths.clone();
        rt.block_on(async move {
            let mut tasks = Vec::new();
            for i in 0..2000 {
                let paths = paths.clone();
                tasks.push(zokio::spawn(async move {
                    let path = &paths[i % FILES];
                    assert_eq!(fs::read(path).await.unwrap(), [(i % FILES) as u8; 1023]);
                    assert!(fs::try_exists(path).await.unwrap());
                }));
            }
            for task in tasks {
                task.await
                    .unwrap_or_else(|e| panic!("{name}: a read task failed: {e}"));
            }
        });
    }
}

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_files_opened_and_read_concurrently() {
    let dir = TempDir::new();
    let mut tasks = Vec::new();
    for i in 0..100u32 {
        let data = pattern(i, 1024);
        let path = dir.file(&format!("f{i}"), &data);
        tasks.push(zokio::spawn(async move {
            let mut file = File::open(&path).await.unwrap();
            assert_eq!(read_to_end(&mut file).await, data);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[test]
fn file_reads_on_every_runtime_flavor() {
    let dir = TempDir::new();
    let data = pattern(8, 10_000);
    let path = dir.file("target", &data);
    for (name, rt) in runtimes() {
        let got = rt.block_on(async {
            let mut file = File::open(&path).await.unwrap();
            read_to_end(&mut file).await
        });
        assert_eq!(got, data, "{name}");
    }
}
