//! A worker's inbox: tasks another worker handed over for this one to run (see
//! `worker::hand_off`), so that a server at light load gathers its connections on the
//! rings of the workers that are awake, instead of keeping every ring's worker
//! bouncing in and out of sleep for a share of them.
//!
//! The protocol that makes a hand-off impossible to lose is the driver's park token:
//! the giver pushes, then unparks the receiver; the receiver looks at its inbox after
//! every park and before deciding to sleep, and a park that starts after the unpark
//! returns at once (the loom model below checks the pair). This file must never run a
//! task or touch a run queue.

use crate::loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use crate::loom::sync::Mutex;

pub(crate) struct Inbox<T> {
    /// Set under the lock with the push, cleared under it with the take: a cheap look
    /// for the receiver's every tick.
    has_tasks: AtomicBool,
    tasks: Mutex<Vec<T>>,
}

impl<T> Inbox<T> {
    pub(crate) fn new() -> Inbox<T> {
        Inbox {
            has_tasks: AtomicBool::new(false),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Hand tasks over; the caller then unparks the receiver.
    pub(crate) fn push_batch(&self, batch: impl IntoIterator<Item = T>) {
        let mut tasks = crate::loom::lock(&self.tasks);
        tasks.extend(batch);
        self.has_tasks.store(!tasks.is_empty(), SeqCst);
    }

    pub(crate) fn is_empty(&self) -> bool {
        !self.has_tasks.load(SeqCst)
    }

    /// The receiver moves everything handed over so far into `out`; both keep their
    /// memory, so that a steady flow of hand-offs allocates nothing.
    pub(crate) fn take_into(&self, out: &mut Vec<T>) {
        if self.is_empty() {
            return;
        }
        let mut tasks = crate::loom::lock(&self.tasks);
        self.has_tasks.store(false, SeqCst);
        out.append(&mut tasks);
    }

    /// The receiver takes everything handed over so far.
    pub(crate) fn take(&self) -> Vec<T> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut tasks = crate::loom::lock(&self.tasks);
        self.has_tasks.store(false, SeqCst);
        std::mem::take(&mut *tasks)
    }
}

#[cfg(all(test, loom))]
mod loom_inbox {
    //! The receiver runs what it finds, then parks on its driver's token; the giver
    //! pushes, then unparks. The eventfd is a counter the parked receiver waits on.
    //! If a hand-off could be lost, the receiver would wait forever, which loom
    //! reports.

    use loom::sync::Arc;
    use loom::thread;

    use super::Inbox;
    use crate::driver::park_token::ModelledWait;

    struct Receiver {
        inbox: Inbox<u32>,
        wait: ModelledWait,
    }

    impl Receiver {
        fn unpark(&self) {
            self.wait.unpark();
        }

        /// One loop turn of a worker with nothing else to do: look, then sleep.
        fn turn(&self, ran: &mut Vec<u32>) {
            let before = ran.len();
            self.inbox.take_into(ran);
            if ran.len() == before {
                self.wait.park();
            }
        }
    }

    #[test]
    fn loom_inbox_hand_offs_are_never_lost() {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(3);
        }
        builder.check(|| {
            let receiver = Arc::new(Receiver {
                inbox: Inbox::new(),
                wait: ModelledWait::new(),
            });
            let givers: Vec<_> = (0..2)
                .map(|task| {
                    let receiver = receiver.clone();
                    thread::spawn(move || {
                        receiver.inbox.push_batch([task]);
                        receiver.unpark();
                    })
                })
                .collect();
            let mut ran = Vec::new();
            while ran.len() < 2 {
                receiver.turn(&mut ran);
            }
            ran.sort_unstable();
            assert_eq!(ran, [0, 1], "each hand-off runs exactly once");
            for giver in givers {
                giver.join().unwrap();
            }
        });
    }
}
