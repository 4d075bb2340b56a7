//! `Interest`: which readiness a caller wants to wait for, with tokio's names and
//! semantics, and its translation into the `poll(2)`/`epoll` event bits that both
//! drivers take. Must never know how a driver waits.

use std::fmt;
use std::ops;

// The bit layout is Zokio's own; only the names and behaviour follow tokio.
const READABLE: u8 = 0b0001;
const WRITABLE: u8 = 0b0010;
const PRIORITY: u8 = 0b0100;
const ERROR: u8 = 0b1000;

/// Which readiness to wait for: a set of [`READABLE`](Interest::READABLE),
/// [`WRITABLE`](Interest::WRITABLE), [`PRIORITY`](Interest::PRIORITY) and
/// [`ERROR`](Interest::ERROR), combined with `|`. Never empty.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Interest(u8);

impl Interest {
    /// Data to read. Also satisfied when the read side closed (a read returns 0).
    pub const READABLE: Interest = Interest(READABLE);

    /// Room to write. Also satisfied when the write side closed (a write fails).
    pub const WRITABLE: Interest = Interest(WRITABLE);

    /// An error is pending on the descriptor (for example a socket's error queue has
    /// an entry). The kernel reports errors whatever else is asked for.
    pub const ERROR: Interest = Interest(ERROR);

    /// Priority data: TCP out-of-band data, or an exceptional condition of a
    /// pseudo-terminal or a `sysfs` attribute (`POLLPRI`).
    pub const PRIORITY: Interest = Interest(PRIORITY);

    /// Whether the set includes readable interest.
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// Whether the set includes writable interest.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// Whether the set includes error interest.
    pub const fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }

    /// Whether the set includes priority interest.
    pub const fn is_priority(self) -> bool {
        self.0 & PRIORITY != 0
    }

    /// The union of two sets; usable in a `const` context, unlike `|`.
    #[must_use = "this returns the union, without modifying `self`"]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `self` without the interests of `other`, or `None` if nothing is left (an
    /// `Interest` is never empty).
    #[must_use = "this returns the difference, without modifying `self`"]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        let left = self.0 & !other.0;
        (left != 0).then_some(Interest(left))
    }

    /// The interests of both sets, or `None` if they share none.
    pub(crate) fn intersection(self, other: Interest) -> Option<Interest> {
        let both = self.0 & other.0;
        (both != 0).then_some(Interest(both))
    }

    /// The `poll(2)` event mask to wait with (the same bits serve `epoll` and io_uring's
    /// `POLL_ADD`). Readable interest also asks for `POLLRDHUP`, so that a peer's
    /// shutdown shows as read-closed. Errors and hang-ups need no bit: the kernel
    /// always reports them, so error interest alone is the empty mask.
    pub(crate) fn poll_bits(self) -> u32 {
        let mut bits = 0;
        if self.is_readable() {
            bits |= libc::POLLIN | libc::POLLRDHUP;
        }
        if self.is_writable() {
            bits |= libc::POLLOUT;
        }
        if self.is_priority() {
            bits |= libc::POLLPRI;
        }
        bits as u32
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

/// As tokio's: the names of the interests in the set, joined by `" | "`.
impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.is_readable(), "READABLE"),
            (self.is_writable(), "WRITABLE"),
            (self.is_priority(), "PRIORITY"),
            (self.is_error(), "ERROR"),
        ];
        let mut first = true;
        for (_, name) in names.iter().filter(|(set, _)| *set) {
            if !first {
                f.write_str(" | ")?;
            }
            f.write_str(name)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn miri_sets_combine_and_split() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert!(both.is_readable() && both.is_writable() && !both.is_error());
        assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
        assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
        let mut all = Interest::PRIORITY;
        all |= Interest::ERROR;
        assert!(all.is_priority() && all.is_error() && !all.is_readable());
        assert_eq!(format!("{both:?}"), "READABLE | WRITABLE");
        assert_eq!(format!("{:?}", Interest::ERROR), "ERROR");
    }

    #[test]
    fn miri_poll_bits_ask_for_what_the_kernel_does_not_always_report() {
        let read = Interest::READABLE.poll_bits();
        assert_eq!(read, (libc::POLLIN | libc::POLLRDHUP) as u32);
        assert_eq!(Interest::ERROR.poll_bits(), 0);
        assert_eq!(
            (Interest::WRITABLE | Interest::PRIORITY).poll_bits(),
            (libc::POLLOUT | libc::POLLPRI) as u32
        );
    }
}
