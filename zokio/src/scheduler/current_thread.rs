//! The current-thread scheduler: every task runs on the thread that calls `block_on`,
//! interleaved with the future it blocks on.
//!
//! The run queue and the parker form a `Core` that one `block_on` at a time takes; a
//! second thread calling `block_on` meanwhile drives only its own future and takes the
//! core when it comes free. Wakes from the driving thread go straight to the local
//! queue, others through the global queue and an unpark. Tasks never run outside
//! `block_on`, as in tokio. Nothing here may spawn threads.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::fifo::{Fifo, INITIAL_CAPACITY};
use crate::loom::sync::Mutex;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::driver::{LocalDriver, Unparker};
use crate::runtime::blocking::BlockingSpawner;
use crate::runtime::metrics::{MetricsBatch, WorkerMetrics, WorkersMetrics};
use crate::scheduler::inject::Inject;
use crate::scheduler::multi_thread::Tuning;
use crate::task::meta::SpawnMeta;
use crate::task::{self, Header, JoinHandle, Notified, OwnedTasks, Schedule};

pub(crate) struct Handle {
    pub(super) inject: Inject<Notified>,
    pub(super) owned: OwnedTasks,
    /// Wakes whichever thread holds the core.
    unparker: Unparker,
    core: Mutex<Option<Box<Core>>>,
    tuning: Tuning,
    pub(crate) blocking: BlockingSpawner,
    /// The one worker's published counts (the thread in `block_on`).
    pub(crate) metrics: WorkersMetrics,
}

pub(crate) struct Core {
    tasks: Fifo<Notified>,
    tick: u32,
    driver: LocalDriver,
    /// Counted while driving, published every `event_interval` ticks and around
    /// parks; it moves with the core between the threads that call `block_on`.
    metrics: MetricsBatch,
    /// Ticks left until the next publication (counting down avoids a division per
    /// tick).
    until_publish: u32,
}

impl Core {
    fn publish(&mut self, worker: &WorkerMetrics) {
        self.metrics.end_batch();
        self.metrics.publish(worker, Some(self.tasks.len()));
    }
}

struct DrivingContext {
    handle: *const Handle,
    core: RefCell<Option<Box<Core>>>,
}

thread_local! {
    static CURRENT: Cell<*const DrivingContext> = const { Cell::new(ptr::null()) };
}

/// Whether this thread runs this scheduler's tasks right now (where a task may not
/// block: `block_in_place` refuses).
pub(crate) fn runs_tasks_here() -> bool {
    CURRENT.with(|current| !current.get().is_null())
}

/// While this thread drives a current-thread runtime: whether other tasks wait in
/// its queue (`None` elsewhere, or while the core is in use).
pub(crate) fn local_work_waiting() -> Option<bool> {
    CURRENT.with(|current| {
        let ctx = current.get();
        if ctx.is_null() {
            return None;
        }
        // SAFETY: CURRENT points at a live `DrivingContext` while `drive` runs; it is
        // reset before that context is dropped.
        let ctx = unsafe { &*ctx };
        let core = ctx.core.try_borrow().ok()?;
        core.as_ref().map(|core| !core.tasks.is_empty())
    })
}

/// How long a `block_on` that is waiting for the core sleeps between looks at it.
const CORE_RETRY: Duration = Duration::from_millis(1);

impl Handle {
    pub(crate) fn new(
        tuning: Tuning,
        blocking: BlockingSpawner,
        driver: LocalDriver,
    ) -> Arc<Handle> {
        Arc::new(Handle {
            inject: Inject::new(),
            owned: OwnedTasks::new(1),
            unparker: driver.unparker(),
            core: Mutex::new(Some(Box::new(Core {
                tasks: Fifo::with_capacity(INITIAL_CAPACITY),
                tick: 0,
                driver,
                metrics: MetricsBatch::new(tuning.poll_time_histogram.is_some(), 0.0),
                until_publish: 0,
            }))),
            tuning,
            blocking,
            metrics: WorkersMetrics::new(1, tuning.poll_time_histogram),
        })
    }

