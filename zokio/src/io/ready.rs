//! `Ready` (tokio's own type, see `mod.rs`): the sets that answer an interest, a
//! compact form for atomic caches, and on Unix the reading of the `poll(2)`/`epoll`
//! event bits that the readiness drivers report, as tokio reads epoll's (only
//! descriptors have those). Must never know how a driver waits.

#[cfg(unix)]
use super::interest::POLLRDHUP;
use tokio::io::{Interest, Ready};

/// What the drivers and readiness caches need from a `Ready` beyond tokio's API.
pub(crate) trait ReadyExt: Sized {
    /// Every readiness that answers `interest` (a closed side answers it too).
    fn answering_set(interest: Interest) -> Ready;
    /// The part of `self` that answers `interest`.
    fn answering(self, interest: Interest) -> Ready;
    /// What `poll(2)` reported, as tokio reads the same bits from epoll.
    #[cfg(unix)]
    fn from_poll_events(bits: u32) -> Ready;
    /// A compact form, for an atomic word (`from_bits` reads it back).
    fn to_bits(self) -> usize;
    /// The readiness `to_bits` gave; bits it never sets are ignored.
    fn from_bits(bits: usize) -> Ready;
}

/// Each readiness, in the bit order of the compact form. `PRIORITY` exists only
/// where tokio has it (Linux, Android); elsewhere its bit stays unused.
const EACH: [Ready; 6] = [
    Ready::READABLE,
    Ready::WRITABLE,
    Ready::READ_CLOSED,
    Ready::WRITE_CLOSED,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Ready::PRIORITY,
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    Ready::EMPTY,
    Ready::ERROR,
];

impl ReadyExt for Ready {
    fn answering_set(interest: Interest) -> Ready {
        let mut ready = Ready::EMPTY;
        if interest.is_readable() {
            ready |= Ready::READABLE | Ready::READ_CLOSED;
        }
        if interest.is_writable() {
            ready |= Ready::WRITABLE | Ready::WRITE_CLOSED;
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if interest.is_priority() {
            ready |= Ready::PRIORITY | Ready::READ_CLOSED;
        }
        if interest.is_error() {
            ready |= Ready::ERROR;
        }
        ready
    }

    fn answering(self, interest: Interest) -> Ready {
        self & Ready::answering_set(interest)
    }

    #[cfg(unix)]
    fn from_poll_events(bits: u32) -> Ready {
        let has = |flag: i16| bits & flag as u16 as u32 != 0;
        let mut ready = Ready::EMPTY;
        if has(libc::POLLIN) || has(libc::POLLPRI) {
            ready |= Ready::READABLE;
        }
        if has(libc::POLLOUT) {
            ready |= Ready::WRITABLE;
        }
        if has(libc::POLLHUP) || (has(libc::POLLIN) && has(POLLRDHUP)) {
            ready |= Ready::READ_CLOSED;
        }
        let error_only = bits == libc::POLLERR as u32;
        if has(libc::POLLHUP) || (has(libc::POLLOUT) && has(libc::POLLERR)) || error_only {
            ready |= Ready::WRITE_CLOSED;
        }
        if has(libc::POLLERR) {
            ready |= Ready::ERROR;
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if has(libc::POLLPRI) {
            ready |= Ready::PRIORITY;
        }
        ready
    }

    fn to_bits(self) -> usize {
        EACH.iter()
            .enumerate()
            .filter(|(_, one)| !one.is_empty() && self & **one == **one)
            .fold(0, |bits, (at, _)| bits | 1 << at)
    }

    fn from_bits(bits: usize) -> Ready {
        EACH.iter()
            .enumerate()
            .filter(|(at, _)| bits & (1 << at) != 0)
            .fold(Ready::EMPTY, |ready, (_, one)| ready | *one)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn from(flags: i16) -> Ready {
        Ready::from_poll_events(flags as u16 as u32)
    }

    #[test]
    fn miri_poll_results_read_as_tokio_reads_epoll() {
        assert_eq!(from(libc::POLLIN), Ready::READABLE);
        assert_eq!(from(libc::POLLOUT), Ready::WRITABLE);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            assert_eq!(from(libc::POLLPRI), Ready::READABLE | Ready::PRIORITY);
            assert_eq!(
                from(libc::POLLIN | libc::POLLRDHUP),
                Ready::READABLE | Ready::READ_CLOSED
            );
            assert_eq!(from(libc::POLLRDHUP), Ready::EMPTY);
        }
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
            Ready::ALL.answering(Interest::READABLE),
            Ready::READABLE | Ready::READ_CLOSED
        );
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert_eq!(
            Ready::ALL.answering(Interest::PRIORITY),
            Ready::PRIORITY | Ready::READ_CLOSED
        );
        assert_eq!(Ready::ALL.answering(Interest::ERROR), Ready::ERROR);
        assert_eq!(Ready::from_bits(usize::MAX), Ready::ALL);
        for one in EACH {
            assert_eq!(Ready::from_bits(one.to_bits()), one);
        }
        assert_eq!(Ready::from_bits(Ready::ALL.to_bits()), Ready::ALL);
        assert!(Ready::EMPTY < Ready::READABLE && Ready::READABLE < Ready::ERROR);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert_eq!(
            format!("{:?}", Ready::READABLE),
            "Ready { is_readable: true, is_writable: false, is_read_closed: false, \
             is_write_closed: false, is_error: false, is_priority: false }"
        );
    }
}
