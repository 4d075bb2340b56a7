//! A worker's bounded run queue: one owner pushes and pops at its ends, any other
//! worker may steal half of it at once.
//!
//! The head is two 32-bit indices packed in one atomic: `real` (the next slot to pop)
//! and `steal` (where an in-progress steal started). While they differ a stealer is
//! copying slots `steal..real` out, so the owner must not reuse them and other stealers
//! back off. The owner alone writes `tail`. When the ring is full the owner moves half
//! of it to the global queue in one batch. Generic over the element so the loom model
//! can use plain values; this file must never know what a task is.

use std::mem::MaybeUninit;

use crate::loom::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};
use crate::loom::sync::Arc;
use crate::loom::UnsafeCell;

/// Slots per worker queue.
#[cfg(not(loom))]
pub(crate) const CAPACITY: usize = 256;
/// Small enough that loom can explore overflow.
#[cfg(loom)]
pub(crate) const CAPACITY: usize = 4;
const MASK: u32 = CAPACITY as u32 - 1;

struct Inner<T> {
    head: AtomicU64,
    tail: AtomicU32,
    buffer: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

/// The owner's end. Not `Clone`, not `Sync`: exactly one thread pushes and pops.
pub(crate) struct Local<T> {
    inner: Arc<Inner<T>>,
}

/// Any other worker's end.
pub(crate) struct Steal<T>(Arc<Inner<T>>);

impl<T> Clone for Steal<T> {
    fn clone(&self) -> Self {
        Steal(self.0.clone())
    }
}

// SAFETY: values move between threads through the ring, which needs `T: Send`; the
// protocol above gives each slot a single reader or writer at a time.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

pub(crate) fn new<T>() -> (Local<T>, Steal<T>) {
    let buffer = (0..CAPACITY)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let inner = Arc::new(Inner {
        head: AtomicU64::new(0),
        tail: AtomicU32::new(0),
        buffer,
    });
    (
        Local {
            inner: inner.clone(),
        },
        Steal(inner),
    )
}

impl<T> Inner<T> {
    /// # Safety
    /// The slot at `index` must be initialised and this thread must own it.
    unsafe fn take(&self, index: u32) -> T {
        // SAFETY: caller's promise.
        self.buffer[(index & MASK) as usize].with(|slot| unsafe { (*slot).assume_init_read() })
    }

    /// # Safety
    /// The slot at `index` must be free and this thread must own it.
    unsafe fn put(&self, index: u32, value: T) {
        // SAFETY: caller's promise.
        self.buffer[(index & MASK) as usize].with_mut(|slot| unsafe { (*slot).write(value) });
    }

