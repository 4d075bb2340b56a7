//! `send_to` on Windows: an overlapped `WSASendTo` of one datagram from an owned
//! buffer to an address; both stay in the operation's cell until the completion
//! packet. Named `send_to` in the operation layer, as on Unix.

use std::io;

use windows_sys::Win32::Networking::WinSock::{WSASendTo, SOCKET, WSABUF};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::addr::RawAddr;
use super::wsa::{self, MAX_RW};
use super::{with_context, IocpStart, OpKind, RawSock};
use crate::io::{BufResult, IoBuf};

pub(crate) struct SendTo<B> {
    sock: RawSock,
    buf: B,
    to: RawAddr,
}

impl<B: IoBuf> SendTo<B> {
    pub(crate) fn new(sock: RawSock, buf: B, to: RawAddr) -> SendTo<B> {
        SendTo { sock, buf, to }
    }
}

impl<B: IoBuf> OpKind for SendTo<B> {
    type Output = BufResult<usize, B>;

    wsa::winsock_methods!(sock);

    fn iocp_start(&mut self, overlapped: *mut OVERLAPPED) -> IocpStart {
        let bytes = WSABUF {
            len: self.buf.bytes_init().min(MAX_RW) as u32,
            buf: self.buf.stable_ptr().cast_mut(),
        };
        // SAFETY: the buffer's first `len` bytes are initialised; buffer, address and
        // `OVERLAPPED` are the cell's, which stays put until the packet; the system
        // only reads the bytes and the address.
        let rc = unsafe {
            WSASendTo(
                self.sock as SOCKET,
                &bytes,
                1,
                std::ptr::null_mut(),
                0,
                self.to.storage_ptr(),
                self.to.len,
                overlapped,
                None,
            )
        };
        wsa::started(rc)
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        (
            result.map_err(|e| with_context(e, "WSASendTo", self.sock)),
            self.buf,
        )
    }
}
