//! `nop`: an operation that does nothing, to measure the cost of the operation path
//! itself. Must never touch a descriptor.

use std::io;

use super::{OpKind, ReadinessWait};

pub(crate) struct Nop;

impl OpKind for Nop {
    type Output = io::Result<()>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::Nop::new().build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<()> {
        result.map(drop)
    }
}
