//! How long each function's computations took: a histogram of relaxed atomics with log-linear
//! buckets, recorded only when the body ran (never on a hit), read as count, total and
//! percentiles for [`FunctionStats::compute`](crate::FunctionStats::compute).

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Each power of two is split into this many buckets: a percentile is off by at most a quarter
/// of its octave (≤ 19 %), enough to tell a 2 ms query from a 20 ms one.
const SUB_BUCKETS: u32 = 4;
/// Octaves kept: 1 ns up to 2⁴⁰ ns (18 minutes); longer computations land in the last bucket.
const OCTAVES: u32 = 40;
const BUCKETS: usize = (OCTAVES * SUB_BUCKETS) as usize;

/// Compute times of one function in one instance.
#[derive(Debug)]
pub(crate) struct ComputeHistogram {
    buckets: [AtomicU64; BUCKETS],
    count: AtomicU64,
    total_nanos: AtomicU64,
}

impl Default for ComputeHistogram {
    fn default() -> Self {
        ComputeHistogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            total_nanos: AtomicU64::new(0),
        }
    }
}

/// Values below this have a bucket each (too few bits to split an octave in four).
const EXACT: u64 = 8;

/// The bucket of `nanos`: its octave (position of the leading one) and the next two bits.
fn bucket_of(nanos: u64) -> usize {
    if nanos < EXACT {
        return nanos as usize;
    }
    let octave = 63 - nanos.leading_zeros();
    let sub = (nanos >> (octave - 2)) & u64::from(SUB_BUCKETS - 1);
    ((octave * SUB_BUCKETS) as usize + sub as usize).min(BUCKETS - 1)
}

/// The largest value bucket `index` holds (what a percentile falling in it reports).
fn upper_bound_of(index: usize) -> u64 {
    if (index as u64) < EXACT {
        return index as u64;
    }
    let index = index as u32;
    let octave = index / SUB_BUCKETS;
    let sub = u64::from(index % SUB_BUCKETS);
    let low = (1u64 << octave) | (sub << (octave - 2));
    low + (1u64 << (octave - 2)) - 1
}

impl ComputeHistogram {
    pub(crate) fn record(&self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        if let Some(bucket) = self.buckets.get(bucket_of(nanos)) {
            bucket.fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.total_nanos.fetch_add(nanos, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ComputeTimes {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let in_buckets: u64 = counts.iter().sum();
        let percentile = |fraction: f64| -> u64 {
            if in_buckets == 0 {
                return 0;
            }
            // The rank of the percentile, 1-based: the smallest value with at least this many
            // recorded at or below it.
            let rank = ((in_buckets as f64 * fraction).ceil() as u64).max(1);
            let mut seen = 0;
            for (index, count) in counts.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return upper_bound_of(index);
                }
            }
            upper_bound_of(BUCKETS - 1)
        };
        ComputeTimes {
            count: self.count.load(Relaxed),
            total_nanos: self.total_nanos.load(Relaxed),
            p50_nanos: percentile(0.50),
            p99_nanos: percentile(0.99),
        }
    }
}

/// How long a function's computations took (its body's own time, on the real clock): counted
/// each time the body ran, never on a hit.
///
/// ```
/// let stats = cached_query_runtime::stats();
/// for function in &stats.functions {
///     let times = function.compute;
///     println!("{}: p50 {} ns, p99 {} ns over {} runs", function.name,
///         times.p50_nanos, times.p99_nanos, times.count);
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ComputeTimes {
    /// Computations timed.
    pub count: u64,
    /// Their total time, in nanoseconds.
    pub total_nanos: u64,
    /// The median, in nanoseconds (the upper bound of its bucket: at most 19 % above).
    pub p50_nanos: u64,
    /// The 99th percentile, in nanoseconds (as precise as the median).
    pub p99_nanos: u64,
}

impl ComputeTimes {
    /// The mean computation time, or zero when none ran.
    ///
    /// ```
    /// let none = cached_query_runtime::ComputeTimes::default();
    /// assert_eq!(none.mean(), std::time::Duration::ZERO);
    /// ```
    pub fn mean(&self) -> Duration {
        match self.total_nanos.checked_div(self.count) {
            Some(mean) => Duration::from_nanos(mean),
            None => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_in_a_bucket_whose_bound_holds_it() {
        for nanos in (0..5_000u64).chain([1 << 20, (1 << 20) + 1, 3_000_000, u64::MAX / 2]) {
            let index = bucket_of(nanos);
            assert!(upper_bound_of(index) >= nanos.min(upper_bound_of(BUCKETS - 1)));
            if index > 0 && index < BUCKETS - 1 {
                assert!(upper_bound_of(index - 1) < nanos, "{nanos} in {index}");
            }
        }
    }

    #[test]
    fn percentiles_come_from_the_recorded_times() {
        let histogram = ComputeHistogram::default();
        for _ in 0..98 {
            histogram.record(Duration::from_millis(2));
        }
        histogram.record(Duration::from_millis(50));
        histogram.record(Duration::from_millis(50));
        let times = histogram.snapshot();
        assert_eq!(times.count, 100);
        let p50 = Duration::from_nanos(times.p50_nanos);
        let p99 = Duration::from_nanos(times.p99_nanos);
        assert!(p50 >= Duration::from_millis(2) && p50 < Duration::from_micros(2_400));
        assert!(p99 >= Duration::from_millis(50) && p99 < Duration::from_millis(60));
        assert_eq!(times.mean(), Duration::from_micros(2_960));
    }
}
