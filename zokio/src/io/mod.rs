//! Completion-based I/O on raw descriptors: owned buffers (`IoBuf`, `IoBufMut`),
//! readiness (`Interest`, `Ready`) and the operations in [`ops`].
//!
//! These are the runtime's native operations: on io_uring each is one submission
//! entry, on epoll a system call made once the descriptor is ready. They take buffers
//! by value and give them back with the result, `(io::Result<usize>, B)`, because the
//! kernel may still use a buffer after a future is dropped; Zokio keeps it until the
//! kernel is done. Higher layers (`net`, `fs`) build on them. Nothing in this module
//! may block a worker.

mod buf;
pub mod ops;
mod tail;

pub(crate) use tail::{until_done, Tail};

pub use buf::{IoBuf, IoBufMut};

/// An operation's result together with the buffer it used.
pub type BufResult<T, B> = (std::io::Result<T>, B);

/// Which readiness to wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest(u32);

impl Interest {
    /// Data to read, or end of file, or a peer that closed.
    pub const READABLE: Interest = Interest(libc::POLLIN as u32);
    /// Room to write.
    pub const WRITABLE: Interest = Interest(libc::POLLOUT as u32);
    /// Out-of-band or priority data.
    pub const PRIORITY: Interest = Interest(libc::POLLPRI as u32);

    /// Both interests.
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    pub(crate) fn poll_bits(self) -> u32 {
        self.0
    }
}

impl std::ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

/// What a descriptor turned out to be ready for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ready(u32);

impl Ready {
    pub(crate) fn from_poll_bits(bits: u32) -> Ready {
        Ready(bits)
    }

    /// Readable (or read-closed, or in error: a read will not block).
    pub fn is_readable(self) -> bool {
        self.0 & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) as u32 != 0
    }

    /// Writable (or in error: a write will not block).
    pub fn is_writable(self) -> bool {
        self.0 & (libc::POLLOUT | libc::POLLERR) as u32 != 0
    }

    /// Priority data is waiting.
    pub fn is_priority(self) -> bool {
        self.0 & libc::POLLPRI as u32 != 0
    }

    /// The peer hung up.
    pub fn is_read_closed(self) -> bool {
        self.0 & (libc::POLLHUP | libc::POLLRDHUP) as u32 != 0
    }

    /// The descriptor has an error pending.
    pub fn is_error(self) -> bool {
        self.0 & libc::POLLERR as u32 != 0
    }

    pub(crate) fn is_invalid(self) -> bool {
        self.0 & libc::POLLNVAL as u32 != 0
    }
}

impl std::fmt::Debug for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ready")
            .field("readable", &self.is_readable())
            .field("writable", &self.is_writable())
            .field("read_closed", &self.is_read_closed())
            .field("error", &self.is_error())
            .finish()
    }
}
