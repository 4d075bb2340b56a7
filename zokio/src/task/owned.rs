//! The set of every task a scheduler owns, so that shutdown can cancel the ones that
//! nobody will ever wake again.
//!
//! Sharded by task address; each shard holds two slabs with a free list threaded
//! through their empty slots: one of 32-bit short addresses for tasks whose cell is a
//! pooled block (see `memory::pool::short_address`), one of pointers for the rest. A
//! task's slot (index, and which slab) is kept in its state word, so the set costs 4
//! bytes per live pooled task, 8 per other task, and nothing in the task itself (an
//! intrusive doubly linked list would add two words to every task). Every slot is read
//! or written only under its shard's lock. This file must never touch a task's memory
//! beyond its header.

use std::ptr::NonNull;

use crossbeam_utils::CachePadded;

use super::header::Header;
use super::raw::Task;
use super::state::MAX_SLOT;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::Mutex;
use crate::memory::pool::{self, SHORT_ADDRESS_LIMIT};
use crate::memory::BurstBuf;

pub(crate) struct OwnedTasks {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    closed: AtomicBool,
}

/// Slots a slab starts with: room for a few hundred live tasks per runtime before
/// any shard grows (an allocation on the spawn path).
const INITIAL_SLOTS: usize = 64;

/// Slots a slab keeps once it empties after growing past them: enough for steady
/// spawning without regrowth, small beside what a burst of a million tasks needs.
const KEEP_SLOTS: usize = 256;

/// The state word's slot: the index in its slab, shifted past this bit, which says
/// the slab is the short-address one.
const SHORT_SLAB: usize = 1;

/// What a slab stores: a live task's entry, or a free slot's link to the next free one.
trait Entry: Copy + PartialEq {
    fn free_link(next: usize) -> Self;
    /// The next free slot's index if this slot is free, else `None`.
    fn next_free(self) -> Option<usize>;
}

/// Free slots hold the address `(next_free << 1) | 1` with no provenance; task
/// pointers are aligned, so their address is even. Keeping real pointers (rather than
/// addresses) in the slab keeps their provenance for the shutdown path.
impl Entry for *mut Header {
    fn free_link(next: usize) -> Self {
        std::ptr::without_provenance_mut((next << 1) | 1)
    }
    fn next_free(self) -> Option<usize> {
        (self.addr() & 1 != 0).then_some(self.addr() >> 1)
    }
}

/// Short addresses are below `SHORT_ADDRESS_LIMIT` (the top bit); free slots set it.
impl Entry for u32 {
    fn free_link(next: usize) -> Self {
        SHORT_ADDRESS_LIMIT | next as u32
    }
    fn next_free(self) -> Option<usize> {
        (self >= SHORT_ADDRESS_LIMIT).then(|| (self - SHORT_ADDRESS_LIMIT) as usize)
    }
}

/// The largest index a slab hands out: what the state word holds beside the slab bit,
/// and what a free link of either kind can name.
const MAX_INDEX: usize = if MAX_SLOT >> 1 < (SHORT_ADDRESS_LIMIT - 1) as usize {
    MAX_SLOT >> 1
} else {
    (SHORT_ADDRESS_LIMIT - 1) as usize
};

/// No free slot: the largest index a link can carry, above [`MAX_INDEX`].
const NO_FREE: usize = (SHORT_ADDRESS_LIMIT - 1) as usize;

struct Slab<T> {
    /// Slots `0..used` hold an entry or a free link; the rest of the buffer is
    /// uninitialised. Mapped once it is a page or more (`memory/burst_buf.rs`): as a
    /// `Vec`, a burst's slabs grew inside glibc's per-thread heaps, whose tops
    /// `malloc_trim` never shrinks, and stayed resident after the shards emptied.
    slots: BurstBuf<T>,
    used: usize,
    free_head: usize,
    len: usize,
}

impl<T: Entry> Slab<T> {
    fn new() -> Slab<T> {
        Slab::with_capacity(INITIAL_SLOTS)
    }

    fn with_capacity(capacity: usize) -> Slab<T> {
        Slab {
            slots: BurstBuf::new(capacity),
            used: 0,
            free_head: NO_FREE,
            len: 0,
        }
    }

    /// The slot at `index`, if the slab reaches that far.
    fn get(&self, index: usize) -> Option<T> {
        // SAFETY: slots below `used` are initialised and inside the buffer.
        (index < self.used).then(|| unsafe { self.slots.as_ptr().add(index).read() })
    }

    fn set(&mut self, index: usize, value: T) {
        assert!(index < self.used, "slot {index} is outside the slab");
        // SAFETY: checked above: the slot is inside the buffer; entries are `Copy`,
        // so overwriting one drops nothing.
        unsafe { self.slots.as_ptr().add(index).write(value) };
    }

