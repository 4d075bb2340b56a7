//! `recv_from` on Windows: an overlapped `WSARecvFrom` of one datagram into an
//! owned buffer, with the sender's address; buffer, address and its length stay in
//! the operation's cell until the completion packet. Named `recv_from` in the
//! operation layer, as on Unix. Must never read into a borrowed buffer.

use std::io;

use windows_sys::Win32::Networking::WinSock::{WSARecvFrom, SOCKET, WSABUF};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::addr::RawAddr;
use super::wsa::{self, MAX_RW};
use super::{with_context, IocpStart, OpKind, RawSock};
use crate::io::{BufResult, IoBufMut};

pub(crate) struct RecvFrom<B> {
    sock: RawSock,
    buf: B,
    from: RawAddr,
    flags: u32,
}

impl<B: IoBufMut> RecvFrom<B> {
    pub(crate) fn new(sock: RawSock, buf: B) -> RecvFrom<B> {
        RecvFrom {
            sock,
            buf,
            from: RawAddr::empty(),
            flags: 0,
        }
    }
}

impl<B: IoBufMut> OpKind for RecvFrom<B> {
    type Output = BufResult<(usize, RawAddr), B>;

    wsa::winsock_methods!(sock, |result, this| wsa::received(
        result,
        this.buf.bytes_total()
    ));

    fn check(&self) -> io::Result<()> {
        if self.buf.bytes_total() == 0 {
            return Err(wsa::no_room("WSARecvFrom", self.sock));
        }
        Ok(())
    }

    fn iocp_start(&mut self, overlapped: *mut OVERLAPPED) -> IocpStart {
        let room = WSABUF {
            len: self.buf.bytes_total().min(MAX_RW) as u32,
            buf: self.buf.stable_mut_ptr(),
        };
        // SAFETY: the buffer, the address storage and its length, the flags and the
        // `OVERLAPPED` are all the cell's, which stays put until the packet; the
        // system writes at most their sizes.
        let rc = unsafe {
            WSARecvFrom(
                self.sock as SOCKET,
                &room,
                1,
                std::ptr::null_mut(),
                &mut self.flags,
                self.from.storage_mut(),
                &mut self.from.len,
                overlapped,
                None,
            )
        };
        wsa::started(rc)
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        match result {
            Ok(n) => {
                // SAFETY: the system wrote the first `n` bytes.
                unsafe { self.buf.set_init(n) };
                (Ok((n, self.from)), self.buf)
            }
            Err(e) => (Err(with_context(e, "WSARecvFrom", self.sock)), self.buf),
        }
    }
}
