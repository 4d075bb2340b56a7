//! The parent's ends of a child's piped standard streams on Windows: [`ChildStdin`]
//! (written), [`ChildStdout`] and [`ChildStderr`] (read).
//!
//! Each call runs on the runtime's blocking pool, through `std`'s own pipe ends (as
//! `fs` runs file calls where the driver has no native operation), so no worker ever
//! blocks. An end keeps one call in flight at a time:
//! - a read fills a read-ahead buffer of the end's own with what the pipe holds (up
//!   to 64 KiB, whatever the caller asked for: a pipe read returns what is there, so
//!   asking for more never waits longer), which the following reads drain before
//!   another call;
//! - a write copies the caller's bytes and reports them written at once; the call
//!   writes them all, and its error, if any, is reported by the next write or flush
//!   (as tokio's `fs::File` does). The owned-buffer `write_owned` waits for its own
//!   call instead.
//!
//! The blocking call itself cannot be cancelled by dropping a future. Dropping an end
//! while a call is in flight cancels that call's I/O (`CancelIoEx`) so that the
//! pool's thread comes back and a runtime shutting down does not wait for a child
//! that never writes; a call that had not reached the system yet when the end was
//! dropped is skipped. Left: a call that reaches the system in the instant between
//! that check and the cancel stays blocked until the child writes, reads, or exits.
//!
//! Owned-buffer methods (`read_owned`, `write_owned`, `write_all_owned`) sit beside
//! tokio's poll-based `AsyncRead`/`AsyncWrite` (feature `tokio-io`) and futures'
//! (feature `futures-io`), as on Unix: those public methods and impls are written once
//! for both platforms in `pipe_api.rs` and forward to the `Pipe` here. Writing to a pipe whose reader is gone fails
//! with `BrokenPipe`. Must never block a worker thread.

// Without either trait feature the poll-based plumbing is only used by the owned
// methods.
#![cfg_attr(
    not(any(feature = "tokio-io", feature = "futures-io")),
    allow(dead_code, unused_imports)
)]

use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::os::windows::io::{AsHandle, AsRawHandle, BorrowedHandle, OwnedHandle, RawHandle};
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll, Waker};

use windows_sys::Win32::System::IO::CancelIoEx;

use super::pipe_api::child_pipes;
use crate::io::{BufResult, IoBuf, IoBufMut};

/// The most one blocking call reads or writes.
const CHUNK: usize = 64 * 1024;

/// One end of a pipe to a child, served by the blocking pool.
struct Pipe<P> {
    /// The end's handle, for `AsRawHandle` and for cancelling a call in flight; open
    /// for as long as `shared` holds the end.
    raw: RawHandle,
    shared: Arc<Mutex<Shared<P>>>,
}

// SAFETY: the raw handle is only a value passed to the system, usable from any thread;
// the rest is `Send`/`Sync` when the `std` end is `Send`.
unsafe impl<P: Send> Send for Pipe<P> {}
// SAFETY: as above; all shared state is behind the mutex.
unsafe impl<P: Send> Sync for Pipe<P> {}

struct Shared<P> {
    /// The `std` end and its buffer while no call is in flight; `None` while one is.
    idle: Option<Idle<P>>,
    /// What a call that finished left to report: a write's error, or the shutdown of
    /// the runtime before a call could run.
    error: Option<io::Error>,
    /// Tasks waiting for the call in flight to end.
    waiters: Vec<Waker>,
    /// The `Pipe` was dropped: a call that has not started yet must not start.
    dropped: bool,
}

struct Idle<P> {
    end: P,
    /// Read ahead and not handed out yet: `buf[pos..]`. For a write, the bytes to
    /// write.
    buf: Vec<u8>,
    pos: usize,
    /// A read found the end of the pipe; every later read does too.
    eof: bool,
}

fn lock<P>(shared: &Mutex<Shared<P>>) -> MutexGuard<'_, Shared<P>> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A call on the blocking pool, holding the end while it runs. However it ends (run,
/// or dropped unrun when its runtime shuts down), it gives the end back and wakes the
/// waiters.
struct Call<P> {
    shared: Arc<Mutex<Shared<P>>>,
    idle: Option<Idle<P>>,
    error: Option<io::Error>,
}

