//! `send` on Windows: an overlapped `WSASend` of an owned buffer, which stays in the
//! operation's cell until the completion packet. Named `send` in the operation
//! layer, as on Unix. Must never send from a borrowed buffer.

use std::io;

use windows_sys::Win32::Networking::WinSock::{WSASend, SOCKET, WSABUF};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::wsa::{self, MAX_RW};
use super::{with_context, IocpStart, OpKind, RawSock};
use crate::io::{BufResult, IoBuf};

pub(crate) struct Send<B> {
    sock: RawSock,
    buf: B,
    /// Datagram sockets may send an empty datagram; on a stream it would be a no-op
    /// that write-all loops spin on.
    allow_empty: bool,
}

impl<B: IoBuf> Send<B> {
    pub(crate) fn new(sock: RawSock, buf: B, allow_empty: bool) -> Send<B> {
        Send {
            sock,
            buf,
            allow_empty,
        }
    }
}

impl<B: IoBuf> OpKind for Send<B> {
    type Output = BufResult<usize, B>;

    wsa::winsock_methods!(sock);

    fn check(&self) -> io::Result<()> {
        if self.buf.bytes_init() == 0 && !self.allow_empty {
            return Err(wsa::nothing_to_write("WSASend", self.sock));
        }
        Ok(())
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

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        (
            result.map_err(|e| with_context(e, "WSASend", self.sock)),
            self.buf,
        )
    }
}
