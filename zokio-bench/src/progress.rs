//! Progress on stderr while the benchmark runs: a line as each workload or
//! group starts, `[3/17] echo ...`, with an estimate of the time left, and
//! one as it ends.
//!
//! It only reports: it must never sleep, time samples or change the order
//! of anything, so a run with it measures what a run without it would.
//!
//! The estimate starts from a fixed cost per unit, measured on a two-CPU
//! machine (`estimate`), and is scaled by how this run has compared with
//! those costs so far: a faster or slower machine, or more network worker
//! counts, show up after the first unit or two. Elapsed time alone would
//! mislead: the units differ a hundredfold (a scheduler workload takes
//! about a second with --quick, the echo group tens of seconds).

use std::time::{Duration, Instant};

/// One unit of the run: what its progress line says, and what it is
/// expected to take.
pub struct Unit {
    pub label: String,
    pub estimate: Duration,
}

pub struct Progress {
    units: Vec<Unit>,
    next: usize,
    started: Instant,
    /// Time actually spent on the units done so far.
    spent: Duration,
    unit_started: Option<Instant>,
}

impl Progress {
    pub fn new(units: Vec<Unit>) -> Progress {
        Progress {
            units,
            next: 0,
            started: Instant::now(),
            spent: Duration::ZERO,
            unit_started: None,
        }
    }

    /// The time left, the next unit included: the fixed estimates of the
    /// units not done, scaled by actual over estimated for those done.
    pub fn left(&self) -> Duration {
        let left: Duration = self.units[self.next..].iter().map(|u| u.estimate).sum();
        let done: Duration = self.units[..self.next].iter().map(|u| u.estimate).sum();
        if done.is_zero() || self.spent.is_zero() {
            return left;
        }
        // Bounded, so that one unit gone wrong (a lost wake-up caught late)
        // does not throw the estimate by more than the machine could.
        let scale = (self.spent.as_secs_f64() / done.as_secs_f64()).clamp(0.25, 4.0);
        left.mul_f64(scale)
    }

    /// Says that the next unit starts: `[i/n] label ... about X left`.
    pub fn start(&mut self) {
        let Some(unit) = self.units.get(self.next) else {
            return;
        };
        eprintln!(
            "[{}/{}] {} ... about {} left",
            self.next + 1,
            self.units.len(),
            unit.label,
            fmt_left(self.left())
        );
        self.unit_started = Some(Instant::now());
    }

    /// Says that the unit started last is done, and how long it took.
    pub fn finish(&mut self) {
        let Some(at) = self.unit_started.take() else {
            return;
        };
        let took = at.elapsed();
        self.spent += took;
        self.next += 1;
        eprintln!(
            "  done in {:.1?} ({:.0?} since the start)",
            took,
            self.started.elapsed()
        );
    }
}

fn fmt_left(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(secs: &[u64]) -> Vec<Unit> {
        secs.iter()
            .map(|&s| Unit {
                label: format!("{s}"),
                estimate: Duration::from_secs(s),
            })
            .collect()
    }

    #[test]
    fn left_starts_from_the_estimates() {
        let p = Progress::new(units(&[1, 2, 3]));
        assert_eq!(p.left(), Duration::from_secs(6));
    }

    #[test]
    fn left_scales_by_the_run_so_far() {
        let mut p = Progress::new(units(&[2, 2, 6]));
        // As if the first unit had taken twice its estimate.
        p.next = 1;
        p.spent = Duration::from_secs(4);
        assert_eq!(p.left(), Duration::from_secs(16));
        // A unit that hung for minutes moves it at most fourfold.
        p.spent = Duration::from_secs(600);
        assert_eq!(p.left(), Duration::from_secs(32));
    }

    #[test]
    fn formats_minutes() {
        assert_eq!(fmt_left(Duration::from_secs(42)), "42 s");
        assert_eq!(fmt_left(Duration::from_secs(105)), "1 min 45 s");
    }
}
