//! The queue through which other threads hand a driver operations to submit or cancel,
//! bounded so that a flood from one thread slows that thread down instead of the
//! driver's owner.
//!
//! Two bounds, one per side:
//! - the owner takes at most `BATCH` requests per driver turn, and runs its own tasks
//!   between batches (a turn that leaves requests queued does not sleep);
//! - a thread that may block (one that is not a worker: a `block_on` caller, a blocking
//!   pool thread) waits while `LIMIT` requests are queued, until the owner's next batch
//!   makes room. Workers never wait here (they would stall their own ring), and neither
//!   does a cancel, which frees resources and runs from `drop`.
//!
//! A waiter gives up waiting after `ROOM_WAIT_LIMIT` and queues past the limit, so that
//! an owner stuck in a user's blocking code can slow a flood but never deadlock it.
//! This file knows nothing of operations or rings: it only moves values and wakes.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use crate::loom::sync::{Condvar, Mutex};

/// How many requests may wait before a thread that may block waits for room (a
/// handful under loom, whose models could not explore a thousand pushes).
pub(crate) const LIMIT: usize = if cfg!(loom) { 2 } else { 1024 };
/// How many requests the owner applies in one driver turn: a full queue's worth, so
/// that a busy worker, which turns its driver only now and then, lets a waiting
/// thread go on at every turn.
pub(crate) const BATCH: usize = LIMIT;
/// The longest one push waits for room.
const ROOM_WAIT_LIMIT: Duration = Duration::from_secs(1);

pub(crate) struct RequestQueue<T> {
    /// Set under the lock whenever requests are queued: the owner's cheap look.
    has_requests: AtomicBool,
    /// Set under the lock when the driver drained; read without it by anyone asking
    /// whether the runtime shut down.
    closed: AtomicBool,
    state: Mutex<State<T>>,
    room: Condvar,
}

struct State<T> {
    requests: VecDeque<T>,
    /// Threads waiting in `push` for room: the owner notifies only when there are some.
    waiting: usize,
}

/// Whether a push may wait for room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Room {
    /// A thread that may block: wait while the queue is full.
    WaitForIt,
    /// A worker, or a cancel: queue at once.
    Never,
}

impl<T> RequestQueue<T> {
    pub(crate) fn new() -> RequestQueue<T> {
        RequestQueue {
            has_requests: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            state: Mutex::new(State {
                requests: VecDeque::new(),
                waiting: 0,
            }),
            room: Condvar::new(),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(SeqCst)
    }

    /// Queue `request`; the caller wakes the owner afterwards. With `Room::WaitForIt`
    /// and a full queue, `wake_owner` is called and the push waits for the owner's next
    /// batch (up to `ROOM_WAIT_LIMIT`). Refused, handing the request back, once the
    /// queue is closed.
    pub(crate) fn push(&self, request: T, room: Room, wake_owner: impl Fn()) -> Result<(), T> {
        let mut state = crate::loom::lock(&self.state);
        if room == Room::WaitForIt && state.requests.len() >= LIMIT {
            let deadline = Instant::now() + ROOM_WAIT_LIMIT;
            while state.requests.len() >= LIMIT && !self.is_closed() {
                // The owner may be asleep with the queue full of what it has not seen.
                wake_owner();
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    log::warn!(
                        "a driver's request queue stayed full for {ROOM_WAIT_LIMIT:?}: its \
                         worker is not taking requests (is a task blocking it?); queueing \
                         past the limit"
                    );
                    break;
                }
                state.waiting += 1;
                state = match self.room.wait_timeout(state, left) {
                    Ok((state, _)) => state,
                    Err(poisoned) => poisoned.into_inner().0,
                };
                state.waiting -= 1;
            }
        }
        if self.is_closed() {
            return Err(request);
        }
        state.requests.push_back(request);
        self.has_requests.store(true, SeqCst);
        Ok(())
    }

    /// The owner takes the next `limit` requests at most, in the order they came;
    /// true if more are left for the next turn.
    pub(crate) fn take(&self, into: &mut Vec<T>, limit: usize) -> bool {
        if !self.has_requests.load(SeqCst) {
            return false;
        }
        let mut state = crate::loom::lock(&self.state);
        let n = limit.min(state.requests.len());
        into.extend(state.requests.drain(..n));
        let more = !state.requests.is_empty();
        self.has_requests.store(more, SeqCst);
        if state.waiting > 0 && state.requests.len() < LIMIT {
            self.room.notify_all();
        }
        more
    }

