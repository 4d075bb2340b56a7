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
