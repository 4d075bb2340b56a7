//! `KeepFd`: any operation kind, plus a share of the descriptor it works on, so the
//! descriptor stays open until the operation is over. An operation dropped early
//! may still reach the kernel later (a submission queued for another worker) or
//! still be in flight; if its socket closed at once, the number could be reused by
//! a new socket and the late operation would read or write that one. Must never
//! change what the wrapped kind does.

use std::any::Any;
use std::io;
use std::sync::Arc;

use super::{OpKind, ReadinessWait};

pub(crate) struct KeepFd<K> {
    pub(crate) kind: K,
    /// A share of what owns the descriptor (a socket's `OwnedFd`, a file's
    /// `std::fs::File`), dropped with the operation: by the task, or by the driver
    /// after the completion of an abandoned one.
    pub(crate) _fd: Arc<dyn Any + Send + Sync>,
}

impl<K: OpKind> OpKind for KeepFd<K> {
    type Output = K::Output;

    fn check(&self) -> io::Result<()> {
        self.kind.check()
    }

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        self.kind.uring_entry()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        self.kind.readiness_wait()
    }

    #[cfg(windows)]
    fn iocp_start(
        &mut self,
        overlapped: *mut windows_sys::Win32::System::IO::OVERLAPPED,
    ) -> super::IocpStart {
        self.kind.iocp_start(overlapped)
    }

    #[cfg(windows)]
    fn iocp_handle(&self) -> Option<super::RawIocpHandle> {
        self.kind.iocp_handle()
    }

    #[cfg(windows)]
    fn iocp_result(&self, overlapped: *mut windows_sys::Win32::System::IO::OVERLAPPED) -> i32 {
        self.kind.iocp_result(overlapped)
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        self.kind.run_ready()
    }

    fn complete(self, result: io::Result<usize>) -> K::Output {
        self.kind.complete(result)
    }

    fn abandoned(&mut self, result: i32) {
        self.kind.abandoned(result)
    }

    fn may_block(&mut self) {
        self.kind.may_block()
    }

    fn eager(&self) -> bool {
        self.kind.eager()
    }
}
