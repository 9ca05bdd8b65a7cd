//! A latency moving average (exponentially weighted, alpha 0.3) on one
//! atomic, for the `P2cEwma` balancer and for reporting.
//!
//! Not a histogram or a percentile: one number that follows recent latency
//! and forgets old samples geometrically. Updated lock-free from any thread.

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

/// Microseconds; 0 (the default) means no sample yet.
#[derive(Debug, Default)]
pub struct Ewma {
    micros: AtomicU64,
}

/// Alpha 0.3 as a fraction of ten: new = (3 x sample + 7 x old) / 10.
const SAMPLE_TENTHS: u128 = 3;
const HISTORY_TENTHS: u128 = 10 - SAMPLE_TENTHS;

impl Ewma {
    /// Folds in one latency. The first sample sets the average. A sample is
    /// counted as at least 1 µs so that 0 keeps meaning "no data" (the
    /// balancer sends new deployments traffic on that).
    pub fn observe(&self, latency: Duration) {
        let sample = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        // A CAS loop (inside fetch_update): concurrent samples are all
        // folded in, none lost. The closure always returns Some, so the
        // result is always Ok; there is nothing to handle.
        let _ = self
            .micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(folded(old, sample))
            });
    }

    /// The average in microseconds; 0 before the first sample.
    pub fn get(&self) -> u64 {
        self.micros.load(Ordering::Relaxed)
    }
}

/// One step of the average, in u128 so that no sample can overflow it.
fn folded(old: u64, sample: u64) -> u64 {
    if old == 0 {
        return sample;
    }
    let sum = SAMPLE_TENTHS * u128::from(sample) + HISTORY_TENTHS * u128::from(old);
    // Rounded to nearest; the result lies between old and sample, so it
    // fits in a u64 and is at least 1.
    u64::try_from((sum + 5) / 10).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(samples_ms: &[u64], expect_micros: u64) {
        let ewma = Ewma::default();
        for &ms in samples_ms {
            ewma.observe(Duration::from_millis(ms));
        }
        assert_eq!(ewma.get(), expect_micros, "after {samples_ms:?}");
    }

    #[test]
    fn follows_samples_with_alpha_three_tenths() {
        check(&[], 0);
        check(&[100], 100_000);
        check(&[100, 200], 130_000);
        check(&[100, 200, 200], 151_000);
        check(&[100, 0], 70_000);
    }

    #[test]
    fn converges_to_a_steady_latency() {
        let ewma = Ewma::default();
        ewma.observe(Duration::from_secs(5));
        for _ in 0..60 {
            ewma.observe(Duration::from_millis(10));
        }
        assert!((10_000..10_010).contains(&ewma.get()), "{}", ewma.get());
    }

    #[test]
    fn zero_and_huge_samples_neither_mean_no_data_nor_overflow() {
        let ewma = Ewma::default();
        ewma.observe(Duration::ZERO);
        assert_eq!(ewma.get(), 1);
        ewma.observe(Duration::MAX);
        ewma.observe(Duration::MAX);
        assert!(ewma.get() > u64::MAX / 2);
    }

    #[test]
    fn concurrent_samples_keep_the_average_in_range() {
        let ewma = Ewma::default();
        std::thread::scope(|scope| {
            for ms in [10, 20, 30, 40] {
                let ewma = &ewma;
                scope.spawn(move || {
                    for _ in 0..1_000 {
                        ewma.observe(Duration::from_millis(ms));
                    }
                });
            }
        });
        assert!((10_000..=40_000).contains(&ewma.get()), "{}", ewma.get());
    }
}
