//! The blocking pool behind `spawn_blocking`: a bounded set of threads that run
//! closures which would stall a worker, started on demand and retired after a
//! keep-alive of idleness.
//!
//! A blocking closure is a task like any other (one poll runs it to the end), so its
//! `JoinHandle`, panics and cancellation behave exactly as for async tasks. Closures
//! still queued at shutdown are cancelled; running ones are waited for only as long as
//! the caller asked. This file must never run async tasks.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::threads::ThreadSpec;
use crate::task::meta::SpawnMeta;
use crate::task::{self, Header, JoinHandle, Notified, Schedule};

pub(crate) const DEFAULT_MAX_THREADS: usize = 512;
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The pool; owned by the runtime, which shuts it down.
pub(crate) struct BlockingPool {
    spawner: BlockingSpawner,
}

/// A cheap handle for spawning, kept by the scheduler handles.
#[derive(Clone)]
pub(crate) struct BlockingSpawner {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Idle threads wait here for work or shutdown.
    work: Condvar,
    /// Shutdown waits here for threads to finish.
    exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    spec: ThreadSpec,
    /// The runtime's handle, installed as the current one on blocking threads so that
    /// `Handle::current()` works inside a closure. Set right after the runtime is built
    /// and cleared at shutdown: the handle owns this pool's spawner, so keeping it any
    /// longer would be a reference cycle.
    runtime: Mutex<Option<super::Handle>>,
    /// The closures queued or running, for `Handle::alive_tasks` only: shutdown
    /// never cancels from here (a running closure cannot be cancelled; queued ones
    /// are cancelled from the queue), and a task leaves when it completes.
    listed: task::OwnedTasks,
}

struct State {
    /// Queued closures; `true` marks a mandatory one, which shutdown runs
    /// instead of cancelling.
    queue: VecDeque<(Notified, bool)>,
    num_threads: usize,
    num_idle: usize,
    /// Wake-ups handed to idle threads and not yet consumed.
    num_notify: usize,
    shutdown: bool,
}

impl BlockingPool {
    pub(crate) fn new(spec: ThreadSpec, max_threads: usize, keep_alive: Duration) -> BlockingPool {
        let mut spec = spec;
        spec.name = format!("{}-blocking", spec.name);
        BlockingPool {
            spawner: BlockingSpawner {
                inner: Arc::new(Inner {
                    state: Mutex::new(State {
                        queue: VecDeque::new(),
                        num_threads: 0,
                        num_idle: 0,
                        num_notify: 0,
                        shutdown: false,
                    }),
                    work: Condvar::new(),
                    exited: Condvar::new(),
                    max_threads,
                    keep_alive,
                    spec,
                    runtime: Mutex::new(None),
                    listed: task::OwnedTasks::new(1),
                }),
            },
        }
    }

    pub(crate) fn spawner(&self) -> &BlockingSpawner {
        &self.spawner
    }

    /// Cancel queued closures and wait (up to `timeout`) for running ones.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let inner = &self.spawner.inner;
        let runtime = inner
            .runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(runtime);
        let queued: Vec<Notified> = {
            let mut state = inner.lock();
            state.shutdown = true;
            // Mandatory closures (a file's write in flight) stay to be run.
            let (keep, cancel): (VecDeque<_>, VecDeque<_>) =
                state.queue.drain(..).partition(|(_, mandatory)| *mandatory);
            state.queue = keep;
            cancel.into_iter().map(|(task, _)| task).collect()
        };
        inner.work.notify_all();
        for task in queued {
            task.cancel();
        }
        // A timeout past what an `Instant` can hold (`Duration::MAX`) waits forever.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        // A closure of this pool may drop the runtime: do not wait for ourselves.
        let own = usize::from(POOL.with(|p| p.get()) == Arc::as_ptr(inner));
        let mut state = inner.lock();
        while state.num_threads > own {
            state = match deadline {
                None => inner.exited.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return;
                    }
                    inner
                        .exited
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }
}

impl BlockingSpawner {
    /// Closures waiting for a thread, threads, and idle threads, for
    /// `RuntimeMetrics` (one lock).
    pub(crate) fn metrics(&self) -> (usize, usize, usize) {
        let state = self.inner.lock();
        (state.queue.len(), state.num_threads, state.num_idle)
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A closure as a future that finishes on its first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("blocking task polled after it finished");
        // Blocking code has no await points at which a budget could be paid back:
        // it runs unconstrained (a `block_on` inside gives each poll its own budget).
        Poll::Ready(crate::task::coop::without_budget(f))
    }
}

impl BlockingSpawner {
    pub(crate) fn set_runtime(&self, handle: super::Handle) {
        *self.inner.runtime.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
    }

    /// The runtime's clock, if it is paused.
    fn paused_clock(&self) -> Option<std::sync::Arc<crate::time::clock::Clock>> {
        if !crate::time::clock::any_paused() {
            return None;
        }
        let runtime = self.inner.runtime.lock().unwrap_or_else(|e| e.into_inner());
        let clock = runtime.as_ref()?.drivers.clock();
        clock.is_paused().then(|| clock.clone())
    }

