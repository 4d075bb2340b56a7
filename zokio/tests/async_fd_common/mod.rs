//! Helpers for the `AsyncFd` tests: descriptors made by hand with plain system
//! calls (pipes, socket pairs, eventfds, pseudo-terminals) and switched to
//! non-blocking mode with `fcntl`, and reads and writes on them.
#![allow(dead_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

fn check(rc: libc::c_int, what: &str) -> RawFd {
    assert!(rc >= 0, "{what} failed: {}", io::Error::last_os_error());
    rc
}

/// Switch `fd` to non-blocking mode by hand.
pub fn set_nonblocking(fd: &OwnedFd) {
    // SAFETY: fcntl on a descriptor the caller owns; results are checked.
    let flags = check(
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) },
        "F_GETFL",
    );
    // SAFETY: as above.
    check(
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) },
        "F_SETFL",
    );
}

/// A pipe `(read end, write end)` made blocking, then set non-blocking by hand.
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors.
    check(unsafe { libc::pipe(fds.as_mut_ptr()) }, "pipe");
    // SAFETY: fresh descriptors, owned by nobody else.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    set_nonblocking(&ends.0);
    set_nonblocking(&ends.1);
    ends
}

/// A connected pair of Unix stream sockets, set non-blocking by hand.
pub fn socketpair() -> (OwnedFd, OwnedFd) {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors.
    check(
        unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) },
        "socketpair",
    );
    // SAFETY: fresh descriptors, owned by nobody else.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    set_nonblocking(&ends.0);
    set_nonblocking(&ends.1);
    ends
}

/// A non-blocking eventfd (macOS has none).
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
pub fn eventfd() -> OwnedFd {
    // SAFETY: plain system call; the result is checked.
    let fd = check(unsafe { libc::eventfd(0, 0) }, "eventfd");
    // SAFETY: a fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    set_nonblocking(&fd);
    fd
}

/// A pseudo-terminal `(master, slave)`, both non-blocking, or `None` where the
/// system has none to give (no `/dev/ptmx` in a sandbox).
pub fn pty() -> Option<(OwnedFd, OwnedFd)> {
    // SAFETY: plain system calls on descriptors owned here; results are checked.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        if master < 0 {
            return None;
        }
        let master = OwnedFd::from_raw_fd(master);
        if libc::grantpt(master.as_raw_fd()) != 0 || libc::unlockpt(master.as_raw_fd()) != 0 {
            return None;
        }
        let mut name = [0 as libc::c_char; 128];
        #[cfg(not(any(target_vendor = "apple", target_os = "openbsd")))]
        if libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) != 0 {
            return None;
        }
        // `libc` offers no `ptsname_r` for macOS or OpenBSD: the static buffer of
        // `ptsname`, copied at once (the tests that open terminals do not race on it).
        #[cfg(any(target_vendor = "apple", target_os = "openbsd"))]
        {
            let shared = libc::ptsname(master.as_raw_fd());
            if shared.is_null() {
                return None;
            }
            let len = libc::strlen(shared).min(name.len() - 1);
            std::ptr::copy_nonoverlapping(shared, name.as_mut_ptr(), len);
        }
        let slave = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        if slave < 0 {
            return None;
        }
        let slave = OwnedFd::from_raw_fd(slave);
        // Raw mode: bytes pass as they are, with no line buffering or echo.
        let mut attrs = std::mem::zeroed::<libc::termios>();
        if libc::tcgetattr(slave.as_raw_fd(), &mut attrs) == 0 {
            libc::cfmakeraw(&mut attrs);
            libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &attrs);
        }
        set_nonblocking(&master);
        set_nonblocking(&slave);
        Some((master, slave))
    }
}

/// One `read(2)`.
pub fn read(fd: &impl AsRawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes of writes.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// One `write(2)`.
pub fn write(fd: &impl AsRawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes of reads.
    let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Write until the kernel would block; returns how many bytes went in.
pub fn fill(fd: &impl AsRawFd) -> usize {
    let chunk = [0u8; 4096];
    let mut total = 0;
    loop {
        match write(fd, &chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
            Err(e) => panic!("filling fd {} failed: {e}", fd.as_raw_fd()),
        }
    }
}

/// Read until the kernel would block; returns how many bytes came out.
pub fn drain(fd: &impl AsRawFd) -> usize {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    loop {
        match read(fd, &mut buf) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
            Err(e) => panic!("draining fd {} failed: {e}", fd.as_raw_fd()),
        }
    }
}

/// How long a wait must stay pending for the test to call it "not ready". Only a
/// wrong early return fails within it; a correct test never waits longer.
pub const STAYS_PENDING: Duration = Duration::from_millis(30);

/// Whether `wait` is still pending after [`STAYS_PENDING`].
pub async fn stays_pending<F: std::future::Future>(wait: F) -> bool {
    zokio::time::timeout(STAYS_PENDING, wait).await.is_err()
}
