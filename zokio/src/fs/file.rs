//! `File`: an open file, as in `tokio::fs::File`, plus positioned I/O with owned
//! buffers (`read_at`, `write_at`, `read_exact_at`, `write_all_at`) that are ring
//! operations on io_uring, overlapped calls on IOCP (`overlapped.rs`) and
//! blocking-pool calls elsewhere (`positioned.rs`).
//! `sync_all`/`sync_data` are ring `fsync`s and `set_len` a ring `ftruncate` where
//! the ring has them; the rest (metadata, clone) runs on the blocking pool. The poll-based
//! `AsyncRead`/`AsyncWrite`/`AsyncSeek` live in `file_poll.rs`. Must never block a
//! worker thread, and never lose a write: a `File` dropped with a write in flight
//! lets it finish before the descriptor closes.

use std::fmt;
use std::fs::{FileTimes, Metadata, Permissions};
use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use super::blocking::asyncify;
use super::file_poll::Inner;
#[cfg(target_os = "linux")]
use super::native::{native, on_file};
use super::{positioned, OpenOptions};
#[cfg(target_os = "linux")]
use crate::driver::context;
#[cfg(target_os = "linux")]
use crate::driver::op::{fsync::Fsync, ftruncate::Ftruncate, read::Read, write::Write};
use crate::io::{until_done, BufResult, IoBuf, IoBufMut};

/// An open file.
pub struct File {
    pub(crate) std: Arc<std::fs::File>,
    pub(crate) inner: Mutex<Inner>,
    /// Windows: the overlapped handles positioned I/O runs through on IOCP (boxed:
    /// a `File` handed back by `try_into_std` stays small).
    #[cfg(windows)]
    overlapped: Box<super::overlapped::Overlapped>,
}

