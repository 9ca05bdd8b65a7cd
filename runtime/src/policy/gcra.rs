//! A rate limit's bucket in this process: GCRA (the generic cell rate
//! algorithm) on one `AtomicU64`, which admits exactly what a token bucket
//! of `capacity` units refilled at one unit per `emission_ns` would.
//!
//! The state is the theoretical arrival time (TAT): the instant at which
//! the bucket would be full again. Taking `cost` units moves it `cost x
//! emission` later; the take is refused when that would put it more than
//! `capacity x emission` ahead of now. One compare-and-swap per take, no
//! lock; a refused take changes nothing. The shared store's Lua script
//! (`shared/quota.lua`) runs the same arithmetic in Redis.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::table::Rate;

/// One bucket's state; 0 is "full".
#[derive(Debug, Default)]
pub struct Bucket(AtomicU64);

/// What a take found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// Whole units left after this take (what was left, when refused).
    pub remaining: u64,
    /// ns until the bucket is full again.
    pub reset_ns: u64,
    /// When refused: ns until `cost` units would be admitted; else 0.
    pub retry_after_ns: u64,
}

impl Bucket {
    /// Takes `cost` units at `now` (ns on the quota clock). A cost above the
    /// capacity is taken as the whole capacity, so a large request waits
    /// for a full bucket instead of being refused forever.
    pub fn take(&self, rate: Rate, cost: u64, now: u64) -> Verdict {
        let emission = rate.emission_ns.max(1);
        let burst = rate.capacity.saturating_mul(emission);
        let step = cost.min(rate.capacity).saturating_mul(emission);
        let mut current = self.0.load(Relaxed);
        loop {
            let tat = current.max(now);
            let next = tat.saturating_add(step);
            let ahead = next - now;
            if ahead > burst {
                return Verdict {
                    allowed: false,
                    remaining: (burst.saturating_sub(tat - now)) / emission,
                    reset_ns: tat - now,
                    retry_after_ns: ahead - burst,
                };
            }
            match self
                .0
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => {
                    return Verdict {
                        allowed: true,
                        remaining: (burst - ahead) / emission,
                        reset_ns: ahead,
                        retry_after_ns: 0,
                    };
                }
                Err(actual) => current = actual,
            }
        }
    }

    /// Settles a take: `delta` more units (positive) or fewer (negative).
    /// A refund never moves the state before `now`: it cannot create
    /// credit beyond a full bucket.
    pub fn adjust(&self, rate: Rate, delta: i64, now: u64) {
        let emission = rate.emission_ns.max(1);
        let step = delta.unsigned_abs().saturating_mul(emission);
        let _ = self.0.fetch_update(Relaxed, Relaxed, |current| {
            let tat = current.max(now);
            Some(if delta >= 0 {
                tat.saturating_add(step)
            } else {
                tat.saturating_sub(step).max(now)
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;
    /// 3 units, one back per second.
    const RATE: Rate = Rate {
        capacity: 3,
        emission_ns: SECOND,
    };

    #[test]
    fn admits_the_burst_then_refuses_until_a_unit_is_back() {
        let bucket = Bucket::default();
        let now = 100 * SECOND;
        let taken: Vec<u64> = (0..3)
            .map(|_| bucket.take(RATE, 1, now).remaining)
            .collect();
        assert_eq!(taken, [2, 1, 0]);
        let refused = bucket.take(RATE, 1, now);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_ns, SECOND);
        assert_eq!(refused.reset_ns, 3 * SECOND);
        // A refused take changed nothing: one second later exactly one unit is back.
        assert!(bucket.take(RATE, 1, now + SECOND).allowed);
        assert!(!bucket.take(RATE, 1, now + SECOND).allowed);
        // Half a second later still nothing; the rest after a full refill.
        assert!(!bucket.take(RATE, 1, now + SECOND + SECOND / 2).allowed);
        assert_eq!(bucket.take(RATE, 3, now + 4 * SECOND).remaining, 0);
    }

    #[test]
    fn weighted_takes_and_oversized_costs() {
        let bucket = Bucket::default();
        assert_eq!(bucket.take(RATE, 2, 0).remaining, 1);
        let refused = bucket.take(RATE, 2, 0);
        assert_eq!((refused.allowed, refused.retry_after_ns), (false, SECOND));
        // More than the capacity waits for a full bucket, then empties it.
        let big = Bucket::default();
        let verdict = big.take(RATE, 1000, 0);
        assert_eq!((verdict.allowed, verdict.remaining), (true, 0));
        assert_eq!(big.take(RATE, 1000, 0).retry_after_ns, 3 * SECOND);
    }

    #[test]
    fn settling_refunds_and_charges_within_a_full_bucket() {
        let bucket = Bucket::default();
        bucket.take(RATE, 3, 0);
        bucket.adjust(RATE, -2, 0);
        assert_eq!(bucket.take(RATE, 0, 0).remaining, 2);
        // A refund larger than what was taken leaves a full bucket, no more.
        bucket.adjust(RATE, -100, 0);
        assert_eq!(bucket.take(RATE, 0, 0).remaining, 3);
        // A charge can go beyond the capacity (usage above the estimate): a debt.
        bucket.adjust(RATE, 5, 0);
        let verdict = bucket.take(RATE, 1, 0);
        assert_eq!(
            (verdict.allowed, verdict.retry_after_ns),
            (false, 3 * SECOND)
        );
    }

    #[test]
    fn concurrent_takes_admit_exactly_the_capacity() {
        let bucket = std::sync::Arc::new(Bucket::default());
        let rate = Rate {
            capacity: 1000,
            emission_ns: u64::MAX / 4_000,
        };
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let bucket = bucket.clone();
                std::thread::spawn(move || {
                    (0..500).filter(|_| bucket.take(rate, 1, 1).allowed).count()
                })
            })
            .collect();
        let admitted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(admitted, 1000);
    }
}