    /// Appends a slot, moving the slab to a buffer twice the size when it is full.
    fn push(&mut self, value: T) {
        if self.used == self.slots.capacity() {
            let bigger = BurstBuf::new(self.used * 2);
            // SAFETY: the first `used` slots of the old buffer are initialised, and
            // the new buffer, a separate allocation, has room for twice as many.
            unsafe {
                std::ptr::copy_nonoverlapping(self.slots.as_ptr(), bigger.as_ptr(), self.used)
            };
            self.slots = bigger;
        }
        self.used += 1;
        self.set(self.used - 1, value);
    }

    fn insert(&mut self, value: T) -> Option<usize> {
        if self.free_head != NO_FREE {
            let index = self.free_head;
            self.free_head = self
                .get(index)
                .and_then(T::next_free)
                .expect("the free list links free slots only");
            self.set(index, value);
            self.len += 1;
            return Some(index);
        }
        let index = self.used;
        if index > MAX_INDEX {
            return None;
        }
        self.push(value);
        self.len += 1;
        Some(index)
    }

    /// Frees slot `index` if it holds `value`; returns whether it did.
    fn remove(&mut self, index: usize, value: T) -> bool {
        if self.get(index) != Some(value) {
            return false;
        }
        self.free(index);
        true
    }

    fn free(&mut self, index: usize) {
        self.set(index, T::free_link(self.free_head));
        self.free_head = index;
        self.len -= 1;
        if self.len == 0 && self.slots.capacity() > KEEP_SLOTS {
            // A burst is over: every slot is free and no task holds an index into
            // this slab, so it can start again small rather than pin its peak.
            *self = Slab::with_capacity(KEEP_SLOTS);
        }
    }

    /// Hands every live entry to `see`, leaving the slab as it is.
    fn for_each(&self, mut see: impl FnMut(T)) {
        (0..self.used)
            .filter_map(|index| self.get(index))
            .filter(|entry| entry.next_free().is_none())
            .for_each(&mut see);
    }

    /// Frees every live slot, handing each entry to `take`.
    fn drain(&mut self, mut take: impl FnMut(T)) {
        // Stops at the last live slot: freeing it may shrink the slab to nothing.
        let mut index = 0;
        while self.len > 0 {
            let entry = self.get(index).expect("a live slot lies below `used`");
            if entry.next_free().is_none() {
                take(entry);
                self.free(index);
            }
            index += 1;
        }
    }
}

struct Shard {
    pointers: Slab<*mut Header>,
    short: Slab<u32>,
    /// Tasks ever bound here (for `RuntimeMetrics::spawned_tasks_count`): counted
    /// under the lock `bind` takes anyway.
    spawned: u64,
}

// SAFETY: the pointers are task references owned by the list; tasks are `Send + Sync`
// (see raw.rs), and the slots are only touched under the shard lock.
unsafe impl Send for Shard {}

