//! The thread-per-core scheduler: N workers, no stealing. A task stays for its whole
//! life on the worker it was spawned on, so its data never crosses cores.
//!
//! Spawns from a worker stay on that worker; spawns from outside are dealt round-robin.
//! Wakes on the owning worker go to its local queue; wakes from anywhere else go to
//! that worker's own global queue plus an unpark. Each worker keeps its own owned-task
//! list. Nothing here may move a task to another worker.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::driver::{LocalDriver, Unparker};
use crate::runtime::blocking::BlockingSpawner;
use crate::runtime::metrics::{MetricsBatch, WorkersMetrics};
use crate::scheduler::fifo::{Fifo, INITIAL_CAPACITY};
use crate::scheduler::inject::Inject;
use crate::scheduler::multi_thread::Tuning;
use crate::task::meta::SpawnMeta;
use crate::task::{self, Header, JoinHandle, Notified, OwnedTasks, Schedule};

pub(crate) struct Handle {
    pub(crate) workers: Box<[Arc<WorkerShared>]>,
    next_worker: AtomicUsize,
    pub(crate) blocking: BlockingSpawner,
    /// What each worker publishes for `RuntimeMetrics`.
    pub(crate) metrics: Arc<WorkersMetrics>,
}

/// One worker's public side, and the scheduler hook of the tasks it owns.
pub(crate) struct WorkerShared {
    pub(super) inject: Inject<Notified>,
    pub(super) owned: OwnedTasks,
    unparker: Unparker,
    shutdown: AtomicBool,
    tuning: Tuning,
}

/// Handed to a worker thread at start.
pub(crate) struct Worker {
    pub(crate) shared: Arc<WorkerShared>,
    driver: LocalDriver,
    index: usize,
    metrics: Arc<WorkersMetrics>,
}

struct WorkerContext {
    shared: Arc<WorkerShared>,
    tasks: RefCell<Fifo<Notified>>,
    /// Counted by the worker loop and by local schedules; published every
    /// `event_interval` ticks and around parks.
    metrics: RefCell<MetricsBatch>,
}

thread_local! {
    static CURRENT: Cell<*const WorkerContext> = const { Cell::new(ptr::null()) };
}

/// Whether this thread runs this scheduler's tasks right now (where a task may not
/// block: `block_in_place` refuses).
pub(crate) fn runs_tasks_here() -> bool {
    CURRENT.with(|current| !current.get().is_null())
}

/// On a worker thread: whether other tasks wait in its queue (`None` elsewhere,
/// or while the worker itself holds the queue).
pub(crate) fn local_work_waiting() -> Option<bool> {
    CURRENT.with(|current| {
        let ctx = current.get();
        if ctx.is_null() {
            return None;
        }
        // SAFETY: CURRENT points at a live context while its worker loop runs.
        let tasks = unsafe { &*ctx }.tasks.try_borrow().ok()?;
        Some(!tasks.is_empty())
    })
}

impl Handle {
    pub(crate) fn new(
        drivers: Vec<LocalDriver>,
        tuning: Tuning,
        blocking: BlockingSpawner,
    ) -> (Arc<Handle>, Vec<Worker>) {
        let num_workers = drivers.len();
        let mut workers = Vec::with_capacity(num_workers);
        let mut shared = Vec::with_capacity(num_workers);
        let metrics = Arc::new(WorkersMetrics::new(num_workers, tuning.poll_time_histogram));
        for (index, driver) in drivers.into_iter().enumerate() {
            let worker_shared = Arc::new(WorkerShared {
                inject: Inject::new(),
                owned: OwnedTasks::new(1),
                unparker: driver.unparker(),
                shutdown: AtomicBool::new(false),
                tuning,
            });
            shared.push(worker_shared.clone());
            workers.push(Worker {
                shared: worker_shared,
                driver,
                index,
                metrics: metrics.clone(),
            });
        }
        let handle = Arc::new(Handle {
            workers: shared.into(),
            next_worker: AtomicUsize::new(0),
            blocking,
            metrics,
        });
        (handle, workers)
    }

