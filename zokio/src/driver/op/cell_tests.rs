//! Tests of the operation cell's ownership protocol without a kernel: a fake driver
//! completes, cancels and frees cells from another thread while the future side takes
//! or abandons them. Sized for Miri (`cargo miri test miri_`), which checks that every
//! path frees each cell exactly once and never touches it afterwards.

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

use super::cell::{self, OpHeader, OwnedCell};
use super::{OpKind, ReadinessWait};

/// An operation whose data counts its drops, so a leak or a double drop shows.
struct Counted {
    drops: Arc<AtomicUsize>,
    payload: Vec<u8>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

impl OpKind for Counted {
    type Output = (io::Result<usize>, Vec<u8>);

    #[cfg(target_os = "linux")]
    fn uring_entry(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::Nop::new().build()
    }

    fn readiness_wait(&self) -> ReadinessWait {
        ReadinessWait::Never
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        (result, std::mem::take(&mut self.payload))
    }
}

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn new_cell_woken_by(drops: &Arc<AtomicUsize>, waker: Waker) -> OwnedCell<Counted> {
    OwnedCell::new(
        Counted {
            drops: drops.clone(),
            payload: vec![1, 2, 3],
        },
        waker,
    )
}

fn new_cell(drops: &Arc<AtomicUsize>) -> OwnedCell<Counted> {
    new_cell_woken_by(drops, futures::task::noop_waker())
}

/// A raw header crossing to the "driver" thread.
struct Sent(NonNull<OpHeader>);
// SAFETY: the header is Send + Sync; the test hands its ownership to one thread.
unsafe impl Send for Sent {}

#[test]
fn miri_complete_then_take_wakes_and_frees_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let wakes = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let cell = new_cell_woken_by(&drops, Waker::from(wakes.clone()));
    // SAFETY: the cell counts as submitted to this test's driver; completed once.
    unsafe { cell::complete(cell.header(), 7) };
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    let (kind, result) = cell.try_take().ok().expect("complete");
    assert_eq!(result, 7);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(kind);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn miri_take_before_completion_gives_the_cell_back() {
    let drops = Arc::new(AtomicUsize::new(0));
    let cell = new_cell(&drops);
    let cell = cell.try_take().err().expect("still in flight");
    let header = cell.header();
    // SAFETY: completed once by the test's driver side.
    unsafe { cell::complete(header, 0) };
    let (kind, _) = cell.try_take().ok().expect("complete now");
    drop(kind);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn miri_abandon_before_completion_lets_the_driver_free() {
    let drops = Arc::new(AtomicUsize::new(0));
    let cell = new_cell(&drops);
    let header = cell.header();
    assert!(cell.abandon(false), "the driver still holds it");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "kernel may still use the data"
    );
    // SAFETY: the driver's one completion of this cell.
    unsafe { cell::complete(header, -libc::ECANCELED) };
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn miri_abandon_after_completion_frees_at_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let cell = new_cell(&drops);
    // SAFETY: the driver's one completion of this cell.
    unsafe { cell::complete(cell.header(), 3) };
    assert!(!cell.abandon(false), "nothing left for the driver");
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn miri_queued_cancel_keeps_the_cell_until_handled() {
    // Completion arrives before the queued cancel is handled.
    let drops = Arc::new(AtomicUsize::new(0));
    let cell = new_cell(&drops);
    let header = cell.header();
    assert!(cell.abandon(true));
    // SAFETY: the driver's one completion of this cell.
    unsafe { cell::complete(header, 0) };
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "the queued cancel still names it"
    );
    // SAFETY: the one queued cancel, handled on the driver's side.
    assert!(!unsafe { cell::take_cancel_request(header) });
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    // The queued cancel is handled first; the completion frees.
    let cell = new_cell(&drops);
    let header = cell.header();
    assert!(cell.abandon(true));
    // SAFETY: as above.
    assert!(unsafe { cell::take_cancel_request(header) });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // SAFETY: the driver's one completion of this cell.
    unsafe { cell::complete(header, -libc::ECANCELED) };
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn miri_unsubmitted_cell_is_freed_by_drop_or_into_kind() {
    let drops = Arc::new(AtomicUsize::new(0));
    drop(new_cell(&drops));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let kind = new_cell(&drops).into_kind();
    assert_eq!(kind.payload, [1, 2, 3]);
    drop(kind);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn miri_completion_races_with_take_and_abandon_on_threads() {
    let rounds = if cfg!(miri) { 20 } else { 2_000 };
    let drops = Arc::new(AtomicUsize::new(0));
    for round in 0..rounds {
        let first = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let second = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let cell = new_cell_woken_by(&drops, Waker::from(first.clone()));
        let header = Sent(cell.header());
        let driver = std::thread::spawn(move || {
            let header = header;
            // SAFETY: the driver's one completion of this cell.
            unsafe { cell::complete(header.0, 1) };
        });
        let header_copy = Sent(cell.header());
        let mut queued = false;
        let mut still_waiting = false;
        if round % 2 == 0 {
            // The future side re-registers (racing with the completion) and then
            // spins until it can take the result.
            let mut cell = cell;
            still_waiting = cell.register(&Waker::from(second.clone()));
            loop {
                match cell.try_take() {
                    Ok((kind, result)) => {
                        assert_eq!(result, 1);
                        drop(kind);
                        break;
                    }
                    Err(back) => {
                        cell = back;
                        std::thread::yield_now();
                    }
                }
            }
        } else {
            // The future is dropped while the completion races in.
            let queue = round % 4 == 1;
            queued = cell.abandon(queue) && queue;
        }
        driver.join().unwrap();
        if round % 2 == 0 && still_waiting {
            // The registration went in before the driver claimed the waker: the new
            // waker, and only it, must be woken, exactly once.
            assert_eq!(second.0.load(Ordering::SeqCst), 1, "round {round}");
            assert_eq!(first.0.load(Ordering::SeqCst), 0, "round {round}");
        }
        if queued {
            // The driver reaches the queued cancel after the completion: it frees.
            // SAFETY: the one queued cancel of this cell, after its completion.
            assert!(!unsafe { cell::take_cancel_request(header_copy.0) });
        }
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        rounds,
        "each cell's data dropped once"
    );
}

/// An unwatched cell (the eager path): a completion before any waker is
/// registered wakes nobody and is taken at once; registered afterwards instead,
/// the waker is woken once by the completion.
#[test]
fn miri_unwatched_cell_completed_before_or_after_registering() {
    let drops = Arc::new(AtomicUsize::new(0));
    let wakes = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(wakes.clone());
    let unwatched = || {
        OwnedCell::unwatched(Counted {
            drops: drops.clone(),
            payload: vec![4, 5],
        })
    };

    let cell = unwatched();
    // SAFETY: the cell counts as submitted to this test's driver; completed once.
    unsafe { cell::complete(cell.header(), 3) };
    assert!(!cell.register(&waker), "complete: nothing to wait for");
    let (kind, result) = cell.try_take().ok().expect("complete");
    assert_eq!((result, wakes.0.load(Ordering::SeqCst)), (3, 0));
    drop(kind);

    let cell = unwatched();
    let cell = cell.try_take().err().expect("not complete yet");
    assert!(cell.register(&waker));
    let sent = Sent(cell.header());
    std::thread::spawn(move || {
        let sent = sent;
        // SAFETY: as above.
        unsafe { cell::complete(sent.0, 9) };
    })
    .join()
    .unwrap();
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    let (kind, result) = cell.try_take().ok().expect("complete");
    assert_eq!(result, 9);
    drop(kind);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}
