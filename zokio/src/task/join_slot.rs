//! The third word of a task header: the task's id, and the waker of whoever awaits
//! its `JoinHandle`, in the space of one.
//!
//! Until a `JoinHandle` first has to wait, the word is the id itself, tagged with its
//! low bit. The first wait moves the id into a small box beside the waker (from the
//! waiting thread's pool under a pooled strategy, see `crate::memory`) and stores
//! the box's (even) address instead; the box stays until the task is freed, and later
//! waits only change the waker inside it. So an idle task pays one word for both, the
//! id is readable from any thread that holds a task reference (it never changes once
//! published), and the waker keeps the `JOIN_WAKER` protocol of `state.rs`, which
//! decides who may touch it. This file never decides that itself, and must never free
//! the box before the task's memory goes.

use std::ptr::NonNull;
use std::task::Waker;

use super::Id;
use crate::loom::sync::atomic::{AtomicPtr, Ordering};
use crate::loom::UnsafeCell;
use crate::memory::{alloc_cell, drop_cell, CellMemory};

/// Set in the word while it holds the id; a box address is always even.
const ID_TAG: usize = 1;

/// A tagged id carries no provenance; a box address keeps the box's, so that it can
/// be dereferenced again (strict provenance, as Miri checks).
pub(crate) struct JoinSlot(AtomicPtr<Awaited>);

/// What the word points to once a `JoinHandle` has waited.
struct Awaited {
    id: Id,
    waker: UnsafeCell<Option<Waker>>,
    /// The allocator the box came from (the waiting thread's pool under a pooled
    /// strategy), which takes it back.
    memory: CellMemory,
}

impl JoinSlot {
    pub(crate) fn new(id: Id) -> JoinSlot {
        // Ids stay below 2^63 (see `id.rs`), so the shift loses nothing.
        let tagged = ((id.as_u64() as usize) << 1) | ID_TAG;
        JoinSlot(AtomicPtr::new(std::ptr::without_provenance_mut(tagged)))
    }

    /// The box, once published.
    fn awaited(&self) -> Option<&Awaited> {
        let word = self.0.load(Ordering::Acquire);
        if word.addr() & ID_TAG != 0 {
            return None;
        }
        // An untagged word is a box published by `set_waker` (with release, paired
        // with the acquire above) and freed only by `drop`, which needs `&mut self`.
        // SAFETY: so the box is initialised, and the caller's `&self` keeps it alive.
        Some(unsafe { &*word })
    }

    pub(crate) fn id(&self) -> Id {
        let word = self.0.load(Ordering::Acquire);
        if word.addr() & ID_TAG != 0 {
            return Id::from_u64((word.addr() >> 1) as u64);
        }
        // SAFETY: as in `awaited`; only the id is read, and it is never written after
        // the box was published.
        unsafe { (*word).id }
    }

    /// The registered waker, if any.
    ///
    /// # Safety
    /// The caller may read the waker now under the `JOIN_WAKER` protocol, and nobody
    /// writes it until the returned reference is gone.
    pub(crate) unsafe fn waker(&self) -> Option<&Waker> {
        let awaited = self.awaited()?;
        // SAFETY: caller's promise.
        awaited.waker.with(|waker| unsafe { (*waker).as_ref() })
    }

    /// Store `waker`, replacing any earlier one (dropped here).
    ///
    /// # Safety
    /// The caller owns the waker under the `JOIN_WAKER` protocol (no other thread
    /// reads or writes it until the caller hands it over).
    pub(crate) unsafe fn set_waker(&self, waker: Waker) {
        if let Some(awaited) = self.awaited() {
            awaited.waker.with_mut(|slot| {
                // SAFETY: caller's promise; only the waker field is written.
                unsafe { *slot = Some(waker) }
            });
            return;
        }
        let memory = CellMemory::here();
        let boxed = alloc_cell::<Awaited>(memory);
        // SAFETY: fresh memory laid out for an `Awaited`.
        unsafe {
            boxed.as_ptr().write(Awaited {
                id: self.id(),
                waker: UnsafeCell::new(Some(waker)),
                memory,
            })
        };
        // Only the waker's owner publishes, so nobody else changes the word meanwhile;
        // release makes the id in the box visible to `id()` with the address.
        self.0.store(boxed.as_ptr(), Ordering::Release);
    }

    /// Take the registered waker out, leaving the id where it is.
    ///
    /// # Safety
    /// As for [`set_waker`](Self::set_waker).
    pub(crate) unsafe fn take_waker(&self) -> Option<Waker> {
        let awaited = self.awaited()?;
        // SAFETY: caller's promise.
        awaited.waker.with_mut(|slot| unsafe { (*slot).take() })
    }
}

impl Drop for JoinSlot {
    fn drop(&mut self) {
        // `&mut self`: no other thread is left to order against.
        let word = self.0.load(Ordering::Relaxed);
        if word.addr() & ID_TAG == 0 {
            // SAFETY: the box from `set_waker`, initialised there; `&mut self` means no
            // reader is left. It is dropped in place, then its memory goes back to the
            // allocator it names (read before the drop).
            unsafe {
                let memory = (*word).memory;
                drop_cell(NonNull::new_unchecked(word), memory);
            }
        }
    }
}

#[cfg(all(test, loom))]
mod loom_join_slot {
    //! Loom model of the slot: the id, read from another thread (`task::id()`, an
    //! `AbortHandle::id()`), while the JoinHandle's first wait moves it into the box
    //! and a second wait replaces the waker beside it. Loom checks that every read
    //! sees the id and that the waker writes never race the id reads.

    use std::ptr::NonNull;
    use std::task::Waker;

    use loom::sync::Arc;
    use loom::thread;

    use super::{Id, JoinSlot};

    #[test]
    fn loom_id_reads_race_the_join_waker_moving_in() {
        loom::model(|| {
            let id = Id::from_u64(42);
            let slot = Arc::new(JoinSlot::new(id));
            let reader = {
                let slot = slot.clone();
                thread::spawn(move || {
                    assert_eq!(slot.id(), id);
                    assert_eq!(slot.id(), id);
                })
            };
            // SAFETY: this thread is the only one touching the waker.
            unsafe {
                slot.set_waker(Waker::noop().clone());
                slot.set_waker(Waker::noop().clone());
                assert!(slot.waker().is_some());
                assert!(slot.take_waker().is_some());
            }
            assert_eq!(slot.id(), id);
            reader.join().unwrap();
        });
    }
}
