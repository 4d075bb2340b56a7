//! `send` on Windows: an overlapped `WSASend` of an owned buffer, which stays in the
//! operation's cell until the completion packet. Named `send` in the operation
//! layer, as on Unix. Must never send from a borrowed buffer.

use std::io;

use windows_sys::Win32::Networking::WinSock::{WSASend, SOCKET, WSABUF};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::wsa::{self, MAX_RW};
use super::{with_context, IocpStart, OpKind, RawIocpHandle, RawSock, ReadinessWait};
use crate::io::{BufResult, IoBuf};

pub(crate) struct Send<B> {
    sock: RawSock,
    buf: B,
}

impl<B: IoBuf> Send<B> {
    /// `_datagram`: on Unix it keeps `MSG_NOSIGNAL` off datagram sockets; Windows
    /// raises no signal for a closed peer, so nothing differs here.
    pub(crate) fn new(sock: RawSock, buf: B, _datagram: bool) -> Send<B> {
        Send { sock, buf }
    }
}

impl<B: IoBuf> OpKind for Send<B> {
    type Output = BufResult<usize, B>;

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn iocp_start(&mut self, overlapped: *mut OVERLAPPED) -> IocpStart {
        let bytes = WSABUF {
            len: self.buf.bytes_init().min(MAX_RW) as u32,
            buf: self.buf.stable_ptr().cast_mut(),
        };
        // SAFETY: the buffer's first `len` bytes are initialised and owned by the
        // cell, which stays put until the packet (Winsock copies the `WSABUF` itself,
        // and only reads the bytes); the `OVERLAPPED` is the cell's.
        let rc = unsafe {
            WSASend(
                self.sock as SOCKET,
                &bytes,
                1,
                std::ptr::null_mut(),
                0,
                overlapped,
                None,
            )
        };
        wsa::started(rc)
    }

    fn iocp_handle(&self) -> Option<RawIocpHandle> {
        Some(wsa::handle(self.sock))
    }

    fn iocp_result(&self, overlapped: *mut OVERLAPPED) -> i32 {
        wsa::result(self.sock, overlapped)
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        (
            result.map_err(|e| with_context(e, "WSASend", self.sock)),
            self.buf,
        )
    }
}
