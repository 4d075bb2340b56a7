//! `poll`: wait until a descriptor is ready for reading or writing, without moving
//! any data. Must never read or write the descriptor itself.

use std::io;
use std::os::fd::RawFd;

use super::{with_context, EpollWait, OpKind};
use crate::io::{Interest, Ready};

pub(crate) struct PollReady {
    pub(crate) fd: RawFd,
    pub(crate) interest: Interest,
}

impl OpKind for PollReady {
    type Output = io::Result<Ready>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::PollAdd::new(io_uring::types::Fd(self.fd), self.interest.poll_bits())
            .build()
    }

    fn epoll_wait(&self) -> EpollWait {
        EpollWait::Fd {
            fd: self.fd,
            events: self.interest.poll_bits(),
            then_run: false,
        }
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<Ready> {
        match result {
            Ok(bits) => {
                let ready = Ready::from_poll_bits(bits as u32 & !(super::ALWAYS_READY as u32));
                if ready.is_invalid() {
                    return Err(with_context(
                        io::Error::from_raw_os_error(libc::EBADF),
                        "poll",
                        self.fd,
                    ));
                }
                Ok(ready)
            }
            Err(e) => Err(with_context(e, "poll", self.fd)),
        }
    }
}
