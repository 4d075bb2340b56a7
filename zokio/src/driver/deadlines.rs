//! The deadline list of `timeout` operations, for the drivers whose kernel keeps no
//! timers for them (the readiness drivers and IOCP; io_uring's kernel times its own):
//! a min-heap of (deadline, cell), earliest first. It only orders cells; the driver
//! completes them. Never used for `zokio::time`, whose wheel is far cheaper per timer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use super::op::cell::OpHeader;

#[derive(Default)]
pub(crate) struct Deadlines {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
}

impl Deadlines {
    /// `header` is due `after` from now.
    pub(crate) fn push(&mut self, after: Duration, header: NonNull<OpHeader>) {
        let deadline = Instant::now() + after;
        self.heap
            .push(Reverse((deadline, header.as_ptr() as usize)));
    }

    /// `timeout`, shortened to end no later than the earliest deadline.
    pub(crate) fn limit(&self, timeout: Option<Duration>) -> Option<Duration> {
        match self.heap.peek() {
            Some(Reverse((deadline, _))) => {
                let until = deadline.saturating_duration_since(Instant::now());
                Some(timeout.map_or(until, |t| t.min(until)))
            }
            None => timeout,
        }
    }

    /// Take one cell whose deadline has passed by `now`, earliest first.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<NonNull<OpHeader>> {
        let Reverse((deadline, ptr)) = *self.heap.peek()?;
        if deadline > now {
            return None;
        }
        self.heap.pop();
        NonNull::new(ptr as *mut OpHeader)
    }

    /// Take `header` out, wherever it is; false if it is not here.
    pub(crate) fn remove(&mut self, header: NonNull<OpHeader>) -> bool {
        let before = self.heap.len();
        let target = header.as_ptr() as usize;
        self.heap.retain(|Reverse((_, ptr))| *ptr != target);
        self.heap.len() < before
    }

    /// Take any cell, due or not (shutdown).
    pub(crate) fn pop_any(&mut self) -> Option<NonNull<OpHeader>> {
        let Reverse((_, ptr)) = self.heap.pop()?;
        NonNull::new(ptr as *mut OpHeader)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn fake(n: usize) -> NonNull<OpHeader> {
        // Never dereferenced: the list only orders addresses.
        NonNull::new((n * 64) as *mut OpHeader).unwrap()
    }

    #[test]
    fn due_cells_come_out_earliest_first_and_others_wait() {
        let mut list = Deadlines::default();
        list.push(Duration::from_millis(30), fake(3));
        list.push(Duration::ZERO, fake(1));
        list.push(Duration::from_secs(3600), fake(9));
        let limit = list.limit(Some(Duration::from_secs(5))).unwrap();
        assert!(
            limit <= Duration::from_millis(1),
            "the due cell bounds the wait"
        );
        let later = Instant::now() + Duration::from_millis(31);
        assert_eq!(list.pop_due(later), Some(fake(1)));
        assert_eq!(list.pop_due(later), Some(fake(3)));
        assert_eq!(list.pop_due(later), None);
        assert!(list.remove(fake(9)));
        assert!(!list.remove(fake(9)));
        assert_eq!(list.pop_any(), None);
        assert_eq!(list.limit(None), None);
    }
}
