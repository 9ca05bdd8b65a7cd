//! A row of latency histograms in two flat atomic arrays, one row per
//! compiled id (route, deployment): recording is one bucket search over
//! [`BUCKETS`] and two relaxed adds; rendering writes one row's cumulative
//! `_bucket`, `_sum` and `_count` lines. Not here: which rows render (callers
//! decide, e.g. only touched ones) or the family's HELP/TYPE header.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::{BUCKETS, zeroed};

/// Slots per row: one per bound in [`BUCKETS`], then `+Inf`.
const SLOTS: usize = BUCKETS.len() + 1;

/// [`BUCKETS`] in microseconds (a test keeps the two equal).
const BUCKET_MICROS: [u64; 16] = [
    500,
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    30_000_000,
    120_000_000,
];

pub(super) struct Histograms {
    /// `[row][bucket]` non-cumulative counts, last bucket = +Inf.
    buckets: Box<[AtomicU64]>,
    /// `[row]` sum of observations in microseconds.
    sum_micros: Box<[AtomicU64]>,
}

impl Histograms {
    pub(super) fn new(rows: usize) -> Self {
        Self {
            buckets: zeroed(rows * SLOTS),
            sum_micros: zeroed(rows),
        }
    }

    /// One observation in `row`; an out-of-range row is ignored.
    pub(super) fn record(&self, row: usize, elapsed: Duration) {
        // Whole microseconds, compared as integers: no float or u128 maths on
        // the request path (three observations per request).
        let micros = elapsed
            .as_secs()
            .saturating_mul(1_000_000)
            .saturating_add(u64::from(elapsed.subsec_micros()));
        let bucket = BUCKET_MICROS
            .iter()
            .position(|bound| micros <= *bound)
            .unwrap_or(BUCKETS.len());
        if let (Some(counter), Some(sum)) = (
            self.buckets.get(row * SLOTS + bucket),
            self.sum_micros.get(row),
        ) {
            counter.fetch_add(1, Relaxed);
            sum.fetch_add(micros, Relaxed);
        }
    }

    /// Observations in `row` so far (0 for an out-of-range row).
    pub(super) fn count(&self, row: usize) -> u64 {
        self.row(row).iter().map(|c| c.load(Relaxed)).sum()
    }

    /// Writes `row` of family `name`; `labels` is the row's label set
    /// without braces (`route="models"`), placed before `le`.
    pub(super) fn render(&self, out: &mut String, name: &str, labels: &str, row: usize) {
        let counters = self.row(row);
        let mut cumulative = 0;
        for (bound, counter) in BUCKETS.iter().zip(counters) {
            cumulative += counter.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
        }
        cumulative += counters.get(BUCKETS.len()).map_or(0, |c| c.load(Relaxed));
        let sum = self.sum_micros.get(row).map_or(0, |s| s.load(Relaxed)) as f64 / 1e6;
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {cumulative}");
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
    }

    fn row(&self, row: usize) -> &[AtomicU64] {
        self.buckets
            .get(row * SLOTS..(row + 1) * SLOTS)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod bucket_tests {
    use super::*;

    #[test]
    fn micro_bounds_equal_the_rendered_bounds() {
        for (micros, seconds) in BUCKET_MICROS.iter().zip(BUCKETS) {
            assert_eq!(*micros as f64 / 1e6, seconds);
        }
    }
}
