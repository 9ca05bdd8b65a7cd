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
    /// When the last sample came (ms on the caller's clock), for [`Ewma::get_at`].
    at_ms: AtomicU64,
}

/// An average with no new sample for this long counts half as much; after
/// a few minutes idle it decays to "no data" and the `P2cEwma` balancer
/// tries the deployment again instead of starving it on an old figure.
const HALF_LIFE_MS: u64 = 10_000;

/// Alpha 0.3 as a fraction of ten: new = (3 x sample + 7 x old) / 10.
const SAMPLE_TENTHS: u64 = 3;
const HISTORY_TENTHS: u64 = 10 - SAMPLE_TENTHS;

impl Ewma {
    /// Folds in one latency. The first sample sets the average. A sample is
    /// counted as at least 1 µs so that 0 keeps meaning "no data" (the
    /// balancer sends new deployments traffic on that).
    pub fn observe(&self, latency: Duration) {
        let sample = latency
            .as_secs()
            .saturating_mul(1_000_000)
            .saturating_add(u64::from(latency.subsec_micros()))
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

    /// [`Ewma::observe`], remembering when (`now_ms`) for the decay.
    pub fn observe_at(&self, latency: Duration, now_ms: u64) {
        self.observe(latency);
        self.at_ms.store(now_ms, Ordering::Relaxed);
    }

    /// The average in microseconds; 0 before the first sample.
    pub fn get(&self) -> u64 {
        self.micros.load(Ordering::Relaxed)
    }

    /// The average as of `now_ms`: halved for every [`HALF_LIFE_MS`] since
    /// the last [`Ewma::observe_at`] sample.
    pub fn get_at(&self, now_ms: u64) -> u64 {
        let idle = now_ms.saturating_sub(self.at_ms.load(Ordering::Relaxed));
        let halvings = u32::try_from(idle / HALF_LIFE_MS).unwrap_or(u32::MAX);
        self.get().checked_shr(halvings).unwrap_or(0)
    }
}

/// One step of the average. In u64 (a u128 division is a library call on
/// the request path): saturating, so a sample beyond 2^60 µs (36,000 years)
/// just pins the average.
fn folded(old: u64, sample: u64) -> u64 {
    if old == 0 {
        return sample;
    }
    let sum = SAMPLE_TENTHS
        .saturating_mul(sample)
        .saturating_add(HISTORY_TENTHS.saturating_mul(old));
    // Rounded to nearest; the result lies between old and sample and is at least 1.
    (sum.saturating_add(5) / 10).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_average_decays_to_no_data() {
        let ewma = Ewma::default();
        ewma.observe_at(Duration::from_millis(8), 1_000);
        assert_eq!(ewma.get_at(1_000), 8_000);
        assert_eq!(ewma.get_at(1_000 + HALF_LIFE_MS), 4_000);
        assert_eq!(ewma.get_at(1_000 + 3 * HALF_LIFE_MS + 1), 1_000);
        assert_eq!(ewma.get_at(1_000 + 64 * HALF_LIFE_MS), 0, "no data again");
        assert_eq!(ewma.get(), 8_000, "the raw figure is kept for reporting");
    }

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
        // Saturated and pinned (36,000 years of latency), not wrapped to a small number.
        assert_eq!(ewma.get(), u64::MAX / 10);
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
