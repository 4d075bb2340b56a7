//! `recv_from`: receive one datagram into an owned buffer, with the sender's address.
//! The buffer comes back with the result. Must never hand the kernel a pointer
//! outside the operation's own buffer, address and header.

use std::io;
use std::os::fd::RawFd;

use super::addr::RawAddr;
use super::msghdr::MsgHdr;
use super::read::{no_room, MAX_RW};
use super::{cvt, with_context, OpKind, ReadinessWait};
use crate::io::IoBufMut;

pub(crate) struct RecvFrom<B> {
    fd: RawFd,
    buf: B,
    from: RawAddr,
    header: MsgHdr,
}

impl<B> RecvFrom<B> {
    pub(crate) fn new(fd: RawFd, buf: B) -> RecvFrom<B> {
        RecvFrom {
            fd,
            buf,
            from: RawAddr::empty(),
            header: MsgHdr::new(),
        }
    }
}

impl<B: IoBufMut> OpKind for RecvFrom<B> {
    type Output = (io::Result<(usize, RawAddr)>, B);

    fn check(&self) -> io::Result<()> {
        if self.buf.bytes_total() == 0 {
            return Err(no_room("recv_from", self.fd));
        }
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        let len = self.buf.bytes_total().min(MAX_RW);
        let name_len = self.from.len;
        let msg = self.header.fill(
            self.buf.stable_mut_ptr(),
            len,
            self.from.storage_mut(),
            name_len,
        );
        io_uring::opcode::RecvMsg::new(io_uring::types::Fd(self.fd), msg).build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Fd {
            fd: self.fd,
            events: libc::POLLIN as u32,
            then_run: true,
        }
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        let len = self.buf.bytes_total().min(MAX_RW);
        self.from.len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: the buffer is valid for writes of `bytes_total` bytes and the
        // address storage and its length live in `self`.
        cvt(unsafe {
            libc::recvfrom(
                self.fd,
                self.buf.stable_mut_ptr().cast(),
                len,
                libc::MSG_DONTWAIT,
                self.from.storage_mut(),
                &mut self.from.len,
            )
        })
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        match result {
            Ok(n) => {
                // SAFETY: the kernel wrote `n <= bytes_total` bytes at the start.
                unsafe { self.buf.set_init(n) };
                if self.header.msg.msg_iovlen == 1 {
                    // The ring path: the kernel reported the length in the header.
                    self.from.len = self.header.msg.msg_namelen;
                }
                (Ok((n, self.from)), self.buf)
            }
            Err(e) => (Err(with_context(e, "recv_from", self.fd)), self.buf),
        }
    }
}
