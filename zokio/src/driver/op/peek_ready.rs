//! `poll` on Windows: wait until a socket is ready for reading or writing, without
//! moving any data, through an overlapped call that IOCP completes when it is:
//! reading, a `WSARecv` of one byte with `MSG_PEEK` (done when a byte, the end of
//! the stream or an error is there; the byte stays for the real read); writing, a
//! `WSASend` of no bytes. Named `poll` in the operation layer, as on Unix.
//!
//! The writing wait is optimistic: Winsock completes an empty send at once, even
//! with the send buffer full, so a writer that meets `WouldBlock` tries again after
//! a round trip through the driver rather than sleeping until there is room (tokio
//! allows readiness to be a false positive; it only costs turns). Must never
//! consume data.

use std::io;

use windows_sys::Win32::Networking::WinSock::{
    WSARecv, WSASend, MSG_PEEK, SOCKET, WSABUF, WSAECONNABORTED, WSAECONNRESET, WSAEMSGSIZE,
    WSAENETRESET, WSAESHUTDOWN,
};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::{with_context, wsa, IocpStart, OpKind, RawIocpHandle, RawSock, ReadinessWait};
use crate::io::{Interest, Ready};

pub(crate) struct PollReady {
    fd: RawSock,
    interest: Interest,
    /// Where the peeked byte lands (and stays in the socket too).
    byte: u8,
    flags: u32,
}

impl PollReady {
    pub(crate) fn new(fd: RawSock, interest: Interest) -> PollReady {
        PollReady {
            fd,
            interest,
            byte: 0,
            flags: MSG_PEEK as u32,
        }
    }

    /// Whether this wait is for reading (else for writing): one call waits for one
    /// direction, and reading is what a socket waits for long.
    fn reads(&self) -> bool {
        self.interest.is_readable()
    }
}

impl OpKind for PollReady {
    type Output = io::Result<Ready>;

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn iocp_start(&mut self, overlapped: *mut OVERLAPPED) -> IocpStart {
        let rc = if self.reads() {
            let room = WSABUF {
                len: 1,
                buf: &mut self.byte,
            };
            // SAFETY: the byte, the flags and the `OVERLAPPED` are the cell's, which
            // stays put until the packet; Winsock copies the `WSABUF` itself.
            unsafe {
                WSARecv(
                    self.fd as SOCKET,
                    &room,
                    1,
                    std::ptr::null_mut(),
                    &mut self.flags,
                    overlapped,
                    None,
                )
            }
        } else {
            let nothing = WSABUF {
                len: 0,
                buf: &mut self.byte,
            };
            // SAFETY: no bytes are read from the buffer; the `OVERLAPPED` is the cell's.
            unsafe {
                WSASend(
                    self.fd as SOCKET,
                    &nothing,
                    1,
                    std::ptr::null_mut(),
                    0,
                    overlapped,
                    None,
                )
            }
        };
        wsa::started(rc)
    }

    fn iocp_handle(&self) -> Option<RawIocpHandle> {
        Some(wsa::handle(self.fd))
    }

    fn iocp_result(&self, overlapped: *mut OVERLAPPED) -> i32 {
        wsa::result(self.fd, overlapped)
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<Ready> {
        if !self.reads() {
            return match result {
                Ok(_) => Ok(Ready::WRITABLE),
                Err(e) if closed(&e) => Ok(Ready::WRITABLE | Ready::WRITE_CLOSED),
                Err(e) => Err(with_context(e, "poll (WSASend of 0 bytes)", self.fd)),
            };
        }
        match result {
            // Nothing to peek at a stream's end: the peer closed its side.
            Ok(0) => Ok(Ready::READABLE | Ready::READ_CLOSED),
            Ok(_) => Ok(Ready::READABLE),
            // A datagram longer than the byte peeked at: there is one to read.
            Err(e) if e.raw_os_error() == Some(WSAEMSGSIZE) => Ok(Ready::READABLE),
            // Reset or aborted: the next read says how, as on Unix, where poll
            // reports such a socket readable.
            Err(e) if closed(&e) => Ok(Ready::READABLE | Ready::READ_CLOSED),
            Err(e) => Err(with_context(e, "poll (WSARecv with MSG_PEEK)", self.fd)),
        }
    }
}

/// Whether `err` says the connection is over (the next call on it reports it).
fn closed(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(WSAECONNRESET | WSAECONNABORTED | WSAENETRESET | WSAESHUTDOWN)
    )
}
