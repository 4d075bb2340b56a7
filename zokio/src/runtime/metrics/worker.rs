//! `WorkerMetrics`: what one worker publishes about itself, for `RuntimeMetrics` to
//! read from any thread.
//!
//! Every field has exactly one writer, the worker (through its `MetricsBatch`), which
//! stores whole values with relaxed stores: no read-modify-write, no lock, and other
//! threads read with relaxed loads. Values are cumulative since the runtime started.
//! Each worker's block sits on its own cache lines so that publishing never touches a
//! line another worker writes. This file must never decide when to publish.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::histogram::{Histogram, HistogramConfiguration};

/// One worker's published counts.
#[derive(Default)]
pub(crate) struct WorkerMetrics {
    pub(crate) park_count: AtomicU64,
    pub(crate) park_unpark_count: AtomicU64,
    pub(crate) noop_count: AtomicU64,
    pub(crate) steal_count: AtomicU64,
    pub(crate) steal_operations: AtomicU64,
    pub(crate) poll_count: AtomicU64,
    pub(crate) local_schedule_count: AtomicU64,
    pub(crate) overflow_count: AtomicU64,
    pub(crate) busy_nanos: AtomicU64,
    pub(crate) mean_poll_nanos: AtomicU64,
    /// Where the local queue cannot be read from another thread (the FIFO schedulers):
    /// its length when the worker last published.
    pub(crate) queue_depth: AtomicU64,
    pub(crate) histogram: Option<Histogram>,
}

impl WorkerMetrics {
    pub(crate) fn new(histogram: Option<HistogramConfiguration>) -> WorkerMetrics {
        WorkerMetrics {
            histogram: histogram.map(Histogram::new),
            ..WorkerMetrics::default()
        }
    }

    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Relaxed)
    }
}

/// The workers of one scheduler, each on its own cache lines.
pub(crate) struct WorkersMetrics {
    workers: Box<[crossbeam_utils::CachePadded<WorkerMetrics>]>,
    /// Polls that found their task's coop budget used up (`task::coop`): counted off
    /// the hot path, from whatever thread polled, so an atomic add.
    budget_forced_yields: AtomicU64,
    histogram: Option<HistogramConfiguration>,
}

impl WorkersMetrics {
    pub(crate) fn new(
        num_workers: usize,
        histogram: Option<HistogramConfiguration>,
    ) -> WorkersMetrics {
        WorkersMetrics {
            workers: (0..num_workers)
                .map(|_| crossbeam_utils::CachePadded::new(WorkerMetrics::new(histogram)))
                .collect(),
            budget_forced_yields: AtomicU64::new(0),
            histogram,
        }
    }

    pub(crate) fn worker(&self, index: usize) -> &WorkerMetrics {
        &self.workers[index]
    }

    pub(crate) fn len(&self) -> usize {
        self.workers.len()
    }

    pub(crate) fn histogram_configuration(&self) -> Option<HistogramConfiguration> {
        self.histogram
    }

    pub(crate) fn budget_forced_yield(&self) {
        self.budget_forced_yields.fetch_add(1, Relaxed);
    }

    pub(crate) fn budget_forced_yields(&self) -> u64 {
        self.budget_forced_yields.load(Relaxed)
    }
}
