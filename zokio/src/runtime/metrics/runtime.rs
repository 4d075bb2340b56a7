//! `RuntimeMetrics`: a cheap, cloneable view of one runtime's counts, named and
//! meant as tokio's `tokio::runtime::RuntimeMetrics`, plus Zokio's own per-worker
//! ring and timer counts.
//!
//! Every method reads what the runtime published; none of them waits for a worker.
//! Worker counts are published by each worker at its maintenance ticks (every
//! `event_interval` tasks) and around each park, so a busy worker's counts may lag by
//! up to one tick interval; an idle runtime's are exact. This file must never write
//! a count.

use std::ops::Range;
use std::time::Duration;

use super::worker::WorkerMetrics;
use super::HistogramConfiguration;
use crate::driver::DriverCounters;
use crate::runtime::Handle;

/// A view of a runtime's metrics, from [`Handle::metrics`].
///
/// The names and meanings are tokio's (its stable ones and those it keeps behind
/// `tokio_unstable`, all stable here), so that code and dashboards written for
/// tokio's `RuntimeMetrics` read Zokio's. Counts are cumulative since the runtime was
/// built: subtract two readings to see what happened in between. Worker methods take
/// an index in `0..num_workers()` and panic on any other.
///
/// Per scheduler:
/// - work-stealing (`multi_thread`): every metric applies;
/// - `current_thread`: one worker, index 0, the thread inside `block_on` (the future
///   given to `block_on` is not a task: its polls are not counted); it never steals
///   and its local queue never overflows, so those counts stay 0;
/// - `thread_per_core`: its N workers; tasks never move between them, so the steal
///   counts stay 0, and their local queues are unbounded, so the overflow count
///   stays 0.
///
/// Cloning is cheap (a runtime handle). A clone keeps the runtime's shared state
/// alive, not the runtime running.
///
/// ```
/// let rt = zokio::runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .build()
///     .unwrap();
/// let metrics = rt.handle().metrics();
/// rt.block_on(async {
///     zokio::spawn(async {}).await.unwrap();
/// });
/// assert_eq!(metrics.num_workers(), 2);
/// assert!(metrics.spawned_tasks_count() >= 1);
/// ```
#[derive(Clone, Debug)]
pub struct RuntimeMetrics {
    handle: Handle,
}

impl RuntimeMetrics {
    pub(crate) fn new(handle: Handle) -> RuntimeMetrics {
        RuntimeMetrics { handle }
    }

    fn worker(&self, worker: usize) -> &WorkerMetrics {
        let metrics = self.handle.inner.metrics();
        assert!(
            worker < metrics.len(),
            "worker index {worker} is out of range: the runtime has {} workers",
            metrics.len()
        );
        metrics.worker(worker)
    }

    /// How many worker threads run tasks: the configured count on the work-stealing
    /// and thread-per-core schedulers, 1 on `current_thread`. Threads started for
    /// `block_in_place` take a worker's place and are not counted apart; blocking
    /// pool threads are not workers.
    pub fn num_workers(&self) -> usize {
        self.handle.inner.metrics().len()
    }

    /// The live tasks themselves, with their ids, names ([`task::Builder`]) and spawn
    /// locations: [`Handle::alive_tasks`], here beside the counts. It takes the task
    /// lists' locks, so it is for a dashboard's refresh, not a hot path.
    ///
    /// [`task::Builder`]: crate::task::Builder
    ///
    /// ```
    /// let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let metrics = rt.handle().metrics();
    /// let _guard = rt.enter();
    /// let task = zokio::task::Builder::new()
    ///     .name("flusher")
    ///     .spawn(std::future::pending::<()>())
    ///     .unwrap();
    /// let listed = metrics.alive_tasks();
    /// let flusher = listed.iter().find(|t| t.id() == task.id()).unwrap();
    /// assert_eq!(flusher.name(), Some("flusher"));
    /// assert_eq!(flusher.location().unwrap().file(), file!());
    /// ```
    pub fn alive_tasks(&self) -> Vec<crate::task::TaskInfo> {
        self.handle.alive_tasks()
    }

