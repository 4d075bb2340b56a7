//! The task state word: lifecycle flags, the reference count and the task's slot in
//! the owned-task list, in one `AtomicUsize`.
//!
//! Layout (64-bit): bits 0..9 flags, 9..39 reference count, 39..64 owned-list slot.
//! The slot is written once, before the task is shared, and only read afterwards; it
//! lives here so that the owned list costs no bytes in the task itself.
//!
//! Every transition is a single atomic read-modify-write, so the thread that wins a
//! transition knows exactly what it now owns (the future, the output, the join waker).
//! This file only computes transitions; it must never touch the task's memory.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};

/// The future is being polled (or dropped) by the thread that set this bit.
pub(crate) const RUNNING: usize = 1 << 0;
/// The future is gone; the stage holds the output, a panic payload or nothing.
pub(crate) const COMPLETE: usize = 1 << 1;
/// A `Notified` for this task exists (queued, or owed after the current poll). A
/// task that wakes itself during its poll is owed one without this bit being set
/// until the poll ends (`transition_to_idle`'s `woke_itself`).
pub(crate) const NOTIFIED: usize = 1 << 2;
/// Abort was requested; the next poll drops the future instead.
pub(crate) const CANCELLED: usize = 1 << 3;
/// The `JoinHandle` is alive and will read (or drop) the output.
pub(crate) const JOIN_INTEREST: usize = 1 << 4;
/// The join waker slot holds a waker that the completing thread may use.
pub(crate) const JOIN_WAKER: usize = 1 << 5;
/// With `COMPLETE`: the stage holds a panic payload rather than the output.
pub(crate) const OUTPUT_PANIC: usize = 1 << 6;
/// With `COMPLETE`: the task was cancelled; the stage holds nothing.
pub(crate) const OUTPUT_CANCELLED: usize = 1 << 7;

/// With `COMPLETE`: the `JoinHandle` has taken (or dropped) what the stage held.
pub(crate) const OUTPUT_TAKEN: usize = 1 << 8;

#[cfg(not(target_pointer_width = "64"))]
compile_error!("zokio packs its task state into a 64-bit word and supports 64-bit targets only");

const FLAG_BITS: u32 = 9;
const REF_BITS: u32 = 30;
pub(crate) const REF_ONE: usize = 1 << FLAG_BITS;
const REF_MASK: usize = ((1 << REF_BITS) - 1) << FLAG_BITS;
const SLOT_SHIFT: u32 = FLAG_BITS + REF_BITS;
/// Largest owned-list slot index the state word can hold.
pub(crate) const MAX_SLOT: usize = (1 << (usize::BITS - SLOT_SHIFT)) - 1;

/// Initial state: referenced by the owned-task list, the first `Notified` and the
/// `JoinHandle`; scheduled; joinable.
const INITIAL: usize = (3 * REF_ONE) | NOTIFIED | JOIN_INTEREST;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(pub(crate) usize);

impl Snapshot {
    pub(crate) fn has(self, flag: usize) -> bool {
        self.0 & flag == flag
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) >> FLAG_BITS
    }
    pub(crate) fn slot(self) -> usize {
        self.0 >> SLOT_SHIFT
    }
    fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.has(RUNNING))
            .field("complete", &self.has(COMPLETE))
            .field("notified", &self.has(NOTIFIED))
            .field("cancelled", &self.has(CANCELLED))
            .field("join_interest", &self.has(JOIN_INTEREST))
            .field("join_waker", &self.has(JOIN_WAKER))
            .field("refs", &self.ref_count())
            .finish()
    }
}

pub(crate) struct State(AtomicUsize);

