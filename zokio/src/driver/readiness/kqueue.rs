//! The kqueue backend of the readiness core (macOS, iOS, FreeBSD, NetBSD, OpenBSD,
//! DragonFly), through the `polling` crate, which is tested upstream on those
//! systems; this project's own machines run only Linux, so this file stays as thin
//! as a backend can be.
//!
//! Each descriptor is registered one-shot for reading, writing or both; the wake-up
//! is `polling`'s notification, an `EVFILT_USER` event on kqueue, posted through
//! the driver's shared part. kqueue reports end-of-file and errors as readiness in
//! the direction that was asked, which is what the core's waiters need: their system
//! call then reports the error. This file must never keep waiters: the core does.

use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use polling::{Event, Events, Poller};

use super::Selector;
use crate::driver::shared::DriverShared;

const EVENTS_PER_WAIT: usize = 256;

pub(crate) struct Kqueue {
    poller: Arc<Poller>,
    events: Events,
}

fn interest_event(fd: RawFd, interest: u32) -> Event {
    let readable = interest & (libc::POLLIN | libc::POLLPRI) as u32 != 0;
    let writable = interest & libc::POLLOUT as u32 != 0;
    Event::new(fd as usize, readable, writable)
}

fn code(err: io::Error) -> i32 {
    err.raw_os_error().unwrap_or(libc::EIO)
}

impl Kqueue {
    #[cfg(kqueue)]
    pub(crate) fn new(shared: &DriverShared) -> io::Result<Kqueue> {
        Ok(Kqueue {
            poller: shared.poller().clone(),
            events: Events::with_capacity(NonZeroUsize::new(EVENTS_PER_WAIT).unwrap()),
        })
    }
}

impl Selector for Kqueue {
    fn arm_is_a_syscall(&self) -> bool {
        true
    }

    fn arm(&mut self, fd: RawFd, interest: u32, known: bool) -> Result<(), i32> {
        if fd < 0 {
            // Not a descriptor at all (borrowing it would panic): as the kernel would.
            return Err(libc::EBADF);
        }
        let event = interest_event(fd, interest);
        // SAFETY: the core arms only descriptors an operation waits on, which its
        // owner keeps open while the operation is in flight; kqueue forgets a
        // descriptor by itself when it is closed, so no registration outlives it.
        let add = |poller: &Poller| unsafe { poller.add(fd, event) };
        // SAFETY: as above: `fd` is open for as long as this call.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let result = if known {
            match self.poller.modify(borrowed, event) {
                // Closed and its number reused since it was armed here.
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => add(&self.poller),
                other => other,
            }
        } else {
            match add(&self.poller) {
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                    self.poller.modify(borrowed, event)
                }
                other => other,
            }
        };
        result.map_err(code)
    }

    fn wait(
        &mut self,
        _shared: &DriverShared,
        timeout: Option<Duration>,
        ready: &mut Vec<(RawFd, u32)>,
    ) -> usize {
        self.events.clear();
        match self.poller.wait(&mut self.events, timeout) {
            Ok(n) => {
                for event in self.events.iter() {
                    let mut bits = 0;
                    if event.readable {
                        bits |= libc::POLLIN as u32;
                    }
                    if event.writable {
                        bits |= libc::POLLOUT as u32;
                    }
                    ready.push((event.key as RawFd, bits));
                }
                n
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => {
                log::error!("kqueue wait failed: {e}");
                0
            }
        }
    }
}

/// The adapter's logic (interest to filters, the add/modify fall-backs, events to
/// poll bits, one-shot reports) run on Linux, where `polling` drives epoll instead
/// of kqueue: what differs on kqueue is `polling`'s, which its own CI runs there.
#[cfg(all(test, not(kqueue)))]
mod tests {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    use super::*;
    use crate::driver::DriverKind;

    const IN: u32 = libc::POLLIN as u32;
    const OUT: u32 = libc::POLLOUT as u32;

    fn selector() -> Kqueue {
        Kqueue {
            poller: Arc::new(Poller::new().unwrap()),
            events: Events::with_capacity(NonZeroUsize::new(EVENTS_PER_WAIT).unwrap()),
        }
    }

    fn wait(s: &mut Kqueue, millis: u64) -> Vec<(RawFd, u32)> {
        let shared = DriverShared::new(DriverKind::Epoll).unwrap();
        let mut ready = Vec::new();
        s.wait(&shared, Some(Duration::from_millis(millis)), &mut ready);
        ready
    }

    fn pair() -> (UnixStream, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        (a, b)
    }

    #[test]
    fn readiness_is_reported_once_until_armed_again() {
        let (a, mut b) = pair();
        let fd = a.as_raw_fd();
        let mut s = selector();
        s.arm(fd, IN, false).unwrap();
        assert!(wait(&mut s, 0).is_empty(), "nothing to read yet");
        b.write_all(b"x").unwrap();
        assert_eq!(wait(&mut s, 5_000), [(fd, IN)]);
        assert!(
            wait(&mut s, 20).is_empty(),
            "one-shot: silent until armed again"
        );
        // Armed again (a modify, since it is known here): still unread, so reported.
        s.arm(fd, IN, true).unwrap();
        assert_eq!(wait(&mut s, 5_000), [(fd, IN)]);
    }

    #[test]
    fn both_directions_map_to_poll_bits() {
        let (a, mut b) = pair();
        let fd = a.as_raw_fd();
        let mut s = selector();
        s.arm(fd, OUT, false).unwrap();
        assert_eq!(wait(&mut s, 5_000), [(fd, OUT)]);
        b.write_all(b"x").unwrap();
        s.arm(fd, IN | OUT, true).unwrap();
        assert_eq!(wait(&mut s, 5_000), [(fd, IN | OUT)]);
    }

    #[test]
    fn a_second_first_arm_modifies_and_a_reused_number_is_added_again() {
        let (a, b) = pair();
        let fd = a.as_raw_fd();
        let mut s = selector();
        s.arm(fd, IN, false).unwrap();
        // Registered already: the add fails with EEXIST and becomes a modify.
        s.arm(fd, OUT, false).unwrap();
        assert_eq!(wait(&mut s, 5_000), [(fd, OUT)]);
        // Closed, and the number handed out again: the modify fails with ENOENT and
        // becomes an add.
        drop((a, b));
        let (c, mut d) = pair();
        assert_eq!(c.as_raw_fd(), fd, "the lowest free number is reused");
        s.arm(fd, IN, true).unwrap();
        d.write_all(b"y").unwrap();
        assert_eq!(wait(&mut s, 5_000), [(fd, IN)]);
    }

    #[test]
    fn an_invalid_descriptor_is_the_waiters_error() {
        let mut s = selector();
        assert_eq!(s.arm(-1, IN, false), Err(libc::EBADF));
        // A number no descriptor has.
        assert_eq!(s.arm(1 << 20, IN, false), Err(libc::EBADF));
    }

    #[test]
    fn a_notification_ends_a_wait_with_nothing_ready() {
        let mut s = selector();
        let poller = s.poller.clone();
        let notifier = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            poller.notify().unwrap();
        });
        let shared = DriverShared::new(DriverKind::Epoll).unwrap();
        let mut ready = Vec::new();
        s.wait(&shared, None, &mut ready);
        assert!(ready.is_empty());
        notifier.join().unwrap();
    }
}
