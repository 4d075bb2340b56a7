//! `Ready`: what a descriptor turned out to be ready for, with tokio's names and
//! semantics, and its translation from the `poll(2)`/`epoll` event bits that both
//! drivers report. Must never know how a driver waits.

use std::fmt;
use std::ops;

use super::Interest;

// The same order of bits as tokio's, so that `Ord` sorts sets the same way.
const READABLE: usize = 0b00_0001;
const WRITABLE: usize = 0b00_0010;
const READ_CLOSED: usize = 0b00_0100;
const WRITE_CLOSED: usize = 0b00_1000;
const PRIORITY: usize = 0b01_0000;
const ERROR: usize = 0b10_0000;

/// A set of readiness states of a descriptor, combined with `|` and taken apart with
/// `-`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ready(usize);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);

    /// Data to read.
    pub const READABLE: Ready = Ready(READABLE);

    /// Room to write.
    pub const WRITABLE: Ready = Ready(WRITABLE);

    /// The read side closed: the peer shut down writing, or hung up.
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);

    /// The write side closed: the peer is gone, or an error ended writing.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);

    /// Priority data (`POLLPRI`).
    pub const PRIORITY: Ready = Ready(PRIORITY);

    /// An error is pending.
    pub const ERROR: Ready = Ready(ERROR);

    /// Every readiness state.
    pub const ALL: Ready =
        Ready(READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | PRIORITY | ERROR);

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self == Ready::EMPTY
    }

    /// Readable, or read-closed (a read will not wait: it returns data or 0).
    pub fn is_readable(self) -> bool {
        self.contains(Ready::READABLE) || self.is_read_closed()
    }

    /// Writable, or write-closed (a write will not wait: it succeeds or fails).
    pub fn is_writable(self) -> bool {
        self.contains(Ready::WRITABLE) || self.is_write_closed()
    }

    /// The read side closed.
    pub fn is_read_closed(self) -> bool {
        self.contains(Ready::READ_CLOSED)
    }

    /// The write side closed.
    pub fn is_write_closed(self) -> bool {
        self.contains(Ready::WRITE_CLOSED)
    }

    /// Priority data is waiting.
    pub fn is_priority(self) -> bool {
        self.contains(Ready::PRIORITY)
    }

    /// An error is pending.
    pub fn is_error(self) -> bool {
        self.contains(Ready::ERROR)
    }

    fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }

    /// The states that answer `interest`: readable interest is answered by readable
    /// and read-closed, writable by writable and write-closed, priority by priority
    /// and read-closed, error by error.
    pub(crate) fn from_interest(interest: Interest) -> Ready {
        let mut ready = Ready::EMPTY;
        if interest.is_readable() {
            ready |= Ready::READABLE | Ready::READ_CLOSED;
        }
        if interest.is_writable() {
            ready |= Ready::WRITABLE | Ready::WRITE_CLOSED;
        }
        if interest.is_priority() {
            ready |= Ready::PRIORITY | Ready::READ_CLOSED;
        }
        if interest.is_error() {
            ready |= Ready::ERROR;
        }
        ready
    }

    /// The part of `self` that answers `interest`.
    pub(crate) fn intersection(self, interest: Interest) -> Ready {
        self & Ready::from_interest(interest)
    }

    /// The states a `poll(2)`/`epoll` result reports, read as tokio reads epoll's
    /// (through mio): priority data also counts as readable; a hang-up closes both
    /// sides; `POLLRDHUP` closes the read side only together with `POLLIN`; an error
    /// closes the write side when it comes with `POLLOUT` or alone.
    /// `POLLNVAL` (not a descriptor) is no readiness: the poll operation turns it
    /// into an error before it gets here.
    pub(crate) fn from_poll_bits(bits: u32) -> Ready {
        let has = |flag: i16| bits & flag as u16 as u32 != 0;
        let mut ready = Ready::EMPTY;
        if has(libc::POLLIN) || has(libc::POLLPRI) {
            ready |= Ready::READABLE;
        }
        if has(libc::POLLOUT) {
            ready |= Ready::WRITABLE;
        }
        if has(libc::POLLHUP) || (has(libc::POLLIN) && has(libc::POLLRDHUP)) {
            ready |= Ready::READ_CLOSED;
        }
        let error_only = bits == libc::POLLERR as u32;
        if has(libc::POLLHUP) || (has(libc::POLLOUT) && has(libc::POLLERR)) || error_only {
            ready |= Ready::WRITE_CLOSED;
        }
        if has(libc::POLLERR) {
            ready |= Ready::ERROR;
        }
        if has(libc::POLLPRI) {
            ready |= Ready::PRIORITY;
        }
        ready
    }

    /// The raw bits, for storing a set in an atomic.
    pub(crate) fn as_usize(self) -> usize {
        self.0
    }

    /// A set back from [`Ready::as_usize`] (bits outside [`Ready::ALL`] are dropped).
    pub(crate) fn from_usize(bits: usize) -> Ready {
        Ready(bits & Ready::ALL.0)
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;

    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

/// The states of `self` that are not in `other`.
impl ops::Sub for Ready {
    type Output = Ready;

    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

/// As tokio's: a struct of the `is_*` answers.
impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("is_readable", &self.is_readable())
            .field("is_writable", &self.is_writable())
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .field("is_error", &self.is_error())
            .field("is_priority", &self.is_priority())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(flags: i16) -> Ready {
        Ready::from_poll_bits(flags as u16 as u32)
    }

    #[test]
    fn miri_poll_results_read_as_tokio_reads_epoll() {
        assert_eq!(from(libc::POLLIN), Ready::READABLE);
        assert_eq!(from(libc::POLLOUT), Ready::WRITABLE);
        assert_eq!(from(libc::POLLPRI), Ready::READABLE | Ready::PRIORITY);
        assert_eq!(
            from(libc::POLLIN | libc::POLLRDHUP),
            Ready::READABLE | Ready::READ_CLOSED
        );
        assert_eq!(from(libc::POLLRDHUP), Ready::EMPTY);
        assert_eq!(
            from(libc::POLLHUP),
            Ready::READ_CLOSED | Ready::WRITE_CLOSED
        );
        assert_eq!(from(libc::POLLERR), Ready::ERROR | Ready::WRITE_CLOSED);
        assert_eq!(
            from(libc::POLLIN | libc::POLLERR),
            Ready::READABLE | Ready::ERROR
        );
        assert!(from(libc::POLLHUP).is_readable() && from(libc::POLLHUP).is_writable());
    }

    #[test]
    fn miri_sets_combine_subtract_and_answer_interests() {
        let both = Ready::READABLE | Ready::WRITABLE;
        assert_eq!(both - Ready::READABLE, Ready::WRITABLE);
        assert!((both - Ready::ALL).is_empty());
        assert_eq!(both & Ready::WRITABLE, Ready::WRITABLE);
        assert!(Ready::READ_CLOSED.is_readable() && !Ready::READ_CLOSED.is_writable());
        assert_eq!(
            Ready::ALL.intersection(Interest::READABLE),
            Ready::READABLE | Ready::READ_CLOSED
        );
        assert_eq!(
            Ready::ALL.intersection(Interest::PRIORITY),
            Ready::PRIORITY | Ready::READ_CLOSED
        );
        assert_eq!(Ready::ALL.intersection(Interest::ERROR), Ready::ERROR);
        assert_eq!(Ready::from_usize(usize::MAX), Ready::ALL);
        assert!(Ready::EMPTY < Ready::READABLE && Ready::READABLE < Ready::ERROR);
        assert_eq!(
            format!("{:?}", Ready::READABLE),
            "Ready { is_readable: true, is_writable: false, is_read_closed: false, \
             is_write_closed: false, is_error: false, is_priority: false }"
        );
    }
}
