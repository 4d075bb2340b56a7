//! The list of every task a scheduler owns, so that shutdown can cancel the ones that
//! nobody will ever wake again.
//!
//! Intrusive and doubly linked (the links live in the task header), split into shards
//! by task address so that spawns on different workers rarely meet on one lock. Every
//! link is read or written only under its shard's lock; this file must never touch a
//! task's state or memory beyond those links.

use std::ptr::NonNull;

use crossbeam_utils::CachePadded;

use super::header::Header;
use super::raw::Task;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::Mutex;

pub(crate) struct OwnedTasks {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    closed: AtomicBool,
}

struct Shard {
    head: Option<NonNull<Header>>,
    len: usize,
}

// SAFETY: the raw task pointers are only followed under the shard lock, and tasks are
// `Send + Sync` (see raw.rs).
unsafe impl Send for Shard {}

impl OwnedTasks {
    pub(crate) fn new(concurrency: usize) -> OwnedTasks {
        let count = (concurrency * 4).next_power_of_two();
        OwnedTasks {
            shards: (0..count)
                .map(|_| CachePadded::new(Mutex::new(Shard { head: None, len: 0 })))
                .collect(),
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, ptr: NonNull<Header>) -> &Mutex<Shard> {
        // Tasks are at least 16-byte aligned allocations; skip the always-zero bits.
        let index = (ptr.as_ptr() as usize >> 6) & (self.shards.len() - 1);
        &self.shards[index]
    }

    /// Take ownership of a new task's list reference. Fails once the list is closed,
    /// handing the reference back so the caller can cancel the task.
    pub(crate) fn bind(&self, task: Task) -> Result<(), Task> {
        let ptr = task.header_ptr();
        let mut shard = crate::loom::lock(self.shard(ptr));
        // Checked under the lock: `close_and_take` locks every shard after setting it.
        if self.closed.load(Ordering::Acquire) {
            return Err(task);
        }
        // SAFETY: the links of `ptr` and of the current head are guarded by this lock.
        unsafe {
            let links = &mut *ptr.as_ref().owned.get();
            links.prev = None;
            links.next = shard.head;
            if let Some(head) = shard.head {
                (*head.as_ref().owned.get()).prev = Some(ptr);
            }
        }
        shard.head = Some(ptr);
        shard.len += 1;
        let _listed = task.into_raw();
        Ok(())
    }

    /// Unlink a finished task. Returns true if it was still listed: the list's
    /// reference is then the caller's to drop.
    pub(crate) fn remove(&self, ptr: NonNull<Header>) -> bool {
        let mut shard = crate::loom::lock(self.shard(ptr));
        // SAFETY: all links in this shard are guarded by the lock we hold.
        unsafe {
            let links = &mut *ptr.as_ref().owned.get();
            match links.prev {
                Some(prev) => (*prev.as_ref().owned.get()).next = links.next,
                // Not first and no predecessor: already taken by `close_and_take`.
                None if shard.head != Some(ptr) => return false,
                None => shard.head = links.next,
            }
            if let Some(next) = links.next {
                (*next.as_ref().owned.get()).prev = links.prev;
            }
            links.prev = None;
            links.next = None;
        }
        shard.len -= 1;
        true
    }

    /// Refuse new tasks and take out every listed task with its list reference.
    pub(crate) fn close_and_take(&self) -> Vec<Task> {
        self.closed.store(true, Ordering::Release);
        let mut tasks = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = crate::loom::lock(shard);
            while let Some(ptr) = shard.head {
                // SAFETY: links are guarded by the lock; the list's reference moves to us.
                unsafe {
                    let links = &mut *ptr.as_ref().owned.get();
                    shard.head = links.next;
                    if let Some(next) = links.next {
                        (*next.as_ref().owned.get()).prev = None;
                    }
                    links.next = None;
                    tasks.push(Task::from_raw(ptr));
                }
                shard.len -= 1;
            }
        }
        tasks
    }

    /// Number of live tasks; for tests and diagnostics only (takes every lock).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| crate::loom::lock(s).len).sum()
    }
}
