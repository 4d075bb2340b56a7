//! `UCred`: the credentials of the process at the other end of a Unix stream, as
//! the kernel recorded them when the connection was made (`SO_PEERCRED`). Must never
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

    /// The process's ID (always known on Linux).
    pub fn pid(&self) -> Option<pid_t> {
        self.pid
    }
}

/// The peer credentials of the connected Unix socket `fd`.
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
