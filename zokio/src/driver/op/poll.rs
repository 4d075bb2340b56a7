//! `poll`: wait until a descriptor is ready for reading or writing, without moving
//! any data. Must never read or write the descriptor itself.

use crate::io::{InterestExt as _, ReadyExt as _};
use std::io;
use std::os::fd::RawFd;

use super::{with_context, OpKind, ReadinessWait};
use crate::io::{Interest, Ready};

pub(crate) struct PollReady {
    pub(crate) fd: RawFd,
    pub(crate) interest: Interest,
}

impl PollReady {
    pub(crate) fn new(fd: RawFd, interest: Interest) -> PollReady {
        PollReady { fd, interest }
    }
}

impl OpKind for PollReady {
    type Output = io::Result<Ready>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::PollAdd::new(io_uring::types::Fd(self.fd), self.interest.poll_events())
            .build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Fd {
            fd: self.fd,
            events: self.interest.poll_events(),
            then_run: false,
        }
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<Ready> {
        match result {
            Ok(bits) => {
                let mut bits = bits as u32;
                if bits & super::ALWAYS_READY as u32 != 0 {
                    // A file epoll cannot wait on: ready for what was asked, but no
                    // peer can have shut it down (io_uring never reports `POLLRDHUP`
                    // for one either).
                    bits &= !(super::ALWAYS_READY as u32 | crate::io::POLLRDHUP as u16 as u32);
                }
                if bits & libc::POLLNVAL as u32 != 0 {
                    return Err(with_context(
                        io::Error::from_raw_os_error(libc::EBADF),
                        "poll",
                        self.fd,
                    ));
                }
                Ok(Ready::from_poll_events(bits))
            }
            Err(e) => Err(with_context(e, "poll", self.fd)),
        }
    }
}
