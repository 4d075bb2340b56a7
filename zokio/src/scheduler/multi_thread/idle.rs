//! Who is searching for work and who sleeps, across the workers of one runtime.
//!
//! One atomic counts searching and unparked workers; a locked list names the sleepers.
//! At most about half the workers search at once, which keeps idle workers from
//! hammering busy ones. The rule that makes wake-ups impossible to lose: a wake-up is
//! skipped only while some worker is searching or awake, and a worker that parks
//! looks once more after leaving the count: the last searcher at every queue, a worker
//! that was awake without searching at the global queue (`LookAgain`, `worker.rs`).
//! This file must never touch queues or tasks.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use crate::loom::sync::Mutex;

const UNPARKED_SHIFT: u32 = 16;
const SEARCHING_MASK: usize = (1 << UNPARKED_SHIFT) - 1;
const UNPARKED_ONE: usize = 1 << UNPARKED_SHIFT;

/// Where a worker that just listed itself as a sleeper must look once more, because
/// a wake-up for work queued there may have been skipped on its account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LookAgain {
    /// Other searchers remain: they find what is queued and chain the wake-ups.
    Nowhere,
    /// It was the last searcher: every wake-up skipped while it searched relied on it.
    AllQueues,
    /// It was awake without searching (for its own completions): a push to the global
    /// queue saw every worker unparked and woke nobody. Pushes to other workers' own
    /// queues need nothing: their owners run them.
    GlobalQueue,
}

pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCHING_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARKED_SHIFT
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCHING_MASK, "too many workers");
        Idle {
            state: AtomicUsize::new(num_workers << UNPARKED_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// Pick a sleeping worker to wake for new work, counting it as searching; `None`
    /// when a searcher already exists (it will find the work) or nobody sleeps.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        self.take_sleeper(Vec::pop)
    }

    /// As [`worker_to_notify`](Self::worker_to_notify), but the most recent sleeper
    /// for which `prefer` holds goes first (one on the waker's NUMA node).
    pub(crate) fn worker_to_notify_preferring(
        &self,
        prefer: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        self.take_sleeper(|sleepers| match sleepers.iter().rposition(|&w| prefer(w)) {
            Some(position) => Some(sleepers.remove(position)),
            None => sleepers.pop(),
        })
    }

    /// The one wake-up protocol behind both: look, lock, look again, then take the
    /// sleeper `pick` chooses and count it as searching.
    fn take_sleeper(&self, pick: impl FnOnce(&mut Vec<usize>) -> Option<usize>) -> Option<usize> {
        if !self.notify_should_wakeup() {
            return None;
        }
        let mut sleepers = crate::loom::lock(&self.sleepers);
        if !self.notify_should_wakeup() {
            return None;
        }
        let worker = pick(&mut sleepers)?;
        self.state.fetch_add(1 | UNPARKED_ONE, SeqCst);
        Some(worker)
    }

    /// A cheap, unordered guess of `notify_should_wakeup`, for wake-ups that are only
    /// about parallelism (the waking worker will run the task itself otherwise).
    pub(crate) fn may_have_sleepers(&self) -> bool {
        let state = self.state.load(Relaxed);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// How many workers are off the sleepers list (a hint: unordered).
    pub(crate) fn awake(&self) -> usize {
        unparked(self.state.load(Relaxed))
    }

    fn notify_should_wakeup(&self) -> bool {
        // A read-modify-write rather than a load: it must be ordered after the caller's
        // push in the single total order of SeqCst operations.
        let state = self.state.fetch_add(0, SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// The worker goes to sleep; the answer says where it must look once more.
    pub(crate) fn transition_worker_to_parked(
        &self,
        worker: usize,
        is_searching: bool,
    ) -> LookAgain {
        let mut sleepers = crate::loom::lock(&self.sleepers);
        let prev = self
            .state
            .fetch_sub(UNPARKED_ONE | usize::from(is_searching), SeqCst);
        sleepers.push(worker);
        match (is_searching, searching(prev)) {
            (true, 1) => LookAgain::AllQueues,
            (true, _) => LookAgain::Nowhere,
            (false, _) => LookAgain::GlobalQueue,
        }
    }

    /// Try to start searching; refused when half the workers already search.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// Stop searching (work was found). Returns true if this was the last searcher:
    /// the caller must then wake another worker, as more work may be waiting.
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// Whether `worker` is still on the sleepers list (a wake-up was not for it).
    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        crate::loom::lock(&self.sleepers).contains(&worker)
    }

    /// The lowest-numbered worker below `worker` that is not on the sleepers list:
    /// where a worker at light load hands its tasks. Only ever downwards, so that work
    /// gathers on the lowest rings and stays there, instead of two workers handing the
    /// same connections back and forth.
    /// `eligible` narrows the choice (to the worker's own NUMA node).
    pub(crate) fn awake_worker_below(
        &self,
        worker: usize,
        eligible: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let sleepers = crate::loom::lock(&self.sleepers);
        (0..worker).find(|&w| eligible(w) && !sleepers.contains(&w))
    }

    /// Take `worker` off the sleepers list without making it a searcher (shutdown).
    pub(crate) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = crate::loom::lock(&self.sleepers);
        match sleepers.iter().position(|&w| w == worker) {
            Some(index) => {
                sleepers.swap_remove(index);
                self.state.fetch_add(UNPARKED_ONE, SeqCst);
                true
            }
            None => false,
        }
    }
}
