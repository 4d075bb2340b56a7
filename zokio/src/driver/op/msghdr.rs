//! `MsgHdr`: the `msghdr` + `iovec` pair that `recv_from` and `send_to` hand to
//! io_uring, kept inside the operation's heap cell so that its pointers stay valid
//! until the completion. Must never point anywhere but into the operation that owns it.

/// A message header whose pointers are filled in right before submission, when the
/// operation already sits at its final address. Without io_uring (not Linux) only
/// `recv_from`'s reading of `msg` is left, so the rest is unused there.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) struct MsgHdr {
    pub(crate) msg: libc::msghdr,
    pub(crate) iov: libc::iovec,
}

// SAFETY: the raw pointers in `msg` and `iov` only ever point into the operation that
// owns this header (its buffer and address), which moves between threads as a whole;
// nothing is shared through them.
unsafe impl Send for MsgHdr {}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
impl MsgHdr {
    pub(crate) fn new() -> MsgHdr {
        MsgHdr {
            // SAFETY: `msghdr` is plain data; all zeroes is an empty header.
            msg: unsafe { std::mem::zeroed() },
            iov: libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            },
        }
    }

    /// Point the header at one buffer and an address, and return it for the entry.
    pub(crate) fn fill(
        &mut self,
        base: *mut u8,
        len: usize,
        name: *mut libc::sockaddr,
        name_len: libc::socklen_t,
    ) -> *mut libc::msghdr {
        self.iov = libc::iovec {
            iov_base: base.cast(),
            iov_len: len,
        };
        self.msg.msg_iov = &mut self.iov;
        self.msg.msg_iovlen = 1;
        self.msg.msg_name = name.cast();
        self.msg.msg_namelen = name_len;
        &mut self.msg
    }
}
