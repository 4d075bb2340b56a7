//! `accept`: take the next connection from a listening socket. The new descriptor is
//! non-blocking and close-on-exec. A connection accepted after the future was dropped
//! goes to the listener's stash for the next `accept`, never lost or leaked. Must
//! never touch the listener's own flags.

use std::io;
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
use std::os::fd::{AsRawFd, IntoRawFd};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex, PoisonError};

use super::addr::RawAddr;
use super::{cvt, with_context, OpKind, ReadinessWait};

/// Connections accepted for futures that were dropped, kept for the next `accept`.
pub(crate) type Stash = Arc<Mutex<Vec<(OwnedFd, RawAddr)>>>;

pub(crate) struct Accept {
    fd: RawFd,
    peer: RawAddr,
    stash: Stash,
    /// A ring serves the operation, so its result is a new descriptor. On epoll
    /// the result is only readiness: the task runs `accept4` itself, and an
    /// operation dropped in between accepted nothing.
    on_ring: bool,
}

impl Accept {
    pub(crate) fn new(fd: RawFd, stash: Stash) -> Accept {
        Accept {
            fd,
            peer: RawAddr::empty(),
            stash,
            on_ring: false,
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
const FLAGS: libc::c_int = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;

/// One `accept4(2)` that makes the new descriptor non-blocking and close-on-exec
/// in the same call. Returns the new descriptor.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn accept_raw(fd: RawFd, peer: &mut RawAddr) -> io::Result<usize> {
    // SAFETY: the address storage and its length are borrowed from `peer` for the
    // whole call.
    cvt(unsafe { libc::accept4(fd, peer.storage_mut(), &mut peer.len, FLAGS) } as isize)
}

/// Without `accept4(2)` (macOS): a plain `accept(2)`, then the flags are set on the
/// new descriptor. A `fork` in another thread between the two calls could inherit
/// it; the flags are set before anyone else can see the descriptor, so nothing else
/// in this process ever sees it blocking.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn accept_raw(fd: RawFd, peer: &mut RawAddr) -> io::Result<usize> {
    // SAFETY: the address storage and its length are borrowed from `peer` for the
    // whole call.
    let new = cvt(unsafe { libc::accept(fd, peer.storage_mut(), &mut peer.len) } as isize)?;
    // SAFETY: a successful accept returns a new descriptor that nothing owns yet;
    // owning it here closes it if setting its flags fails.
    let owned = unsafe { OwnedFd::from_raw_fd(new as RawFd) };
    crate::net::sys::set_nonblocking_cloexec(owned.as_raw_fd())?;
    Ok(owned.into_raw_fd() as usize)
}

/// Accept a connection that is already waiting, with one non-blocking accept
/// (`WouldBlock` when none is). The listener drains a burst of connections this
/// way instead of paying a ring round trip for each; it waits on the ring.
pub(crate) fn accept_now(fd: RawFd) -> io::Result<(OwnedFd, RawAddr)> {
    let mut peer = RawAddr::empty();
    let result = accept_raw(fd, &mut peer);
    match result {
        // SAFETY: a successful accept returns a new descriptor that nothing owns yet.
        Ok(new) => Ok((unsafe { OwnedFd::from_raw_fd(new as RawFd) }, peer)),
        Err(e) => Err(with_context(e, "accept", fd)),
    }
}

impl OpKind for Accept {
    type Output = io::Result<(OwnedFd, RawAddr)>;

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        self.on_ring = true;
        io_uring::opcode::Accept::new(
            io_uring::types::Fd(self.fd),
            self.peer.storage_mut(),
            &mut self.peer.len,
        )
        .flags(FLAGS)
        .build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Fd {
            fd: self.fd,
            events: libc::POLLIN as u32,
            then_run: true,
        }
    }

    fn run_ready(&mut self) -> io::Result<usize> {
        accept_raw(self.fd, &mut self.peer)
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        match result {
            // SAFETY: a successful accept returns a new descriptor that nothing owns yet.
            Ok(fd) => Ok((unsafe { OwnedFd::from_raw_fd(fd as RawFd) }, self.peer)),
            Err(e) => Err(with_context(e, "accept", self.fd)),
        }
    }

    fn abandoned(&mut self, result: i32) {
        if self.on_ring && result >= 0 {
            // SAFETY: the connection was accepted for a future that is gone; nobody
            // else knows this descriptor.
            let fd = unsafe { OwnedFd::from_raw_fd(result) };
            // Kept for the listener's next `accept` (accept is cancel-safe, as in
            // tokio); closed with the stash if the listener is gone too.
            self.stash
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((fd, self.peer));
        }
    }
}
