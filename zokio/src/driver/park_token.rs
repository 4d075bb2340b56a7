//! The park token of a driver: whether its owner is asleep in the kernel, so that a
//! wake-up costs a system call (the eventfd write) only when someone is there to wake.
//!
//! As with a thread parker, a wake-up is a token: `unpark` leaves NOTIFIED, a park
//! that finds it returns at once, and only an unpark that finds PARKED asks its caller
//! to write the eventfd. The protocol must never lose a wake-up that comes after the
//! owner decided to sleep; the loom model below checks that. This file knows nothing
//! of descriptors: the caller does the write and the sleep.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

pub(crate) struct ParkToken(AtomicUsize);

impl ParkToken {
    pub(crate) fn new() -> ParkToken {
        ParkToken(AtomicUsize::new(EMPTY))
    }

    /// Take a pending wake-up without sleeping; true if there was one.
    pub(crate) fn take_notification(&self) -> bool {
        self.0
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
    }

    /// About to sleep in the kernel. False if a wake-up came first (it is consumed).
    pub(crate) fn begin_park(&self) -> bool {
        match self.0.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => true,
            Err(_) => {
                self.0.swap(EMPTY, SeqCst);
                false
            }
        }
    }

    /// Back from the kernel; a wake-up that raced in is consumed with it.
    pub(crate) fn end_park(&self) {
        self.0.swap(EMPTY, SeqCst);
    }

    /// Leave a wake-up; true if the owner sleeps in the kernel and must be woken there.
    #[must_use = "a true answer means the caller must wake the kernel wait"]
    pub(crate) fn unpark(&self) -> bool {
        self.0.swap(NOTIFIED, SeqCst) == PARKED
    }
}

/// A driver's park token with its kernel wait modelled for loom: a counter stands in
/// for the eventfd, and the parked owner spins (yielding to loom) until it is non-zero.
/// Shared by the loom models of everything that wakes a driver.
#[cfg(all(test, loom))]
pub(crate) struct ModelledWait {
    token: ParkToken,
    eventfd: loom::sync::atomic::AtomicUsize,
}

#[cfg(all(test, loom))]
impl ModelledWait {
    pub(crate) fn new() -> ModelledWait {
        ModelledWait {
            token: ParkToken::new(),
            eventfd: loom::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The waker's side: leave a wake-up, writing the "eventfd" if the owner sleeps.
    pub(crate) fn unpark(&self) {
        if self.token.unpark() {
            self.eventfd.fetch_add(1, SeqCst);
        }
    }

    /// The owner's side, once it found nothing to do: sleep unless a wake-up is
    /// already there.
    pub(crate) fn park(&self) {
        if self.token.begin_park() {
            while self.eventfd.load(SeqCst) == 0 {
                loom::thread::yield_now();
            }
            self.eventfd.store(0, SeqCst);
            self.token.end_park();
        }
    }
}

#[cfg(all(test, loom))]
mod loom_park_token {
    //! The owner checks for work, then parks; another thread publishes work, then
    //! unparks. The kernel wait is modelled by a counter standing in for the eventfd:
    //! the owner sleeps until it is non-zero. If a wake-up were lost, the owner would
    //! wait forever, which loom reports.

    use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use loom::sync::Arc;
    use loom::thread;

    use super::ModelledWait;

    struct Driver {
        wait: ModelledWait,
        work: AtomicBool,
    }

    impl Driver {
        fn new() -> Driver {
            Driver {
                wait: ModelledWait::new(),
                work: AtomicBool::new(false),
            }
        }

        fn unpark(&self) {
            self.wait.unpark();
        }

        /// One turn of the owner: sleep unless work or a wake-up is already there.
        fn turn(&self) {
            if !self.work.load(SeqCst) {
                self.wait.park();
            }
        }
    }

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(3);
        }
        builder.check(f);
    }

    #[test]
    fn loom_park_token_never_loses_a_wake_up() {
        model(|| {
            let driver = Arc::new(Driver::new());
            let waker = {
                let driver = driver.clone();
                thread::spawn(move || {
                    driver.work.store(true, SeqCst);
                    driver.unpark();
                })
            };
            // The owner turns until it sees the work; each turn may sleep.
            while !driver.work.load(SeqCst) {
                driver.turn();
            }
            waker.join().unwrap();
        });
    }

    #[test]
    fn loom_park_token_two_wakers_leave_one_token() {
        model(|| {
            let driver = Arc::new(Driver::new());
            let wakers: Vec<_> = (0..2)
                .map(|_| {
                    let driver = driver.clone();
                    thread::spawn(move || driver.unpark())
                })
                .collect();
            for waker in wakers {
                waker.join().unwrap();
            }
            // Both wake-ups landed before the park: it returns at once, consuming the
            // one token they left, and a second check finds none.
            assert!(!driver.wait.token.begin_park());
            assert!(!driver.wait.token.take_notification());
            assert_eq!(
                driver.wait.eventfd.load(SeqCst),
                0,
                "no one slept, no write"
            );
        });
    }
}