    /// How many tasks are alive: spawned on the runtime and not yet finished (or
    /// cancelled and dropped). Blocking closures and the tasks of a `LocalSet` (or
    /// of a `LocalRuntime`'s `spawn_local`), which the set owns, are not counted.
    pub fn num_alive_tasks(&self) -> usize {
        self.handle.inner.num_alive_tasks()
    }

    /// How many tasks wait in the runtime's global queues: spawned or woken from
    /// outside its workers (or overflowed from a full local queue) and not yet taken
    /// by a worker.
    pub fn global_queue_depth(&self) -> usize {
        self.handle.inner.global_queue_depth()
    }

    /// How many times worker `worker` went to sleep for lack of work.
    pub fn worker_park_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).park_count)
    }

    /// How many times worker `worker` went to sleep or woke up: each park and each
    /// unpark adds one, so an odd count means it sleeps now.
    pub fn worker_park_unpark_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).park_unpark_count)
    }

    /// How long worker `worker` has been awake, running tasks or looking for them,
    /// in total: the time between its wake-ups and its next parks.
    pub fn worker_total_busy_duration(&self, worker: usize) -> Duration {
        Duration::from_nanos(WorkerMetrics::get(&self.worker(worker).busy_nanos))
    }

    /// How many tasks were ever spawned on the runtime. As for
    /// [`num_alive_tasks`](Self::num_alive_tasks), blocking closures and local
    /// sets' tasks are not counted.
    pub fn spawned_tasks_count(&self) -> u64 {
        self.handle.inner.spawned_tasks_count()
    }

    /// How many tasks were scheduled from outside the runtime's workers: spawned or
    /// woken from another thread, which puts them in a global queue.
    pub fn remote_schedule_count(&self) -> u64 {
        self.handle.inner.remote_schedule_count()
    }

    /// How many times a task's poll was made to yield because it used up its
    /// cooperative budget (see [`task::coop`](crate::task::coop)).
    pub fn budget_forced_yield_count(&self) -> u64 {
        self.handle.inner.metrics().budget_forced_yields()
    }

    /// How many tasks worker `worker` stole from other workers. Always 0 on
    /// `current_thread` and `thread_per_core`, which never steal.
    pub fn worker_steal_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).steal_count)
    }

    /// How many steals of one or more tasks worker `worker` made (one steal takes
    /// about half the victim's queue). Always 0 where nothing is stolen.
    pub fn worker_steal_operations(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).steal_operations)
    }

    /// How many task polls worker `worker` ran.
    pub fn worker_poll_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).poll_count)
    }

    /// How many tasks worker `worker` scheduled into its own queue: spawned or woken
    /// by a task it was running.
    pub fn worker_local_schedule_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).local_schedule_count)
    }

    /// How many times worker `worker`'s local queue was full and sent half of itself
    /// to the global queue. Only the work-stealing scheduler's queues are bounded:
    /// always 0 on the others.
    pub fn worker_overflow_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).overflow_count)
    }

    /// How many tasks wait in worker `worker`'s local queue. Read live on the
    /// work-stealing scheduler; on `current_thread` and `thread_per_core`, whose
    /// queues only their worker can read, as of the worker's last publication.
    pub fn worker_local_queue_depth(&self, worker: usize) -> usize {
        self.worker(worker);
        self.handle.inner.worker_local_queue_depth(worker)
    }

    /// The mean time worker `worker`'s task polls take, an exponentially weighted
    /// mean that follows recent polls (as tokio's). Measured per batch of polls (from
    /// a wake-up to the next park or maintenance tick), so it includes the scheduler's
    /// own time between them.
    pub fn worker_mean_poll_time(&self, worker: usize) -> Duration {
        Duration::from_nanos(WorkerMetrics::get(&self.worker(worker).mean_poll_nanos))
    }

    /// How many times worker `worker` woke up and went back to sleep without polling
    /// a task.
    pub fn worker_noop_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).noop_count)
    }

    /// How many blocking closures wait for a blocking-pool thread.
    pub fn blocking_queue_depth(&self) -> usize {
        self.handle.inner.blocking().metrics().0
    }

    /// How many threads the blocking pool has, busy or idle.
    pub fn num_blocking_threads(&self) -> usize {
        self.handle.inner.blocking().metrics().1
    }

    /// How many of the blocking pool's threads wait for work.
    pub fn num_idle_blocking_threads(&self) -> usize {
        self.handle.inner.blocking().metrics().2
    }

    /// Whether the poll-time histogram is on:
    /// [`Builder::enable_metrics_poll_time_histogram`](crate::runtime::Builder::enable_metrics_poll_time_histogram).
    pub fn poll_time_histogram_enabled(&self) -> bool {
        self.config().is_some()
    }

    fn config(&self) -> Option<HistogramConfiguration> {
        self.handle.inner.metrics().histogram_configuration()
    }

    /// How many buckets the poll-time histogram has; 0 when it is off.
    pub fn poll_time_histogram_num_buckets(&self) -> usize {
        self.config().map_or(0, |c| c.num_buckets())
    }

    /// The poll durations bucket `bucket` counts; the last bucket ends at
    /// `Duration::from_nanos(u64::MAX)`.
    ///
    /// # Panics
    /// When the histogram is off, or `bucket` is not below
    /// [`poll_time_histogram_num_buckets`](Self::poll_time_histogram_num_buckets).
    pub fn poll_time_histogram_bucket_range(&self, bucket: usize) -> Range<Duration> {
        self.config()
            .expect("the poll-time histogram is off: enable it with `Builder::enable_metrics_poll_time_histogram`")
            .range(bucket)
    }

    /// How many of worker `worker`'s polls took a time in bucket `bucket`'s range.
    ///
    /// # Panics
    /// When the histogram is off, or either index is out of range.
    pub fn poll_time_histogram_bucket_count(&self, worker: usize, bucket: usize) -> u64 {
        self.worker(worker)
            .histogram
            .as_ref()
            .expect("the poll-time histogram is off: enable it with `Builder::enable_metrics_poll_time_histogram`")
            .count(bucket)
    }

    fn ring(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            self.handle.drivers.kind == crate::runtime::DriverKind::IoUring
        }
        #[cfg(not(target_os = "linux"))]
        {
            false
        }
    }

    /// A count of worker `worker`'s io_uring driver (checking the index first), or 0
    /// where the runtime's driver is not io_uring.
    fn ring_count(&self, worker: usize, read: impl FnOnce(&DriverCounters) -> u64) -> u64 {
        self.worker(worker);
        if !self.ring() {
            return 0;
        }
        read(self.handle.drivers.worker_counters(worker))
    }

    /// Zokio only: submission queue entries worker `worker`'s io_uring took
    /// (operations, cancels and its own wake-up polls). 0 on the other drivers.
    pub fn worker_ring_submissions(&self, worker: usize) -> u64 {
        self.ring_count(worker, |c| c.snapshot().submitted)
    }

    /// Zokio only: completion queue entries worker `worker`'s io_uring reaped. 0 on
    /// the other drivers.
    pub fn worker_ring_completions(&self, worker: usize) -> u64 {
        self.ring_count(worker, |c| c.snapshot().completed)
    }

    /// Zokio only: `io_uring_enter` system calls worker `worker`'s ring made (to
    /// submit, to wait, or both). 0 on the other drivers.
    pub fn worker_ring_enter_count(&self, worker: usize) -> u64 {
        self.ring_count(worker, |c| c.ring_enters())
    }

    /// Zokio only: operations submitted to worker `worker`'s io_uring and not yet
    /// completed. 0 on the other drivers, which have no operations in flight (they
    /// wait for readiness instead).
    pub fn worker_ops_in_flight(&self, worker: usize) -> usize {
        self.ring_count(worker, |c| c.in_flight()) as usize
    }

    /// Zokio only: timers (`sleep`, `timeout`, `interval` ticks) registered on worker
    /// `worker`'s timer wheel and not yet fired or dropped, on every driver.
    pub fn worker_timer_entries(&self, worker: usize) -> usize {
        self.worker(worker);
        self.handle.drivers.timer_entries(worker)
    }
}