impl<P> Call<P> {
    fn run(mut self, f: impl FnOnce(&mut Idle<P>) -> io::Result<()>) {
        if lock(&self.shared).dropped {
            return;
        }
        if let Some(idle) = self.idle.as_mut() {
            if let Err(err) = f(idle) {
                self.error = Some(err);
            }
        }
    }
}

impl<P> Drop for Call<P> {
    fn drop(&mut self) {
        let waiters = {
            let mut shared = lock(&self.shared);
            shared.idle = self.idle.take();
            if self.error.is_some() {
                shared.error = self.error.take();
            }
            std::mem::take(&mut shared.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

impl<P: Send + 'static> Pipe<P> {
    fn new(end: P, raw: RawHandle) -> Pipe<P> {
        Pipe {
            raw,
            shared: Arc::new(Mutex::new(Shared {
                idle: Some(Idle {
                    end,
                    buf: Vec::new(),
                    pos: 0,
                    eof: false,
                }),
                error: None,
                waiters: Vec::new(),
                dropped: false,
            })),
        }
    }

    /// Take the end out of `guard`'s state, put this task in line to be woken when
    /// the call is over, unlock, and start `f` on the blocking pool. Outside a
    /// runtime the call cannot start: the end goes back, and an error.
    ///
    /// The pool is handed the call with the lock released: a pool that is shutting
    /// down drops the call at once, on this thread, and the call's drop locks.
    fn start(
        &self,
        mut guard: MutexGuard<'_, Shared<P>>,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Idle<P>) -> io::Result<()> + Send + 'static,
    ) -> io::Result<()> {
        let idle = guard.idle.take();
        let _: Poll<()> = Self::park(&mut guard, cx);
        drop(guard);
        let mut call = Some(Call {
            shared: self.shared.clone(),
            idle,
            error: Some(io::Error::other(
                "the runtime shut down before the pipe's call to the child could run",
            )),
        });
        let spawned = crate::runtime::context::with_current(|handle| {
            let mut call = call.take().expect("taken once");
            handle.inner.blocking().spawn(move || {
                // It runs: any error is now the call's own.
                call.error = None;
                call.run(f)
            })
        });
        match spawned {
            // A pool that drops the call unrun gives the end back by itself.
            Ok(_join) => Ok(()),
            Err(err) => {
                // Never handed to the pool: its drop gives the end back, no error.
                if let Some(mut call) = call {
                    call.error = None;
                }
                Err(io::Error::other(format!(
                    "a child's pipe needs a Zokio runtime to run its calls, but it was {err}"
                )))
            }
        }
    }

    /// Wait in line while a call is in flight.
    fn park<T>(shared: &mut Shared<P>, cx: &mut Context<'_>) -> Poll<T> {
        if !shared.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            shared.waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Lock the state once no call is in flight (till then, wait in line). A
    /// finished call's error, if any, comes first and is handed out once.
    fn poll_idle(&self, cx: &mut Context<'_>) -> Poll<io::Result<MutexGuard<'_, Shared<P>>>> {
        let mut guard = lock(&self.shared);
        if let Some(err) = guard.error.take() {
            return Poll::Ready(Err(err));
        }
        if guard.idle.is_none() {
            return Self::park(&mut guard, cx);
        }
        Poll::Ready(Ok(guard))
    }
}

impl<P: Read + Send + 'static> Pipe<P> {
    /// Read into `dst`: what was read ahead, else one call on the pool.
    fn poll_read(
        &self,
        cx: &mut Context<'_>,
        dst: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let mut guard = ready!(self.poll_idle(cx))?;
        let idle = guard.idle.as_mut().expect("`poll_idle` saw the end idle");
        if idle.pos < idle.buf.len() {
            let ahead = &idle.buf[idle.pos..];
            let n = ahead.len().min(dst.len());
            for (to, from) in dst.iter_mut().zip(&ahead[..n]) {
                to.write(*from);
            }
            idle.pos += n;
            return Poll::Ready(Ok(n));
        }
        if idle.eof || dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let started = self.start(guard, cx, |idle| {
            idle.buf.clear();
            idle.buf.resize(CHUNK, 0);
            idle.pos = 0;
            let n = loop {
                match idle.end.read(&mut idle.buf) {
                    Ok(n) => break n,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    // Windows' way of saying the writer closed its end.
                    Err(err) if err.kind() == io::ErrorKind::BrokenPipe => break 0,
                    Err(err) => {
                        idle.buf.clear();
                        return Err(err);
                    }
                }
            };
            idle.buf.truncate(n);
            idle.eof = n == 0;
            Ok(())
        });
        match started {
            Ok(()) => Poll::Pending,
            Err(err) => Poll::Ready(Err(err)),
        }
    }

    async fn read_owned<B: IoBufMut>(&self, mut buf: B) -> BufResult<usize, B> {
        let (dst, len) = (buf.stable_mut_ptr(), buf.bytes_total());
        // SAFETY: `dst` is valid for writes of `len` bytes while `buf` lives (it does
        // past this call), and nothing else touches them meanwhile; viewed as
        // possibly uninitialised, which any memory is.
        let room = unsafe { std::slice::from_raw_parts_mut(dst.cast::<MaybeUninit<u8>>(), len) };
        let result = std::future::poll_fn(|cx| self.poll_read(cx, room)).await;
        if let Ok(n) = result {
            // SAFETY: `poll_read` initialised the first `n` bytes, within capacity.
            unsafe { buf.set_init(n) };
        }
        (result, buf)
    }

    /// Read what is left until end of file, appending to `out`.
    async fn read_to_end(&self, out: &mut Vec<u8>) -> io::Result<()> {
        loop {
            out.reserve(8192);
            let spare = out.spare_capacity_mut();
            let n = std::future::poll_fn(|cx| self.poll_read(cx, spare)).await?;
            if n == 0 {
                return Ok(());
            }
            // SAFETY: the read initialised `n` bytes of the spare room.
            unsafe { out.set_len(out.len() + n) };
        }
    }

    #[cfg(feature = "tokio-io")]
    fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: `poll_read` only writes initialised bytes into the unfilled part,
        // and only the bytes it reports are marked initialised.
        let unfilled = unsafe { buf.unfilled_mut() };
        let n = ready!(self.poll_read(cx, unfilled))?;
        // SAFETY: the read initialised the first `n` unfilled bytes.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    #[cfg(feature = "futures-io")]
    fn poll_read_slice(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // SAFETY: initialised bytes viewed as possibly uninitialised ones; `poll_read`
        // only writes initialised bytes into them.
        let room = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        self.poll_read(cx, room)
    }
}

impl<P: Write + Send + 'static> Pipe<P> {
    /// Take up to 64 KiB of `src` and start writing them; how many were taken. A
    /// previous call's error comes first.
    fn poll_write(&self, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        let mut guard = ready!(self.poll_idle(cx))?;
        let idle = guard.idle.as_mut().expect("`poll_idle` saw the end idle");
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = src.len().min(CHUNK);
        idle.buf.clear();
        idle.buf.extend_from_slice(&src[..n]);
        let started = self.start(guard, cx, |idle| {
            let result = idle.end.write_all(&idle.buf);
            idle.buf.clear();
            result
        });
        Poll::Ready(started.map(|()| n))
    }

    /// Wait for the write in flight; its error, if it failed.
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Idle is all a flush waits for; the guard unlocks on return.
        let _idle = ready!(self.poll_idle(cx))?;
        Poll::Ready(Ok(()))
    }

    /// Write some of `buf` and wait for that write to end; how many bytes it wrote.
    async fn write_owned<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        // SAFETY: `stable_ptr` points at `bytes_init` initialised bytes, alive while
        // `buf` is (past this call).
        let src = unsafe { std::slice::from_raw_parts(buf.stable_ptr(), buf.bytes_init()) };
        let result = async {
            // An error of an earlier write is that write's; wait for it to be over.
            std::future::poll_fn(|cx| self.poll_flush(cx)).await?;
            let n = std::future::poll_fn(|cx| self.poll_write(cx, src)).await?;
            std::future::poll_fn(|cx| self.poll_flush(cx)).await?;
            Ok(n)
        }
        .await;
        (result, buf)
    }

    /// No vectored call: the first non-empty slice is written, as the traits' own
    /// default does.
    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        self.poll_write(cx, first)
    }

