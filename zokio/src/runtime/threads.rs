//! Starting the runtime's threads with the builder's name, stack size and hooks, and
//! knowing when the last of a group has finished.
//!
//! The last thread of a group to finish runs the group's clean-up (cancelling the
//! tasks that are left) on its own thread, so that `shutdown_background` never blocks
//! and `Drop` can wait for it with or without a deadline. After the clean-up each
//! thread runs its own finisher (draining its I/O driver, which only that thread may
//! submit to); the group is done when every finisher has run. Nothing here knows about
//! schedulers or tasks.

use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub(crate) type Hook = Arc<dyn Fn() + Send + Sync + 'static>;

/// A step a new thread runs first, before the start hook: a worker's placement (its
/// CPU affinity), so that the hook sees the thread as it will run.
pub(crate) type Prepare = Box<dyn FnOnce() + Send + 'static>;

/// How to make a runtime thread, as configured on the `Builder`.
#[derive(Clone)]
pub(crate) struct ThreadSpec {
    pub(crate) name: String,
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_start: Option<Hook>,
    pub(crate) on_stop: Option<Hook>,
    /// Run first by every thread of this spec that has no `Prepare` of its own: a
    /// blocking thread of a `NumaAware` runtime leaves the node of the worker that
    /// started it (a thread inherits its creator's CPU affinity).
    pub(crate) prepare_each: Option<Hook>,
}

impl ThreadSpec {
    /// Start one thread running `body` between the start and stop hooks.
    pub(crate) fn spawn(&self, body: impl FnOnce() + Send + 'static) -> io::Result<JoinHandle<()>> {
        self.spawn_prepared(None, body)
    }

    /// As [`spawn`](Self::spawn), with `prepare` run on the new thread before its
    /// start hook.
    pub(crate) fn spawn_prepared(
        &self,
        prepare: Option<Prepare>,
        body: impl FnOnce() + Send + 'static,
    ) -> io::Result<JoinHandle<()>> {
        let mut builder = std::thread::Builder::new().name(self.name.clone());
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        let on_start = self.on_start.clone();
        let on_stop = self.on_stop.clone();
        let prepare_each = self.prepare_each.clone();
        builder
            .spawn(move || {
                // A runtime thread blocks the signals `zokio::signal` listens for.
                crate::signal::runtime_thread_started();
                match (prepare, &prepare_each) {
                    (Some(prepare), _) => prepare(),
                    (None, Some(each)) => each(),
                    (None, None) => {}
                }
                if let Some(hook) = &on_start {
                    hook();
                }
                body();
                if let Some(hook) = &on_stop {
                    hook();
                }
            })
            .map_err(|e| io::Error::new(e.kind(), format!("failed to start a runtime thread: {e}")))
    }
}

type Cleanup = Box<dyn FnOnce() + Send + 'static>;
/// Runs on the thread that returned it, after the group's clean-up.
pub(crate) type Finisher = Box<dyn FnOnce()>;

struct Latch {
    state: Mutex<LatchState>,
    finished: Condvar,
}

struct LatchState {
    /// Threads still in their body.
    live: usize,
    cleanup: Option<Cleanup>,
    cleaned: bool,
    /// Threads that have not finished their finisher.
    finishing: usize,
    done: bool,
}

impl LatchState {
    fn update_done(&mut self, latch: &Latch) {
        if self.cleaned && self.finishing == 0 && !self.done {
            self.done = true;
            latch.finished.notify_all();
        }
    }
}

/// A group of threads whose last one out runs a clean-up.
pub(crate) struct ThreadGroup {
    latch: Arc<Latch>,
    threads: Vec<JoinHandle<()>>,
}

/// Held by each thread of a group; leaving (normally or by unwinding) counts it out.
pub(crate) struct Member {
    latch: Arc<Latch>,
}

/// Counts a thread out of the finishers when dropped (also if it never started).
struct Finishing {
    latch: Arc<Latch>,
}

impl Drop for Finishing {
    fn drop(&mut self) {
        let mut state = self.latch.state.lock().unwrap_or_else(|e| e.into_inner());
        state.finishing -= 1;
        state.update_done(&self.latch);
    }
}

