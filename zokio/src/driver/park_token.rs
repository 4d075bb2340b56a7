//! The park token of a driver: whether its owner is asleep, and where, so that a
//! wake-up costs a system call only when someone is there to wake.
//!
//! As with a thread parker, a wake-up is a token: `unpark` leaves NOTIFIED, a park
//! that finds it returns at once, and only an unpark that finds its owner asleep asks
//! its caller for a system call: an eventfd write for an owner asleep in its driver's
//! kernel wait (PARKED), a futex wake for one asleep on the token itself
//! (PARKED_QUIET: a driver with nothing in flight has no completion to wait for, and a
//! futex is the cheapest sleep to wake from). The protocol must never lose a wake-up
//! that comes after the owner decided to sleep; the loom model below checks both
//! sleeps. This file knows nothing of descriptors: the caller writes and sleeps.

use crate::loom::sync::atomic::{AtomicU32, Ordering::SeqCst};

const EMPTY: u32 = 0;
const PARKED: u32 = 1;
const NOTIFIED: u32 = 2;
const PARKED_QUIET: u32 = 3;

/// What an `unpark` asks of its caller.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "the owner may be asleep and need waking"]
pub(crate) enum Wake {
    /// The owner is awake, or already has a wake-up: nothing.
    Nothing,
    /// The owner sleeps in its driver's kernel wait: write its eventfd.
    KernelWait,
    /// The owner sleeps on the token (`park_quiet`): wake one futex waiter on it.
    Futex,
}

pub(crate) struct ParkToken(AtomicU32);

impl ParkToken {
    pub(crate) fn new() -> ParkToken {
        ParkToken(AtomicU32::new(EMPTY))
    }

    /// Take a pending wake-up without sleeping; true if there was one.
    pub(crate) fn take_notification(&self) -> bool {
        self.0
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
    }

    /// About to sleep in the kernel wait. False if a wake-up came first (it is
    /// consumed).
    pub(crate) fn begin_park(&self) -> bool {
        self.begin(PARKED)
    }

    /// About to sleep on the token itself (the caller's futex wait on `futex_word`,
    /// while the word says PARKED_QUIET). False if a wake-up came first (it is
    /// consumed).
    #[cfg(target_os = "linux")]
    pub(crate) fn begin_park_quiet(&self) -> bool {
        self.begin(PARKED_QUIET)
    }

    fn begin(&self, asleep: u32) -> bool {
        match self.0.compare_exchange(EMPTY, asleep, SeqCst, SeqCst) {
            Ok(_) => true,
            Err(_) => {
                self.0.swap(EMPTY, SeqCst);
                false
            }
        }
    }

    /// Whether the owner still sleeps on the token: no wake-up has come since
    /// `begin_park_quiet` (what a futex wait checks, for the loom model and tests).
    #[cfg(all(test, target_os = "linux"))]
    pub(crate) fn is_parked_quiet(&self) -> bool {
        self.0.load(SeqCst) == PARKED_QUIET
    }

    /// The word a quiet park waits on, and the value it waits while the word holds.
    #[cfg(all(not(loom), target_os = "linux"))]
    pub(crate) fn futex_word(&self) -> (*const u32, u32) {
        (self.0.as_ptr().cast_const(), PARKED_QUIET)
    }

    /// Loom's atomics have no address for the kernel: its models sleep and wake
    /// through `ModelledWait` instead, and never reach a real futex.
    #[cfg(loom)]
    pub(crate) fn futex_word(&self) -> (*const u32, u32) {
        unreachable!("a loom model reached a real futex")
    }

    /// Back from either sleep; a wake-up that raced in is consumed with it.
    pub(crate) fn end_park(&self) {
        self.0.swap(EMPTY, SeqCst);
    }

    /// Leave a wake-up, and say what it takes to reach the owner.
    pub(crate) fn unpark(&self) -> Wake {
        match self.0.swap(NOTIFIED, SeqCst) {
            PARKED => Wake::KernelWait,
            PARKED_QUIET => Wake::Futex,
            _ => Wake::Nothing,
        }
    }
}

/// A driver's park token with its sleeps modelled for loom: a counter stands in for
/// the eventfd, and an owner parked in the kernel wait spins (yielding to loom) until
/// it is non-zero; an owner parked quietly spins until the token leaves PARKED_QUIET,
/// as a futex wait returns once its word changes. Shared by the loom models of
/// everything that wakes a driver.
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

    /// The waker's side: leave a wake-up, writing the "eventfd" if the owner sleeps
    /// in the kernel wait (the futex wake of a quiet sleeper is the token's change).
    pub(crate) fn unpark(&self) {
        if self.token.unpark() == Wake::KernelWait {
            self.eventfd.fetch_add(1, SeqCst);
        }
    }

    /// The owner's side with nothing in flight: sleep on the token unless a wake-up
    /// is already there.
    pub(crate) fn park_quiet(&self) {
        if self.token.begin_park_quiet() {
            while self.token.is_parked_quiet() {
                loom::thread::yield_now();
            }
            self.token.end_park();
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

        /// One turn of the owner: sleep unless work or a wake-up is already there,
        /// in the kernel wait or on the token, as the driver's in-flight work says.
        fn turn(&self, quiet: bool) {
            if !self.work.load(SeqCst) {
                if quiet {
                    self.wait.park_quiet();
                } else {
                    self.wait.park();
                }
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

    /// Another thread publishes work, then unparks, while the owner turns until it
    /// sees the work, each turn sleeping in the kernel wait or, where `quiet(turn)`,
    /// on the token.
    fn wake_while_the_owner_turns(quiet: impl Fn(usize) -> bool) -> Arc<Driver> {
        let driver = Arc::new(Driver::new());
        let waker = {
            let driver = driver.clone();
            thread::spawn(move || {
                driver.work.store(true, SeqCst);
                driver.unpark();
            })
        };
        let mut turn = 0;
        while !driver.work.load(SeqCst) {
            driver.turn(quiet(turn));
            turn += 1;
        }
        waker.join().unwrap();
        driver
    }

    #[test]
    fn loom_park_token_never_loses_a_wake_up() {
        model(|| {
            wake_while_the_owner_turns(|_| false);
        });
    }

    #[test]
    fn loom_park_token_never_loses_a_wake_up_of_either_sleep() {
        model(|| {
            // The sleeps alternate (the driver's in-flight work comes and goes);
            // neither may sleep through the wake-up.
            let driver = wake_while_the_owner_turns(|turn| turn % 2 == 0);
            assert_eq!(
                driver.wait.eventfd.load(SeqCst),
                0,
                "every eventfd write was read by a kernel park"
            );
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
