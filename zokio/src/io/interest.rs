//! `Interest` (tokio's own type, see `mod.rs`) translated into the `poll(2)`/`epoll`
//! event bits that the readiness drivers take (Unix: only descriptors have those).
//! Must never know how a driver waits.

use tokio::io::Interest;

/// What the drivers need from an `Interest` beyond tokio's API.
pub(crate) trait InterestExt: Sized {
    /// The interests in both sets, if any.
    fn common_with(self, other: Interest) -> Option<Interest>;
    /// The `poll(2)` events to ask the kernel for. Readable also asks for `POLLRDHUP`
    /// (a peer's half close), which the kernel only reports when asked; an error is
    /// always reported, so it adds nothing.
    fn poll_events(self) -> u32;
}

/// The `POLLRDHUP` bit where the kernel has it (Linux, Android): a peer's half close.
/// Other systems report it through `POLLHUP` or not at all, so nothing is asked.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const POLLRDHUP: i16 = libc::POLLRDHUP;
/// See the Linux definition.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const POLLRDHUP: i16 = 0;

/// Each interest on its own, with whether a set holds it. `PRIORITY` exists only
/// where tokio has it (Linux, Android: out-of-band data through `POLLPRI`).
fn each(interest: Interest) -> impl Iterator<Item = (bool, Interest)> {
    [
        (interest.is_readable(), Interest::READABLE),
        (interest.is_writable(), Interest::WRITABLE),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        (interest.is_priority(), Interest::PRIORITY),
        (interest.is_error(), Interest::ERROR),
    ]
    .into_iter()
}

impl InterestExt for Interest {
    fn common_with(self, other: Interest) -> Option<Interest> {
        each(self)
            .zip(each(other))
            .filter(|((mine, _), (theirs, _))| *mine && *theirs)
            .map(|((_, one), _)| one)
            .reduce(|all, one| all | one)
    }

    fn poll_events(self) -> u32 {
        let mut bits = 0;
        if self.is_readable() {
            bits |= libc::POLLIN | POLLRDHUP;
        }
        if self.is_writable() {
            bits |= libc::POLLOUT;
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.is_priority() {
            bits |= libc::POLLPRI;
        }
        bits as u16 as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn miri_intersections() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert_eq!(
            both.common_with(Interest::WRITABLE),
            Some(Interest::WRITABLE)
        );
        assert_eq!(both.common_with(both | Interest::ERROR), Some(both));
        assert_eq!(Interest::READABLE.common_with(Interest::ERROR), None);
    }

    #[test]
    fn miri_sets_combine_and_split() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert!(both.is_readable() && both.is_writable() && !both.is_error());
        assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
        assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let mut all = Interest::PRIORITY;
            all |= Interest::ERROR;
            assert!(all.is_priority() && all.is_error() && !all.is_readable());
        }
        assert_eq!(format!("{both:?}"), "READABLE | WRITABLE");
        assert_eq!(format!("{:?}", Interest::ERROR), "ERROR");
    }

    #[test]
    fn miri_poll_bits_ask_for_what_the_kernel_does_not_always_report() {
        let read = Interest::READABLE.poll_events();
        assert_eq!(read, (libc::POLLIN | POLLRDHUP) as u32);
        assert_eq!(Interest::ERROR.poll_events(), 0);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert_eq!(
            (Interest::WRITABLE | Interest::PRIORITY).poll_events(),
            (libc::POLLOUT | libc::POLLPRI) as u32
        );
    }
}
