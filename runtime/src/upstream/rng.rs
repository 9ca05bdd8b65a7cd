//! A tiny, fast pseudo-random number generator (SplitMix64) for choosing
//! deployments and jittering backoffs.
//!
//! Not cryptographic: its output is predictable from a few draws. Never use
//! it for keys, tokens, request ids or anything an attacker must not guess.
//!
//! Tests seed it ([`Rng::seeded`]) so every draw is reproducible; the request
//! path takes one from [`Rng::thread`], which forks a fresh generator off a
//! per-thread state seeded once from the clock and the thread's address. The
//! returned [`Rng`] is a plain value: it can be held across `.await` and move
//! between threads with its task.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// SplitMix64 state; every `u64` seed (zero included) is a good one.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

/// SplitMix64's increment (2^64 / golden ratio, odd).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

thread_local! {
    /// This thread's generator state; 0 means "not seeded yet".
    static THREAD_STATE: Cell<u64> = const { Cell::new(0) };
}

impl Rng {
    /// A generator whose draws depend only on `seed` (for tests and replays).
    pub const fn seeded(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A generator forked off this thread's state: a thread-local read, one
    /// draw and a write, no lock and no allocation.
    pub fn thread() -> Self {
        THREAD_STATE.with(|cell| {
            let mut parent = match cell.get() {
                0 => Rng::seeded(thread_seed(cell)),
                state => Rng::seeded(state),
            };
            let child = Rng::seeded(parent.next_u64());
            // Never store 0, which would make the next call seed again.
            cell.set(parent.state.max(1));
            child
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by Lemire's multiply-shift: one
    /// multiplication, no division. The bias is below `n / 2^64`, far under
    /// anything a load balancer can notice.
    pub fn below(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(n);
        // The high half of a u64 x u64 product always fits in a u64.
        u64::try_from(wide >> 64).unwrap_or(0)
    }
}

/// SplitMix64's output function (Steele, Lea, Flood 2014).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for this thread: the wall clock in nanoseconds mixed with the
/// address of the thread's own state, so threads started in the same
/// nanosecond still differ.
fn thread_seed(cell: &Cell<u64>) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64);
    let address = std::ptr::from_ref(cell) as usize as u64;
    mix(nanos ^ address.rotate_left(32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_generators_repeat_and_differ_by_seed() {
        let draws = |seed| {
            let mut rng = Rng::seeded(seed);
            [rng.next_u64(), rng.next_u64(), rng.next_u64()]
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        // SplitMix64 reference value for seed 0 (first output).
        assert_eq!(draws(0)[0], 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn below_stays_in_range_and_is_roughly_uniform() {
        let mut rng = Rng::seeded(1);
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below(1), 0);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            let value = rng.below(6);
            assert!(value < 6);
            counts[value as usize] += 1;
        }
        for count in counts {
            assert!((9_500..=10_500).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn thread_generators_differ_between_calls_and_threads() {
        let here = [Rng::thread().next_u64(), Rng::thread().next_u64()];
        assert_ne!(here[0], here[1]);
        let there = std::thread::spawn(|| Rng::thread().next_u64())
            .join()
            .unwrap();
        assert!(!here.contains(&there));
    }
}
