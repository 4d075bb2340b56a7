//! Putting a thread to sleep until another thread has something for it.
//!
//! `Parker::park` returns once `Unparker::unpark` was called after the previous park
//! returned (or before this one began): a wake-up is a token, never lost and never
//! counted twice. The token lives in an atomic so the common unpark of a running
//! thread is one swap; only a sleeping thread costs a lock and a condvar signal. The
//! I/O driver replaces the condvar later; this file must not know about tasks.

use std::time::Duration;

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Arc, Condvar, Mutex};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

struct Inner {
    state: AtomicUsize,
    lock: Mutex<()>,
    condvar: Condvar,
}

/// The sleeping side; owned by one thread.
pub(crate) struct Parker {
    inner: Arc<Inner>,
}

/// The waking side; any thread, any number of clones.
#[derive(Clone)]
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                lock: Mutex::new(()),
                condvar: Condvar::new(),
            }),
        }
    }

    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.inner.clone(),
        }
    }

    /// Sleep until unparked.
    pub(crate) fn park(&self) {
        self.park_inner(None);
    }

    /// Sleep until unparked or until `timeout` passes. The I/O and timer drivers
    /// will park this way with the next deadline.
    #[allow(dead_code)]
    pub(crate) fn park_timeout(&self, timeout: Duration) {
        self.park_inner(Some(timeout));
    }

    fn park_inner(&self, timeout: Option<Duration>) {
        let inner = &*self.inner;
        // A token already there: consume it without sleeping.
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        let mut guard = crate::loom::lock(&inner.lock);
        match inner.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                // A swap, not a store: it reads the unparker's write, so whatever that
                // thread did before unparking is visible to us.
                inner.state.swap(EMPTY, SeqCst);
                return;
            }
            Err(other) => unreachable!("parker in state {other} while its owner parks"),
        }
        loop {
            guard = match timeout {
                None => inner.condvar.wait(guard).unwrap_or_else(|e| e.into_inner()),
                #[cfg(not(loom))]
                Some(t) => {
                    let (guard, result) = inner
                        .condvar
                        .wait_timeout(guard, t)
                        .unwrap_or_else(|e| e.into_inner());
                    if result.timed_out() {
                        // Awake either way; a token that raced in is consumed by returning.
                        inner.state.swap(EMPTY, SeqCst);
                        return;
                    }
                    guard
                }
                #[cfg(loom)]
                Some(_) => inner.condvar.wait(guard).unwrap(),
            };
            if inner
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
            // Spurious wake-up: sleep again.
        }
    }
}

impl Unparker {
    pub(crate) fn unpark(&self) {
        let inner = &*self.inner;
        match inner.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Taking the lock orders us after the parker's check-then-wait, so the
                // signal cannot fall between them.
                drop(crate::loom::lock(&inner.lock));
                inner.condvar.notify_one();
            }
            other => unreachable!("parker in unknown state {other}"),
        }
    }
}
