//! The parent's ends of a child's piped standard streams: [`ChildStdin`] (written),
//! [`ChildStdout`] and [`ChildStderr`] (read).
//!
//! Each end is a pipe put in non-blocking mode and registered for readiness
//! (`AsyncFd`), and every call is the plain `read(2)`/`write(2)`, made once the pipe
//! is ready; so both drivers serve them the same way. Owned-buffer methods
//! (`read_owned`, `write_owned`, `write_all_owned`) sit beside tokio's poll-based
//! `AsyncRead`/`AsyncWrite` (feature `tokio-io`) and futures' (feature
//! `futures-io`); those public methods and impls are written once for both
//! platforms in `pipe_api.rs` and forward to the `Pipe` here, which has the methods
//! that file names. A borrowed buffer is only ever used during one system call.
//!
//! Writing to a pipe whose reader is gone fails with `BrokenPipe`; it raises
//! `SIGPIPE` only in a program that set `SIGPIPE` back to its default action (Rust
//! programs start with it ignored), as with tokio and `std`.

// Without either trait feature the poll-based plumbing is idle.
#![cfg_attr(
    not(any(feature = "tokio-io", feature = "futures-io")),
    allow(dead_code, unused_imports)
)]

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::process::Stdio;
use std::task::{ready, Context, Poll};

use super::pipe_api::child_pipes;
use crate::driver::op::cvt;
use crate::io::unix::AsyncFd;
use crate::io::{BufResult, Interest, IoBuf, IoBufMut};

/// One end of a pipe to a child, non-blocking and registered for readiness.
struct Pipe {
    fd: AsyncFd<OwnedFd>,
}

