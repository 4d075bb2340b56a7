//! The set of every task a scheduler owns, so that shutdown can cancel the ones that
//! nobody will ever wake again.
//!
//! Sharded by task address; each shard is a slab of task pointers with a free list
//! threaded through the empty slots. A task's slot index is kept in its state word, so
//! the set costs one word per live task and nothing in the task itself (an intrusive
//! doubly linked list would add two words to every task). Every slot is read or
//! written only under its shard's lock. This file must never touch a task's memory
//! beyond its state word.

use std::ptr::NonNull;

use crossbeam_utils::CachePadded;

use super::header::Header;
use super::raw::Task;
use super::state::MAX_SLOT;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::Mutex;

pub(crate) struct OwnedTasks {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    closed: AtomicBool,
}

/// Free slots hold the address `(next_free << 1) | 1` with no provenance; task
/// pointers are aligned, so their address is even. Keeping real pointers (rather than
/// addresses) in the slab keeps their provenance for the shutdown path.
const FREE_TAG: usize = 1;
const NO_FREE: usize = usize::MAX >> 1;

/// Slots a shard starts with: room for a few hundred live tasks per runtime before
/// any shard grows (an allocation on the spawn path).
const INITIAL_SLOTS: usize = 64;

/// Slots a shard keeps once it empties after growing past them: enough for steady
/// spawning without regrowth, small beside what a burst of a million tasks needs.
const KEEP_SLOTS: usize = 256;

struct Shard {
    slots: Vec<*mut Header>,
    free_head: usize,
    len: usize,
}

// SAFETY: the pointers are task references owned by the list; tasks are `Send + Sync`
// (see raw.rs), and the slots are only touched under the shard lock.
unsafe impl Send for Shard {}

fn free_link(next: usize) -> *mut Header {
    std::ptr::without_provenance_mut((next << 1) | FREE_TAG)
}

fn is_free(slot: *mut Header) -> bool {
    slot.addr() & FREE_TAG != 0
}

impl Shard {
    fn insert(&mut self, ptr: NonNull<Header>) -> Option<usize> {
        let value = ptr.as_ptr();
        if self.free_head != NO_FREE {
            let index = self.free_head;
            self.free_head = self.slots[index].addr() >> 1;
            self.slots[index] = value;
            self.len += 1;
            return Some(index);
        }
        let index = self.slots.len();
        if index > MAX_SLOT {
            return None;
        }
        self.slots.push(value);
        self.len += 1;
        Some(index)
    }

    fn free(&mut self, index: usize) {
        self.slots[index] = free_link(self.free_head);
        self.free_head = index;
        self.len -= 1;
        if self.len == 0 && self.slots.capacity() > KEEP_SLOTS {
            // A burst is over: every slot is free and no task holds an index into
            // this shard, so the slab can start again small rather than pin its peak.
            self.slots = Vec::with_capacity(KEEP_SLOTS);
            self.free_head = NO_FREE;
        }
    }
}

impl OwnedTasks {
    pub(crate) fn new(concurrency: usize) -> OwnedTasks {
        let count = (concurrency * 4).next_power_of_two().max(16);
        OwnedTasks {
            shards: (0..count)
                .map(|_| {
                    CachePadded::new(Mutex::new(Shard {
                        slots: Vec::with_capacity(INITIAL_SLOTS),
                        free_head: NO_FREE,
                        len: 0,
                    }))
                })
                .collect(),
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, ptr: NonNull<Header>) -> &Mutex<Shard> {
        // Skip the low bits, which allocation alignment makes mostly equal.
        let index = (ptr.as_ptr().addr() >> 6) & (self.shards.len() - 1);
        &self.shards[index]
    }

    /// Take ownership of a new task's list reference. Fails once the list is closed
    /// (or, absurdly, full), handing the reference back so the caller can cancel it.
    pub(crate) fn bind(&self, task: Task) -> Result<(), Task> {
        let ptr = task.header_ptr();
        let mut shard = crate::loom::lock(self.shard(ptr));
        // Checked under the lock: `close_and_take` locks every shard after setting it.
        if self.closed.load(Ordering::Acquire) {
            return Err(task);
        }
        let Some(index) = shard.insert(ptr) else {
            return Err(task);
        };
        // SAFETY: the task is alive (we hold its reference) and not yet shared.
        unsafe { ptr.as_ref() }.state.set_slot(index);
        let _listed = task.into_raw();
        Ok(())
    }

    /// Take a finished task off the list. Returns true if it was still listed: the
    /// list's reference is then the caller's to drop.
    pub(crate) fn remove(&self, ptr: NonNull<Header>) -> bool {
        // SAFETY: the caller holds a reference to the task.
        let index = unsafe { ptr.as_ref() }.state.load().slot();
        let mut shard = crate::loom::lock(self.shard(ptr));
        // Already taken by `close_and_take` (the slot may even hold another task now).
        if shard.slots.get(index) != Some(&ptr.as_ptr()) {
            return false;
        }
        shard.free(index);
        true
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Refuse new tasks and take out every listed task with its list reference.
    pub(crate) fn close_and_take(&self) -> Vec<Task> {
        self.closed.store(true, Ordering::Release);
        let mut tasks = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = crate::loom::lock(shard);
            for index in 0..shard.slots.len() {
                let slot = shard.slots[index];
                if !is_free(slot) {
                    // SAFETY: a listed slot holds a live task and the list's reference,
                    // which moves to us.
                    tasks.push(unsafe { Task::from_raw(NonNull::new_unchecked(slot)) });
                    shard.free(index);
                }
            }
        }
        tasks
    }

    /// Number of live tasks (takes every shard's lock).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| crate::loom::lock(s).len).sum()
    }
}
