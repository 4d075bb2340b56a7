//! Borrowed-buffer I/O that never waits: the system calls behind `try_read`,
//! `try_write`, `try_recv_from`, `peek` and the poll-based methods.
//!
//! Two layers. The `sys_*` calls are one non-blocking system call each (`recv`,
//! `send`, with `MSG_NOSIGNAL` so a closed peer is an error, never `SIGPIPE`). The
//! `*_now` calls are what a caller of the public API gets: bytes the poll-based
//! reader already read ahead come first (`read_ahead.rs`), and a `WouldBlock` marks
//! the socket not ready (`readiness.rs`). Must never keep a borrowed buffer past
//! the call.

use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;

use socket2::SockAddr;

use super::io_socket::IoSocket;
use super::read_ahead::copy_out;
use super::readiness::would_block;
use crate::io::Interest;

#[cfg(unix)]
const DONTWAIT: libc::c_int = libc::MSG_DONTWAIT;
#[cfg(unix)]
const SEND_FLAGS: libc::c_int = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
#[cfg(unix)]
const PEEK: libc::c_int = libc::MSG_PEEK;
// Windows' sockets are non-blocking by their mode alone, and raise no signal.
#[cfg(windows)]
const DONTWAIT: i32 = 0;
#[cfg(windows)]
const SEND_FLAGS: i32 = 0;
#[cfg(windows)]
const PEEK: i32 = windows_sys::Win32::Networking::WinSock::MSG_PEEK;

/// Whether a receive only looks at the data (`MSG_PEEK`) or takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Take {
    Consume,
    Peek,
}

impl Take {
    fn flags(self) -> i32 {
        match self {
            Take::Consume => DONTWAIT,
            Take::Peek => DONTWAIT | PEEK,
        }
    }
}

/// View initialised bytes as possibly uninitialised ones, for the calls that fill
/// memory.
pub(crate) fn as_uninit(buf: &mut [u8]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: `MaybeUninit<u8>` has the layout of `u8`. Every writer of the view
    // (the kernel, `copy_out`) only ever writes initialised bytes, so `buf` never
    // holds an uninitialised one afterwards.
    unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) }
}

/// Fill the unfilled part of a `ReadBuf` with `fill`, which returns how many bytes it
/// wrote at the start of the memory it was given, plus a result.
pub(crate) fn fill_read_buf<R>(
    buf: &mut tokio::io::ReadBuf<'_>,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> io::Result<(usize, R)>,
) -> io::Result<R> {
    // SAFETY: `fill` only writes initialised bytes into the unfilled part, and only
    // the bytes it reports are marked initialised below.
    let (n, result) = fill(unsafe { buf.unfilled_mut() })?;
    // SAFETY: `fill` initialised the first `n` unfilled bytes.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Ok(result)
}

/// Fill the spare room of a `BufMut` with `fill`, as `fill_read_buf` does.
pub(crate) fn fill_buf_mut<B: bytes::BufMut + ?Sized, R>(
    buf: &mut B,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> io::Result<(usize, R)>,
) -> io::Result<R> {
    let chunk = buf.chunk_mut();
    // SAFETY: `fill` only writes initialised bytes into the chunk.
    let (n, result) = fill(unsafe { chunk.as_uninit_slice_mut() })?;
    // SAFETY: `fill` initialised the first `n` bytes of the chunk.
    unsafe { buf.advance_mut(n) };
    Ok(result)
}

impl IoSocket {
    // ---- one system call each ----

    /// `recv(2)` into possibly uninitialised memory. A datagram longer than `buf`
    /// gives `buf`'s worth, the rest dropped, on every system (Winsock's plain
    /// `recv` calls that an error; its `WSARecv`, which `socket2` uses for the
    /// vectored form, says it with a flag).
    pub(crate) fn sys_recv(&self, buf: &mut [MaybeUninit<u8>], take: Take) -> io::Result<usize> {
        #[cfg(unix)]
        return self.sock().recv_with_flags(buf, take.flags());
        #[cfg(windows)]
        {
            let room = buf.len();
            self.sock()
                .recv_vectored_with_flags(&mut [socket2::MaybeUninitSlice::new(buf)], take.flags())
                .map(|(n, flags)| if flags.is_truncated() { room } else { n })
        }
    }

    /// `recvmsg(2)` into several buffers.
    #[cfg(unix)]
    pub(crate) fn sys_recv_vectored(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        take: Take,
    ) -> io::Result<usize> {
        // SAFETY: `msghdr` is plain data; all zeroes is an empty header.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        // `IoSliceMut` has the layout of `iovec` on Unix (std guarantees it).
        msg.msg_iov = bufs.as_mut_ptr().cast::<libc::iovec>();
        msg.msg_iovlen = bufs.len().min(crate::io::IOV_MAX) as _;
        // SAFETY: the header points at `bufs`, valid for writes for this call.
        let n = unsafe { libc::recvmsg(self.raw(), &mut msg, take.flags()) };
        crate::driver::op::cvt(n)
    }