    /// Refuse later requests, release every waiting push (refused), and return what is
    /// still queued.
    pub(crate) fn close(&self) -> Vec<T> {
        let mut state = crate::loom::lock(&self.state);
        self.closed.store(true, SeqCst);
        self.has_requests.store(false, SeqCst);
        self.room.notify_all();
        state.requests.drain(..).collect()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::{mpsc, Arc};
    use std::thread;

    /// Longer than any wait here can take, even on a loaded machine.
    const HANG_GUARD: Duration = Duration::from_secs(60);

    fn filled() -> Arc<RequestQueue<usize>> {
        let q = Arc::new(RequestQueue::new());
        for i in 0..LIMIT {
            q.push(i, Room::WaitForIt, || panic!("room to spare"))
                .unwrap();
        }
        q
    }

    #[test]
    fn the_owner_takes_a_batch_at_a_time_in_order() {
        let q = filled();
        let mut got = Vec::new();
        assert!(q.take(&mut got, 100), "more left");
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        let mut rest = Vec::new();
        while q.take(&mut rest, 100) {}
        assert_eq!(rest, (100..LIMIT).collect::<Vec<_>>());
        assert!(!q.take(&mut rest, BATCH), "nothing left");
    }

    #[test]
    fn a_thread_that_may_block_waits_for_room_and_wakes_the_owner() {
        let q = filled();
        let wakes = Arc::new(AtomicUsize::new(0));
        let (done_tx, done) = mpsc::channel();
        let pusher = {
            let (q, wakes) = (q.clone(), wakes.clone());
            thread::spawn(move || {
                q.push(LIMIT, Room::WaitForIt, || {
                    wakes.fetch_add(1, SeqCst);
                })
                .unwrap();
                done_tx.send(()).unwrap();
            })
        };
        // It cannot get in before a batch is taken; at most it has woken the owner.
        while wakes.load(SeqCst) == 0 {
            thread::yield_now();
        }
        assert!(done.try_recv().is_err(), "pushed into a full queue");
        let mut got = Vec::new();
        q.take(&mut got, 1);
        done.recv_timeout(HANG_GUARD)
            .expect("the push never got in");
        pusher.join().unwrap();
        while q.take(&mut got, BATCH) {}
        assert_eq!(got.len(), LIMIT + 1);
        assert_eq!(got.last(), Some(&LIMIT));
    }

    #[test]
    fn workers_and_cancels_never_wait() {
        let q = filled();
        q.push(LIMIT, Room::Never, || panic!("no wake needed"))
            .unwrap();
        let mut got = Vec::new();
        while q.take(&mut got, BATCH) {}
        assert_eq!(got.len(), LIMIT + 1);
    }

    #[test]
    fn closing_refuses_waiting_and_later_pushes() {
        let q = filled();
        let pusher = {
            let q = q.clone();
            thread::spawn(move || q.push(LIMIT, Room::WaitForIt, || {}))
        };
        let queued = q.close();
        assert_eq!(queued.len(), LIMIT);
        assert_eq!(pusher.join().unwrap(), Err(LIMIT));
        assert_eq!(q.push(7, Room::Never, || {}), Err(7));
        assert!(q.is_closed());
        assert!(!q.take(&mut Vec::new(), BATCH));
    }
}

#[cfg(all(test, loom))]
mod loom_request_queue {
    //! A pusher that finds the queue full waits for the owner, which takes a batch and
    //! must release it; if a notification could be lost, the pusher would wait forever
    //! (loom's condition variable never times out), which loom reports.

    use loom::sync::Arc;
    use loom::thread;

    use super::{RequestQueue, Room, LIMIT};

    /// A full queue, and a thread that may block pushing one more into it.
    fn full_with_a_waiting_push() -> (
        Arc<RequestQueue<usize>>,
        thread::JoinHandle<Result<(), usize>>,
    ) {
        let q = Arc::new(RequestQueue::new());
        for i in 0..LIMIT {
            q.push(i, Room::Never, || {}).unwrap();
        }
        let pusher = {
            let q = q.clone();
            thread::spawn(move || q.push(LIMIT, Room::WaitForIt, || {}))
        };
        (q, pusher)
    }

    #[test]
    fn loom_a_waiting_push_is_always_let_in() {
        loom::model(|| {
            let (q, pusher) = full_with_a_waiting_push();
            let mut got = Vec::new();
            // The owner's turns: one batch of one makes room.
            q.take(&mut got, 1);
            assert_eq!(pusher.join().unwrap(), Ok(()));
            while q.take(&mut got, usize::MAX) {}
            assert_eq!(got.len(), LIMIT + 1);
        });
    }

    #[test]
    fn loom_closing_releases_a_waiting_push() {
        loom::model(|| {
            let (q, pusher) = full_with_a_waiting_push();
            let queued = q.close();
            assert_eq!(queued.len(), LIMIT);
            assert_eq!(pusher.join().unwrap(), Err(LIMIT));
        });
    }
}