    #[cfg(feature = "tokio-io")]
    fn is_write_vectored(&self) -> bool {
        false
    }

    /// As tokio's: flushes, and does not close the pipe (dropping the end does).
    fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<P> Pipe<P> {
    /// What `Debug` shows of the end: its handle.
    fn debug_raw(&self) -> (&'static str, RawHandle) {
        ("handle", self.raw)
    }

    /// The `std` end back, when no call is in flight and nothing read ahead would be
    /// lost.
    fn into_std(self) -> io::Result<P> {
        let mut shared = lock(&self.shared);
        match shared.idle.take() {
            Some(idle) if idle.pos < idle.buf.len() => {
                shared.idle = Some(idle);
                Err(io::Error::other(
                    "cannot give back the child's pipe: bytes were read ahead from it and \
                     not read yet; read them first",
                ))
            }
            Some(idle) => Ok(idle.end),
            None => Err(io::Error::other(
                "cannot give back the child's pipe while a call on it is in flight; wait \
                 for the read or write (or flush) to finish first",
            )),
        }
    }
}

impl<P> Drop for Pipe<P> {
    fn drop(&mut self) {
        let mut shared = lock(&self.shared);
        shared.dropped = true;
        if shared.idle.is_none() {
            // SAFETY: the handle is open: the call in flight holds the end. A null
            // OVERLAPPED cancels every I/O of this process on it.
            unsafe { CancelIoEx(self.raw, std::ptr::null()) };
        }
    }
}

child_pipes!(
    stdin: Pipe<std::process::ChildStdin>,
    stdout: Pipe<std::process::ChildStdout>,
    stderr: Pipe<std::process::ChildStderr>,
);

/// The conversions and handle access of each end, Windows' own.
macro_rules! pipe_end {
    ($name:ident, $std:ty) => {
        impl $name {
            /// Take over a pipe end of a child spawned with `std::process`. Its calls
            /// run on the blocking pool of the runtime current when each is made.
            ///
            /// # Errors
            /// None on Windows; the `Result` is that of Unix, where the end is
            /// registered with the runtime.
            pub fn from_std(inner: $std) -> io::Result<Self> {
                let raw = inner.as_raw_handle();
                Ok($name {
                    pipe: Pipe::new(inner, raw),
                })
            }

            /// Turn this back into an owned handle.
            ///
            /// # Errors
            /// While a call is in flight, or when bytes read ahead were not read yet.
            pub fn into_owned_handle(self) -> io::Result<OwnedHandle> {
                self.pipe.into_std().map(OwnedHandle::from)
            }
        }

        impl AsRawHandle for $name {
            fn as_raw_handle(&self) -> RawHandle {
                self.pipe.raw
            }
        }

        impl AsHandle for $name {
            fn as_handle(&self) -> BorrowedHandle<'_> {
                // SAFETY: the handle is open for as long as `self` lives (the end is
                // in `shared`, or held by the call in flight, which `self` outlives or
                // which keeps it open itself).
                unsafe { BorrowedHandle::borrow_raw(self.pipe.raw) }
            }
        }

        impl TryFrom<$name> for Stdio {
            type Error = io::Error;

            /// Hand the pipe to another child as one of its standard streams.
            fn try_from(end: $name) -> io::Result<Stdio> {
                end.pipe.into_std().map(Stdio::from)
            }
        }
    };
}

pipe_end!(ChildStdin, std::process::ChildStdin);
pipe_end!(ChildStdout, std::process::ChildStdout);
pipe_end!(ChildStderr, std::process::ChildStderr);
