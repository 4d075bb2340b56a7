//! `block_on` for a thread that is not a worker: poll the future, sleep until its
//! waker fires, repeat. Used by the multi-thread and thread-per-core runtimes, whose
//! tasks run elsewhere. Must never run tasks itself.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::scheduler::park::{Parker, Unparker};

struct ThreadWaker(Unparker);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    // One parker per thread, reused by every `block_on` on it.
    static PARKER: (Parker, Waker) = {
        let parker = Parker::new();
        let waker = Waker::from(Arc::new(ThreadWaker(parker.unparker())));
        (parker, waker)
    };
}

pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    PARKER.with(|(parker, waker)| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(output) =
                crate::task::coop::with_budget(|| future.as_mut().poll(&mut cx))
            {
                return output;
            }
            // Under a pooled strategy this thread may hold spare pool memory (tasks
            // spawned from `block_on`): it gives it back after a short idle while.
            crate::memory::idle_trim(|limit| match limit {
                Some(limit) => parker.park_timeout(limit),
                None => parker.park(),
            });
        }
    })
}
