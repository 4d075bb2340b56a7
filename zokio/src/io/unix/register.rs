//! Whether a descriptor can be given to `AsyncFd` at all, and the errors of
//! `AsyncFd`: a failed registration (which hands the object back) and a `try_io`
//! that would block.
//!
//! tokio registers a descriptor with its epoll instance when an `AsyncFd` is made,
//! so a descriptor epoll refuses (a regular file, a directory, a closed number) is
//! refused there. Zokio waits with poll operations only when asked, and io_uring
//! would poll a regular file happily; so that a program meets the same errors on
//! either driver, and at the same call as on tokio, registration asks a private
//! epoll instance whether it would take the descriptor. Nothing here may keep a
//! descriptor registered.

use std::error::Error;
use std::fmt;
use std::io;
use std::os::fd::RawFd;

/// A descriptor `AsyncFd` cannot wait on, with what to do about it.
#[derive(Debug)]
struct NotPollable {
    fd: RawFd,
    os: io::Error,
}

impl fmt::Display for NotPollable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AsyncFd cannot wait for the readiness of fd {}: {}",
            self.fd, self.os
        )?;
        match self.os.raw_os_error() {
            Some(libc::EPERM) => f.write_str(
                " (a regular file or a directory is never waited for: use `zokio::fs` or \
                 blocking I/O for it)",
            ),
            Some(libc::EBADF) => f.write_str(" (it is not an open descriptor)"),
            _ => Ok(()),
        }
    }
}

impl Error for NotPollable {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.os)
    }
}

/// Ok if epoll would wait on `fd`; otherwise the error, of the OS error's kind
/// (`PermissionDenied` for a regular file, as tokio's), with the OS error as its
/// source.
#[cfg(target_os = "linux")]
pub(super) fn check_pollable(fd: RawFd) -> io::Result<()> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::OnceLock;

    // One instance for the whole process, made on first use and never waited on;
    // every registration is removed again at once.
    static PROBE: OnceLock<OwnedFd> = OnceLock::new();
    let probe = match PROBE.get() {
        Some(probe) => probe,
        None => {
            // SAFETY: plain system call; the result is checked.
            let made = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
            if made < 0 {
                let os = io::Error::last_os_error();
                return Err(io::Error::new(
                    os.kind(),
                    format!("AsyncFd could not make an epoll instance to check fd {fd}: {os}"),
                ));
            }
            // SAFETY: a fresh descriptor that nothing else owns. A thread that lost
            // the race to fill `PROBE` drops its own instance here, closing it.
            let made = unsafe { OwnedFd::from_raw_fd(made) };
            PROBE.get_or_init(|| made)
        }
    };
    let mut event = libc::epoll_event { events: 0, u64: 0 };
    // SAFETY: `event` is a valid epoll_event; a bad `fd` is reported through the
    // return value.
    let rc = unsafe { libc::epoll_ctl(probe.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) };
    if rc < 0 {
        let os = io::Error::last_os_error();
        // Another thread is checking the same descriptor right now: it is pollable.
        if os.raw_os_error() == Some(libc::EEXIST) {
            return Ok(());
        }
        return Err(io::Error::new(os.kind(), NotPollable { fd, os }));
    }
    // SAFETY: as above. Only a concurrent check of the same descriptor can have
    // removed it first, which leaves nothing to undo.
    unsafe { libc::epoll_ctl(probe.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut event) };
    Ok(())
}

/// Without epoll, anything `poll(2)` accepts: only a closed number is refused.
#[cfg(not(target_os = "linux"))]
pub(super) fn check_pollable(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl(F_GETFD) only reads the descriptor's flags.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        let os = io::Error::last_os_error();
        return Err(io::Error::new(os.kind(), NotPollable { fd, os }));
    }
    Ok(())
}

/// Why `AsyncFd::register` failed, with the object it was given, so that nothing is
/// lost.
pub struct AsyncFdRegisterError<T> {
    inner: T,
    cause: io::Error,
}

/// The former name of [`AsyncFdRegisterError`], kept as tokio keeps it.
#[doc(hidden)]
#[deprecated(note = "use `AsyncFdRegisterError` instead")]
pub type AsyncFdTryNewError<T> = AsyncFdRegisterError<T>;

impl<T> AsyncFdRegisterError<T> {
    pub(super) fn new(inner: T, cause: io::Error) -> AsyncFdRegisterError<T> {
        AsyncFdRegisterError { inner, cause }
    }

    /// The object given to `register`, and why it could not be registered.
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> fmt::Display for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> fmt::Debug for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.cause, f)
    }
}

impl<T> Error for AsyncFdRegisterError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.cause)
    }
}

impl<T> From<AsyncFdRegisterError<T>> for io::Error {
    fn from(error: AsyncFdRegisterError<T>) -> io::Error {
        error.cause
    }
}

/// A guard's `try_io` found that the operation would block; the guard's readiness
/// was cleared, so wait for readiness again.
#[derive(Debug)]
pub struct TryIoError(());

impl TryIoError {
    pub(super) fn new() -> TryIoError {
        TryIoError(())
    }
}
