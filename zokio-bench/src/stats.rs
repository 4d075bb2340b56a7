//! Summary statistics over one runtime's samples of one workload.
//!
//! Pure arithmetic on numbers already collected: nothing here may time,
//! run or drop samples, so every runtime is summarised the same way.

#[derive(Clone, Debug)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// `None` for no samples: a runtime that failed a workload has nothing
    /// to summarise, and a zero would read as a result.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Summary {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            mean: sorted.iter().sum::<f64>() / n as f64,
        })
    }
}

/// Peer over Zokio: above 1 means Zokio took less (time or bytes).
pub fn ratio(peer: f64, zokio: f64) -> Option<f64> {
    (zokio > 0.0 && peer.is_finite()).then(|| peer / zokio)
}

/// Nearest-rank percentile of values already sorted ascending: the smallest
/// value with at least `q` percent of all values at or below it. `None` for
/// no values or a `q` outside 0..=100.
pub fn percentile<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    if sorted.is_empty() || !(0.0..=100.0).contains(&q) {
        return None;
    }
    let n = sorted.len();
    let rank = (q / 100.0 * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Operations per second; `None` for a zero duration.
pub fn per_second(ops: u64, nanos: f64) -> Option<f64> {
    (nanos > 0.0).then(|| ops as f64 * 1e9 / nanos)
}

/// Nanoseconds scaled from `done` operations to `per` operations.
pub fn scale_nanos(nanos: f64, done: u64, per: u64) -> Option<f64> {
    (done > 0).then(|| nanos * per as f64 / done as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        // 99th of 10 values is the largest: 9.9 rounds up to rank 10.
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99.0), Some(10));
        assert_eq!(percentile(&[7], 50.0), Some(7));
    }

    #[test]
    fn percentile_rejects_nonsense() {
        assert_eq!(percentile::<u32>(&[], 50.0), None);
        assert_eq!(percentile(&[1], 101.0), None);
        assert_eq!(percentile(&[1], -1.0), None);
        assert_eq!(percentile(&[1], f64::NAN), None);
    }

    #[test]
    fn rates_and_scaling() {
        assert_eq!(per_second(1_000, 1e6), Some(1e6));
        assert_eq!(per_second(1, 0.0), None);
        assert_eq!(scale_nanos(2e6, 20_000, 100_000), Some(1e7));
        assert_eq!(scale_nanos(1.0, 0, 100_000), None);
    }

    #[test]
    fn median_odd_and_even() {
        assert_eq!(Summary::of(&[3.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert_eq!(Summary::of(&[4.0, 1.0, 3.0, 2.0]).unwrap().median, 2.5);
    }

    #[test]
    fn min_max_mean() {
        let s = Summary::of(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!((s.min, s.max, s.mean), (1.0, 5.0, 3.0));
    }

    #[test]
    fn empty_has_no_summary() {
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn ratio_guards_zero() {
        assert_eq!(ratio(2.0, 1.0), Some(2.0));
        assert_eq!(ratio(2.0, 0.0), None);
    }
}