/// What the scheduler must do after a transition.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    /// Nothing more.
    Done,
    /// Hand a new `Notified` (one reference already taken for it) to the scheduler.
    Submit,
    /// The last reference was dropped: free the task.
    Dealloc,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToRunning {
    Poll,
    Cancel,
    /// Already running or complete: drop the `Notified`'s reference.
    Skip {
        last_ref: bool,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// Parked; the `Notified` reference that ran the poll must be dropped.
    Idle { last_ref: bool },
    /// Woken during the poll: reschedule, reusing the `Notified` reference.
    Notified,
    /// Aborted during the poll: drop the future now.
    Cancel,
}

impl State {
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(INITIAL))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    fn update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<usize>, R)) -> R {
        let mut current = self.0.load(Acquire);
        loop {
            let (next, result) = f(Snapshot(current));
            let Some(next) = next else { return result };
            match self.0.compare_exchange_weak(current, next, AcqRel, Acquire) {
                Ok(_) => return result,
                Err(actual) => current = actual,
            }
        }
    }

    /// A `Notified` is about to run the task.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            debug_assert!(
                s.has(NOTIFIED),
                "running a task that was not notified: {s:?}"
            );
            if !s.is_idle() {
                let next = s.0 - REF_ONE;
                return (
                    Some(next),
                    ToRunning::Skip {
                        last_ref: Snapshot(next).ref_count() == 0,
                    },
                );
            }
            let next = (s.0 | RUNNING) & !NOTIFIED;
            let action = if s.has(CANCELLED) {
                ToRunning::Cancel
            } else {
                ToRunning::Poll
            };
            (Some(next), action)
        })
    }

    /// The poll returned `Pending`; `woke_itself` if the task woke itself by reference
    /// during it, which counts as `NOTIFIED` (`id::wake_current_by_ref`).
    pub(crate) fn transition_to_idle(&self, woke_itself: bool) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.has(RUNNING));
            if s.has(CANCELLED) {
                return (None, ToIdle::Cancel);
            }
            let mut next = s.0 & !RUNNING;
            if s.has(NOTIFIED) || woke_itself {
                next |= NOTIFIED;
                // Keep the poller's reference for the new `Notified`.
                (Some(next), ToIdle::Notified)
            } else {
                next -= REF_ONE;
                (
                    Some(next),
                    ToIdle::Idle {
                        last_ref: Snapshot(next).ref_count() == 0,
                    },
                )
            }
        })
    }

    /// The future is gone and the stage now holds what `output_kind` says.
    pub(crate) fn transition_to_complete(&self, output_kind: usize) -> Snapshot {
        let prev = Snapshot(self.0.fetch_xor(RUNNING | COMPLETE | output_kind, AcqRel));
        debug_assert!(prev.has(RUNNING) && !prev.has(COMPLETE));
        debug_assert!(prev.0 & (OUTPUT_PANIC | OUTPUT_CANCELLED) == 0);
        prev
    }

    /// `wake_by_ref`: schedule the task unless it is already queued, running or done.
    pub(crate) fn transition_to_notified_by_ref(&self) -> Transition {
        self.update(|s| {
            if s.has(COMPLETE) || s.has(NOTIFIED) {
                (None, Transition::Done)
            } else if s.has(RUNNING) {
                (Some(s.0 | NOTIFIED), Transition::Done)
            } else {
                (Some((s.0 | NOTIFIED) + REF_ONE), Transition::Submit)
            }
        })
    }

    /// `wake`: like `wake_by_ref`, but the waker's own reference is consumed (after
    /// the scheduling call, on `Submit`).
    pub(crate) fn transition_to_notified_by_val(&self) -> Transition {
        self.update(|s| {
            if s.has(COMPLETE) || s.has(NOTIFIED) {
                let next = s.0 - REF_ONE;
                let t = if Snapshot(next).ref_count() == 0 {
                    Transition::Dealloc
                } else {
                    Transition::Done
                };
                (Some(next), t)
            } else if s.has(RUNNING) {
                // The poller holds a reference too, so this cannot be the last one.
                (Some((s.0 | NOTIFIED) - REF_ONE), Transition::Done)
            } else {
                // A new reference for the `Notified`. The waker keeps its own until the
                // scheduler returns: the scheduler hook it calls lives inside the task,
                // which another thread may run and free as soon as it is queued.
                (Some((s.0 | NOTIFIED) + REF_ONE), Transition::Submit)
            }
        })
    }

    /// `abort`: mark cancelled and make sure someone will act on it.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> Transition {
        self.update(|s| {
            if s.has(COMPLETE) || s.has(CANCELLED) {
                (None, Transition::Done)
            } else if s.has(RUNNING) || s.has(NOTIFIED) {
                // The poller or the queued `Notified` will see the flag.
                (Some(s.0 | CANCELLED | NOTIFIED), Transition::Done)
            } else {
                (
                    Some((s.0 | CANCELLED | NOTIFIED) + REF_ONE),
                    Transition::Submit,
                )
            }
        })
    }

    /// Runtime shutdown: claim the future if nobody is polling it. Returns true when the
    /// caller now owns the future (RUNNING set) and must cancel the task.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            if s.is_idle() {
                (Some(s.0 | RUNNING | CANCELLED), true)
            } else {
                (Some(s.0 | CANCELLED), false)
            }
        })
    }

    /// `JoinHandle` stores a waker it has just written into the slot.
    /// Fails (returns the snapshot) when the task completed meanwhile.
    pub(crate) fn set_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.has(JOIN_INTEREST) && !s.has(JOIN_WAKER));
            if s.has(COMPLETE) {
                (None, Err(s))
            } else {
                (Some(s.0 | JOIN_WAKER), Ok(()))
            }
        })
    }

    /// `JoinHandle` takes the slot back to replace its waker.
    pub(crate) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.has(JOIN_INTEREST) && s.has(JOIN_WAKER));
            if s.has(COMPLETE) {
                (None, Err(s))
            } else {
                (Some(s.0 & !JOIN_WAKER), Ok(()))
            }
        })
    }

    /// After waking the join waker on completion, give the slot back. Returns the new
    /// snapshot; without `JOIN_INTEREST` the completing thread must drop the waker.
    pub(crate) fn unset_join_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.has(COMPLETE) && prev.has(JOIN_WAKER));
        Snapshot(prev.0 & !JOIN_WAKER)
    }

    /// The `JoinHandle` is dropped. Returns (drop the output?, drop the waker?).
    pub(crate) fn drop_join_interest(&self) -> (bool, bool) {
        self.update(|s| {
            debug_assert!(s.has(JOIN_INTEREST));
            if s.has(COMPLETE) {
                // Without JOIN_WAKER the completing thread is done with the slot.
                let drop_output = !s.has(OUTPUT_TAKEN);
                (
                    Some(s.0 & !JOIN_INTEREST),
                    (drop_output, !s.has(JOIN_WAKER)),
                )
            } else {
                // Taking JOIN_WAKER away too hands the slot back to us.
                (
                    Some(s.0 & !(JOIN_INTEREST | JOIN_WAKER)),
                    (false, s.has(JOIN_WAKER)),
                )
            }
        })
    }

    /// Record the task's owned-list slot; done once, before the task is shared, so a
    /// plain load and store suffice (no locked instruction on the spawn path).
    pub(crate) fn set_slot(&self, slot: usize) {
        debug_assert!(slot <= MAX_SLOT);
        let prev = Snapshot(self.0.load(Relaxed));
        debug_assert_eq!(prev.slot(), 0, "owned-list slot set twice");
        self.0.store(prev.0 | (slot << SLOT_SHIFT), Relaxed);
    }

    /// The `JoinHandle` took the output out of the stage.
    pub(crate) fn mark_output_taken(&self) {
        self.0.fetch_or(OUTPUT_TAKEN, AcqRel);
    }

    pub(crate) fn ref_inc(&self) {
        let prev = Snapshot(self.0.fetch_add(REF_ONE, Relaxed));
        // A billion wakers of one task means a leak of wakers; stop before the count
        // runs into the slot bits.
        if prev.ref_count() >= (1 << (REF_BITS - 1)) {
            std::process::abort();
        }
    }

    /// Returns true when this was the last reference.
    pub(crate) fn ref_dec(&self) -> bool {
        self.ref_dec_by(1)
    }

    pub(crate) fn ref_dec_by(&self, count: usize) -> bool {
        let prev = Snapshot(self.0.fetch_sub(count * REF_ONE, AcqRel));
        debug_assert!(
            prev.ref_count() >= count,
            "task reference count underflow: {prev:?}"
        );
        prev.ref_count() == count
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_of_a_task_polled_to_completion() {
        let state = State::new();
        assert_eq!(state.load().ref_count(), 3);
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(state.transition_to_notified_by_ref(), Transition::Done);
        assert_eq!(state.transition_to_idle(false), ToIdle::Notified);
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        let prev = state.transition_to_complete(0);
        assert!(prev.has(JOIN_INTEREST));
        assert_eq!(state.drop_join_interest(), (true, true));
        assert!(!state.ref_dec_by(2));
        assert!(state.ref_dec());
    }

    #[test]
    fn a_task_that_woke_itself_is_notified_once_its_poll_ends() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(state.transition_to_idle(true), ToIdle::Notified);
        assert!(state.load().has(NOTIFIED) && !state.load().has(RUNNING));
        // Another thread's wake meanwhile changes nothing: one `Notified`, one ref.
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(state.transition_to_notified_by_ref(), Transition::Done);
        assert_eq!(state.transition_to_idle(true), ToIdle::Notified);
        assert_eq!(state.load().ref_count(), 3);
        // An abort during the poll wins over the self-wake.
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(state.transition_to_notified_and_cancel(), Transition::Done);
        assert_eq!(state.transition_to_idle(true), ToIdle::Cancel);
    }

    #[test]
    fn abort_of_an_idle_task_submits_it_once() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(
            state.transition_to_idle(false),
            ToIdle::Idle { last_ref: false }
        );
        assert_eq!(
            state.transition_to_notified_and_cancel(),
            Transition::Submit
        );
        assert_eq!(state.transition_to_notified_and_cancel(), Transition::Done);
        assert_eq!(state.transition_to_notified_by_ref(), Transition::Done);
        assert_eq!(state.transition_to_running(), ToRunning::Cancel);
    }

    #[test]
    fn wake_by_val_of_a_completed_task_releases_the_reference() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        state.ref_inc(); // a waker
        state.transition_to_complete(0);
        assert_eq!(state.transition_to_notified_by_val(), Transition::Done);
        assert_eq!(state.load().ref_count(), 3);
    }
}
