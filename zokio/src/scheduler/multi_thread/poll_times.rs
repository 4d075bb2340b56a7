//! How long a worker's task polls take, on average, and the global-queue interval
//! that follows from it (tokio's self-tuning, with tokio's constants).
//!
//! A worker checks the global queue first every `interval` ticks. With a fixed
//! interval, tasks that each poll for long make spawns from outside wait many times
//! that long; tuned, the global queue is looked at about every 200 µs of polling
//! whatever the tasks cost. The mean is an exponentially weighted one over batches of
//! polls (from one maintenance tick or wake-up to the next), so that reading the
//! clock costs one call per batch, not per poll. Nothing here touches a queue.

use std::time::Instant;

/// How much of a batch's mean a one-poll batch moves the average by.
const ALPHA: f64 = 0.1;
/// Polling time wanted between two looks at the global queue.
const TARGET_NANOS: f64 = 200_000.0;
/// The interval bounds: at least 2 (1 would put the global queue always first).
const MIN_INTERVAL: u32 = 2;
const MAX_INTERVAL: u32 = 127;
/// The average assumed at start: what makes the first interval tokio's old fixed 61.
const START_INTERVAL: f64 = 61.0;

pub(crate) struct PollTimes {
    mean_nanos: f64,
    batch_started: Instant,
    batch_polls: u32,
}

impl PollTimes {
    pub(crate) fn new() -> PollTimes {
        PollTimes {
            mean_nanos: TARGET_NANOS / START_INTERVAL,
            batch_started: Instant::now(),
            batch_polls: 0,
        }
    }

    #[inline]
    pub(crate) fn polled(&mut self) {
        self.batch_polls += 1;
    }

    /// Fold the batch so far into the average and start a new one now.
    pub(crate) fn end_batch(&mut self) {
        let now = Instant::now();
        if self.batch_polls > 0 {
            let polls = f64::from(self.batch_polls);
            let mean = now.duration_since(self.batch_started).as_nanos() as f64 / polls;
            // A batch of n polls weighs as n one-poll updates would.
            let weight = 1.0 - (1.0 - ALPHA).powf(polls);
            self.mean_nanos = weight * mean + (1.0 - weight) * self.mean_nanos;
        }
        self.batch_started = now;
        self.batch_polls = 0;
    }

    /// Start a new batch without counting the time since the last one (a sleep).
    pub(crate) fn restart(&mut self) {
        self.batch_started = Instant::now();
        self.batch_polls = 0;
    }

    /// The interval for the current average; changed only by more than 2 ticks, so
    /// that jitter does not move it back and forth.
    pub(crate) fn interval(&self, current: u32) -> u32 {
        let tuned = (TARGET_NANOS / self.mean_nanos.max(1.0)) as u32;
        let tuned = tuned.clamp(MIN_INTERVAL, MAX_INTERVAL);
        if tuned.abs_diff(current) > 2 {
            tuned
        } else {
            current
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_polls_shorten_the_interval_and_fast_ones_lengthen_it() {
        let mut times = PollTimes::new();
        assert_eq!(times.interval(61), 61);
        times.mean_nanos = 50_000.0; // 50 µs polls
        assert_eq!(times.interval(61), 4);
        times.mean_nanos = 100.0; // 100 ns polls
        assert_eq!(times.interval(61), MAX_INTERVAL);
        times.mean_nanos = 1e9;
        assert_eq!(times.interval(61), MIN_INTERVAL);
        // Small moves are ignored.
        times.mean_nanos = TARGET_NANOS / 60.0;
        assert_eq!(times.interval(61), 61);
    }
}
