//! Runtime metrics: [`RuntimeMetrics`], what `Handle::metrics` returns, with tokio's
//! names and meanings, and the pieces behind it.
//!
//! - `runtime.rs`: the public reader, which gathers from the scheduler, the drivers
//!   and the blocking pool of one runtime;
//! - `worker.rs`: what each worker publishes (`WorkerMetrics`), one writer per field;
//! - `batch.rs`: what a worker counts privately between two publications
//!   (`MetricsBatch`), so that the hot path adds to plain fields;
//! - `histogram.rs`: the optional poll-time histogram and its layout.
//!
//! Counting must never cost the schedulers a locked instruction or a clock read per
//! poll; only the poll-time histogram, off by default, reads the clock per poll.

mod batch;
mod histogram;
mod runtime;
mod worker;

pub(crate) use batch::MetricsBatch;
pub use histogram::HistogramConfiguration;
pub use runtime::RuntimeMetrics;
pub(crate) use worker::{WorkerMetrics, WorkersMetrics};

/// A task's poll found its coop budget used up and yields (`task::coop`): count it
/// for the runtime current on this thread. Off the hot path.
#[cold]
pub(crate) fn count_budget_forced_yield() {
    let _ = super::context::with_current(|handle| handle.inner.metrics().budget_forced_yield());
}
