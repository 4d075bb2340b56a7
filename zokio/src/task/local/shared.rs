//! The state a `LocalSet` shares with its tasks: the queue of tasks woken on the set's
//! own thread, the queue of those woken anywhere else, the list of every task it owns,
//! and the waker of whoever drives it.
//!
//! A local task's future is not `Send`, so it may only be polled or dropped on the
//! set's thread. Its wakers and references may travel, though, so this is the one
//! piece of a local task that every thread can reach: a wake-up from the set's thread
//! goes into a queue only that thread touches, with no lock; one from elsewhere takes
//! the lock of the remote queue. Nothing here polls a task.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::task::AtomicWaker;

use crate::task::{Header, Notified, OwnedTasks, Schedule};

/// How many tasks one tick runs before the set returns to whoever drives it (tokio's).
pub(super) const MAX_TASKS_PER_TICK: u32 = 61;

/// Every this many tasks, the remote queue is looked at first, so that tasks woken
/// from other threads are not starved by ones that keep waking each other here.
const REMOTE_FIRST_INTERVAL: u32 = 31;

pub(crate) struct Shared {
    /// The thread the set lives on (`thread_key`).
    owner: u64,
    /// Touched only on the owner thread, and never across a call out of this file.
    owner_only: UnsafeCell<OwnerOnly>,
    /// Tasks woken on other threads; `None` once the set is gone.
    remote: Mutex<Option<VecDeque<Notified>>>,
    /// Whether `remote` may hold tasks: lets the owner skip the lock.
    remote_pending: AtomicBool,
    pub(super) owned: OwnedTasks,
    /// Whoever polls the set (its `run_until`, or the set as a future).
    pub(super) waker: AtomicWaker,
    closed: AtomicBool,
}

struct OwnerOnly {
    queue: VecDeque<Notified>,
    /// The set is running a tick or its `run_until` future right now: a task woken
    /// here will be found without waking anyone.
    running: bool,
    tick: u32,
}

// SAFETY: `owner_only` is the only field that is not `Sync`, and it is touched only on
// the thread whose key is `owner` (checked by `on_owner_thread` before every access),
// so it is never reached from two threads. Everything else is synchronised.
unsafe impl Sync for Shared {}

/// A key per thread, never reused within the process (unlike a thread-local's
/// address, which a new thread may inherit from one that exited).
fn thread_key() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static KEY: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    KEY.with(|key| *key)
}

impl Shared {
    pub(super) fn new() -> Arc<Shared> {
        Arc::new(Shared {
            owner: thread_key(),
            owner_only: UnsafeCell::new(OwnerOnly {
                queue: VecDeque::new(),
                running: false,
                tick: 0,
            }),
            remote: Mutex::new(Some(VecDeque::new())),
            remote_pending: AtomicBool::new(false),
            owned: OwnedTasks::new(1),
            waker: AtomicWaker::new(),
            closed: AtomicBool::new(false),
        })
    }

    fn on_owner_thread(&self) -> bool {
        thread_key() == self.owner
    }

    /// Run `f` on the owner-only state.
    ///
    /// # Panics
    /// On any other thread (a bug in this module: callers check first).
    fn with_owner_only<R>(&self, f: impl FnOnce(&mut OwnerOnly) -> R) -> R {
        assert!(
            self.on_owner_thread(),
            "a LocalSet's queue touched off its thread"
        );
        // SAFETY: we are on the owner thread (asserted), the only one that touches this
        // state, and no caller holds this borrow across anything that could re-enter:
        // the closures here only move task references in and out of the queue.
        f(unsafe { &mut *self.owner_only.get() })
    }

    /// Mark the set as being run (or not) by its owner; returns the previous value.
    pub(super) fn set_running(&self, running: bool) -> bool {
        self.with_owner_only(|state| std::mem::replace(&mut state.running, running))
    }

    /// The next task to run, from either queue; on the owner thread only.
    pub(super) fn next_task(&self) -> Option<Notified> {
        // One access to the owner-only state on the common path: the tick and the pop.
        let local = self.with_owner_only(|state| {
            state.tick = state.tick.wrapping_add(1);
            if state.tick % REMOTE_FIRST_INTERVAL == 0 {
                None
            } else {
                state.queue.pop_front()
            }
        });
        if local.is_some() {
            return local;
        }
        self.move_remote_to_local();
        self.with_owner_only(|state| state.queue.pop_front())
    }

    /// Whether tasks wait to run; on the owner thread only.
    pub(super) fn has_queued(&self) -> bool {
        self.remote_pending.load(Ordering::Acquire)
            || self.with_owner_only(|state| !state.queue.is_empty())
    }

    /// Take the remote queue's tasks into the local one, in one lock.
    fn move_remote_to_local(&self) {
        if !self.remote_pending.load(Ordering::Acquire) {
            return;
        }
        let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        self.remote_pending.store(false, Ordering::Relaxed);
        if let Some(remote) = remote.as_mut() {
            let moved = std::mem::take(remote);
            self.with_owner_only(|state| state.queue.extend(moved));
        }
    }

    /// Refuse new tasks, and return every queued one (dropped by the caller, with no
    /// borrow held).
    pub(super) fn close(&self) -> Vec<Notified> {
        self.closed.store(true, Ordering::Release);
        let mut queued: Vec<Notified> =
            self.with_owner_only(|state| state.queue.drain(..).collect());
        let remote = self.remote.lock().unwrap_or_else(|e| e.into_inner()).take();
        queued.extend(remote.into_iter().flatten());
        queued
    }
}

impl Schedule for Arc<Shared> {
    #[cfg(feature = "tracing")]
    const KIND: &'static str = "local";

    fn schedule(&self, task: Notified) {
        if self.closed.load(Ordering::Acquire) {
            // The set is gone and its tasks with it; this reference is all that is left.
            drop(task);
            return;
        }
        if self.on_owner_thread() {
            let running = self.with_owner_only(|state| {
                state.queue.push_back(task);
                state.running
            });
            // A set that is running finds the task in this tick or the next; one that
            // is not must be polled again.
            if !running {
                self.waker.wake();
            }
            return;
        }
        {
            let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
            match remote.as_mut() {
                Some(queue) => {
                    queue.push_back(task);
                    self.remote_pending.store(true, Ordering::Release);
                }
                // Closed after the check above: drop it outside the lock.
                None => {
                    drop(remote);
                    drop(task);
                    return;
                }
            }
        }
        self.waker.wake();
    }

    fn release(&self, task: NonNull<Header>) -> bool {
        self.owned.remove(task)
    }
}
