//! An unbounded first-in, first-out queue for the run queues that follow the load: the
//! global queue and the local queues of the current-thread and thread-per-core workers.
//!
//! A ring of a power-of-two capacity that doubles when full, like `VecDeque`, but over
//! a [`BurstBuf`]: once the ring is a page or more its memory is mapped, so a burst of
//! spawns that grows it to megabytes gives all of it back when the emptied queue
//! shrinks ([`Fifo::release_spike`]), instead of leaving it resident in the C heap
//! (see `memory/burst_buf.rs` for why `VecDeque` did).
//!
//! Not thread-safe on its own: its owners keep it behind a lock or on one thread. This
//! file must never run, wake or drop a task other than by dropping what it holds.

use std::fmt;

use crate::memory::BurstBuf;

/// The slots a queue starts with (and shrinks back to): a worker queue's worth.
pub(crate) const INITIAL_CAPACITY: usize = 256;

/// Beyond this many slots (32 KiB of task pointers) an emptied queue goes back to its
/// first size. A burst of 60,000 remote spawns would otherwise pin half a MiB for the
/// runtime's life; regrowing costs a few mappings per burst of this size, nothing
/// beside the burst itself.
const KEEP_CAPACITY: usize = 4096;

/// The queue. Slot `(head + i) % capacity` holds the `i`-th oldest value, for every
/// `i < len`; every other slot is uninitialised.
pub(crate) struct Fifo<T> {
    buf: BurstBuf<T>,
    head: usize,
    len: usize,
}

impl<T> Fifo<T> {
    /// An empty queue with room for `capacity` values (rounded up to a power of two)
    /// before it grows.
    pub(crate) fn with_capacity(capacity: usize) -> Fifo<T> {
        Fifo {
            buf: BurstBuf::new(capacity.max(1).next_power_of_two()),
            head: 0,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many values fit before the queue grows.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    pub(crate) fn push_back(&mut self, value: T) {
        if self.len == self.capacity() {
            self.relocate(self.capacity() * 2);
        }
        let slot = self.slot(self.len);
        // SAFETY: `slot` is below the capacity and, as `len < capacity`, outside the
        // initialised run, so writing there overwrites no value.
        unsafe { self.buf.as_ptr().add(slot).write(value) };
        self.len += 1;
    }

    pub(crate) fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        // SAFETY: `head` is below the capacity and holds the oldest value (len > 0);
        // moving the head past it below makes the slot uninitialised again.
        let value = unsafe { self.buf.as_ptr().add(self.head).read() };
        self.head = self.slot(1);
        self.len -= 1;
        Some(value)
    }

    /// Moves the `n` oldest values (or all, if fewer) into `out`, oldest first.
    pub(crate) fn drain_front_into(&mut self, n: usize, out: &mut impl Extend<T>) {
        let n = n.min(self.len);
        out.extend((0..n).map_while(|_| self.pop_front()));
    }

    /// Takes every value out, oldest first.
    pub(crate) fn take_all(&mut self) -> Vec<T> {
        let mut all = Vec::with_capacity(self.len);
        self.drain_front_into(self.len, &mut all);
        all
    }

    /// Drops every value, keeping the memory.
    pub(crate) fn clear(&mut self) {
        while let Some(value) = self.pop_front() {
            drop(value);
        }
    }

    /// After a burst: an emptied queue that grew past its keep size goes back to its
    /// first size, unmapping the rest, so a burst does not pin its peak for the
    /// runtime's life. Cheap when there is nothing to give back.
    pub(crate) fn release_spike(&mut self) {
        if self.len == 0 && self.capacity() > KEEP_CAPACITY {
            self.relocate(INITIAL_CAPACITY);
        }
    }

    /// The slot of the `i`-th oldest value.
    #[inline]
    fn slot(&self, i: usize) -> usize {
        (self.head + i) & (self.capacity() - 1)
    }

    /// Moves the values into a fresh buffer of `capacity` slots (a power of two, at
    /// least `len`), oldest at slot 0, and frees the old one.
    fn relocate(&mut self, capacity: usize) {
        debug_assert!(capacity.is_power_of_two() && capacity >= self.len);
        let fresh = BurstBuf::new(capacity);
        // The run may wrap: first from `head` to the end of the buffer, then from 0.
        let first = self.len.min(self.capacity() - self.head);
        let old = self.buf.as_ptr();
        // SAFETY: the two runs are the initialised slots of the old buffer (`first`
        // from `head`, the rest from 0), both within its capacity; the fresh buffer is
        // a separate allocation with room for all `len` of them. The values move
        // bitwise; the old buffer is then freed without dropping anything.
        unsafe {
            std::ptr::copy_nonoverlapping(old.add(self.head), fresh.as_ptr(), first);
            std::ptr::copy_nonoverlapping(old, fresh.as_ptr().add(first), self.len - first);
        }
        self.buf = fresh;
        self.head = 0;
    }
}

impl<T> Extend<T> for Fifo<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        for value in values {
            self.push_back(value);
        }
    }
}

