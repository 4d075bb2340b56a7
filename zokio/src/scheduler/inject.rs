//! The global queue: spawns from outside the runtime, wakes from foreign threads and
//! the overflow of full worker queues.
//!
//! A mutex around a [`Fifo`], with the length mirrored in an atomic so that workers
//! can skip the lock when it is empty. The length is updated with `SeqCst` because the
//! no-lost-wake-up argument of the idle protocol orders a push against a parking
//! worker's final look at the queues. Once closed (runtime shutdown), pushes drop
//! their values instead of keeping them forever. This file must never run or wake
//! tasks.

use super::fifo::{Fifo, INITIAL_CAPACITY};
use crate::loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use crate::loom::sync::Mutex;

pub(crate) struct Inject<T> {
    queue: Mutex<Queue<T>>,
    len: AtomicUsize,
    /// Values pushed one at a time (`push`): the schedulers' wake-ups and spawns from
    /// outside a worker, for `RuntimeMetrics::remote_schedule_count`. Stored under
    /// the lock, so a plain load and store.
    pushed_one: AtomicU64,
}

struct Queue<T> {
    items: Fifo<T>,
    closed: bool,
}

impl<T> Inject<T> {
    pub(crate) fn new() -> Inject<T> {
        Inject {
            queue: Mutex::new(Queue {
                // Room for a burst of a worker queue's size from the start, so that a
                // steady flow of remote spawns does not grow it (an allocation) while
                // the workers catch up.
                items: Fifo::with_capacity(INITIAL_CAPACITY),
                closed: false,
            }),
            len: AtomicUsize::new(0),
            pushed_one: AtomicU64::new(0),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(SeqCst) == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(SeqCst)
    }

    pub(crate) fn push(&self, value: T) {
        let mut queue = crate::loom::lock(&self.queue);
        if queue.closed {
            drop(queue);
            drop(value);
            return;
        }
        queue.items.push_back(value);
        self.len.store(queue.items.len(), SeqCst);
        self.pushed_one
            .store(self.pushed_one.load(Relaxed).wrapping_add(1), Relaxed);
    }

    /// How many values `push` queued so far.
    pub(crate) fn pushed_one(&self) -> u64 {
        self.pushed_one.load(Relaxed)
    }

    pub(crate) fn push_batch(&self, values: impl IntoIterator<Item = T>) {
        let mut queue = crate::loom::lock(&self.queue);
        if queue.closed {
            // Dropped after the lock: a value's destructor may touch this queue.
            drop(queue);
            drop(values.into_iter().collect::<Vec<T>>());
            return;
        }
        queue.items.extend(values);
        self.len.store(queue.items.len(), SeqCst);
    }

    pub(crate) fn pop(&self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut queue = crate::loom::lock(&self.queue);
        let value = queue.items.pop_front();
        self.len.store(queue.items.len(), SeqCst);
        queue.items.release_spike();
        value
    }

    /// Move up to `max` values at once into `out`, to refill a worker queue with one
    /// lock; returns how many. `out` is the caller's own buffer, reused from one
    /// refill to the next, so that a refill allocates nothing in steady state.
    pub(crate) fn pop_batch_into(&self, max: usize, out: &mut impl Extend<T>) -> usize {
        if self.is_empty() || max == 0 {
            return 0;
        }
        let mut queue = crate::loom::lock(&self.queue);
        let n = max.min(queue.items.len());
        queue.items.drain_front_into(n, out);
        self.len.store(queue.items.len(), SeqCst);
        queue.items.release_spike();
        n
    }

    /// Refuse further values and take everything queued, for shutdown.
    pub(crate) fn close_and_drain(&self) -> Vec<T> {
        let mut queue = crate::loom::lock(&self.queue);
        queue.closed = true;
        self.len.store(0, SeqCst);
        queue.items.take_all()
    }
}
