//! `send`: send an owned buffer's initialised bytes on a connected socket, never
//! raising `SIGPIPE` (a closed peer is an `EPIPE` error instead). The buffer comes
//! back with the result. Must never hand the kernel a pointer outside the buffer.

use std::io;
use std::os::fd::RawFd;

use super::read::MAX_RW;
use super::write::nothing_to_write;
use super::{cvt, with_context, OpKind, ReadinessWait};
use crate::io::IoBuf;

pub(crate) struct Send<B> {
    fd: RawFd,
    buf: B,
    /// Datagram sockets may send an empty datagram; on a stream it would be a no-op
    /// that write-all loops spin on.
    allow_empty: bool,
}

impl<B> Send<B> {
    pub(crate) fn new(fd: RawFd, buf: B, allow_empty: bool) -> Send<B> {
        Send {
            fd,
            buf,
            allow_empty,
        }
    }
}

impl<B: IoBuf> OpKind for Send<B> {
    type Output = (io::Result<usize>, B);

    fn check(&self) -> io::Result<()> {
        if self.buf.bytes_init() == 0 && !self.allow_empty {
            return Err(nothing_to_write("send", self.fd));
        }
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        let len = self.buf.bytes_init().min(MAX_RW) as u32;
        io_uring::opcode::Send::new(io_uring::types::Fd(self.fd), self.buf.stable_ptr(), len)
            .flags(libc::MSG_NOSIGNAL)
            .build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Fd {
            fd: self.fd,
            events: libc::POLLOUT as u32,
            then_run: true,
        }
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        let len = self.buf.bytes_init().min(MAX_RW);
        // SAFETY: the buffer holds `bytes_init` initialised bytes (`IoBuf`).
        cvt(unsafe {
            libc::send(
                self.fd,
                self.buf.stable_ptr().cast(),
                len,
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        })
    }

    fn complete(self, result: io::Result<usize>) -> (io::Result<usize>, B) {
        let result = result.map_err(|e| with_context(e, "send", self.fd));
        (result, self.buf)
    }
}