impl<T> Drop for Fifo<T> {
    fn drop(&mut self) {
        self.clear();
    }
}

impl<T> fmt::Debug for Fifo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fifo")
            .field("len", &self.len)
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// Named `miri_*` so that the Miri step of CI checks the ring's unsafe moves too.
#[cfg(all(test, not(loom)))]
mod tests {
    use std::rc::Rc;

    use super::*;

    #[test]
    fn miri_fifo_keeps_order_across_growth_and_wrap() {
        let mut fifo = Fifo::with_capacity(4);
        let mut next_in = 0;
        let mut next_out = 0;
        // Interleave so that the run wraps before each growth.
        for round in 0..12 {
            for _ in 0..(round + 3) {
                fifo.push_back(next_in);
                next_in += 1;
            }
            for _ in 0..(round + 1) {
                assert_eq!(fifo.pop_front(), Some(next_out));
                next_out += 1;
            }
        }
        assert_eq!(fifo.len(), next_in - next_out);
        let rest = fifo.take_all();
        assert_eq!(rest, (next_out..next_in).collect::<Vec<_>>());
        assert!(fifo.is_empty());
        assert_eq!(fifo.pop_front(), None);
    }

    #[test]
    fn miri_fifo_drain_front_takes_the_oldest() {
        let mut fifo = Fifo::with_capacity(2);
        fifo.extend(0..10);
        let mut out = Vec::new();
        fifo.drain_front_into(4, &mut out);
        assert_eq!(out, [0, 1, 2, 3]);
        fifo.drain_front_into(100, &mut out);
        assert_eq!(out, (0..10).collect::<Vec<_>>());
        assert!(fifo.is_empty());
    }

    #[test]
    fn miri_fifo_gives_a_spike_back_once_empty() {
        let mut fifo = Fifo::with_capacity(INITIAL_CAPACITY);
        fifo.extend(0..KEEP_CAPACITY * 4);
        let peak = fifo.capacity();
        assert!(peak > KEEP_CAPACITY);
        fifo.release_spike();
        assert_eq!(
            fifo.capacity(),
            peak,
            "values still queued: nothing to give back"
        );
        fifo.drain_front_into(usize::MAX, &mut Vec::new());
        fifo.release_spike();
        assert_eq!(fifo.capacity(), INITIAL_CAPACITY);
        fifo.push_back(7);
        assert_eq!(fifo.pop_front(), Some(7));
    }

    #[test]
    fn miri_fifo_drops_what_it_holds_exactly_once() {
        let counted = Rc::new(());
        let mut fifo = Fifo::with_capacity(4);
        for _ in 0..100 {
            fifo.push_back(counted.clone());
        }
        for _ in 0..30 {
            drop(fifo.pop_front());
        }
        fifo.release_spike();
        assert_eq!(Rc::strong_count(&counted), 71);
        fifo.clear();
        assert_eq!(Rc::strong_count(&counted), 1);
        fifo.extend((0..50).map(|_| counted.clone()));
        drop(fifo);
        assert_eq!(Rc::strong_count(&counted), 1);
    }
}
