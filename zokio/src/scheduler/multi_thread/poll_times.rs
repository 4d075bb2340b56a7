//! The global-queue interval that follows from how long a worker's task polls take
//! (tokio's self-tuning, with tokio's constants).
//!
//! A worker checks the global queue first every `interval` ticks. With a fixed
//! interval, tasks that each poll for long make spawns from outside wait many times
//! that long; tuned, the global queue is looked at about every 200 µs of polling
//! whatever the tasks cost. The mean poll time it follows is the worker's metrics
//! batch's (`runtime::metrics::MetricsBatch`), measured once per batch of polls.
//! Nothing here reads a clock or touches a queue.

/// Polling time wanted between two looks at the global queue.
const TARGET_NANOS: f64 = 200_000.0;
/// The interval bounds: at least 2 (1 would put the global queue always first).
const MIN_INTERVAL: u32 = 2;
const MAX_INTERVAL: u32 = 127;
/// The average assumed at start: what makes the first interval tokio's old fixed 61.
const START_INTERVAL: f64 = 61.0;

/// The mean poll time, in nanoseconds, assumed before any poll was measured.
pub(crate) const START_MEAN_NANOS: f64 = TARGET_NANOS / START_INTERVAL;

/// The interval for a mean poll time of `mean_nanos`; changed only by more than 2
/// ticks, so that jitter does not move it back and forth.
pub(crate) fn interval(mean_nanos: f64, current: u32) -> u32 {
    let tuned = (TARGET_NANOS / mean_nanos.max(1.0)) as u32;
    let tuned = tuned.clamp(MIN_INTERVAL, MAX_INTERVAL);
    if tuned.abs_diff(current) > 2 {
        tuned
    } else {
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_polls_shorten_the_interval_and_fast_ones_lengthen_it() {
        assert_eq!(interval(START_MEAN_NANOS, 61), 61);
        assert_eq!(interval(50_000.0, 61), 4); // 50 µs polls
        assert_eq!(interval(100.0, 61), MAX_INTERVAL); // 100 ns polls
        assert_eq!(interval(1e9, 61), MIN_INTERVAL);
        // Small moves are ignored.
        assert_eq!(interval(TARGET_NANOS / 60.0, 61), 61);
    }
}
