//! `UCred`: the credentials of the process at the other end of a Unix stream, as
//! the kernel recorded them when the connection was made (`SO_PEERCRED` on Linux,
//! `getpeereid` and `LOCAL_PEERPID` on macOS, `getpeereid` elsewhere). Must never
//! trust anything the peer sent: only what the kernel says.

use std::io;
use std::os::fd::RawFd;

/// A user ID.
#[allow(non_camel_case_types)]
pub type uid_t = u32;
/// A group ID.
#[allow(non_camel_case_types)]
pub type gid_t = u32;
/// A process ID.
#[allow(non_camel_case_types)]
pub type pid_t = i32;

/// The credentials of a process.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct UCred {
    pid: Option<pid_t>,
    uid: uid_t,
    gid: gid_t,
}

impl UCred {
    /// The process's user ID.
    pub fn uid(&self) -> uid_t {
        self.uid
    }

    /// The process's group ID.
    pub fn gid(&self) -> gid_t {
        self.gid
    }

    /// The process's ID: always known on Linux and macOS; `None` on the other
    /// BSDs, whose kernels do not say it.
    pub fn pid(&self) -> Option<pid_t> {
        self.pid
    }
}

/// The peer credentials of the connected Unix socket `fd`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn peer_cred(fd: RawFd) -> io::Result<UCred> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let size = std::mem::size_of::<libc::ucred>();
    let mut len = size as libc::socklen_t;
    // SAFETY: `cred` and `len` live on this frame for the call, and `len` holds
    // `cred`'s size, so the kernel writes at most that many bytes into it.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        let e = io::Error::last_os_error();
        return Err(crate::driver::op::with_context(
            e,
            "getsockopt(SO_PEERCRED)",
            fd,
        ));
    }
    if len as usize != size {
        return Err(io::Error::other(format!(
            "the kernel answered SO_PEERCRED with {len} bytes instead of {size}"
        )));
    }
    Ok(UCred {
        pid: Some(cred.pid),
        uid: cred.uid,
        gid: cred.gid,
    })
}

/// The peer credentials of the connected Unix socket `fd`: the effective user and
/// group from `getpeereid(3)`, and on Apple systems the process ID from
/// `LOCAL_PEERPID` (other BSDs have no such option: the ID stays unknown).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn peer_cred(fd: RawFd) -> io::Result<UCred> {
    let (mut uid, mut gid) = (0, 0);
    // SAFETY: `uid` and `gid` live on this frame for the call; the function writes
    // one id into each.
    if unsafe { libc::getpeereid(fd, &mut uid, &mut gid) } != 0 {
        let e = io::Error::last_os_error();
        return Err(crate::driver::op::with_context(e, "getpeereid", fd));
    }
    Ok(UCred {
        pid: peer_pid(fd)?,
        uid,
        gid,
    })
}

#[cfg(target_vendor = "apple")]
fn peer_pid(fd: RawFd) -> io::Result<Option<pid_t>> {
    let mut pid: libc::pid_t = 0;
    let size = std::mem::size_of::<libc::pid_t>();
    let mut len = size as libc::socklen_t;
    // SAFETY: `pid` and `len` live on this frame for the call, and `len` holds
    // `pid`'s size, so the kernel writes at most that many bytes into it.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_LOCAL,
            libc::LOCAL_PEERPID,
            (&mut pid as *mut libc::pid_t).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        let e = io::Error::last_os_error();
        return Err(crate::driver::op::with_context(
            e,
            "getsockopt(LOCAL_PEERPID)",
            fd,
        ));
    }
    Ok((len as usize == size).then_some(pid))
}

#[cfg(not(any(target_vendor = "apple", target_os = "linux", target_os = "android")))]
fn peer_pid(_fd: RawFd) -> io::Result<Option<pid_t>> {
    Ok(None)
}