    fn len(&self) -> u32 {
        let (_, real) = unpack(self.head.load(Acquire));
        self.tail.load(Acquire).wrapping_sub(real)
    }
}

impl<T> Local<T> {
    pub(crate) fn len(&self) -> usize {
        self.inner.len() as usize
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free slots the owner may still fill without overflowing.
    pub(crate) fn remaining(&self) -> usize {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        CAPACITY - self.inner.tail.load(Relaxed).wrapping_sub(steal) as usize
    }

    /// Push at the tail; when full, move half the queue plus `value` to `overflow`.
    #[inline]
    pub(crate) fn push_back(&mut self, value: T, overflow: &mut impl FnMut(Vec<T>)) {
        let mut value = value;
        loop {
            let (steal, real) = unpack(self.inner.head.load(Acquire));
            // Only the owner stores `tail`, so a relaxed load sees our own last store.
            let tail = self.inner.tail.load(Relaxed);
            if tail.wrapping_sub(steal) < CAPACITY as u32 {
                // SAFETY: slots from `steal` up to `tail` are taken; `tail` is free and
                // stealers never read past the `tail` they loaded.
                unsafe { self.inner.put(tail, value) };
                self.inner.tail.store(tail.wrapping_add(1), Release);
                return;
            }
            if steal != real {
                // A stealer is draining us right now; don't wait for it.
                overflow(vec![value]);
                return;
            }
            match self.push_overflow(value, real, tail, overflow) {
                Ok(()) => return,
                // A stealer took some tasks meanwhile: there is room again.
                Err(back) => value = back,
            }
        }
    }

    #[cold]
    fn push_overflow(
        &mut self,
        value: T,
        head: u32,
        tail: u32,
        overflow: &mut impl FnMut(Vec<T>),
    ) -> Result<(), T> {
        let half = CAPACITY as u32 / 2;
        debug_assert_eq!(tail.wrapping_sub(head), CAPACITY as u32);
        let claimed = pack(head, head);
        let next = pack(head.wrapping_add(half), head.wrapping_add(half));
        if self
            .inner
            .head
            .compare_exchange(claimed, next, Release, Relaxed)
            .is_err()
        {
            return Err(value);
        }
        let mut batch = Vec::with_capacity(half as usize + 1);
        for i in 0..half {
            // SAFETY: the CAS above moved these slots out of every stealer's reach.
            batch.push(unsafe { self.inner.take(head.wrapping_add(i)) });
        }
        batch.push(value);
        overflow(batch);
        Ok(())
    }

    /// Pop from the head (the oldest task): FIFO order keeps the queue fair.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        let mut head = self.inner.head.load(Acquire);
        let index = loop {
            let (steal, real) = unpack(head);
            let tail = self.inner.tail.load(Relaxed);
            if real == tail {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // With no steal in progress both halves move together.
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                pack(steal, next_real)
            };
            match self
                .inner
                .head
                .compare_exchange(head, next, AcqRel, Acquire)
            {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the CAS gave us slot `index` exclusively.
        Some(unsafe { self.inner.take(index) })
    }
}

impl<T> Drop for Local<T> {
    fn drop(&mut self) {
        // Drop whatever is left rather than leak it (shutdown drains first anyway).
        if !std::thread::panicking() {
            while self.pop().is_some() {}
        }
    }
}

impl<T> Steal<T> {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// How many values the queue holds (a racy snapshot, for metrics).
    pub(crate) fn len(&self) -> usize {
        self.0.len() as usize
    }

    /// Move about half of this queue into `dst` and return one of the moved values.
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<T> {
        let dst_tail = dst.inner.tail.load(Relaxed);
        let (dst_steal, _) = unpack(dst.inner.head.load(Acquire));
        // Only steal into a queue with room for half of ours.
        if dst_tail.wrapping_sub(dst_steal) > CAPACITY as u32 / 2 {
            return None;
        }
        let mut count = self.steal_half_into(dst, dst_tail);
        if count == 0 {
            return None;
        }
        count -= 1;
        let last = dst_tail.wrapping_add(count);
        // SAFETY: `steal_half_into` filled dst slots `dst_tail..dst_tail+count+1`, which
        // are beyond dst's published tail and so ours alone.
        let value = unsafe { dst.inner.take(last) };
        if count > 0 {
            dst.inner.tail.store(last, Release);
        }
        Some(value)
    }

    fn steal_half_into(&self, dst: &mut Local<T>, dst_tail: u32) -> u32 {
        let src = &self.0;
        let mut prev = src.head.load(Acquire);
        let (first, count, claimed) = loop {
            let (steal, real) = unpack(prev);
            if steal != real {
                return 0; // another stealer is at work
            }
            let tail = src.tail.load(Acquire);
            let available = tail.wrapping_sub(real);
            let count = available - available / 2;
            if count == 0 {
                return 0;
            }
            // Claim `real..real+count`: stealers see steal != real and back off, the
            // owner keeps popping past it.
            let next = pack(steal, real.wrapping_add(count));
            match src.head.compare_exchange(prev, next, AcqRel, Acquire) {
                Ok(_) => break (real, count, next),
                Err(actual) => prev = actual,
            }
        };
        for i in 0..count {
            // SAFETY: claimed slots stay untouched by the owner (push_back never passes
            // `steal`) until the claim is released; dst slots lie past dst's tail.
            unsafe {
                let value = src.take(first.wrapping_add(i));
                dst.inner.put(dst_tail.wrapping_add(i), value);
            }
        }
        // Release the claim: `steal` catches up with wherever `real` is now.
        let mut prev = claimed;
        loop {
            let (_, real) = unpack(prev);
            match src
                .head
                .compare_exchange(prev, pack(real, real), AcqRel, Acquire)
            {
                Ok(_) => return count,
                Err(actual) => prev = actual,
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn sink(into: &mut Vec<u32>) -> impl FnMut(Vec<u32>) + '_ {
        |batch| into.extend(batch)
    }

    #[test]
    fn fifo_order_for_the_owner() {
        let (mut local, _steal) = new::<u32>();
        let mut overflow = Vec::new();
        for i in 0..10 {
            local.push_back(i, &mut sink(&mut overflow));
        }
        assert_eq!(
            (0..10).map(|_| local.pop().unwrap()).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        assert!(local.pop().is_none());
        assert!(overflow.is_empty());
    }

    #[test]
    fn overflow_moves_half_and_loses_nothing() {
        let (mut local, _steal) = new::<u32>();
        let mut overflow = Vec::new();
        let n = CAPACITY as u32 + 1;
        for i in 0..n {
            local.push_back(i, &mut sink(&mut overflow));
        }
        assert_eq!(overflow.len(), CAPACITY / 2 + 1);
        let mut all: Vec<u32> = overflow.clone();
        while let Some(v) = local.pop() {
            all.push(v);
        }
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn steal_takes_half() {
        let (mut a, steal_a) = new::<u32>();
        let (mut b, _) = new::<u32>();
        let mut overflow = Vec::new();
        for i in 0..10 {
            a.push_back(i, &mut sink(&mut overflow));
        }
        let first = steal_a.steal_into(&mut b).unwrap();
        assert_eq!(first, 4);
        assert_eq!(b.len(), 4);
        assert_eq!(a.len(), 5);
        let mut all = vec![first];
        while let Some(v) = a.pop() {
            all.push(v);
        }
        while let Some(v) = b.pop() {
            all.push(v);
        }
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn concurrent_steal_loses_and_duplicates_nothing() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let (mut owner, steal) = new::<u32>();
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let thief = {
            let done = done.clone();
            std::thread::spawn(move || {
                let (mut mine, _) = new::<u32>();
                let mut got = Vec::new();
                while !done.load(Ordering::Acquire) || !steal.is_empty() {
                    if let Some(v) = steal.steal_into(&mut mine) {
                        got.push(v);
                    }
                    while let Some(v) = mine.pop() {
                        got.push(v);
                    }
                }
                got
            })
        };
        // Miri interprets every step; a few hundred rounds still exercise the race.
        let rounds: u32 = if cfg!(miri) { 300 } else { 200_000 };
        let mut got = Vec::new();
        let mut overflow = Vec::new();
        for i in 0..rounds {
            owner.push_back(i, &mut sink(&mut overflow));
            if i % 3 == 0 {
                if let Some(v) = owner.pop() {
                    got.push(v);
                }
            }
        }
        while let Some(v) = owner.pop() {
            got.push(v);
        }
        done.store(true, Ordering::Release);
        got.extend(thief.join().unwrap());
        got.extend(overflow);
        got.sort_unstable();
        assert_eq!(got, (0..rounds).collect::<Vec<_>>());
    }
}
