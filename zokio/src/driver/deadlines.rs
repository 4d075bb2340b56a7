//! The deadline list of `timeout` operations, for the drivers whose kernel keeps no
//! timers for them (the readiness drivers and IOCP; io_uring's kernel times its own):
//! a min-heap of (deadline, cell), earliest first. A cell in it is the list's to
//! complete: expired, or cancelled; the driver only counts what left. Never used for
//! `zokio::time`, whose wheel is far cheaper per timer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use super::op::cell::{self, OpHeader};

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

    /// Complete every cell whose deadline has passed as expired; how many.
    pub(crate) fn expire_due(&mut self) -> usize {
        let now = Instant::now();
        let mut expired = 0;
        while let Some(header) = self.pop_due(now) {
            // SAFETY: the cell was handed to this list's driver and is completed once:
            // it has just left the list, which held it only while it was pending.
            unsafe { cell::complete(header, -super::op::timeout::EXPIRED) };
            expired += 1;
        }
        expired
    }

    /// Complete `header` as cancelled if it waits here; whether it did.
    pub(crate) fn cancel(&mut self, header: NonNull<OpHeader>) -> bool {
        let found = self.remove(header);
        if found {
            // SAFETY: as in `expire_due`: it has just left the list.
            unsafe { cell::complete(header, -super::op::CANCELED) };
        }
        found
    }

    /// Shutdown: complete every cell as cancelled, due or not; how many.
    pub(crate) fn cancel_all(&mut self) -> usize {
        let mut cancelled = 0;
        while let Some(header) = self.pop_any() {
            // SAFETY: as in `expire_due`: it has just left the list.
            unsafe { cell::complete(header, -super::op::CANCELED) };
            cancelled += 1;
        }
        cancelled
    }

    /// Take one cell whose deadline has passed by `now`, earliest first.
    fn pop_due(&mut self, now: Instant) -> Option<NonNull<OpHeader>> {
        let Reverse((deadline, ptr)) = *self.heap.peek()?;
        if deadline > now {
            return None;
        }
        self.heap.pop();
        NonNull::new(ptr as *mut OpHeader)
    }

    /// Take `header` out, wherever it is; false if it is not here.
    fn remove(&mut self, header: NonNull<OpHeader>) -> bool {
        let before = self.heap.len();
        let target = header.as_ptr() as usize;
        self.heap.retain(|Reverse((_, ptr))| *ptr != target);
        self.heap.len() < before
    }

    /// Take any cell, due or not (shutdown).
    fn pop_any(&mut self) -> Option<NonNull<OpHeader>> {
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
