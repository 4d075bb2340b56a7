//! loom models of the operation cell's protocol: a driver thread completing a cell
//! while the future side re-registers its waker, takes the result or gives the cell
//! up. loom checks every interleaving for data races on the cell's contents (waker,
//! result, data); drop counters check that each cell's data is dropped exactly once.

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Wake, Waker};

use loom::thread;

use super::cell::{self, OpHeader, OwnedCell};
use super::{OpKind, ReadinessWait};

struct Counted(std::sync::Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

impl OpKind for Counted {
    type Output = ();

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::Nop::new().build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn complete(self, _result: io::Result<usize>) {}
}

struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn waker() -> (std::sync::Arc<Count>, Waker) {
    let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}

struct Sent(NonNull<OpHeader>);
// SAFETY: the header is Send + Sync; the model hands it to the "driver" thread.
unsafe impl Send for Sent {}

fn new_cell(drops: &std::sync::Arc<AtomicUsize>, waker: Waker) -> OwnedCell<Counted> {
    OwnedCell::new(Counted(drops.clone()), waker)
}

/// The future re-registers a new waker while the driver completes: if the
/// registration went in first, the new waker (only) is woken; either way the result
/// is there once the driver is done, and the data is dropped once.
#[test]
fn loom_register_races_with_completion() {
    loom::model(|| {
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        let (first, first_waker) = waker();
        let (second, second_waker) = waker();
        let cell = new_cell(&drops, first_waker);
        let header = Sent(cell.header());
        let driver = thread::spawn(move || {
            let header = header;
            // SAFETY: the one completion of this cell.
            unsafe { cell::complete(header.0, 5) };
        });
        let still_waiting = cell.register(&second_waker);
        driver.join().unwrap();
        if still_waiting {
            assert_eq!(second.0.load(SeqCst), 1);
            assert_eq!(first.0.load(SeqCst), 0);
        }
        let (kind, result) = cell.try_take().ok().expect("complete after the join");
        assert_eq!(result, 5);
        drop(kind);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// The future takes the result as soon as it sees it, while the driver may still be
/// finishing its completion.
#[test]
fn loom_take_races_with_completion() {
    loom::model(|| {
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        let (_count, w) = waker();
        let cell = new_cell(&drops, w);
        let header = Sent(cell.header());
        let driver = thread::spawn(move || {
            let header = header;
            // SAFETY: the one completion of this cell.
            unsafe { cell::complete(header.0, 1) };
        });
        let taken = match cell.try_take() {
            Ok((kind, result)) => {
                assert_eq!(result, 1);
                drop(kind);
                None
            }
            Err(cell) => Some(cell),
        };
        driver.join().unwrap();
        if let Some(cell) = taken {
            let (kind, _) = cell.try_take().ok().expect("complete after the join");
            drop(kind);
        }
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// The future is dropped (with or without a queued cancel) while the driver
/// completes: exactly one side drops the data, once.
#[test]
fn loom_abandon_races_with_completion() {
    for queue in [false, true] {
        loom::model(move || {
            let drops = std::sync::Arc::new(AtomicUsize::new(0));
            let (_count, w) = waker();
            let cell = new_cell(&drops, w);
            let header = Sent(cell.header());
            let raw = header.0;
            let driver = thread::spawn(move || {
                let header = header;
                // SAFETY: the one completion of this cell.
                unsafe { cell::complete(header.0, -libc::ECANCELED) };
            });
            let driver_holds = cell.abandon(queue);
            driver.join().unwrap();
            if driver_holds && queue {
                // The driver reaches the queued cancel after the completion.
                // SAFETY: the one queued cancel of this cell.
                assert!(!unsafe { cell::take_cancel_request(raw) });
            }
            assert_eq!(drops.load(SeqCst), 1);
        });
    }
}

/// The eager path: a cell submitted with no waker, whose future then registers one
/// while the driver completes. If the registration went in first, that waker is
/// woken once by the driver. Otherwise `register` says not to wait, and wakes the
/// waker itself (at most once) only when the completion was still under way.
#[test]
fn loom_unwatched_register_races_with_completion() {
    loom::model(|| {
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        let (count, w) = waker();
        let cell = OwnedCell::unwatched(Counted(drops.clone()));
        let header = Sent(cell.header());
        let driver = thread::spawn(move || {
            let header = header;
            // SAFETY: the one completion of this cell.
            unsafe { cell::complete(header.0, 2) };
        });
        let still_waiting = cell.register(&w);
        driver.join().unwrap();
        let woken = count.0.load(SeqCst);
        if still_waiting {
            assert_eq!(woken, 1);
        } else {
            assert!(woken <= 1);
        }
        let (kind, result) = cell.try_take().ok().expect("complete after the join");
        assert_eq!(result, 2);
        drop(kind);
        assert_eq!(drops.load(SeqCst), 1);
    });
}
