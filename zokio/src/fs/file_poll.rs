//! The poll-based I/O of `File`: tokio's `AsyncRead`/`AsyncWrite`/`AsyncSeek`
//! (feature `tokio-io`) and futures' (feature `futures-io`), with
//! `tokio::fs::File`'s semantics.
//!
//! One blocking-pool call is in flight at a time, through a buffer the file owns:
//! a read fills it and hands out what was asked (the rest waits for the next read);
//! a write copies the caller's bytes into it and returns at once while the call
//! writes them in the background, so a write's error is reported by the next
//! operation or by `flush`. Seeking or writing after a read accounts for bytes
//! read ahead and not handed out. Must never block a worker thread, and never drop
//! a write.

// Without either trait feature the traits are not built, and their plumbing is idle.
#![cfg_attr(
    not(any(feature = "tokio-io", feature = "futures-io")),
    allow(dead_code, unused_imports)
)]

use std::future::Future;
use std::io::{self, IoSlice, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll};

use super::File;
use crate::task::JoinHandle;

/// The most one background call reads or writes, unless `File::set_max_buf_size`
/// says otherwise (tokio's default).
pub(crate) const DEFAULT_MAX_BUF: usize = 2 * 1024 * 1024;

pub(crate) struct Inner {
    state: State,
    /// A background write's error, for the next operation to report.
    last_write_err: Option<io::Error>,
    /// The position the last seek reached.
    pos: u64,
    /// A seek was started and `poll_complete` has not taken its result yet.
    seeking: bool,
    /// The most one background call reads or writes.
    pub(crate) max_buf: usize,
}

enum State {
    Idle(Option<Buf>),
    Busy(JoinHandle<(Operation, Buf)>),
}

enum Operation {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
}

/// Bytes read ahead and not yet handed out are `data[pos..]`; for a write, `data`
/// is what to write.
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    pos: usize,
}

/// Where read bytes go: tokio's `ReadBuf`, or a plain slice and how much of it is
/// filled (futures-io).
enum Dst<'a, 'b> {
    #[cfg(feature = "tokio-io")]
    Tokio(&'a mut tokio::io::ReadBuf<'b>),
    #[cfg_attr(not(feature = "futures-io"), allow(dead_code))]
    Slice(&'a mut [u8], usize, PhantomData<&'b ()>),
}

impl Dst<'_, '_> {
    fn remaining(&self) -> usize {
        match self {
            #[cfg(feature = "tokio-io")]
            Dst::Tokio(buf) => buf.remaining(),
            Dst::Slice(slice, filled, _) => slice.len() - *filled,
        }
    }

    fn put(&mut self, bytes: &[u8]) {
        match self {
            #[cfg(feature = "tokio-io")]
            Dst::Tokio(buf) => buf.put_slice(bytes),
            Dst::Slice(slice, filled, _) => {
                slice[*filled..*filled + bytes.len()].copy_from_slice(bytes);
                *filled += bytes.len();
            }
        }
    }
}

impl Buf {
    fn unread(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Forget unread bytes; returns how many there were.
    fn discard_unread(&mut self) -> usize {
        let n = self.unread();
        self.data.clear();
        self.pos = 0;
        n
    }

    /// Read up to `want` bytes (at least 1) from the cursor.
    fn read_from(&mut self, file: &std::fs::File, want: usize) -> io::Result<usize> {
        self.data.clear();
        self.pos = 0;
        self.data.resize(want.max(1), 0);
        let result = loop {
            match (&*file).read(&mut self.data) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => break result,
            }
        };
        self.data.truncate(*result.as_ref().unwrap_or(&0));
        result
    }

    fn copy_to(&mut self, dst: &mut Dst<'_, '_>) {
        let n = self.unread().min(dst.remaining());
        dst.put(&self.data[self.pos..self.pos + n]);
        self.pos += n;
    }
}

/// Run a background read or seek; an error when the pool refuses it (shutting
/// down), so that the caller can undo what it did to the buffer first.
fn spawn<F>(f: F) -> io::Result<JoinHandle<(Operation, Buf)>>
where
    F: FnOnce() -> (Operation, Buf) + Send + 'static,
{
    crate::runtime::context::with_current(|h| h.inner.blocking().try_spawn(f, None))
        .map_err(|e| io::Error::other(format!("file I/O needs a Zokio runtime: {e}")))?
        .ok_or_else(|| refused("the file operation was not started"))
}

/// A write returns to its caller before it runs, so it must run even if the
/// runtime shuts down first; a pool that refuses it (already shutting down) is an
/// error, so that the write is never reported as accepted.
fn spawn_write<F>(f: F) -> io::Result<JoinHandle<(Operation, Buf)>>
where
    F: FnOnce() -> (Operation, Buf) + Send + 'static,
{
    crate::runtime::context::with_current(|h| h.inner.blocking().spawn_mandatory(f))
        .map_err(|e| io::Error::other(format!("file I/O needs a Zokio runtime: {e}")))?
        .ok_or_else(|| refused("the file write was not accepted and nothing was written"))
}

