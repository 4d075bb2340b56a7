//! `MetricsBatch`: the counts a worker keeps in its own private state while it runs,
//! published to its `WorkerMetrics` now and then.
//!
//! Counting a poll, a local schedule or a steal is a plain add to a field only the
//! worker touches. The clock is read once per batch of polls (from a wake-up or a
//! maintenance tick to the next park or tick), not per poll, and that one reading
//! gives both the busy time and the mean poll time; only an enabled poll-time
//! histogram reads it around each poll. Publishing (`publish`) stores the running
//! totals: the scheduler calls it at its maintenance ticks and around each park, so
//! what `RuntimeMetrics` shows lags by at most one tick interval. This file must
//! never decide when a worker parks or ticks.

use std::time::Instant;

use super::worker::WorkerMetrics;
use std::sync::atomic::Ordering::Relaxed;

/// How much one poll moves the mean poll time (an exponentially weighted mean, as
/// tokio's).
const ALPHA: f64 = 0.1;

pub(crate) struct MetricsBatch {
    polls: u64,
    local_schedules: u64,
    overflows: u64,
    steals: u64,
    steal_operations: u64,
    parks: u64,
    park_unparks: u64,
    noops: u64,
    /// `polls` at the last wake-up, and whether there was one: a park that follows a
    /// wake-up with no poll in between is a no-op.
    polls_at_unpark: Option<u64>,
    busy_nanos: u64,
    mean_poll_nanos: f64,
    batch_started: Instant,
    /// `polls` when the current batch started.
    batch_first_poll: u64,
    time_each_poll: bool,
}

impl MetricsBatch {
    /// `time_each_poll`: the poll-time histogram is on. `mean_poll_nanos`: the mean
    /// poll time assumed before any poll was timed.
    pub(crate) fn new(time_each_poll: bool, mean_poll_nanos: f64) -> MetricsBatch {
        MetricsBatch {
            polls: 0,
            local_schedules: 0,
            overflows: 0,
            steals: 0,
            steal_operations: 0,
            parks: 0,
            park_unparks: 0,
            noops: 0,
            polls_at_unpark: None,
            busy_nanos: 0,
            mean_poll_nanos,
            batch_started: Instant::now(),
            batch_first_poll: 0,
            time_each_poll,
        }
    }

    #[inline]
    pub(crate) fn polled(&mut self) {
        self.polls += 1;
    }

    /// A task woken or spawned on this worker went into its own queue.
    #[inline]
    pub(crate) fn local_schedule(&mut self) {
        self.local_schedules += 1;
    }

    /// The local queue was full and sent tasks to a global queue.
    pub(crate) fn overflow(&mut self) {
        self.overflows += 1;
    }

    /// One steal took `tasks` tasks from another worker.
    pub(crate) fn stole(&mut self, tasks: u64) {
        self.steal_operations += 1;
        self.steals += tasks;
    }

    /// The mean poll time so far, in nanoseconds (the global-queue interval follows it).
    pub(crate) fn mean_poll_nanos(&self) -> f64 {
        self.mean_poll_nanos
    }

    /// Fold the batch so far into the busy time and the mean poll time, and start the
    /// next one now.
    pub(crate) fn end_batch(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.batch_started).as_nanos();
        self.busy_nanos = self
            .busy_nanos
            .saturating_add(u64::try_from(elapsed).unwrap_or(u64::MAX));
        let polls = self.polls - self.batch_first_poll;
        if polls > 0 {
            let mean = elapsed as f64 / polls as f64;
            // A batch of n polls weighs as n one-poll updates would.
            let weight = 1.0 - (1.0 - ALPHA).powf(polls as f64);
            self.mean_poll_nanos = weight * mean + (1.0 - weight) * self.mean_poll_nanos;
        }
        self.batch_started = now;
        self.batch_first_poll = self.polls;
    }

    /// Start a batch now without counting the time since the last one (a sleep).
    pub(crate) fn restart(&mut self) {
        self.batch_started = Instant::now();
        self.batch_first_poll = self.polls;
    }

    /// The worker is about to sleep in its driver.
    pub(crate) fn about_to_park(&mut self) {
        self.parks += 1;
        self.park_unparks += 1;
        if self.polls_at_unpark == Some(self.polls) {
            self.noops += 1;
        }
    }

    /// The worker woke from its driver.
    pub(crate) fn unparked(&mut self) {
        self.park_unparks += 1;
        self.polls_at_unpark = Some(self.polls);
    }

    /// With the poll-time histogram on: the time a poll starts.
    #[inline]
    pub(crate) fn poll_started(&self) -> Option<Instant> {
        if self.time_each_poll {
            Some(Instant::now())
        } else {
            None
        }
    }

    /// The poll that `poll_started` timed ended: count it in the histogram.
    pub(crate) fn poll_ended(worker: &WorkerMetrics, started: Instant) {
        if let Some(histogram) = &worker.histogram {
            histogram.record(started.elapsed());
        }
    }

    /// Let other threads see the totals; `queue_depth` for schedulers whose local
    /// queue only the worker can read.
    pub(crate) fn publish(&self, worker: &WorkerMetrics, queue_depth: Option<usize>) {
        worker.park_count.store(self.parks, Relaxed);
        worker.park_unpark_count.store(self.park_unparks, Relaxed);
        worker.noop_count.store(self.noops, Relaxed);
        worker.steal_count.store(self.steals, Relaxed);
        worker
            .steal_operations
            .store(self.steal_operations, Relaxed);
        worker.poll_count.store(self.polls, Relaxed);
        worker
            .local_schedule_count
            .store(self.local_schedules, Relaxed);
        worker.overflow_count.store(self.overflows, Relaxed);
        worker.busy_nanos.store(self.busy_nanos, Relaxed);
        worker
            .mean_poll_nanos
            .store(self.mean_poll_nanos as u64, Relaxed);
        if let Some(depth) = queue_depth {
            worker.queue_depth.store(depth as u64, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_park_after_a_wake_up_without_polls_is_a_noop() {
        let worker = WorkerMetrics::new(None);
        let mut batch = MetricsBatch::new(false, 0.0);
        batch.about_to_park(); // the first sleep follows no wake-up
        batch.unparked();
        batch.about_to_park(); // woke for nothing
        batch.unparked();
        batch.polled();
        batch.about_to_park();
        batch.unparked();
        batch.publish(&worker, Some(3));
        assert_eq!(WorkerMetrics::get(&worker.park_count), 3);
        assert_eq!(WorkerMetrics::get(&worker.park_unpark_count), 6);
        assert_eq!(WorkerMetrics::get(&worker.noop_count), 1);
        assert_eq!(WorkerMetrics::get(&worker.poll_count), 1);
        assert_eq!(WorkerMetrics::get(&worker.queue_depth), 3);
    }

    #[test]
    fn a_batch_of_slow_polls_raises_the_mean_and_the_busy_time() {
        let worker = WorkerMetrics::new(None);
        let mut batch = MetricsBatch::new(false, 0.0);
        batch.restart();
        for _ in 0..20 {
            batch.polled();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        batch.end_batch();
        batch.stole(5);
        batch.publish(&worker, None);
        assert!(WorkerMetrics::get(&worker.busy_nanos) >= 20_000_000);
        // 20 polls in >= 20 ms: >= 1 ms each, and the mean moves most of the way.
        assert!(WorkerMetrics::get(&worker.mean_poll_nanos) >= 800_000);
        assert_eq!(WorkerMetrics::get(&worker.steal_count), 5);
        assert_eq!(WorkerMetrics::get(&worker.steal_operations), 1);
    }
}
