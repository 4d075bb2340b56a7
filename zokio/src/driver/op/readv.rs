//! `readv`: scatter a read over several owned buffers, at an offset or at the current
//! position. The iovec array lives beside the buffers in the operation's cell, so it
//! outlives the submission. Must never hand the kernel a pointer outside the buffers.

use std::io;
use std::os::fd::RawFd;

use super::read::no_room;
use super::rw::{self, Direction};
use super::{with_context, OpKind, ReadinessWait};
use crate::io::IoBufMut;

pub(crate) struct Readv<B> {
    pub(crate) fd: RawFd,
    pub(crate) bufs: Vec<B>,
    pub(crate) offset: u64,
    iovecs: Vec<libc::iovec>,
    /// Epoll driver only: see `rw::transfer`.
    nowait: bool,
}

impl<B: IoBufMut> Readv<B> {
    pub(crate) fn new(fd: RawFd, mut bufs: Vec<B>, offset: u64) -> Readv<B> {
        let iovecs = bufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.stable_mut_ptr().cast(),
                iov_len: b.bytes_total(),
            })
            .collect();
        Readv {
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
unsafe impl<B: Send> Send for Readv<B> {}

impl<B: IoBufMut> OpKind for Readv<B> {
    type Output = (io::Result<usize>, Vec<B>);

    fn check(&self) -> io::Result<()> {
        rw::check_iovecs("readv", self.fd, &self.iovecs, no_room)
    }

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::Readv::new(
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
            events: libc::POLLIN as u32,
            then_run: true,
        }
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        let (iov, count) = (self.iovecs.as_ptr(), self.iovecs.len());
        // SAFETY: every iovec points at a live buffer valid for writes of its length.
        unsafe {
            rw::transfer(
                self.fd,
                iov,
                count,
                self.offset,
                Direction::Read,
                &mut self.nowait,
            )
        }
    }

    fn may_block(&mut self) {
        self.nowait = false;
    }

    fn complete(mut self, result: io::Result<usize>) -> (io::Result<usize>, Vec<B>) {
        match result {
            Ok(n) => {
                let mut left = n;
                for buf in &mut self.bufs {
                    let filled = left.min(buf.bytes_total());
                    // SAFETY: the kernel filled the buffers in order, `filled` bytes here.
                    unsafe { buf.set_init(filled) };
                    left -= filled;
                }
                (Ok(n), self.bufs)
            }
            Err(e) => (Err(with_context(e, "readv", self.fd)), self.bufs),
        }
    }
}