    /// Queue `f` for the runtime itself (no spawn location).
    pub(crate) fn spawn<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_with(f, false, None).0
    }

    /// Queue `f` for a user's spawn call, described by `spawn`.
    pub(crate) fn spawn_as<F, R>(&self, f: F, spawn: SpawnMeta<'_>) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_with(f, false, Some(spawn)).0
    }

    /// Like `spawn`, but a closure still queued at shutdown runs instead of being
    /// cancelled (shutdown waits for it as for a running one). For work that must
    /// not be lost, such as a file write that already returned to its caller.
    /// `None` when the pool refuses it (it is shutting down): the caller must then
    /// not promise the work to anyone.
    pub(crate) fn spawn_mandatory<F, R>(&self, f: F) -> Option<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        match self.spawn_with(f, true, None) {
            (join, true) => Some(join),
            (_, false) => None,
        }
    }

    /// Like `spawn`, but `None` when the pool refuses `f` (it is shutting down), for
    /// callers that must undo something when the work will never run.
    pub(crate) fn try_spawn<F, R>(
        &self,
        f: F,
        spawn: Option<SpawnMeta<'_>>,
    ) -> Option<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        match self.spawn_with(f, false, spawn) {
            (join, true) => Some(join),
            (_, false) => None,
        }
    }

    /// Queue `f`; the flag says whether the pool took it (false: shutting down,
    /// and the handle reports the cancellation).
    fn spawn_with<F, R>(
        &self,
        f: F,
        mandatory: bool,
        spawn: Option<SpawnMeta<'_>>,
    ) -> (JoinHandle<R>, bool)
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        // On a paused clock, time must not jump while the closure takes real time.
        let inhibit = self
            .paused_clock()
            .map(|clock| clock.inhibit_auto_advance());
        let f = move || {
            let _inhibit = DeferredInhibit(inhibit);
            f()
        };
        let (listed, notified, join) = task::new_task(BlockingTask(Some(f)), self.clone(), spawn);
        // Listed only to be seen (see `Inner::listed`); a list that refuses it (it is
        // never closed, so only when absurdly full) leaves the task unlisted.
        drop(self.inner.listed.bind(listed));
        let accepted = self.submit(notified, mandatory);
        // SAFETY: `join` is the JoinHandle reference of a task with output `R`.
        (unsafe { JoinHandle::from_raw(join) }, accepted)
    }

    /// Adds what can be told of each closure queued or running
    /// (`runtime::Handle::alive_tasks`).
    pub(crate) fn alive_tasks(&self, out: &mut Vec<crate::task::TaskInfo>) {
        self.inner.listed.alive(out);
    }

    /// Queue a task and start a thread for it if needed; false if refused.
    fn submit(&self, task: Notified, mandatory: bool) -> bool {
        let inner = &self.inner;
        let mut state = inner.lock();
        if state.shutdown {
            drop(state);
            task.cancel();
            return false;
        }
        state.queue.push_back((task, mandatory));
        if state.num_idle > state.num_notify {
            state.num_notify += 1;
            drop(state);
            inner.work.notify_one();
            return true;
        }
        if state.num_threads >= inner.max_threads {
            return true; // a busy thread will pick it up when it is done
        }
        state.num_threads += 1;
        drop(state);
        let pool = self.inner.clone();
        if let Err(err) = inner.spec.spawn(move || run_thread(pool)) {
            let mut state = inner.lock();
            state.num_threads -= 1;
            if state.num_threads == 0 {
                // No thread will ever run the queue: fail the closures rather than hang.
                let queued: Vec<Notified> = state.queue.drain(..).map(|(task, _)| task).collect();
                drop(state);
                for task in queued {
                    task.cancel();
                }
                eprintln!("zokio: {err}; blocking closures were cancelled");
                // This one was among them: the caller must not count on it.
                return false;
            }
        }
        true
    }
}

thread_local! {
    static POOL: std::cell::Cell<*const Inner> = const { std::cell::Cell::new(std::ptr::null()) };
}

fn run_thread(inner: Arc<Inner>) {
    POOL.with(|p| p.set(Arc::as_ptr(&inner)));
    let runtime = inner
        .runtime
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let _current = runtime.as_ref().map(super::context::set_current);
    let mut state = inner.lock();
    loop {
        if let Some((task, _)) = state.queue.pop_front() {
            drop(state);
            task.run();
            state = inner.lock();
            continue;
        }
        if state.shutdown {
            break;
        }
        if crate::signal::runtime_thread_mask_stale() {
            // Brought up to date without the pool's lock: it may wake tasks.
            drop(state);
            crate::signal::resync_runtime_thread_mask();
            state = inner.lock();
            continue;
        }
        state.num_idle += 1;
        let (next, timeout) = inner
            .work
            .wait_timeout(state, inner.keep_alive)
            .unwrap_or_else(|e| e.into_inner());
        state = next;
        state.num_idle -= 1;
        if state.num_notify > 0 {
            state.num_notify -= 1;
        } else if timeout.timed_out() && state.queue.is_empty() {
            break;
        }
    }
    state.num_threads -= 1;
    drop(state);
    inner.exited.notify_all();
}

impl Schedule for BlockingSpawner {
    #[cfg(feature = "tracing")]
    const KIND: &'static str = "blocking";

    fn schedule(&self, task: Notified) {
        let _ = self.submit(task, false);
    }

    fn release(&self, task: NonNull<Header>) -> bool {
        // The task is complete and its joiner woken: only now may a paused clock jump,
        // or a timeout racing the closure could fire before its output is seen.
        drop(FINISHED_INHIBITS.try_with(|kept| kept.take()));
        self.inner.listed.remove(task)
    }
}

thread_local! {
    /// Auto-advance inhibitors of blocking closures that ended on this thread, kept
    /// until their task completes (`release`).
    static FINISHED_INHIBITS: std::cell::RefCell<Vec<crate::time::clock::InhibitAutoAdvance>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Holds a closure's auto-advance inhibitor past the closure's end (returned or
/// unwound) until its task completes.
struct DeferredInhibit(Option<crate::time::clock::InhibitAutoAdvance>);

impl Drop for DeferredInhibit {
    fn drop(&mut self) {
        if let Some(inhibit) = self.0.take() {
            // A thread that is exiting drops it at once instead.
            let _ = FINISHED_INHIBITS.try_with(|kept| kept.borrow_mut().push(inhibit));
        }
    }
}
