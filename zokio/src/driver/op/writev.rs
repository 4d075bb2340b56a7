//! `writev`: gather a write from several owned buffers, at an offset or at the current
//! position. The iovec array lives beside the buffers in the operation's cell. Must
//! never hand the kernel a pointer outside the buffers.

use std::io;
use std::os::fd::RawFd;

use super::rw::{self, Direction};
use super::write::nothing_to_write;
use super::{with_context, OpKind, ReadinessWait};
use crate::io::IoBuf;

pub(crate) struct Writev<B> {
    pub(crate) fd: RawFd,
    pub(crate) bufs: Vec<B>,
    pub(crate) offset: u64,
    iovecs: Vec<libc::iovec>,
    /// Epoll driver only: see `rw::transfer`.
    nowait: bool,
}

impl<B: IoBuf> Writev<B> {
    pub(crate) fn new(fd: RawFd, bufs: Vec<B>, offset: u64) -> Writev<B> {
        let iovecs = bufs
            .iter()
            .map(|b| libc::iovec {
                iov_base: b.stable_ptr() as *mut libc::c_void,
                iov_len: b.bytes_init(),
            })
            .collect();
        Writev {
            fd,
            bufs,
            offset,
            iovecs,
            nowait: true,
        }
    }
}

// SAFETY: the raw pointers in `iovecs` point into `bufs`, which are `Send` and move
// with them; nothing else shares that memory.
unsafe impl<B: Send> Send for Writev<B> {}

impl<B: IoBuf> OpKind for Writev<B> {
    type Output = (io::Result<usize>, Vec<B>);

    fn check(&self) -> io::Result<()> {
        rw::check_iovecs("writev", self.fd, &self.iovecs, nothing_to_write)
    }

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::Writev::new(
            io_uring::types::Fd(self.fd),
            self.iovecs.as_ptr(),
            self.iovecs.len() as u32,
        )
        .offset(self.offset)
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
        let (iov, count) = (self.iovecs.as_ptr(), self.iovecs.len());
        // SAFETY: every iovec points at a live buffer's initialised bytes.
        unsafe {
            rw::transfer(
                self.fd,
                iov,
                count,
                self.offset,
                Direction::Write,
                &mut self.nowait,
            )
        }
    }

    fn may_block(&mut self) {
        self.nowait = false;
    }

    fn complete(self, result: io::Result<usize>) -> (io::Result<usize>, Vec<B>) {
        let result = result.map_err(|e| with_context(e, "writev", self.fd));
        (result, self.bufs)
    }
}
