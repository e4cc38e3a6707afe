//! Timing: operations run in growing batches until a target time has passed,
//! so that reading the clock costs nothing next to the operations; samples
//! are summarised by their median, min and max.

use std::time::{Duration, Instant};

/// How long a run took and how much it did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Operations (or bytes) done.
    pub count: u64,
    /// Time they took.
    pub elapsed: Duration,
}

impl Measured {
    /// Microseconds per operation.
    pub fn us_per_op(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e6 / self.count.max(1) as f64
    }

    /// Operations per second.
    pub fn per_sec(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// MiB per second, when the count is in bytes.
    pub fn mib_per_sec(&self) -> f64 {
        self.per_sec() / (1 << 20) as f64
    }
}

/// The largest batch: a clock read per million operations costs nothing.
const MAX_BATCH: u64 = 1 << 20;

/// Calls `op(n)`, which must do `n` operations, in batches that double
/// while one takes less than a fiftieth of `target`, until `target` has
/// passed. At least one operation runs.
pub fn run_for<E>(
    target: Duration,
    mut op: impl FnMut(u64) -> Result<(), E>,
) -> Result<Measured, E> {
    let start = Instant::now();
    let small = target / 50;
    let mut batch = 1u64;
    let mut count = 0u64;
    loop {
        let t0 = Instant::now();
        op(batch)?;
        count += batch;
        let now = Instant::now();
        let elapsed = now - start;
        if elapsed >= target {
            return Ok(Measured { count, elapsed });
        }
        if now - t0 < small {
            batch = (batch * 2).min(MAX_BATCH);
        }
        // Never overshoot the target by more than about one batch.
        let left = target - elapsed;
        let per_op = elapsed.as_secs_f64() / count as f64;
        if per_op > 0.0 {
            let fits = (left.as_secs_f64() / per_op).ceil() as u64;
            batch = batch.min(fits.max(1));
        }
    }
}

/// Median, min and max of some samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// The median (the mean of the two middle samples for an even count).
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

impl Stats {
    /// The summary of `samples`; `None` when there are none or one is NaN.
    pub fn of(samples: &[f64]) -> Option<Self> {
        if samples.is_empty() || samples.iter().any(|s| s.is_nan()) {
            return None;
        }
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Self {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_odd_and_even_counts() {
        let s = Stats::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        let s = Stats::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 4.0));
        assert_eq!(Stats::of(&[]), None);
        assert_eq!(Stats::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn run_for_counts_every_operation_it_asked_for() {
        let mut done = 0u64;
        let m = run_for(Duration::from_millis(5), |n| {
            done += n;
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(m.count, done);
        assert!(m.count >= 1);
        assert!(m.elapsed >= Duration::from_millis(5));
    }

    #[test]
    fn run_for_stops_at_the_first_error() {
        let mut calls = 0;
        let r = run_for(Duration::from_secs(3600), |_| {
            calls += 1;
            if calls == 3 { Err("boom") } else { Ok(()) }
        });
        assert_eq!(r, Err("boom"));
        assert_eq!(calls, 3);
    }

    #[test]
    fn rates() {
        let m = Measured {
            count: 2 << 20,
            elapsed: Duration::from_secs(2),
        };
        assert_eq!(m.mib_per_sec(), 1.0);
        assert_eq!(m.per_sec(), (1 << 20) as f64);
        assert_eq!(m.us_per_op(), 2e6 / (2 << 20) as f64);
    }
}