impl File {
    /// Open a file for reading.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Create a file for writing, or truncate it if it exists.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Create a new file; `AlreadyExists` if it exists.
    /// Opened for reading and writing, as tokio's is.
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// Options to open a file with.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wrap a `std` file.
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            inner: Mutex::new(Inner::new()),
            #[cfg(windows)]
            overlapped: Box::new(super::overlapped::Overlapped::unknown()),
        }
    }

    /// A file `OpenOptions` opened, whose access it knows.
    #[cfg(windows)]
    pub(crate) fn opened_with(std: std::fs::File, read: bool, write: bool) -> File {
        File {
            overlapped: Box::new(super::overlapped::Overlapped::opened_with(read, write)),
            ..File::from_std(std)
        }
    }

    /// Hand the file back to `std`, after any write still in flight finished.
    pub async fn into_std(self) -> std::fs::File {
        let _ = self.wait_idle().await;
        let mut std = self.std.clone();
        drop(self);
        loop {
            match Arc::try_unwrap(std) {
                Ok(file) => return file,
                // A positioned operation dropped early still holds a share until the
                // kernel is done with it: hand out a duplicate of the same open file,
                // or, out of descriptors, wait for that share to go (it goes when
                // the operation completes, which it always does).
                Err(shared) => match shared.try_clone() {
                    Ok(file) => return file,
                    Err(_) => {
                        std = shared;
                        crate::time::sleep(std::time::Duration::from_millis(1)).await;
                    }
                },
            }
        }
    }

    /// Hand the file back to `std` now; gives the file back if an operation is
    /// still in flight.
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        let idle = self
            .inner
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .is_idle();
        if !idle {
            return Err(self);
        }
        // Given back whole (read-ahead bytes, a pending error, the buffer cap) when
        // a positioned operation dropped early still holds a share of the file.
        let File {
            std,
            inner,
            #[cfg(windows)]
            overlapped,
        } = self;
        Arc::try_unwrap(std).map_err(|std| File {
            std,
            inner,
            #[cfg(windows)]
            overlapped,
        })
    }

    /// Wait until no poll-based write is in flight, reporting its error.
    async fn wait_idle(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.lock().poll_flush(cx)).await
    }

    /// Let a poll-based write still in flight land first, so that the call after
    /// this sees it and is not overtaken by it; its error, if any, stays for the
    /// next poll-based read, write or flush to report, as in tokio.
    async fn settle(&self) {
        if let Err(e) = self.wait_idle().await {
            self.lock().keep_error(e);
        }
    }

    /// Change the most one poll-based read or write hands to the blocking pool at a
    /// time (2 MiB by default, as in tokio). A write larger than this is accepted
    /// in parts.
    ///
    /// # Panics
    /// If `max_buf_size` is 0, as tokio's does: no read or write could progress.
    #[track_caller]
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        assert!(max_buf_size > 0, "`max_buf_size` must be greater than 0");
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        inner.max_buf = max_buf_size;
    }

    /// The most one poll-based read or write hands to the blocking pool at a time.
    pub fn max_buf_size(&self) -> usize {
        self.lock().max_buf
    }

    /// Write data and metadata to the disk (`fsync`): what was written is there.
    pub async fn sync_all(&self) -> io::Result<()> {
        self.sync(false).await
    }

    /// Write data (and the metadata needed to read it) to the disk (`fdatasync`).
    pub async fn sync_data(&self) -> io::Result<()> {
        self.sync(true).await
    }

    /// `fsync`/`fdatasync` on the ring where it has it, else on the blocking pool,
    /// after the background write (if any) finished.
    async fn sync(&self, data_only: bool) -> io::Result<()> {
        self.wait_idle().await?;
        let std = self.std.clone();
        #[cfg(target_os = "linux")]
        if native(io_uring::opcode::Fsync::CODE) {
            let fd = std.as_raw_fd();
            return on_file(Fsync { fd, data_only }, std).await;
        }
        asyncify(move || {
            if data_only {
                std.sync_data()
            } else {
                std.sync_all()
            }
        })
        .await
    }

    /// Truncate or extend the file to `size` bytes.
    /// A ring `ftruncate` where the kernel has it (Linux 6.9), else the blocking pool.
    /// Bytes read ahead by the poll-based reads and not yet handed out are
    /// forgotten first, and the cursor moved back over them, as tokio does.
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        self.settle().await;
        self.lock().rewind_read_ahead(&self.std)?;
        let std = self.std.clone();
        #[cfg(target_os = "linux")]
        if native(io_uring::opcode::Ftruncate::CODE) {
            let fd = std.as_raw_fd();
            return on_file(Ftruncate { fd, len: size }, std).await;
        }
        asyncify(move || std.set_len(size)).await
    }

    /// The file's metadata.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// A second handle to the same open file (sharing its cursor), with the same
    /// `max_buf_size`. A poll-based write still in flight finishes first; its
    /// error, if any, is left for this handle's next read or write.
    pub async fn try_clone(&self) -> io::Result<File> {
        self.settle().await;
        let std = self.std.clone();
        let clone = asyncify(move || std.try_clone()).await?;
        let mut clone = File::from_std(clone);
        #[cfg(windows)]
        {
            clone.overlapped = Box::new(self.overlapped.for_clone());
        }
        clone.set_max_buf_size(self.max_buf_size());
        Ok(clone)
    }

    /// Set the file's access and/or modification times. A poll-based write still in
    /// flight finishes first, so it cannot change them afterwards.
    pub async fn set_times(&self, times: FileTimes) -> io::Result<()> {
        self.settle().await;
        let std = self.std.clone();
        asyncify(move || std.set_times(times)).await
    }

    /// Set the file's modification time.
    pub async fn set_modified(&self, time: SystemTime) -> io::Result<()> {
        self.set_times(FileTimes::new().set_modified(time)).await
    }

    /// Change the file's permissions.
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let std = self.std.clone();
        asyncify(move || std.set_permissions(perm)).await
    }

    /// Read into `buf` (at most its capacity) from `offset`; 0 at the end of the
    /// file. A ring operation on io_uring, a blocking-pool call elsewhere. The
    /// file's cursor does not move.
    ///
    /// A poll-based write still in flight lands first, so the read sees it.
    ///
    /// # Examples
    ///
    /// Positioned I/O needs no `&mut` and no seek, so tasks can share one file; the
    /// buffer is owned by the operation and comes back with its result:
    ///
    /// ```
    /// # let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// use zokio::fs::File;
    ///
    /// let path = std::env::temp_dir().join(format!("zokio-doc-file-at-{}", std::process::id()));
    /// let file = File::create(&path).await.unwrap();
    /// file.write_all_at(b"world".to_vec(), 6).await.0.unwrap();
    /// file.write_all_at(b"hello ".to_vec(), 0).await.0.unwrap();
    ///
    /// let file = File::open(&path).await.unwrap();
    /// let (n, buf) = file.read_at(Vec::with_capacity(64), 0).await;
    /// assert_eq!(n.unwrap(), 11);
    /// assert_eq!(buf, b"hello world");
    /// # zokio::fs::remove_file(&path).await.unwrap();
    /// # });
    /// ```
    pub async fn read_at<B: IoBufMut>(&self, buf: B, offset: u64) -> BufResult<usize, B> {
        if let Err(e) = check_offset("read_at", offset) {
            return (Err(e), buf);
        }
        self.settle().await;
        #[cfg(target_os = "linux")]
        if context::on_ring() {
            let read = Read::from_file(self.std.as_raw_fd(), buf, offset);
            return on_file(read, self.std.clone()).await;
        }
        if buf.bytes_total() == 0 {
            return (Err(positioned::no_room("read_at", &self.std)), buf);
        }
        #[cfg(windows)]
        let buf = match self.overlapped.read_at(&self.std, buf, offset).await {
            Ok(done) => return done,
            Err(buf) => buf,
        };
        let std = self.std.clone();
        asyncify_buf(buf, move |buf| {
            let room = buf.bytes_total();
            // SAFETY: `stable_mut_ptr` is valid for writes of `bytes_total` bytes
            // while this call holds the buffer.
            let n = unsafe { positioned::read_at(&std, buf.stable_mut_ptr(), room, offset)? };
            // SAFETY: the system wrote the first `n` bytes.
            unsafe { buf.set_init(n) };
            Ok(n)
        })
        .await
    }

    /// Write `buf`'s bytes at `offset`; returns how many were written. The file's
    /// cursor does not move.
    ///
    /// A poll-based write still in flight lands first, so this one is not
    /// overwritten by it.
    pub async fn write_at<B: IoBuf>(&self, buf: B, offset: u64) -> BufResult<usize, B> {
        if let Err(e) = check_offset("write_at", offset) {
            return (Err(e), buf);
        }
        self.settle().await;
        #[cfg(target_os = "linux")]
        if context::on_ring() {
            let write = Write::new(self.std.as_raw_fd(), buf, offset);
            return on_file(write, self.std.clone()).await;
        }
        if buf.bytes_init() == 0 {
            return (
                Err(positioned::nothing_to_write("write_at", &self.std)),
                buf,
            );
        }
        #[cfg(windows)]
        let buf = match self.overlapped.write_at(&self.std, buf, offset).await {
            Ok(done) => return done,
            Err(buf) => buf,
        };
        let std = self.std.clone();
        asyncify_buf(buf, move |buf| {
            // SAFETY: the buffer holds `bytes_init` initialised bytes.
            let src = unsafe { std::slice::from_raw_parts(buf.stable_ptr(), buf.bytes_init()) };
            positioned::write_at(&std, src, offset)
        })
        .await
    }

    /// Fill `buf` to its capacity from `offset`; `UnexpectedEof` if the file ends
    /// first. Reads longer than one system call allows are looped, never truncated.
    pub async fn read_exact_at<B: IoBufMut>(&self, buf: B, offset: u64) -> BufResult<(), B> {
        let total = buf.bytes_total();
        let message = |done, total| format!("the file ended after {done} of {total} bytes");
        until_done(
            buf,
            total,
            io::ErrorKind::UnexpectedEof,
            message,
            |tail, done| self.read_at(tail, offset.saturating_add(done as u64)),
        )
        .await
    }

    /// Write all of `buf`'s bytes at `offset`, looping over short writes.
    pub async fn write_all_at<B: IoBuf>(&self, buf: B, offset: u64) -> BufResult<(), B> {
        let total = buf.bytes_init();
        let message = |done, total| format!("the file took no more bytes after {done} of {total}");
        until_done(
            buf,
            total,
            io::ErrorKind::WriteZero,
            message,
            |tail, done| self.write_at(tail, offset.saturating_add(done as u64)),
        )
        .await
    }
}