    /// `WSARecv` into several buffers.
    #[cfg(windows)]
    pub(crate) fn sys_recv_vectored(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        take: Take,
    ) -> io::Result<usize> {
        // SAFETY: an `IoSliceMut` over initialised bytes is a `MaybeUninitSlice`
        // over the same bytes (both are the system's `WSABUF`); `socket2` only
        // writes into them.
        let bufs = unsafe {
            &mut *(bufs as *mut [IoSliceMut<'_>] as *mut [socket2::MaybeUninitSlice<'_>])
        };
        let (n, _) = self.sock().recv_vectored_with_flags(bufs, take.flags())?;
        Ok(n)
    }

    /// `send(2)`.
    pub(crate) fn sys_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.sock().send_with_flags(buf, SEND_FLAGS)
    }

    /// `sendmsg(2)` of several buffers.
    pub(crate) fn sys_send_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let bufs = &bufs[..bufs.len().min(crate::io::IOV_MAX)];
        self.sock().send_vectored_with_flags(bufs, SEND_FLAGS)
    }

    /// `recvfrom(2)`: one datagram and its sender.
    pub(crate) fn sys_recv_from(
        &self,
        buf: &mut [MaybeUninit<u8>],
        take: Take,
    ) -> io::Result<(usize, SockAddr)> {
        #[cfg(unix)]
        return self.sock().recv_from_with_flags(buf, take.flags());
        // As in `sys_recv`: the vectored form reports a truncated datagram as data.
        #[cfg(windows)]
        {
            let room = buf.len();
            self.sock()
                .recv_from_vectored_with_flags(
                    &mut [socket2::MaybeUninitSlice::new(buf)],
                    take.flags(),
                )
                .map(|(n, flags, from)| (if flags.is_truncated() { room } else { n }, from))
        }
    }

    /// `sendto(2)`: one datagram to `to`.
    pub(crate) fn sys_send_to(&self, buf: &[u8], to: &SockAddr) -> io::Result<usize> {
        self.sock().send_to_with_flags(buf, to, SEND_FLAGS)
    }

    // ---- what the public `try_*` calls do ----

    /// Mark `interest` not ready when `result` says the call would block.
    pub(crate) fn note<T>(&self, interest: Interest, result: io::Result<T>) -> io::Result<T> {
        if would_block(&result) {
            self.cache().clear(interest);
        }
        result
    }

    /// Read (or peek at) what is there into `dst` without waiting: bytes read ahead
    /// first, then the kernel's.
    pub(crate) fn read_now(&self, dst: &mut [MaybeUninit<u8>], take: Take) -> io::Result<usize> {
        let ahead = self.read_ahead_now(|bytes| {
            let n = copy_out(bytes, dst);
            (if take == Take::Peek { 0 } else { n }, n)
        });
        let result = match ahead {
            Some(result) => result,
            None => self.sys_recv(dst, take),
        };
        self.note(Interest::READABLE, result)
    }

    /// `read_now` into several buffers, filled in order.
    pub(crate) fn read_vectored_now(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let ahead = self.read_ahead_now(|mut bytes| {
            let mut total = 0;
            for buf in bufs.iter_mut() {
                if bytes.is_empty() {
                    break;
                }
                let n = copy_out(bytes, as_uninit(buf));
                bytes = &bytes[n..];
                total += n;
            }
            (total, total)
        });
        let result = match ahead {
            Some(result) => result,
            None => self.sys_recv_vectored(bufs, Take::Consume),
        };
        self.note(Interest::READABLE, result)
    }

    /// Write what fits of `buf` without waiting (on Windows, what a full send
    /// buffer cannot take goes to a send of the socket's own: `send_behind.rs`).
    pub(crate) fn write_now(&self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(unix)]
        return self.note(Interest::WRITABLE, self.sys_send(buf));
        #[cfg(windows)]
        self.note(Interest::WRITABLE, self.write_behind_now(buf))
    }

    /// Write what fits of `bufs` without waiting (as `write_now` on Windows, one
    /// gathered copy going to the send of the socket's own).
    pub(crate) fn write_vectored_now(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        #[cfg(unix)]
        return self.note(Interest::WRITABLE, self.sys_send_vectored(bufs));
        #[cfg(windows)]
        {
            let result = match self.sys_send_vectored(bufs) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.write_behind_now(&super::send_behind::gather(bufs))
                }
                other => other,
            };
            self.note(Interest::WRITABLE, result)
        }
    }

    /// Receive (or peek at) one datagram and its sender without waiting.
    pub(crate) fn recv_from_now(
        &self,
        buf: &mut [MaybeUninit<u8>],
        take: Take,
    ) -> io::Result<(usize, SockAddr)> {
        self.note(Interest::READABLE, self.sys_recv_from(buf, take))
    }

    /// Send one datagram to `to` without waiting.
    pub(crate) fn send_to_now(&self, buf: &[u8], to: &SockAddr) -> io::Result<usize> {
        self.note(Interest::WRITABLE, self.sys_send_to(buf, to))
    }
}
