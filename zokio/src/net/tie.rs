//! Windows: which completion port each socket reports to. A socket is tied to one
//! port for life (`CreateIoCompletionPort` cannot undo it), so a socket handed back
//! to `std` (`into_std`) and adopted again (`from_std`) must go back to the driver
//! it was tied to. This file remembers that: a table from socket to driver, filled
//! when a socket is tied and emptied when a `TiedSocket` closes it. Tying is always
//! tried first; the table is only asked when the system says the socket is tied
//! already, so an entry left behind by a socket `std` closed can never misdirect a
//! new socket that reuses the number. Must never wait.

use std::collections::HashMap;
use std::io;
use std::mem::ManuallyDrop;
use std::os::windows::io::{AsRawSocket, AsSocket, BorrowedSocket, OwnedSocket, RawSocket};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use windows_sys::Win32::Foundation::ERROR_INVALID_PARAMETER;

use crate::driver::context;
use crate::driver::DriverShared;

static TIED: Mutex<Option<HashMap<RawSocket, Weak<DriverShared>>>> = Mutex::new(None);

fn table<R>(f: impl FnOnce(&mut HashMap<RawSocket, Weak<DriverShared>>) -> R) -> R {
    let mut table = TIED.lock().unwrap_or_else(PoisonError::into_inner);
    f(table.get_or_insert_with(HashMap::new))
}

fn tie_error(err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        format!(
            "tying a socket to the runtime's I/O completion port failed: {err} (a socket \
             reports to one port for life: was it used by another runtime, or another \
             library?)"
        ),
    )
}

/// A socket tied to a driver's completion port; closing it forgets the tie.
pub(crate) struct TiedSocket {
    socket: ManuallyDrop<OwnedSocket>,
    driver: Weak<DriverShared>,
}

impl TiedSocket {
    /// Tie `socket` to this thread's driver (or, if it is tied already, find the
    /// driver it reports to); the socket and that driver.
    pub(crate) fn tie(socket: OwnedSocket) -> io::Result<(TiedSocket, Arc<DriverShared>)> {
        let raw = socket.as_raw_socket();
        let driver = context::current_driver()?;
        match driver.completion_port().associate(raw as usize as _) {
            Ok(()) => {
                table(|t| t.insert(raw, Arc::downgrade(&driver)));
                Ok((TiedSocket::new(socket, &driver), driver))
            }
            Err(err) if err.raw_os_error() == Some(ERROR_INVALID_PARAMETER as i32) => {
                match table(|t| t.get(&raw).and_then(Weak::upgrade)) {
                    Some(earlier) if !earlier.is_closed() => {
                        Ok((TiedSocket::new(socket, &earlier), earlier))
                    }
                    Some(_) => Err(io::Error::other(
                        "this socket reports to the completion port of a Zokio runtime that \
                         has shut down, and a socket reports to one port for life: make a new \
                         socket in this runtime",
                    )),
                    None => Err(tie_error(err)),
                }
            }
            Err(err) => Err(tie_error(err)),
        }
    }

    fn new(socket: OwnedSocket, driver: &Arc<DriverShared>) -> TiedSocket {
        TiedSocket {
            socket: ManuallyDrop::new(socket),
            driver: Arc::downgrade(driver),
        }
    }

    /// Give the socket back, still tied (its driver stays in the table, for a
    /// later `tie` of the same socket).
    pub(crate) fn into_inner(self) -> OwnedSocket {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the socket is taken out once; the
        // weak driver is dropped with it.
        unsafe {
            std::ptr::drop_in_place(&mut this.driver);
            ManuallyDrop::take(&mut this.socket)
        }
    }

    /// A second handle on the same socket, which reports to the same port (the
    /// tie belongs to the socket, not the handle): the table learns it too.
    pub(crate) fn duplicate(&self) -> io::Result<OwnedSocket> {
        let copy = self.socket.as_socket().try_clone_to_owned()?;
        table(|t| t.insert(copy.as_raw_socket(), self.driver.clone()));
        Ok(copy)
    }
}

impl AsSocket for TiedSocket {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.socket.as_socket()
    }
}

impl AsRawSocket for TiedSocket {
    fn as_raw_socket(&self) -> RawSocket {
        self.socket.as_raw_socket()
    }
}

impl Drop for TiedSocket {
    fn drop(&mut self) {
        let raw = self.socket.as_raw_socket();
        table(|t| t.remove(&raw));
        // SAFETY: dropped once, here; the table forgot the socket first, so a new
        // socket that reuses the number is tied afresh.
        unsafe { ManuallyDrop::drop(&mut self.socket) };
    }
}