/// Offsets past `i64::MAX` fit no file (`off_t` is signed), and on io_uring
/// `u64::MAX` would mean "at the cursor": refuse them before either can happen.
fn check_offset(op: &str, offset: u64) -> io::Result<()> {
    if offset > i64::MAX as u64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{op}: offset {offset} is past the largest file offset ({}); positioned I/O \
                 needs an offset a file can have",
                i64::MAX
            ),
        ));
    }
    Ok(())
}

/// Run a call that borrows an owned buffer on the blocking pool. The buffer waits
/// in a slot the caller keeps too, so that it comes back even if the call never
/// runs (no runtime, or a runtime shutting down).
async fn asyncify_buf<B: Send + 'static>(
    buf: B,
    f: impl FnOnce(&mut B) -> io::Result<usize> + Send + 'static,
) -> BufResult<usize, B> {
    let slot = Arc::new(Mutex::new(Some(buf)));
    let shared = slot.clone();
    let call = move || {
        let mut guard = shared.lock().unwrap_or_else(PoisonError::into_inner);
        let buf = guard
            .as_mut()
            .expect("the buffer stays in the slot until the call is over");
        f(buf)
    };
    let spawned = crate::runtime::context::with_current(|h| h.inner.blocking().spawn(call));
    let result = match spawned {
        Ok(handle) => match handle.await {
            Ok(result) => result,
            Err(join) => Err(io::Error::other(format!(
                "the blocking file operation did not finish: {join}"
            ))),
        },
        Err(e) => Err(io::Error::other(format!(
            "a file operation needs a Zokio runtime: {e}"
        ))),
    };
    let buf = slot
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .expect("the call never takes the buffer out of the slot");
    (result, buf)
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As tokio shows its `File`: the std file (descriptor, path, access), and
        // nothing of the buffer state.
        f.debug_struct("zokio::fs::File")
            .field("std", &*self.std)
            .finish_non_exhaustive()
    }
}

