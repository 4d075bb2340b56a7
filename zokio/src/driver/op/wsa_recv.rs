//! `recv` on Windows: an overlapped `WSARecv` into an owned buffer, which stays in
//! the operation's cell until the completion packet. Named `recv` in the operation
//! layer, as on Unix, so the sockets above call one constructor. Must never read
//! into a borrowed buffer.

use std::io;

use windows_sys::Win32::Networking::WinSock::{WSARecv, SOCKET, WSABUF};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::wsa::{self, MAX_RW};
use super::{with_context, IocpStart, OpKind, RawSock};
use crate::io::{BufResult, IoBufMut};

pub(crate) struct Recv<B> {
    sock: RawSock,
    buf: B,
    /// `WSARecv`'s flags, in and out: in the cell, since the system may write them
    /// when the receive completes.
    flags: u32,
}

impl<B: IoBufMut> Recv<B> {
    pub(crate) fn new(sock: RawSock, buf: B) -> Recv<B> {
        Recv {
            sock,
            buf,
            flags: 0,
        }
    }

    /// io_uring's hint that the socket is empty; an overlapped receive waits for
    /// data by itself, so it changes nothing here.
    pub(crate) fn poll_first(self, _empty: bool) -> Recv<B> {
        self
    }
}

impl<B: IoBufMut> OpKind for Recv<B> {
    type Output = BufResult<usize, B>;

    wsa::winsock_methods!(sock, |result, this| wsa::received(
        result,
        this.buf.bytes_total()
    ));

    fn check(&self) -> io::Result<()> {
        if self.buf.bytes_total() == 0 {
            return Err(wsa::no_room("WSARecv", self.sock));
        }
        Ok(())
    }

    fn iocp_start(&mut self, overlapped: *mut OVERLAPPED) -> IocpStart {
        let room = WSABUF {
            len: self.buf.bytes_total().min(MAX_RW) as u32,
            buf: self.buf.stable_mut_ptr(),
        };
        // SAFETY: the buffer is owned by the cell, which stays put until the packet,
        // so the system may write its `len` bytes until then (Winsock copies the
        // `WSABUF` itself before returning); the flags and the `OVERLAPPED` are the
        // cell's too.
        let rc = unsafe {
            WSARecv(
                self.sock as SOCKET,
                &room,
                1,
                std::ptr::null_mut(),
                &mut self.flags,
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
                (Ok(n), self.buf)
            }
            Err(e) => (Err(with_context(e, "WSARecv", self.sock)), self.buf),
        }
    }
}