fn refused(what: &str) -> io::Error {
    io::Error::other(format!("the runtime is shutting down: {what}"))
}

/// Move the cursor back over `back` bytes read ahead and not handed out (an
/// lseek: no I/O); nothing to do for none.
fn seek_back(file: &std::fs::File, back: i64) -> io::Result<()> {
    if back > 0 {
        let mut cursor = file;
        cursor.seek(SeekFrom::Current(-back))?;
    }
    Ok(())
}

/// The bytes read ahead were dropped for an operation that will not run: move the
/// cursor back over them here, as that operation would have.
fn rewind(file: &std::fs::File, back: i64, err: io::Error) -> io::Error {
    if let Err(e) = seek_back(file, back) {
        log::warn!("moving a file's cursor back over {back} unread bytes failed: {e}");
    }
    err
}

impl Inner {
    pub(crate) fn new() -> Inner {
        Inner {
            state: State::Idle(None),
            last_write_err: None,
            pos: 0,
            seeking: false,
            max_buf: DEFAULT_MAX_BUF,
        }
    }

    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle(_))
    }

    /// Wait for the background call and take its result into the state. A call
    /// that did not finish (cancelled at shutdown, or it panicked) leaves the file
    /// idle with nothing buffered, so the next call starts afresh.
    fn poll_busy(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Operation>> {
        let State::Busy(handle) = &mut self.state else {
            return Poll::Ready(Err(io::Error::other("no file operation is pending")));
        };
        let (op, buf) = match ready!(Pin::new(handle).poll(cx)) {
            Ok(done) => done,
            Err(e) => {
                self.state = State::Idle(None);
                self.seeking = false;
                let e = io::Error::other(format!("a file operation did not finish: {e}"));
                return Poll::Ready(Err(e));
            }
        };
        self.state = State::Idle(Some(buf));
        if let Operation::Seek(result) = &op {
            // Whoever takes a seek's result ends it, `poll_complete` or not.
            self.seeking = false;
            if let Ok(pos) = result {
                self.pos = *pos;
            }
        }
        Poll::Ready(Ok(op))
    }

    fn poll_read(
        &mut self,
        file: &Arc<std::fs::File>,
        cx: &mut Context<'_>,
        dst: &mut Dst<'_, '_>,
    ) -> Poll<io::Result<()>> {
        loop {
            match &mut self.state {
                State::Idle(slot) => {
                    let mut buf = slot.take().unwrap_or_default();
                    if buf.unread() > 0 || dst.remaining() == 0 {
                        buf.copy_to(dst);
                        self.state = State::Idle(Some(buf));
                        return Poll::Ready(Ok(()));
                    }
                    let (file, want) = (file.clone(), dst.remaining().min(self.max_buf));
                    self.state = State::Busy(spawn(move || {
                        let result = buf.read_from(&file, want);
                        (Operation::Read(result), buf)
                    })?);
                }
                State::Busy(_) => match ready!(self.poll_busy(cx))? {
                    Operation::Read(Ok(_)) => {
                        if let State::Idle(Some(buf)) = &mut self.state {
                            buf.copy_to(dst);
                        }
                        return Poll::Ready(Ok(()));
                    }
                    Operation::Read(Err(e)) => return Poll::Ready(Err(e)),
                    Operation::Write(Err(e)) => self.last_write_err = Some(e),
                    _ => {}
                },
            }
        }
    }

    /// Forget bytes read ahead and not handed out, moving the cursor back over them
    /// (an lseek: no I/O). Only while idle; returns how many there were.
    pub(crate) fn rewind_read_ahead(&mut self, file: &std::fs::File) -> io::Result<usize> {
        let State::Idle(Some(buf)) = &mut self.state else {
            return Ok(0);
        };
        let back = buf.discard_unread();
        seek_back(file, back as i64)?;
        Ok(back)
    }

    /// Keep an error for the next read or write to report, as a background write's.
    pub(crate) fn keep_error(&mut self, e: io::Error) {
        self.last_write_err = Some(e);
    }

    /// Accept up to `max_buf` bytes from `srcs`, in order, for one background write.
    fn poll_write(
        &mut self,
        file: &Arc<std::fs::File>,
        cx: &mut Context<'_>,
        srcs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            match &mut self.state {
                State::Idle(slot) => {
                    if let Some(e) = self.last_write_err.take() {
                        return Poll::Ready(Err(e));
                    }
                    let total = srcs.iter().map(|s| s.len()).sum::<usize>();
                    if total == 0 {
                        // Nothing to write: nothing to start, and the read-ahead stays.
                        return Poll::Ready(Ok(0));
                    }
                    let mut buf = slot.take().unwrap_or_default();
                    // Bytes read ahead were taken from the cursor: move it back first.
                    let back = buf.discard_unread() as i64;
                    let n = total.min(self.max_buf);
                    let mut left = n;
                    for src in srcs {
                        let take = src.len().min(left);
                        buf.data.extend_from_slice(&src[..take]);
                        left -= take;
                        if left == 0 {
                            break;
                        }
                    }
                    let shared = file.clone();
                    let write = spawn_write(move || {
                        let result =
                            seek_back(&shared, back).and_then(|()| (&*shared).write_all(&buf.data));
                        buf.data.clear();
                        (Operation::Write(result), buf)
                    });
                    return match write {
                        Ok(handle) => {
                            self.state = State::Busy(handle);
                            Poll::Ready(Ok(n))
                        }
                        Err(e) => Poll::Ready(Err(rewind(file, back, e))),
                    };
                }
                State::Busy(_) => {
                    if let Operation::Write(Err(e)) = ready!(self.poll_busy(cx))? {
                        return Poll::Ready(Err(e));
                    }
                }
            }
        }
    }

    /// Wait for the background call to finish; a write's error is reported.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match &mut self.state {
                State::Idle(_) => {
                    return Poll::Ready(match self.last_write_err.take() {
                        Some(e) => Err(e),
                        None => Ok(()),
                    })
                }
                State::Busy(_) => {
                    if let Operation::Write(Err(e)) = ready!(self.poll_busy(cx))? {
                        return Poll::Ready(Err(e));
                    }
                }
            }
        }
    }

    fn start_seek(&mut self, file: &Arc<std::fs::File>, mut to: SeekFrom) -> io::Result<()> {
        let State::Idle(slot) = &mut self.state else {
            return Err(io::Error::other(
                "another file operation is pending; call `poll_complete` first",
            ));
        };
        let mut buf = slot.take().unwrap_or_default();
        // Bytes read ahead were taken from the cursor but not handed out: the seek
        // counts from before them. When folding them into the offset would
        // overflow, step back over them with a seek of their own first.
        let unread = buf.discard_unread() as i64;
        let mut back_first = 0;
        if let SeekFrom::Current(offset) = &mut to {
            match offset.checked_sub(unread) {
                Some(folded) => *offset = folded,
                None => back_first = unread,
            }
        }
        let shared = file.clone();
        let seek = spawn(move || {
            let result = seek_back(&shared, back_first).and_then(|()| (&*shared).seek(to));
            (Operation::Seek(result), buf)
        });
        self.state = State::Busy(seek.map_err(|e| rewind(file, unread, e))?);
        self.seeking = true;
        Ok(())
    }

    fn poll_complete(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        loop {
            match &mut self.state {
                State::Idle(_) => return Poll::Ready(Ok(self.pos)),
                State::Busy(_) => match ready!(self.poll_busy(cx))? {
                    Operation::Seek(result) => return Poll::Ready(result),
                    Operation::Write(Err(e)) => self.last_write_err = Some(e),
                    _ => {}
                },
            }
        }
    }
}

