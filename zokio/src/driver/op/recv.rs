//! `recv`: receive into an owned buffer from a connected socket (stream or
//! datagram). The buffer comes back with the result. Must never hand the kernel a
//! pointer outside the buffer.

use std::io;
use std::os::fd::RawFd;

use super::read::{no_room, MAX_RW};
use super::{cvt, with_context, OpKind, ReadinessWait};
use crate::io::IoBufMut;

pub(crate) struct Recv<B> {
    fd: RawFd,
    buf: B,
    poll_first: bool,
}

impl<B> Recv<B> {
    pub(crate) fn new(fd: RawFd, buf: B) -> Recv<B> {
        Recv {
            fd,
            buf,
            poll_first: false,
        }
    }

    /// io_uring: wait for the socket to be readable before the first try
    /// (`IORING_RECVSEND_POLL_FIRST`), for a socket whose last receive emptied it: a
    /// try then would most likely find nothing, and costs a pass through the socket's
    /// receive path. Where data is there after all, the kernel sees it when it arms
    /// the wait and receives at once. Only where the kernel has the flag (Linux
    /// 5.19, probed through `IORING_OP_SOCKET`, new in the same release).
    pub(crate) fn poll_first(mut self, yes: bool) -> Recv<B> {
        self.poll_first = yes;
        self
    }
}

#[cfg(target_os = "linux")]
fn kernel_has_poll_first() -> bool {
    crate::driver::uring::probe::supports(io_uring::opcode::Socket::CODE)
}

/// `IORING_RECVSEND_POLL_FIRST`, in the entry's `ioprio`.
#[cfg(target_os = "linux")]
const RECVSEND_POLL_FIRST: u16 = 1;

impl<B: IoBufMut> OpKind for Recv<B> {
    type Output = (io::Result<usize>, B);

    fn check(&self) -> io::Result<()> {
        if self.buf.bytes_total() == 0 {
            return Err(no_room("recv", self.fd));
        }
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        let len = self.buf.bytes_total().min(MAX_RW) as u32;
        io_uring::opcode::Recv::new(io_uring::types::Fd(self.fd), self.buf.stable_mut_ptr(), len)
            .ioprio(if self.poll_first && kernel_has_poll_first() {
                RECVSEND_POLL_FIRST
            } else {
                0
            })
            .build()
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
        // SAFETY: the buffer is valid for writes of `bytes_total` bytes (`IoBufMut`).
        cvt(unsafe {
            libc::recv(
                self.fd,
                self.buf.stable_mut_ptr().cast(),
                len,
                libc::MSG_DONTWAIT,
            )
        })
    }

    fn complete(mut self, result: io::Result<usize>) -> (io::Result<usize>, B) {
        match result {
            Ok(n) => {
                // SAFETY: the kernel wrote `n <= bytes_total` bytes at the start.
                unsafe { self.buf.set_init(n) };
                (Ok(n), self.buf)
            }
            Err(e) => (Err(with_context(e, "recv", self.fd)), self.buf),
        }
    }
}

#[cfg(all(test, target_os = "linux", not(loom)))]
mod tests {
    use super::*;

    /// The flag reaches the entry's `ioprio` only when asked for, and only where the
    /// kernel has it.
    #[test]
    fn poll_first_sets_the_entry_flag_where_the_kernel_has_it() {
        let ioprio = |poll_first: bool| {
            let entry = Recv::new(0, Vec::<u8>::with_capacity(8))
                .poll_first(poll_first)
                .uring_entry();
            assert_eq!(size_of_val(&entry), 64, "an entry is one io_uring_sqe");
            // SAFETY: an entry is a plain 64-byte `io_uring_sqe` (checked above),
            // whose bytes 2 and 3 are `ioprio`.
            let bytes: [u8; 64] = unsafe { std::mem::transmute(entry) };
            u16::from_ne_bytes([bytes[2], bytes[3]])
        };
        assert_eq!(ioprio(false), 0);
        let expected = if kernel_has_poll_first() {
            RECVSEND_POLL_FIRST
        } else {
            0
        };
        assert_eq!(ioprio(true), expected);
    }
}