impl OwnedTasks {
    pub(crate) fn new(concurrency: usize) -> OwnedTasks {
        let count = (concurrency * 4).next_power_of_two().max(16);
        OwnedTasks {
            shards: (0..count)
                .map(|_| {
                    CachePadded::new(Mutex::new(Shard {
                        pointers: Slab::new(),
                        short: Slab::new(),
                        spawned: 0,
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
        // SAFETY: the task is alive (we hold its reference) and not yet shared.
        let header = unsafe { ptr.as_ref() };
        // SAFETY: as above; the vtable is the task's own.
        let short = unsafe { (header.vtable.short_address)(ptr) };
        let mut shard = crate::loom::lock(self.shard(ptr));
        // Checked under the lock: `close_and_take` locks every shard after setting it.
        if self.closed.load(Ordering::Acquire) {
            return Err(task);
        }
        let slot = match short {
            Some(short) => shard
                .short
                .insert(short)
                .map(|index| (index << 1) | SHORT_SLAB),
            None => shard.pointers.insert(ptr.as_ptr()).map(|index| index << 1),
        };
        let Some(slot) = slot else {
            return Err(task);
        };
        header.state.set_slot(slot);
        shard.spawned += 1;
        let _listed = task.into_raw();
        Ok(())
    }

    /// Take a finished task off the list. Returns true if it was still listed: the
    /// list's reference is then the caller's to drop.
    pub(crate) fn remove(&self, ptr: NonNull<Header>) -> bool {
        // SAFETY: the caller holds a reference to the task.
        let header = unsafe { ptr.as_ref() };
        let slot = header.state.load().slot();
        let index = slot >> 1;
        if slot & SHORT_SLAB != 0 {
            // SAFETY: as above; a task listed in the short slab is a pooled block, so
            // its short address is the one `bind` stored.
            let short = unsafe { (header.vtable.short_address)(ptr) }
                .expect("a task in the short slab has a short address");
            // Already taken by `close_and_take` if the slot no longer holds it (it
            // may even hold another task now).
            crate::loom::lock(self.shard(ptr))
                .short
                .remove(index, short)
        } else {
            crate::loom::lock(self.shard(ptr))
                .pointers
                .remove(index, ptr.as_ptr())
        }
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
            shard.pointers.drain(|ptr| {
                // SAFETY: a listed slot names a live task and holds the list's
                // reference, which moves to us.
                let task = unsafe { Task::from_raw(NonNull::new_unchecked(ptr)) };
                tasks.push(task);
            });
            if shard.short.len > 0 {
                let expander = pool::expander();
                shard.short.drain(|short| {
                    // SAFETY: as above; the short address is the listed task's cell, a
                    // pooled block still out.
                    let task = unsafe { Task::from_raw(expander.expand(short).cast()) };
                    tasks.push(task);
                });
            }
        }
        tasks
    }

    /// Number of live tasks (takes every shard's lock).
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let shard = crate::loom::lock(s);
                shard.pointers.len + shard.short.len
            })
            .sum()
    }

    /// What can be told of each listed task (`Handle::alive_tasks`), added to `out`.
    /// Names are looked up after each shard's lock is dropped, so a task freed in
    /// between is reported without its name.
    pub(crate) fn alive(&self, out: &mut Vec<super::TaskInfo>) {
        for shard in self.shards.iter() {
            let mut named = Vec::new();
            {
                let shard = crate::loom::lock(shard);
                let mut see = |ptr: NonNull<Header>| {
                    // SAFETY: a listed slot names a live task and holds the list's
                    // reference, which the shard lock keeps from going.
                    let header = unsafe { ptr.as_ref() };
                    if header.vtable.named {
                        named.push(out.len());
                    }
                    out.push(super::TaskInfo {
                        id: header.join.id(),
                        name: None,
                        location: header.vtable.location,
                    });
                };
                shard.pointers.for_each(|ptr| {
                    // SAFETY: a listed pointer is a task header, never null.
                    see(unsafe { NonNull::new_unchecked(ptr) })
                });
                if shard.short.len > 0 {
                    let expander = pool::expander();
                    shard.short.for_each(|short| {
                        // SAFETY: a listed short address is a live task's pooled
                        // cell, a block still out while the shard lock keeps it listed.
                        see(unsafe { expander.expand(short) }.cast())
                    });
                }
            }
            for index in named {
                out[index].name = super::meta::name_of(out[index].id);
            }
        }
    }

    /// Tasks ever bound to the list (takes every shard's lock).
    pub(crate) fn spawned(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| crate::loom::lock(s).spawned)
            .sum()
    }

    /// Live tasks listed by short address (for the tests that prove pooled cells are).
    #[cfg(test)]
    pub(crate) fn listed_by_short_address(&self) -> usize {
        self.shards
            .iter()
            .map(|s| crate::loom::lock(s).short.len)
            .sum()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_slab_past_its_keep_size_drains_whole_and_starts_small_again() {
        let mut slab = Slab::<u32>::new();
        let count = KEEP_SLOTS as u32 * 3;
        for value in 0..count {
            assert_eq!(slab.insert(value), Some(value as usize));
        }
        // Free every third slot, then take one of them again: the free list reuses it.
        for index in (0..count as usize).step_by(3) {
            assert!(slab.remove(index, index as u32));
        }
        assert!(!slab.remove(0, 0), "a freed slot is not removed twice");
        assert_eq!(slab.insert(1_000_000), Some(count as usize - 3));
        let mut drained = Vec::new();
        slab.drain(|value| drained.push(value));
        let mut expected: Vec<u32> = (0..count).filter(|v| v % 3 != 0).collect();
        expected.push(1_000_000);
        drained.sort_unstable();
        expected.sort_unstable();
        assert_eq!(drained, expected);
        assert_eq!(slab.len, 0);
        assert!(slab.slots.capacity() <= KEEP_SLOTS);
    }

    #[test]
    fn free_links_never_look_like_entries() {
        let link = <u32 as Entry>::free_link(12);
        assert_eq!(link.next_free(), Some(12));
        assert_eq!((SHORT_ADDRESS_LIMIT - 1).next_free(), None);
        let link = <*mut Header as Entry>::free_link(12);
        assert_eq!(link.next_free(), Some(12));
        assert_eq!(NonNull::<Header>::dangling().as_ptr().next_free(), None);
    }
}