    #[inline]
    pub(crate) fn spawn<F>(&self, future: F, spawn: Option<SpawnMeta<'_>>) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let target = self.current_worker().unwrap_or_else(|| {
            let index = self.next_worker.fetch_add(1, Ordering::Relaxed) % self.workers.len();
            self.workers[index].clone()
        });
        let locations = target.tuning.spawn_locations;
        task::spawn_bound(
            future,
            target.clone(),
            &target.owned,
            spawn,
            locations,
            |notified| target.schedule(notified),
        )
    }

    /// The worker this thread is, if it is one of ours.
    fn current_worker(&self) -> Option<Arc<WorkerShared>> {
        CURRENT.with(|c| {
            let ctx = c.get();
            if ctx.is_null() {
                return None;
            }
            // SAFETY: CURRENT points at a live context while its worker loop runs.
            let shared = unsafe { &(*ctx).shared };
            self.workers
                .iter()
                .any(|w| Arc::ptr_eq(w, shared))
                .then(|| shared.clone())
        })
    }

    pub(crate) fn begin_shutdown(&self) {
        for worker in self.workers.iter() {
            worker.shutdown.store(true, Ordering::Release);
            worker.unparker.unpark();
        }
    }

    /// Cancel what is left on every worker; run by the last worker thread to exit.
    pub(crate) fn shutdown_tasks(&self) {
        for worker in self.workers.iter() {
            for task in worker.owned.close_and_take() {
                task.shutdown();
            }
        }
        // Later wake-ups are dropped by the closed queues rather than kept forever.
        let queued: Vec<Notified> = self
            .workers
            .iter()
            .flat_map(|w| w.inject.close_and_drain())
            .collect();
        drop(queued);
    }
}

/// The body of a worker thread. Returns its driver, to be drained on this thread once
/// every task of the runtime is gone.
pub(crate) fn run(worker: Worker) -> LocalDriver {
    let Worker {
        shared,
        driver,
        index,
        metrics,
    } = worker;
    let metrics = metrics.worker(index);
    let ctx = WorkerContext {
        tasks: RefCell::new(Fifo::with_capacity(INITIAL_CAPACITY)),
        metrics: RefCell::new(MetricsBatch::new(
            shared.tuning.poll_time_histogram.is_some(),
            0.0,
        )),
        shared,
    };
    // Publish the totals, with the local queue's length (only this thread can read it).
    let publish = || {
        let mut batch = ctx.metrics.borrow_mut();
        batch.end_batch();
        batch.publish(metrics, Some(ctx.tasks.borrow().len()));
    };
    // SAFETY: `driver` outlives the guard, which is dropped before `driver` is returned.
    let driver_guard = unsafe { crate::driver::context::enter(&driver) };
    CURRENT.with(|c| c.set(&ctx));
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(ptr::null()));
        }
    }
    let reset = Reset;
    let shared = &*ctx.shared;
    let mut tick: u32 = 0;
    while !shared.shutdown.load(Ordering::Acquire) {
        tick = tick.wrapping_add(1);
        if tick % shared.tuning.event_interval == 0 {
            // A busy worker never parks, so completions and timers are looked at here.
            driver.poll();
            publish();
        }
        let task = {
            let mut tasks = ctx.tasks.borrow_mut();
            if tick % shared.tuning.global_queue_interval == 0 {
                shared.inject.pop().or_else(|| tasks.pop_front())
            } else {
                tasks.pop_front().or_else(|| {
                    // Move everything from outside in one lock; it is all ours anyway.
                    shared.inject.pop_batch_into(usize::MAX, &mut *tasks);
                    tasks.pop_front()
                })
            }
        };
        match task {
            Some(task) => {
                let started = {
                    let mut batch = ctx.metrics.borrow_mut();
                    batch.polled();
                    batch.poll_started()
                };
                task.run();
                if let Some(started) = started {
                    MetricsBatch::poll_ended(metrics, started);
                }
            }
            None => {
                // Completions already there need no sleep (see the work-stealing worker).
                let found = driver.poll_if_busy() && !ctx.tasks.borrow().is_empty();
                if !found {
                    ctx.tasks.borrow_mut().release_spike();
                    ctx.metrics.borrow_mut().about_to_park();
                    publish();
                    driver.park();
                    let mut batch = ctx.metrics.borrow_mut();
                    batch.unparked();
                    batch.restart();
                    batch.publish(metrics, None);
                }
            }
        }
    }
    publish();
    let leftovers = ctx.tasks.borrow_mut().take_all();
    shared.inject.push_batch(leftovers);
    drop(reset);
    drop(driver_guard);
    driver
}

impl Schedule for Arc<WorkerShared> {
    fn schedule(&self, task: Notified) {
        let task = CURRENT.with(|current| {
            let ctx = current.get();
            // SAFETY: CURRENT points at a live context while its worker loop runs.
            if ctx.is_null() || !Arc::ptr_eq(unsafe { &(*ctx).shared }, self) {
                return Some(task);
            }
            // SAFETY: as above.
            let ctx = unsafe { &*ctx };
            let Ok(mut tasks) = ctx.tasks.try_borrow_mut() else {
                return Some(task);
            };
            tasks.push_back(task);
            if let Ok(mut batch) = ctx.metrics.try_borrow_mut() {
                batch.local_schedule();
            }
            None
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
