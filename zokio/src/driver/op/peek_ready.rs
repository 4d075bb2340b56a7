//! `poll` on Windows: wait until a socket is ready for reading, without moving any
//! data, through an overlapped call that IOCP completes when it is: a `WSARecv` of
//! one byte with `MSG_PEEK` (done when a byte, the end of the stream or an error is
//! there; the byte stays for the real read). Named `poll` in the operation layer,
//! as on Unix.
//!
//! Writing has no such wait on IOCP: a wait for it answers at once, through the
//! driver, with no system call (an empty `WSASend` would answer at once too, and
//! fails on an unconnected datagram socket). So a writer that meets `WouldBlock`
//! tries again after one round trip through the driver rather than sleeping until
//! there is room; tokio allows readiness to be a false positive, and this one only
//! costs turns. Must never consume data.

use std::io;

use windows_sys::Win32::Networking::WinSock::{
    WSAPoll, WSARecv, MSG_PEEK, POLLERR, POLLHUP, POLLRDNORM, POLLWRNORM, SOCKET, WSABUF,
    WSAECONNABORTED, WSAECONNRESET, WSAEMSGSIZE, WSAENETRESET, WSAESHUTDOWN, WSAPOLLFD,
};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::{with_context, wsa, IocpStart, OpKind, RawSock};
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

    /// Whether this wait is for reading alone. A wait that takes writing too is
    /// answered at once, as writable, like one for writing alone.
    fn reads(&self) -> bool {
        self.interest.is_readable() && !self.interest.is_writable()
    }
}

impl OpKind for PollReady {
    type Output = io::Result<Ready>;

    wsa::winsock_methods!(fd);

    fn iocp_start(&mut self, overlapped: *mut OVERLAPPED) -> IocpStart {
        if !self.reads() {
            // Answered by the driver at once (`readiness_wait` says so).
            return IocpStart::NoHandle;
        }
        let room = WSABUF {
            len: 1,
            buf: &mut self.byte,
        };
        // SAFETY: the byte, the flags and the `OVERLAPPED` are the cell's, which stays
        // put until the packet; Winsock copies the `WSABUF` itself.
        let rc = unsafe {
            WSARecv(
                self.fd as SOCKET,
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

    fn complete(self, result: io::Result<usize>) -> io::Result<Ready> {
        if !self.reads() {
            return Ok(Ready::WRITABLE);
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

/// What `sock` is ready for right now, without waiting: `WSAPoll` with no timeout,
/// and, when a stream has something to read, a one-byte peek that tells data from
/// the peer's close (which `WSAPoll` reports as readable too). `None` when the
/// system cannot say.
pub(crate) fn ready_now(sock: RawSock, interest: Interest) -> Option<Ready> {
    let mut events = 0;
    if interest.is_readable() {
        events |= POLLRDNORM;
    }
    if interest.is_writable() {
        events |= POLLWRNORM;
    }
    if events == 0 {
        return None;
    }
    let mut entry = WSAPOLLFD {
        fd: sock as SOCKET,
        events,
        revents: 0,
    };
    // SAFETY: one live entry, its count, and no waiting.
    if unsafe { WSAPoll(&mut entry, 1, 0) } < 0 {
        return None;
    }
    let has = |flag: i16| entry.revents & flag != 0;
    let mut ready = Ready::EMPTY;
    if has(POLLWRNORM) {
        ready |= Ready::WRITABLE;
    }
    if has(POLLHUP) {
        ready |= Ready::READABLE | Ready::READ_CLOSED | Ready::WRITE_CLOSED;
    }
    if has(POLLERR) {
        ready |= Ready::READABLE | Ready::ERROR;
    }
    if has(POLLRDNORM) {
        ready |= Ready::READABLE;
        let borrowed = wsa::borrowed(&sock);
        let socket = socket2::SockRef::from(&borrowed);
        let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
        let at_end = matches!(socket.peek(&mut byte), Ok(0))
            && socket.r#type().is_ok_and(|ty| ty == socket2::Type::STREAM);
        if at_end {
            ready |= Ready::READ_CLOSED;
        }
    }
    Some(ready)
}
