//! The poll-time histogram: how its buckets are laid out (`HistogramConfiguration`,
//! chosen on the builder) and one worker's bucket counts.
//!
//! Each worker owns its buckets and is their only writer, so recording a poll is a
//! load and a store of one relaxed atomic. The histogram is off unless the builder
//! asks for it: only then does a worker read the clock around every poll. Nothing
//! here reads a clock itself.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// How the poll-time histogram splits durations into buckets; passed to
/// [`Builder::metrics_poll_time_histogram_configuration`](crate::runtime::Builder::metrics_poll_time_histogram_configuration).
///
/// The last bucket has no upper end: it counts every poll too long for the others.
/// The default is tokio's: 10 linear buckets of 100 µs.
///
/// ```
/// use std::time::Duration;
/// use zokio::runtime::HistogramConfiguration;
///
/// // [0, 50µs), [50µs, 100µs), ..., [450µs, ∞)
/// let linear = HistogramConfiguration::linear(Duration::from_micros(50), 10);
/// // [0, 1µs), [1µs, 2µs), [2µs, 4µs), ..., [2^18 µs, ∞)
/// let log = HistogramConfiguration::log_scale(Duration::from_micros(1), 20);
/// # let _ = (linear, log);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistogramConfiguration {
    scale: Scale,
    /// The first bucket's width in nanoseconds (at least 1).
    width: u64,
    num_buckets: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    Linear,
    Log,
}

impl HistogramConfiguration {
    /// `num_buckets` buckets of `bucket_width` each, the last open-ended: bucket `i`
    /// holds polls that took from `i × bucket_width` up to `(i + 1) × bucket_width`.
    /// As tokio's `HistogramConfiguration::linear`.
    ///
    /// # Panics
    /// When `num_buckets` is 0 or `bucket_width` is under a nanosecond.
    pub fn linear(bucket_width: Duration, num_buckets: usize) -> HistogramConfiguration {
        HistogramConfiguration::new(Scale::Linear, bucket_width, num_buckets)
    }

    /// `num_buckets` buckets whose widths double, the last open-ended: bucket 0 holds
    /// polls shorter than `resolution`, bucket `i` those from `resolution × 2^(i-1)`
    /// up to `resolution × 2^i`. The layout of tokio's older `HistogramScale::Log`;
    /// good when polls range over several orders of magnitude.
    ///
    /// # Panics
    /// When `num_buckets` is 0 or over 64, or `resolution` is under a nanosecond.
    pub fn log_scale(resolution: Duration, num_buckets: usize) -> HistogramConfiguration {
        assert!(
            num_buckets <= 64,
            "a log-scale poll-time histogram has at most 64 buckets (asked for {num_buckets})"
        );
        HistogramConfiguration::new(Scale::Log, resolution, num_buckets)
    }

    fn new(scale: Scale, width: Duration, num_buckets: usize) -> HistogramConfiguration {
        assert!(
            num_buckets > 0,
            "a poll-time histogram needs at least one bucket"
        );
        let width = u64::try_from(width.as_nanos()).unwrap_or(u64::MAX);
        assert!(
            width > 0,
            "a poll-time histogram's buckets must be at least a nanosecond wide"
        );
        HistogramConfiguration {
            scale,
            width,
            num_buckets,
        }
    }

    pub(crate) fn num_buckets(&self) -> usize {
        self.num_buckets
    }

    /// The bucket a poll of `nanos` goes in.
    pub(crate) fn bucket_of(&self, nanos: u64) -> usize {
        let last = self.num_buckets - 1;
        let index = match self.scale {
            Scale::Linear => nanos / self.width,
            // Bucket 0 below one width; then one bucket per doubling.
            Scale::Log => match nanos / self.width {
                0 => 0,
                units => u64::from(units.ilog2()) + 1,
            },
        };
        usize::try_from(index).map_or(last, |i| i.min(last))
    }

    /// The durations bucket `bucket` holds; the last ends at `u64::MAX` nanoseconds.
    ///
    /// # Panics
    /// When `bucket` is not below `num_buckets`.
    pub(crate) fn range(&self, bucket: usize) -> Range<Duration> {
        assert!(
            bucket < self.num_buckets,
            "bucket {bucket} is out of range: the histogram has {} buckets",
            self.num_buckets
        );
        let start = match (self.scale, bucket) {
            (Scale::Linear, _) => self.width.saturating_mul(bucket as u64),
            (Scale::Log, 0) => 0,
            (Scale::Log, _) => self.width.saturating_mul(1u64 << (bucket - 1)),
        };
        let end = if bucket == self.num_buckets - 1 {
            u64::MAX
        } else {
            match self.scale {
                Scale::Linear => self.width.saturating_mul(bucket as u64 + 1),
                Scale::Log => self.width.saturating_mul(1u64 << bucket),
            }
        };
        Duration::from_nanos(start)..Duration::from_nanos(end)
    }
}

impl Default for HistogramConfiguration {
    fn default() -> HistogramConfiguration {
        HistogramConfiguration::linear(Duration::from_micros(100), 10)
    }
}

/// One worker's bucket counts; written by that worker only.
pub(crate) struct Histogram {
    config: HistogramConfiguration,
    buckets: Box<[AtomicU64]>,
}

impl Histogram {
    pub(crate) fn new(config: HistogramConfiguration) -> Histogram {
        Histogram {
            config,
            buckets: (0..config.num_buckets).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Count a poll of `elapsed`. Owner only: a plain load and store.
    pub(crate) fn record(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = &self.buckets[self.config.bucket_of(nanos)];
        bucket.store(bucket.load(Relaxed).wrapping_add(1), Relaxed);
    }

    pub(crate) fn count(&self, bucket: usize) -> u64 {
        self.buckets[bucket].load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_buckets_split_evenly_and_the_last_takes_the_rest() {
        let config = HistogramConfiguration::linear(Duration::from_micros(100), 10);
        assert_eq!(config.bucket_of(0), 0);
        assert_eq!(config.bucket_of(99_999), 0);
        assert_eq!(config.bucket_of(100_000), 1);
        assert_eq!(config.bucket_of(950_000), 9);
        assert_eq!(config.bucket_of(u64::MAX), 9);
        assert_eq!(
            config.range(1),
            Duration::from_micros(100)..Duration::from_micros(200)
        );
        assert_eq!(config.range(9).end, Duration::from_nanos(u64::MAX));
    }

    #[test]
    fn log_buckets_double_and_ranges_match_where_polls_go() {
        let config = HistogramConfiguration::log_scale(Duration::from_nanos(1000), 6);
        for (nanos, bucket) in [
            (0, 0),
            (999, 0),
            (1000, 1),
            (1999, 1),
            (2000, 2),
            (16_000, 5),
        ] {
            assert_eq!(config.bucket_of(nanos), bucket, "{nanos} ns");
            let range = config.range(bucket);
            assert!(
                range.contains(&Duration::from_nanos(nanos)),
                "{nanos} ns in {range:?}"
            );
        }
        assert_eq!(config.bucket_of(u64::MAX), 5);
    }

    #[test]
    fn recording_counts_in_the_right_bucket() {
        let histogram = Histogram::new(HistogramConfiguration::default());
        histogram.record(Duration::from_micros(150));
        histogram.record(Duration::from_secs(1));
        assert_eq!(histogram.count(1), 1);
        assert_eq!(histogram.count(9), 1);
        assert_eq!(histogram.count(0), 0);
    }
}
