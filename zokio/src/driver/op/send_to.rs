//! `send_to`: send an owned buffer as one datagram to an address, never raising
//! `SIGPIPE`. The buffer comes back with the result. Must never hand the kernel a
//! pointer outside the operation's own buffer, address and header.

use std::io;
use std::os::fd::RawFd;

use super::addr::RawAddr;
#[cfg(target_os = "linux")]
use super::msghdr::MsgHdr;
use super::read::MAX_RW;
use super::{cvt, with_context, OpKind, ReadinessWait};
use crate::io::IoBuf;

pub(crate) struct SendTo<B> {
    fd: RawFd,
    buf: B,
    to: RawAddr,
    /// io_uring's `sendmsg` reads it (Linux only).
    #[cfg(target_os = "linux")]
    header: MsgHdr,
}

impl<B> SendTo<B> {
    pub(crate) fn new(fd: RawFd, buf: B, to: RawAddr) -> SendTo<B> {
        SendTo {
            fd,
            buf,
            to,
            #[cfg(target_os = "linux")]
            header: MsgHdr::new(),
        }
    }
}

impl<B: IoBuf> OpKind for SendTo<B> {
    type Output = (io::Result<usize>, B);

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        let len = self.buf.bytes_init().min(MAX_RW);
        // The kernel only reads through these pointers for a send.
        let msg = self.header.fill(
            self.buf.stable_ptr() as *mut u8,
            len,
            self.to.storage_mut(),
            self.to.len,
        );
        io_uring::opcode::SendMsg::new(io_uring::types::Fd(self.fd), msg)
            .flags(libc::MSG_NOSIGNAL as u32)
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
        // SAFETY: the buffer holds `bytes_init` initialised bytes and the address
        // lives in `self` with `len` its size.
        cvt(unsafe {
            libc::sendto(
                self.fd,
                self.buf.stable_ptr().cast(),
                len,
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                self.to.storage_ptr(),
                self.to.len,
            )
        })
    }

    fn complete(self, result: io::Result<usize>) -> (io::Result<usize>, B) {
        let result = result.map_err(|e| with_context(e, "send_to", self.fd));
        (result, self.buf)
    }
}
