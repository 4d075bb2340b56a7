//! The timer entry shared between a `Sleep` and the wheel that holds it: whether it
//! is waiting, fired or cut off by shutdown, its key in that wheel, and the waker of
//! the task waiting on it.
//!
//! The wheel stores an `Arc<TimerShared>` next to the entry's tick, so firing needs
//! no lookup and a dropped `Sleep` never leaves a dangling entry. `state` and `key`
//! change only under the wheel lock of the `TimeDriver` that holds the entry (the
//! one recorded in the `Sleep`); the waker is the only part touched without it.
//! Nothing here may lock or know which driver it is in; the only allocation is a
//! fresh entry when this thread's small cache of used ones is empty.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::Waker;

use futures_util::task::AtomicWaker;

use super::wheel::Key;

/// Not in any wheel and not fired: fresh, or taken out by a reset.
const IDLE: u8 = 0;
/// In the wheel of the driver recorded by its `Sleep`, under `key`.
const PENDING: u8 = 1;
/// Taken out of the wheel because its deadline came.
const FIRED: u8 = 2;
/// Taken out of the wheel because the runtime shut its driver down.
const SHUTDOWN: u8 = 3;

/// What a `Sleep` learns from its entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryState {
    Idle,
    Pending,
    Fired,
    Shutdown,
}

#[derive(Debug)]
pub(crate) struct TimerShared {
    state: AtomicU8,
    /// The wheel key while `PENDING`; meaningless otherwise.
    key: AtomicU32,
    waker: AtomicWaker,
}

/// Entries kept per thread for reuse: a task that sleeps in a loop drops one entry
/// and registers the next on the same worker, so a few cached entries save an
/// allocation and a free per sleep.
const CACHED_ENTRIES: usize = 64;

thread_local! {
    static CACHE: RefCell<Vec<Arc<TimerShared>>> = const { RefCell::new(Vec::new()) };
}

/// A fresh entry, from this thread's cache when it has one.
pub(crate) fn take_entry() -> Arc<TimerShared> {
    CACHE
        .try_with(|cache| cache.try_borrow_mut().ok().and_then(|mut c| c.pop()))
        .ok()
        .flatten()
        .unwrap_or_else(|| Arc::new(TimerShared::new()))
}

/// Give back an entry its `Sleep` is done with. Only an entry nobody else holds (no
/// wheel, no firing batch) is kept, reset to fresh; any other is simply dropped.
pub(crate) fn recycle_entry(mut entry: Arc<TimerShared>) {
    let Some(shared) = Arc::get_mut(&mut entry) else {
        return;
    };
    *shared.state.get_mut() = IDLE;
    *shared.key.get_mut() = u32::MAX;
    drop(shared.waker.take());
    let _ = CACHE.try_with(|cache| {
        if let Ok(mut cache) = cache.try_borrow_mut() {
            if cache.len() < CACHED_ENTRIES {
                cache.push(entry);
            }
        }
    });
}

impl TimerShared {
    pub(crate) fn new() -> TimerShared {
        TimerShared {
            state: AtomicU8::new(IDLE),
            key: AtomicU32::new(u32::MAX),
            waker: AtomicWaker::new(),
        }
    }

    /// The state, as seen by the `Sleep` (acquire: a fired state is seen together
    /// with everything the firing driver did before).
    pub(crate) fn state(&self) -> EntryState {
        match self.state.load(Ordering::Acquire) {
            IDLE => EntryState::Idle,
            PENDING => EntryState::Pending,
            FIRED => EntryState::Fired,
            _ => EntryState::Shutdown,
        }
    }

    /// Remember the task to wake when the entry fires.
    pub(crate) fn register_waker(&self, waker: &Waker) {
        self.waker.register(waker);
    }

    /// Wake the registered task; call after `set_fired`/`set_shutdown`, outside the
    /// wheel lock (a waker may schedule and must not run under it).
    pub(crate) fn wake(&self) {
        self.waker.wake();
    }

    // The setters below run only under the wheel lock of the driver holding (or
    // about to hold) the entry; that lock, not these orderings, keeps `key` and
    // `state` consistent for other lock holders. Release orders them for the
    // lock-free readers of `state()`.

    /// The key of a pending entry. Call under the holding driver's wheel lock.
    pub(crate) fn key(&self) -> Option<Key> {
        (self.state.load(Ordering::Relaxed) == PENDING)
            .then(|| Key::from_raw(self.key.load(Ordering::Relaxed)))
    }

    /// Entered into a wheel under `key`.
    pub(crate) fn set_pending(&self, key: Key) {
        self.key.store(key.to_raw(), Ordering::Relaxed);
        self.state.store(PENDING, Ordering::Release);
    }

    /// Taken out of the wheel without firing; or, for a fired entry (which no wheel
    /// holds, so no lock is needed), made ready to be registered again.
    pub(crate) fn set_idle(&self) {
        self.state.store(IDLE, Ordering::Release);
    }

    /// Taken out of the wheel because its deadline came.
    pub(crate) fn set_fired(&self) {
        self.state.store(FIRED, Ordering::Release);
    }

    /// Taken out of the wheel by shutdown.
    pub(crate) fn set_shutdown(&self) {
        self.state.store(SHUTDOWN, Ordering::Release);
    }
}
