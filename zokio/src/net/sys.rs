//! Making sockets the way every Zokio socket must start: non-blocking and
//! close-on-exec, and on Apple systems unable to raise `SIGPIPE`. Where the kernel
//! takes those flags in the creating call (`SOCK_NONBLOCK | SOCK_CLOEXEC`: Linux,
//! Android, FreeBSD) they are set there; elsewhere (macOS) they are set right after,
//! before the socket is handed to anyone. Nothing here may wait or do I/O.

use std::io;
#[cfg(unix)]
use std::os::fd::RawFd;

use socket2::{Domain, Protocol, Socket, Type};

/// Whether the kernel takes `SOCK_NONBLOCK | SOCK_CLOEXEC` in `socket(2)`,
/// `socketpair(2)` and `accept4(2)`.
macro_rules! with_sock_flags {
    ($($item:item)*) => {
        $(
            #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
            $item
        )*
    };
}

macro_rules! without_sock_flags {
    ($($item:item)*) => {
        $(
            #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
            $item
        )*
    };
}

with_sock_flags! {
    /// A new non-blocking, close-on-exec socket.
    pub(crate) fn socket(domain: Domain, ty: Type, protocol: Option<Protocol>) -> io::Result<Socket> {
        Socket::new(domain, ty.nonblocking().cloexec(), protocol)
    }

    /// A connected pair of non-blocking, close-on-exec sockets.
    pub(crate) fn pair(domain: Domain, ty: Type) -> io::Result<(Socket, Socket)> {
        Socket::pair(domain, ty.nonblocking().cloexec(), None)
    }
}

without_sock_flags! {
    /// A new non-blocking, close-on-exec socket. `socket2` already sets
    /// close-on-exec (and on Apple systems `SO_NOSIGPIPE`) in `Socket::new`; the
    /// non-blocking mode is set here. On Windows `socket2` makes it overlapped, as
    /// IOCP needs, and not inherited by child processes.
    pub(crate) fn socket(domain: Domain, ty: Type, protocol: Option<Protocol>) -> io::Result<Socket> {
        let socket = Socket::new(domain, ty, protocol)?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }

    /// A connected pair of non-blocking, close-on-exec sockets (flags as in `socket`).
    #[cfg(unix)]
    pub(crate) fn pair(domain: Domain, ty: Type) -> io::Result<(Socket, Socket)> {
        let (a, b) = Socket::pair(domain, ty, None)?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        Ok((a, b))
    }
}

/// Make `fd` non-blocking and close-on-exec, for a descriptor that a call without
/// flags (`accept(2)` on macOS) just made.
#[cfg(unix)]
#[cfg_attr(
    any(target_os = "linux", target_os = "android", target_os = "freebsd"),
    allow(dead_code)
)]
pub(crate) fn set_nonblocking_cloexec(fd: RawFd) -> io::Result<()> {
    let failed = |what: &str| {
        let os = io::Error::last_os_error();
        io::Error::new(
            os.kind(),
            format!("making the new socket fd {fd} {what} failed: {os}"),
        )
    };
    // SAFETY: fcntl on a descriptor number only reads or sets its flags; a bad
    // number is reported through the return value.
    let status = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if status < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, status | libc::O_NONBLOCK) } < 0 {
        return Err(failed("non-blocking"));
    }
    // SAFETY: as above.
    let fd_flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    // SAFETY: as above.
    if fd_flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFD, fd_flags | libc::FD_CLOEXEC) } < 0 {
        return Err(failed("close-on-exec"));
    }
    Ok(())
}