#[cfg(unix)]
impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.std.as_raw_fd()
    }
}

#[cfg(unix)]
impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std.as_fd()
    }
}

#[cfg(unix)]
impl From<std::os::fd::OwnedFd> for File {
    fn from(fd: std::os::fd::OwnedFd) -> File {
        File::from_std(std::fs::File::from(fd))
    }
}

#[cfg(unix)]
impl std::os::fd::FromRawFd for File {
    /// # Safety
    /// `fd` must be an open file descriptor that nothing else owns or closes.
    unsafe fn from_raw_fd(fd: RawFd) -> File {
        // SAFETY: the caller's contract is `std::fs::File::from_raw_fd`'s.
        File::from_std(unsafe { std::fs::File::from_raw_fd(fd) })
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawHandle for File {
    fn as_raw_handle(&self) -> std::os::windows::io::RawHandle {
        self.std.as_raw_handle()
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsHandle for File {
    fn as_handle(&self) -> std::os::windows::io::BorrowedHandle<'_> {
        self.std.as_handle()
    }
}

#[cfg(windows)]
impl From<std::os::windows::io::OwnedHandle> for File {
    fn from(handle: std::os::windows::io::OwnedHandle) -> File {
        File::from_std(std::fs::File::from(handle))
    }
}

#[cfg(windows)]
impl std::os::windows::io::FromRawHandle for File {
    /// # Safety
    /// `handle` must be an open file handle that nothing else owns or closes.
    unsafe fn from_raw_handle(handle: std::os::windows::io::RawHandle) -> File {
        // SAFETY: the caller's contract is `std::fs::File::from_raw_handle`'s.
        File::from_std(unsafe { std::fs::File::from_raw_handle(handle) })
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}