impl Finishing {
    fn wait_cleaned(&self) {
        let mut state = self.latch.state.lock().unwrap_or_else(|e| e.into_inner());
        while !state.cleaned {
            state = self
                .latch
                .finished
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl ThreadGroup {
    pub(crate) fn new(cleanup: impl FnOnce() + Send + 'static) -> ThreadGroup {
        ThreadGroup {
            latch: Arc::new(Latch {
                state: Mutex::new(LatchState {
                    live: 0,
                    cleanup: Some(Box::new(cleanup)),
                    cleaned: false,
                    finishing: 0,
                    done: false,
                }),
                finished: Condvar::new(),
            }),
            threads: Vec::new(),
        }
    }

    /// Register a thread before starting it, and keep its handle once started. The
    /// finisher that `body` returns runs after the group's clean-up; `prepare` runs
    /// first on the new thread, before the start hook.
    pub(crate) fn spawn(
        &mut self,
        spec: &ThreadSpec,
        prepare: Option<Prepare>,
        body: impl FnOnce() -> Option<Finisher> + Send + 'static,
    ) -> io::Result<()> {
        let thread = self.spawner(spec).spawn(prepare, body)?;
        self.threads.push(thread);
        Ok(())
    }

    /// A way for the group's own threads to start another member later (a worker
    /// that takes over from one blocked in `block_in_place`).
    pub(crate) fn spawner(&self, spec: &ThreadSpec) -> GroupSpawner {
        GroupSpawner {
            latch: self.latch.clone(),
            spec: spec.clone(),
        }
    }

    pub(crate) fn wait(&mut self, timeout: Option<Duration>) -> bool {
        // A timeout past what an `Instant` can hold (`Duration::MAX`) waits forever.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut state = self.latch.state.lock().unwrap_or_else(|e| e.into_inner());
        while !state.done {
            state = match deadline {
                None => self
                    .latch
                    .finished
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    self.latch
                        .finished
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        drop(state);
        for thread in self.threads.drain(..) {
            // A worker that panicked has already been counted out; nothing to add.
            let _ = thread.join();
        }
        true
    }

    /// Let the threads finish on their own.
    pub(crate) fn detach(&mut self) {
        self.threads.clear();
    }
}

thread_local! {
    /// This thread's membership of its group, while its body runs.
    static MEMBERSHIP: std::cell::RefCell<Option<Member>> = const { std::cell::RefCell::new(None) };
}

/// The calling thread stops counting as a live member of its group (if it is in
/// one): a worker that handed its core to another thread in `block_in_place`. The
/// group's clean-up (cancelling every task) then no longer waits for it, which is
/// what may unblock it; the group is still done only once its body has returned.
pub(crate) fn leave_group() {
    let member = MEMBERSHIP
        .try_with(|m| m.borrow_mut().take())
        .ok()
        .flatten();
    drop(member);
}

/// Starts members of a group from inside it; see [`ThreadGroup::spawner`].
#[derive(Clone)]
pub(crate) struct GroupSpawner {
    latch: Arc<Latch>,
    spec: ThreadSpec,
}

impl GroupSpawner {
    /// Start a member. Only a live member may call this (the group's clean-up has
    /// not run while one lives), so the new one is counted in before it could run.
    /// `body` returns the thread's finisher, or `None` for a thread with nothing to
    /// finish: it then leaves at once instead of waiting for the clean-up. `prepare`
    /// runs first on the new thread, before the start hook.
    pub(crate) fn spawn(
        &self,
        prepare: Option<Prepare>,
        body: impl FnOnce() -> Option<Finisher> + Send + 'static,
    ) -> io::Result<JoinHandle<()>> {
        {
            let mut state = self.latch.state.lock().unwrap_or_else(|e| e.into_inner());
            state.live += 1;
            state.finishing += 1;
        }
        let member = Member {
            latch: self.latch.clone(),
        };
        let finishing = Finishing {
            latch: self.latch.clone(),
        };
        // On failure the closure (with its `Member` and `Finishing`) is dropped,
        // which counts it out again.
        self.spec.spawn_prepared(prepare, move || {
            // Counted out when the body returns or unwinds, unless it left earlier.
            struct Leave;
            impl Drop for Leave {
                fn drop(&mut self) {
                    leave_group();
                }
            }
            MEMBERSHIP.with(|m| *m.borrow_mut() = Some(member));
            let finisher = {
                let _leave = Leave;
                body()
            };
            if let Some(finisher) = finisher {
                finishing.wait_cleaned();
                finisher();
            }
            drop(finishing);
        })
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let mut state = self.latch.state.lock().unwrap_or_else(|e| e.into_inner());
        state.live -= 1;
        if state.live > 0 {
            return;
        }
        let cleanup = state.cleanup.take();
        drop(state);
        if let Some(cleanup) = cleanup {
            // Mark the group done even if the clean-up unwinds, or `wait` never returns.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(cleanup));
        }
        let mut state = self.latch.state.lock().unwrap_or_else(|e| e.into_inner());
        state.cleaned = true;
        self.latch.finished.notify_all();
        state.update_done(&self.latch);
    }
}