/// Switch `O_NONBLOCK` on or off.
fn set_nonblocking(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: `F_GETFL` only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let wanted = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: `F_SETFL` only changes the descriptor's status flags.
    if wanted != flags && unsafe { libc::fcntl(fd, libc::F_SETFL, wanted) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Pipe {
    fn new(fd: OwnedFd, interest: Interest) -> io::Result<Pipe> {
        set_nonblocking(fd.as_raw_fd(), true)?;
        // SAFETY: the `OwnedFd` owns its descriptor, which stays open and the same
        // until the `AsyncFd` is dropped or taken apart.
        let fd = unsafe { AsyncFd::register_with_interest(fd, interest) }
            .map_err(|e| e.into_parts().1)?;
        Ok(Pipe { fd })
    }

    fn raw(&self) -> RawFd {
        self.fd.get_ref().as_raw_fd()
    }

    /// Give the descriptor back in blocking mode, as the programs it may be handed
    /// to expect.
    fn into_blocking(self) -> io::Result<OwnedFd> {
        let fd = self.fd.into_inner();
        set_nonblocking(fd.as_raw_fd(), false)?;
        Ok(fd)
    }

    /// One `read(2)` into `len` bytes at `dst`.
    ///
    /// # Safety
    /// `dst` must be valid for writing `len` bytes for the length of the call.
    unsafe fn read_raw(fd: RawFd, dst: *mut u8, len: usize) -> io::Result<usize> {
        loop {
            // SAFETY: the caller's contract.
            match cvt(unsafe { libc::read(fd, dst.cast(), len) }) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
        }
    }

    /// One `write(2)` of `len` bytes at `src`.
    ///
    /// # Safety
    /// `src` must be valid for reading `len` bytes for the length of the call.
    unsafe fn write_raw(fd: RawFd, src: *const u8, len: usize) -> io::Result<usize> {
        loop {
            // SAFETY: the caller's contract.
            match cvt(unsafe { libc::write(fd, src.cast(), len) }) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
        }
    }

    async fn read_owned<B: IoBufMut>(&self, mut buf: B) -> BufResult<usize, B> {
        let fd = self.raw();
        let result = self
            .fd
            .async_io(Interest::READABLE, |_| {
                let (dst, len) = (buf.stable_mut_ptr(), buf.bytes_total());
                // SAFETY: `dst` points at `len` writable bytes of `buf`, borrowed
                // for the call.
                unsafe { Self::read_raw(fd, dst, len) }
            })
            .await;
        if let Ok(n) = result {
            // SAFETY: the kernel initialised the first `n` bytes, within capacity.
            unsafe { buf.set_init(n) };
        }
        (result, buf)
    }

    async fn write_owned<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        let fd = self.raw();
        let result = self
            .fd
            .async_io(Interest::WRITABLE, |_| {
                // SAFETY: the buffer's `bytes_init` initialised bytes, borrowed for
                // the call.
                unsafe { Self::write_raw(fd, buf.stable_ptr(), buf.bytes_init()) }
            })
            .await;
        (result, buf)
    }

    /// Read what is left until end of file, appending to `out`.
    async fn read_to_end(&self, out: &mut Vec<u8>) -> io::Result<()> {
        let fd = self.raw();
        loop {
            out.reserve(8192);
            let n = self
                .fd
                .async_io(Interest::READABLE, |_| {
                    let spare = out.spare_capacity_mut();
                    // SAFETY: the vector's spare room, `spare.len()` bytes, borrowed
                    // for the call; `read` only writes initialised bytes into it.
                    unsafe { Self::read_raw(fd, spare.as_mut_ptr().cast(), spare.len()) }
                })
                .await?;
            if n == 0 {
                return Ok(());
            }
            // SAFETY: the read initialised `n` bytes of the spare room.
            unsafe { out.set_len(out.len() + n) };
        }
    }

    /// Wait until readable, then run one `read` with `dst` (`len` bytes).
    ///
    /// # Safety
    /// `dst` must be valid for writing `len` bytes for the length of the call.
    unsafe fn poll_read_raw(
        &self,
        cx: &mut Context<'_>,
        dst: *mut u8,
        len: usize,
    ) -> Poll<io::Result<usize>> {
        let fd = self.raw();
        loop {
            let mut guard = ready!(self.fd.poll_read_ready(cx))?;
            // SAFETY: the caller's contract.
            match guard.try_io(|_| unsafe { Self::read_raw(fd, dst, len) }) {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_write(&self, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        let fd = self.raw();
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            // SAFETY: `src` is a live slice for the length of the call.
            match guard.try_io(|_| unsafe { Self::write_raw(fd, src.as_ptr(), src.len()) }) {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let fd = self.raw();
        let count = bufs.len().min(crate::io::IOV_MAX) as libc::c_int;
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            let attempt = guard.try_io(|_| {
                // SAFETY: `IoSlice` is ABI-compatible with `iovec`, and the first
                // `count` slices are alive for the length of the call.
                cvt(unsafe { libc::writev(fd, bufs.as_ptr().cast::<libc::iovec>(), count) })
            });
            match attempt {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    /// `writev(2)` takes the slices in one call.
    #[cfg(feature = "tokio-io")]
    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Writes go straight to the pipe: nothing to flush.
    fn poll_flush(&self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// As tokio's: does not close the pipe (dropping the end does).
    fn poll_shutdown(&self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// What `Debug` shows of the end: its descriptor.
    fn debug_raw(&self) -> (&'static str, RawFd) {
        ("fd", self.raw())
    }

    #[cfg(feature = "tokio-io")]
    fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: the unfilled part is only written by `read(2)`, which writes
        // initialised bytes, and only the bytes it reports are marked initialised.
        let unfilled = unsafe { buf.unfilled_mut() };
        let (dst, len) = (unfilled.as_mut_ptr().cast::<u8>(), unfilled.len());
        // SAFETY: `dst` is the `len` unfilled bytes of `buf`, borrowed for the call.
        let n = ready!(unsafe { self.poll_read_raw(cx, dst, len) })?;
        // SAFETY: the read initialised the first `n` unfilled bytes.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    #[cfg(feature = "futures-io")]
    fn poll_read_slice(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // SAFETY: `buf` is a live slice, borrowed for the call.
        unsafe { self.poll_read_raw(cx, buf.as_mut_ptr(), buf.len()) }
    }
}

child_pipes!(stdin: Pipe, stdout: Pipe, stderr: Pipe);

/// The conversions and descriptor access of each end, Unix's own.
macro_rules! pipe_end {
    ($name:ident, $std:ty, $interest:expr) => {
        impl $name {
            /// Take over a pipe end of a child spawned with `std::process`: put it in
            /// non-blocking mode and register it with the current runtime.
            ///
            /// # Errors
            /// Outside a Zokio runtime, or when the descriptor cannot be registered.
            pub fn from_std(inner: $std) -> io::Result<Self> {
                Ok($name {
                    pipe: Pipe::new(OwnedFd::from(inner), $interest)?,
                })
            }

            /// Turn this back into an owned descriptor, in blocking mode again.
            ///
            /// # Errors
            /// When the descriptor's flags cannot be changed.
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                self.pipe.into_blocking()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.pipe.raw()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.pipe.fd.get_ref().as_fd()
            }
        }

        impl TryFrom<$name> for Stdio {
            type Error = io::Error;

            /// Hand the pipe to another child as one of its standard streams (in
            /// blocking mode, as programs expect).
            fn try_from(end: $name) -> io::Result<Stdio> {
                end.into_owned_fd().map(Stdio::from)
            }
        }
    };
}

pipe_end!(ChildStdin, std::process::ChildStdin, Interest::WRITABLE);
pipe_end!(ChildStdout, std::process::ChildStdout, Interest::READABLE);
pipe_end!(ChildStderr, std::process::ChildStderr, Interest::READABLE);