    #[inline]
    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        spawn: Option<SpawnMeta<'_>>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let locations = self.tuning.spawn_locations;
        task::spawn_bound(
            future,
            self.clone(),
            &self.owned,
            spawn,
            locations,
            |notified| self.schedule(notified),
        )
    }

    fn take_core(&self) -> Option<Box<Core>> {
        crate::loom::lock(&self.core).take()
    }

    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let mut future = pin!(future);
        let woken = Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            unparker: self.unparker.clone(),
        });
        let waker = Waker::from(woken.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Some(core) = self.take_core() {
                return self.drive(core, future.as_mut(), &woken, &mut cx);
            }
            // Another thread drives the tasks; keep our own future going meanwhile.
            if woken.woken.swap(false, Ordering::AcqRel) {
                if let Poll::Ready(output) =
                    crate::task::coop::with_budget(|| future.as_mut().poll(&mut cx))
                {
                    return output;
                }
            }
            std::thread::sleep(CORE_RETRY);
            woken.woken.store(true, Ordering::Release);
        }
    }

    fn drive<F: Future>(
        &self,
        core: Box<Core>,
        mut future: std::pin::Pin<&mut F>,
        main: &MainWaker,
        cx: &mut Context<'_>,
    ) -> F::Output {
        let ctx = DrivingContext {
            handle: self,
            core: RefCell::new(Some(core)),
        };
        let previous = CURRENT.with(|c| c.replace(&ctx));
        // Give the core back even if the future or a task unwinds.
        struct Restore<'a>(&'a Handle, &'a DrivingContext, *const DrivingContext);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.2));
                if let Some(mut core) = self.1.core.borrow_mut().take() {
                    // What this call counted becomes visible once it returns.
                    core.publish(self.0.metrics.worker(0));
                    // The runtime shut down while we held the core: its queue is ours
                    // to drop, or it keeps the tasks (and this handle) alive forever,
                    // and its driver is ours to drain.
                    if self.0.owned.is_closed() {
                        // Tasks first: the operations they leave behind are what the
                        // drain cancels and waits for.
                        core.tasks.clear();
                        core.driver.drain();
                    }
                    // Nothing runs the queue until the next `block_on`, however long
                    // that takes: a burst's spike goes back now. The loop shrinks it
                    // only before it parks, which a `block_on` whose future finishes
                    // as the queue runs dry never does (that kept 8 MiB of a
                    // million-task burst resident).
                    core.tasks.release_spike();
                    *crate::loom::lock(&self.0.core) = Some(core);
                }
            }
        }
        let _restore = Restore(self, &ctx, previous);
        let metrics = self.metrics.worker(0);
        if let Some(core) = ctx.core.borrow_mut().as_mut() {
            // Time the core spent unused was no one's busy time.
            core.metrics.restart();
        }
        // The driver sits in the boxed core, which stays in `ctx`, at one address, for
        // as long as this call holds it.
        let driver: *const LocalDriver = &ctx.core.borrow().as_ref().expect("core present").driver;
        // SAFETY: the core (and its driver) lives until `_restore` gives it back, and
        // this guard is dropped first (declared after it).
        let _driver = unsafe { crate::driver::context::enter(&*driver) };
        loop {
            if main.woken.swap(false, Ordering::AcqRel) {
                if let Poll::Ready(output) =
                    crate::task::coop::with_budget(|| future.as_mut().poll(cx))
                {
                    return output;
                }
            }
            // Once per round even when busy: completions and timers. No borrow of the
            // core is held, so the tasks they wake go straight into its queue.
            // SAFETY: `driver` points into the boxed core `ctx` holds until `_restore`.
            unsafe { &*driver }.poll();
            for _ in 0..self.tuning.event_interval {
                let task = {
                    let mut core = ctx.core.borrow_mut();
                    let core = core.as_mut().expect("core present while driving");
                    core.tick = core.tick.wrapping_add(1);
                    match core.until_publish.checked_sub(1) {
                        Some(left) => core.until_publish = left,
                        None => {
                            core.publish(metrics);
                            core.until_publish = self.tuning.event_interval - 1;
                        }
                    }
                    let task = if core.tick % self.tuning.global_queue_interval == 0 {
                        self.inject.pop().or_else(|| core.tasks.pop_front())
                    } else {
                        core.tasks.pop_front().or_else(|| self.inject.pop())
                    };
                    task.map(|task| {
                        core.metrics.polled();
                        (task, core.metrics.poll_started())
                    })
                };
                match task {
                    Some((task, started)) => {
                        task.run();
                        if let Some(started) = started {
                            MetricsBatch::poll_ended(metrics, started);
                        }
                    }
                    None => {
                        if !main.woken.load(Ordering::Acquire) {
                            // SAFETY: as above; no borrow of the core is held across it.
                            let driver = unsafe { &*driver };
                            // Completions already there need no sleep.
                            let found = driver.poll_if_busy()
                                && (main.woken.load(Ordering::Acquire)
                                    || ctx
                                        .core
                                        .borrow()
                                        .as_ref()
                                        .is_some_and(|c| !c.tasks.is_empty()));
                            if !found {
                                if let Some(core) = ctx.core.borrow_mut().as_mut() {
                                    core.tasks.release_spike();
                                    core.metrics.about_to_park();
                                    core.publish(metrics);
                                }
                                driver.park();
                                if let Some(core) = ctx.core.borrow_mut().as_mut() {
                                    core.metrics.unparked();
                                    core.metrics.restart();
                                    core.metrics.publish(metrics, None);
                                }
                            }
                        }
                        break;
                    }
                }
            }
        }
    }

    /// Cancel every task and drop every queued wake-up; called once, on the thread
    /// that drops the runtime.
    pub(crate) fn shutdown(&self) {
        for task in self.owned.close_and_take() {
            task.shutdown();
        }
        // Later wake-ups are dropped by the closed queue; a core held by another
        // thread's `block_on` is drained when that thread gives it back.
        let mut queued = self.inject.close_and_drain();
        let core = crate::loom::lock(&self.core).take();
        if let Some(mut core) = core {
            queued.append(&mut core.tasks.take_all());
            drop(queued);
            // Every task is gone: cancel what they left in flight and wait for the
            // kernel before anything is freed.
            core.driver.drain();
            *crate::loom::lock(&self.core) = Some(core);
        } else {
            drop(queued);
        }
    }
}

impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Notified) {
        let task = CURRENT.with(|current| {
            let ctx = current.get();
            // SAFETY: CURRENT points at a live `DrivingContext` while `drive` runs; it
            // is reset before that context is dropped.
            if ctx.is_null() || !ptr::eq(unsafe { (*ctx).handle }, Arc::as_ptr(self)) {
                return Some(task);
            }
            // SAFETY: as above.
            let ctx = unsafe { &*ctx };
            let Ok(mut core) = ctx.core.try_borrow_mut() else {
                return Some(task);
            };
            match core.as_mut() {
                Some(core) => {
                    core.tasks.push_back(task);
                    core.metrics.local_schedule();
                    None
                }
                None => Some(task),
            }
        });
        if let Some(task) = task {
            self.inject.push(task);
            self.unparker.unpark();
        }
    }

    fn release(&self, task: NonNull<Header>) -> bool {
        self.owned.remove(task)
    }
}

/// The waker of the future passed to `block_on`.
struct MainWaker {
    woken: AtomicBool,
    unparker: Unparker,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.unparker.unpark();
    }
}
