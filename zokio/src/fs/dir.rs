//! `read_dir`, `ReadDir` and `DirEntry`, with `tokio::fs`'s names and signatures.
//!
//! The std `ReadDir` is read on the blocking pool in batches of [`CHUNK`] entries
//! (one blocking call per batch, as tokio does), and the entries are handed out one
//! at a time from the batch; each entry's file type is read in the same blocking
//! call, so `DirEntry::file_type` rarely needs another one. Errors name the
//! operation and the path. Must never read the directory, or stat an entry, on a
//! worker thread.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::Future;
use std::io;
#[cfg(unix)]
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use super::blocking::{asyncify, path_error, Quoted};
use crate::task::JoinHandle;

/// Entries read from the directory per blocking call.
const CHUNK: usize = 32;

/// Open a directory for reading its entries, like `std::fs::read_dir`.
///
/// The first batch of entries is read in the same blocking call as the open. The
/// entries come in the order the file system gives them, without `.` and `..`.
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path: Arc<Path> = Arc::from(path.as_ref());
    let dir = path.clone();
    let batch = asyncify(move || {
        let std = std::fs::read_dir(&dir).map_err(|e| path_error(e, "read directory", &dir))?;
        Ok(Batch::first(std, dir))
    })
    .await?;
    Ok(ReadDir {
        state: State::Idle(Some(batch)),
    })
}

/// The entries of a directory, from [`read_dir`]: call
/// [`next_entry`](ReadDir::next_entry), or use it as a `Stream` of `DirEntry`.
#[derive(Debug)]
#[must_use = "a ReadDir does nothing unless its entries are read"]
pub struct ReadDir {
    state: State,
}

#[derive(Debug)]
enum State {
    /// The batch at hand; `None` once a blocking call was lost (the runtime shut
    /// down under it), after which the directory reads as ended.
    Idle(Option<Batch>),
    /// A blocking call reading the next batch.
    Pending(JoinHandle<Batch>),
}

/// What one blocking call hands back: the entries it read, the std `ReadDir` to
/// go on from, and whether there may be more.
#[derive(Debug)]
struct Batch {
    entries: VecDeque<io::Result<DirEntry>>,
    /// Boxed: on Windows a `ReadDir` holds a whole find record (over 600 bytes),
    /// which would make every `ReadDir` of ours as large.
    std: Box<std::fs::ReadDir>,
    dir: Arc<Path>,
    more: bool,
}

impl Batch {
    fn first(std: std::fs::ReadDir, dir: Arc<Path>) -> Batch {
        let mut batch = Batch {
            entries: VecDeque::with_capacity(CHUNK),
            std: Box::new(std),
            dir,
            more: true,
        };
        batch.fill();
        batch
    }

    /// Read up to `CHUNK` entries. Blocking: only on the blocking pool.
    fn fill(&mut self) {
        for _ in 0..CHUNK {
            match self.std.next() {
                Some(Ok(entry)) => self.entries.push_back(Ok(DirEntry::from_std(entry))),
                // std ends the stream after an error, so this cannot loop for ever.
                Some(Err(e)) => {
                    self.entries
                        .push_back(Err(path_error(e, "read directory", &self.dir)))
                }
                None => {
                    self.more = false;
                    return;
                }
            }
        }
    }
}

impl ReadDir {
    /// The next entry, `Ok(None)` at the end of the directory.
    ///
    /// Cancel safe: an entry read before the future is dropped is kept for the
    /// next call.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        std::future::poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Poll for the next entry: `Ready(Ok(None))` at the end of the directory.
    ///
    /// When it returns `Pending`, the waker of the latest `cx` is woken once the
    /// next batch has been read. Outside a Zokio runtime, reading past the current
    /// batch is an error, not a panic.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(None) => return Poll::Ready(Ok(None)),
                State::Idle(Some(batch)) => {
                    if let Some(entry) = batch.entries.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    if !batch.more {
                        return Poll::Ready(Ok(None));
                    }
                    // Find the runtime before giving the batch away, so that an
                    // error outside one leaves the directory where it was.
                    let spawner =
                        match crate::runtime::context::with_current(|h| h.inner.blocking().clone())
                        {
                            Ok(spawner) => spawner,
                            Err(e) => {
                                return Poll::Ready(Err(io::Error::other(format!(
                                    "reading directory {} needs a Zokio runtime: {e}",
                                    Quoted(&batch.dir.display().to_string())
                                ))))
                            }
                        };
                    let Some(mut batch) = self.take_idle() else {
                        continue;
                    };
                    self.state = State::Pending(spawner.spawn(move || {
                        batch.fill();
                        batch
                    }));
                }
                State::Pending(handle) => {
                    let result = ready!(Pin::new(handle).poll(cx));
                    match result {
                        Ok(batch) => self.state = State::Idle(Some(batch)),
                        Err(join) => {
                            self.state = State::Idle(None);
                            return Poll::Ready(Err(io::Error::other(format!(
                                "reading a directory did not finish: {join}"
                            ))));
                        }
                    }
                }
            }
        }
    }

    fn take_idle(&mut self) -> Option<Batch> {
        match &mut self.state {
            State::Idle(batch) => batch.take(),
            State::Pending(_) => None,
        }
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(ready!(self.get_mut().poll_next_entry(cx)).transpose())
    }
}

/// One entry of a directory, from [`ReadDir`].
#[derive(Debug, Clone)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// Read on the blocking pool with the entry (from `d_type`, or an `lstat`
    /// where the file system does not fill it in).
    file_type: Option<FileType>,
}

impl DirEntry {
    fn from_std(std: std::fs::DirEntry) -> DirEntry {
        let file_type = std.file_type().ok();
        DirEntry {
            std: Arc::new(std),
            file_type,
        }
    }

    /// The full path: the path given to [`read_dir`] joined with the file name.
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The name of the entry, without its directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The inode number from the directory entry (Unix, as in `std` and tokio).
    #[cfg(unix)]
    pub fn ino(&self) -> u64 {
        self.std.ino()
    }

    /// The entry's metadata, not following a symbolic link (like
    /// `std::fs::DirEntry::metadata`).
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || {
            std.metadata()
                .map_err(|e| path_error(e, "metadata of", &std.path()))
        })
        .await
    }

    /// The entry's file type, not following a symbolic link. Usually known
    /// already from reading the directory; otherwise read on the blocking pool.
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = self.std.clone();
        asyncify(move || {
            std.file_type()
                .map_err(|e| path_error(e, "file type of", &std.path()))
        })
        .await
    }
}
