//! A budget's count in this process: micro-dollars spent in the current
//! period, with the period packed beside it in one `AtomicU64` (high 20
//! bits: the period index, low 44 bits: micro-dollars, up to $17.5M), so a
//! new period starts from zero without a reset task and without a lock.
//!
//! Admission is "spent so far is below the limit": the request that
//! crosses the limit is admitted, so a budget is overspent by at most one
//! request's cost; each admitted request adds its estimated cost up front
//! and settles the difference to its real cost when it ends.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Micro-dollars a slot can hold.
const SPENT_BITS: u32 = 44;
const SPENT_MAX: u64 = (1 << SPENT_BITS) - 1;
const PERIOD_MASK: u32 = (1 << (64 - SPENT_BITS)) - 1;

/// One budget slot.
#[derive(Debug, Default)]
pub struct Spend(AtomicU64);

impl Spend {
    /// Admits while spent < `limit` in `period`, adding `cost`; returns
    /// whether admitted and what is left of the limit after it.
    pub fn take(&self, limit: u64, cost: u64, period: u32) -> (bool, u64) {
        let mut current = self.0.load(Relaxed);
        loop {
            let spent = spent_in(current, period);
            if spent >= limit {
                return (false, 0);
            }
            let next = pack(period, spent.saturating_add(cost));
            match self
                .0
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => return (true, limit.saturating_sub(spent_in(next, period))),
                Err(actual) => current = actual,
            }
        }
    }

    /// Settles: `delta` micro-dollars more (or fewer) in `period`; nothing
    /// once the period is over.
    pub fn adjust(&self, delta: i64, period: u32) {
        let _ = self.0.fetch_update(Relaxed, Relaxed, |current| {
            if unpack_period(current) != period & PERIOD_MASK {
                return None;
            }
            let spent = spent_in(current, period);
            let spent = if delta >= 0 {
                spent.saturating_add(delta.unsigned_abs())
            } else {
                spent.saturating_sub(delta.unsigned_abs())
            };
            Some(pack(period, spent))
        });
    }

    /// Micro-dollars spent in `period`.
    pub fn spent(&self, period: u32) -> u64 {
        spent_in(self.0.load(Relaxed), period)
    }

    /// Records what the shared store reported (a mirror for metrics).
    pub fn mirror(&self, spent: u64, period: u32) {
        self.0.store(pack(period, spent), Relaxed);
    }
}

fn pack(period: u32, spent: u64) -> u64 {
    u64::from(period & PERIOD_MASK) << SPENT_BITS | spent.min(SPENT_MAX)
}

fn unpack_period(packed: u64) -> u32 {
    (packed >> SPENT_BITS) as u32
}

/// Spent in `period`: 0 when the slot holds an earlier period.
fn spent_in(packed: u64, period: u32) -> u64 {
    if unpack_period(packed) == period & PERIOD_MASK {
        packed & SPENT_MAX
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_below_the_limit_and_the_crossing_request_only() {
        let spend = Spend::default();
        assert_eq!(spend.take(100, 60, 7), (true, 40));
        // Spent 60 < 100: admitted, crossing the limit by 20 (one request).
        assert_eq!(spend.take(100, 60, 7), (true, 0));
        assert_eq!(spend.take(100, 1, 7), (false, 0));
        assert_eq!(spend.spent(7), 120);
        // A new period starts from zero.
        assert_eq!(spend.take(100, 10, 8), (true, 90));
    }

    #[test]
    fn settling_moves_the_count_within_its_period_only() {
        let spend = Spend::default();
        spend.take(100, 50, 3);
        spend.adjust(-30, 3);
        assert_eq!(spend.spent(3), 20);
        spend.adjust(-500, 3);
        assert_eq!(spend.spent(3), 0);
        spend.adjust(5, 3);
        spend.adjust(1_000, 4);
        assert_eq!((spend.spent(3), spend.spent(4)), (5, 0));
    }
}
