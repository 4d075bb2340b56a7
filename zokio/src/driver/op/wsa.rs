//! What the Winsock operations on IOCP share (Windows): how a call's return says
//! the start went, the result of a finished one (`WSAGetOverlappedResult`, whose
//! errors are Winsock's own, as `std` decodes them), the extension functions
//! (`AcceptEx`, `ConnectEx`) that Winsock hands out at run time. Must never wait
//! for anything.

use std::io;
use std::sync::OnceLock;

use windows_sys::Win32::Networking::WinSock::{
    WSAGetLastError, WSAGetOverlappedResult, WSAIoctl, SIO_GET_EXTENSION_FUNCTION_POINTER, SOCKET,
    SOCKET_ERROR, WSAEMSGSIZE, WSA_IO_PENDING,
};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::{IocpStart, RawIocpHandle, RawSock};

/// The most one call moves: a count that fits the result's `i32`.
pub(crate) const MAX_RW: usize = 0x7fff_f000;

/// The `OpKind` methods every Winsock kind shares, for the socket in field
/// `$sock`: IOCP starts it (no readiness wait), `CancelIoEx` names the socket, and
/// Winsock's own `WSAGetOverlappedResult` gives the result, which the second form
/// adjusts (`|result, this| ...`: a receive's truncated datagram).
macro_rules! winsock_methods {
    ($sock:ident) => {
        $crate::driver::op::wsa::winsock_methods!($sock, |result, _this| result);
    };
    ($sock:ident, |$result:ident, $this:ident| $adjust:expr) => {
        fn readiness_wait(&self) -> $crate::driver::op::ReadinessWait {
            $crate::driver::op::ReadinessWait::Never
        }

        fn iocp_handle(&self) -> Option<$crate::driver::op::RawIocpHandle> {
            Some($crate::driver::op::wsa::handle(self.$sock))
        }

        fn iocp_result(&self, overlapped: *mut windows_sys::Win32::System::IO::OVERLAPPED) -> i32 {
            let $result = $crate::driver::op::wsa::result(self.$sock, overlapped);
            let $this = self;
            $adjust
        }
    };
}
pub(crate) use winsock_methods;

/// How the return of `WSARecv`, `WSASend` and their kin says the start went.
pub(crate) fn started(rc: i32) -> IocpStart {
    if rc != SOCKET_ERROR {
        // Done at once; its packet comes all the same (Zokio never skips it).
        return IocpStart::Pending;
    }
    last_error_start()
}

/// How a `BOOL`-returning extension (`AcceptEx`, `ConnectEx`) says the start went.
pub(crate) fn started_bool(ok: i32) -> IocpStart {
    if ok != 0 {
        return IocpStart::Pending;
    }
    last_error_start()
}

fn last_error_start() -> IocpStart {
    // SAFETY: reads this thread's last Winsock error, right after the call that set it.
    match unsafe { WSAGetLastError() } {
        // A datagram too long for the buffer ends the receive with a warning status,
        // for which the system still queues the packet.
        WSA_IO_PENDING | WSAEMSGSIZE => IocpStart::Pending,
        code => IocpStart::Failed(code as u32),
    }
}

/// The count a finished operation on `socket` moved, or `-error` (Winsock's code).
pub(crate) fn result(socket: RawSock, overlapped: *mut OVERLAPPED) -> i32 {
    let mut count = 0u32;
    let mut flags = 0u32;
    // SAFETY: the operation keeps the socket open; its `OVERLAPPED` is finished, so
    // nothing writes it any more; the counts are live.
    let ok =
        unsafe { WSAGetOverlappedResult(socket as SOCKET, overlapped, &mut count, 0, &mut flags) };
    if ok == 0 {
        // SAFETY: as in `last_error_start`.
        return -(unsafe { WSAGetLastError() }).max(1);
    }
    count.min(i32::MAX as u32) as i32
}

/// A receive's result, with a datagram longer than the buffer made what Unix makes
/// of it: the buffer's worth, the rest dropped. (Winsock fills the buffer, drops
/// the rest and says `WSAEMSGSIZE`, with a count that cannot be relied on.)
pub(crate) fn received(result: i32, room: usize) -> i32 {
    if result == -WSAEMSGSIZE {
        return room.min(MAX_RW) as i32;
    }
    result
}

/// `socket` borrowed, for `socket2`'s calls (`SockRef::from(&borrowed(..))`).
pub(crate) fn borrowed(socket: &RawSock) -> std::os::windows::io::BorrowedSocket<'_> {
    // SAFETY: an operation's owner keeps its socket open while the operation
    // lives, and the borrow lasts no longer than the operation's own field.
    unsafe { std::os::windows::io::BorrowedSocket::borrow_raw(*socket) }
}

/// A socket as the handle `CancelIoEx` takes.
pub(crate) fn handle(socket: RawSock) -> RawIocpHandle {
    socket as usize as RawIocpHandle
}

/// A receive into a buffer with no room: on Windows it would wait for data and
/// then take none of it, so it is refused.
pub(crate) fn no_room(op: &str, socket: RawSock) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{op} on socket {socket}: the buffer has no room (capacity 0); give it capacity \
             first, e.g. `Vec::with_capacity(4096)`"
        ),
    )
}

/// A stream send of no bytes: a no-op that write-all loops would spin on.
pub(crate) fn nothing_to_write(op: &str, socket: RawSock) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{op} on socket {socket}: the buffer is empty (length 0); there is nothing to write"
        ),
    )
}

/// The address of the extension function `guid` names (`WSAID_ACCEPTEX`...), asked
/// of `socket`'s provider once per process and kept in `slot`.
pub(crate) fn extension(
    slot: &OnceLock<usize>,
    socket: RawSock,
    guid: windows_sys::core::GUID,
    name: &str,
) -> io::Result<usize> {
    if let Some(found) = slot.get() {
        return Ok(*found);
    }
    let mut found = 0usize;
    let mut returned = 0u32;
    // SAFETY: the input is the GUID and the output a pointer-sized slot, both live
    // for the call, with their sizes; no overlapped I/O.
    let rc = unsafe {
        WSAIoctl(
            socket as SOCKET,
            SIO_GET_EXTENSION_FUNCTION_POINTER,
            (&guid as *const windows_sys::core::GUID).cast(),
            std::mem::size_of::<windows_sys::core::GUID>() as u32,
            (&mut found as *mut usize).cast(),
            std::mem::size_of::<usize>() as u32,
            &mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
    if rc == SOCKET_ERROR || found == 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(
            err.kind(),
            format!("Winsock did not provide {name}: {err}"),
        ));
    }
    Ok(*slot.get_or_init(|| found))
}