impl File {
    /// The poll-side state; a panic while it was held leaves nothing half-done
    /// that matters, so a poisoned lock is taken as it is.
    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(feature = "tokio-io")]
impl tokio::io::AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &*self;
        this.lock().poll_read(&this.std, cx, &mut Dst::Tokio(buf))
    }
}

#[cfg(feature = "tokio-io")]
impl tokio::io::AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &*self;
        this.lock().poll_write(&this.std, cx, &[IoSlice::new(src)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        srcs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &*self;
        this.lock().poll_write(&this.std, cx, srcs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.lock().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.lock().poll_flush(cx)
    }
}

#[cfg(feature = "tokio-io")]
impl tokio::io::AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        let this = &*self;
        this.lock().start_seek(&this.std, position)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        self.lock().poll_complete(cx)
    }
}

#[cfg(feature = "futures-io")]
impl futures_io::AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &*self;
        let mut dst = Dst::Slice(buf, 0, PhantomData);
        let result = this.lock().poll_read(&this.std, cx, &mut dst);
        let filled = match dst {
            Dst::Slice(_, filled, _) => filled,
            #[cfg(feature = "tokio-io")]
            Dst::Tokio(_) => unreachable!("built as a slice above"),
        };
        result.map_ok(|()| filled)
    }
}

#[cfg(feature = "futures-io")]
impl futures_io::AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &*self;
        this.lock().poll_write(&this.std, cx, &[IoSlice::new(src)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        srcs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &*self;
        this.lock().poll_write(&this.std, cx, srcs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.lock().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.lock().poll_flush(cx)
    }
}

#[cfg(feature = "futures-io")]
impl futures_io::AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = &*self;
        let mut inner = this.lock();
        if !inner.seeking {
            // Earlier writes finish (and report their errors) before the seek starts.
            ready!(inner.poll_flush(cx))?;
            inner.start_seek(&this.std, pos)?;
        }
        inner.poll_complete(cx)
    }
}
