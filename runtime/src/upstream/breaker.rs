//! One deployment's circuit breaker, lock-free, driven by [`table::Breaker`]:
//! closed (everything admitted) -> open (everything rejected for
//! `open_for`) -> half-open (up to `half_open_probes` probes at a time)
//! -> closed after that many probe successes, or open again on a probe fault.
//!
//! All state is atomics: the phase word below, a run counter and a ring of
//! time buckets for the error ratio. Every phase change is one
//! compare-and-swap on the phase word, so exactly one caller gets each
//! [`Transition`] back and can log it once.
//!
//! Not here: which outcomes are faults (`retry::counts_against_breaker`),
//! health checks, maintenance, or the gauge itself.
//!
//! [`table::Breaker`]: crate::table::Breaker

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use core::time::Duration;

use tokio::time::Instant;

use crate::table::Breaker;

/// What [`BreakerState::admit`] decided for one try; hand it back to
/// [`BreakerState::record`] with the try's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The breaker is closed: a normal try.
    Closed,
    /// The breaker is half-open and this try is one of its probes.
    Probe,
    /// The breaker is open (or every probe slot is taken): do not try.
    Rejected,
}

/// How a try ended, as far as the breaker cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryResult {
    /// The upstream did its part (client errors such as a 400 count here).
    Success,
    /// An upstream fault (see `retry::counts_against_breaker`).
    Fault,
    /// No verdict (the client left, the deadline ran out first): counts
    /// nothing, but gives back a probe slot.
    Neutral,
}

/// A breaker phase; the discriminants are the Prometheus gauge values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerPhase {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

/// A phase change, returned to exactly one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: BreakerPhase,
    pub to: BreakerPhase,
}

/// One deployment's breaker state. Times are milliseconds since `epoch`.
#[derive(Debug)]
pub struct BreakerState {
    epoch: Instant,
    /// A packed [`PhaseWord`].
    phase: AtomicU64,
    /// Upstream faults in a row while closed.
    consecutive: AtomicU32,
    /// The error-ratio window: packed [`Bucket`]s, slot = bucket index % 8.
    buckets: [AtomicU64; BUCKETS],
}

impl BreakerState {
    /// A closed breaker measuring time from `epoch` (e.g. process start).
    pub fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            phase: AtomicU64::new(PhaseWord::CLOSED.pack()),
            consecutive: AtomicU32::new(0),
            buckets: Default::default(),
        }
    }

    /// Whether a try may start now, and the open -> half-open transition
    /// when this call made it (the first admit after `open_for`). Closed is
    /// one atomic load. Half-open admits up to `half_open_probes` probes at
    /// a time; when all slots stay taken with no probe reporting for
    /// `open_for` (lost probes), the slots are re-armed so the breaker
    /// cannot stick half-open.
    pub fn admit_with_transition(
        &self,
        cfg: &Breaker,
        now: Instant,
    ) -> (Admission, Option<Transition>) {
        let mut current = self.phase.load(Ordering::Acquire);
        if !cfg.enabled || PhaseWord::unpack(current).phase == BreakerPhase::Closed {
            return (Admission::Closed, None);
        }
        let now_ms = self.millis(now);
        let open_for = millis(cfg.open_for);
        loop {
            let word = PhaseWord::unpack(current);
            let quiet_for = now_ms.saturating_sub(word.since_ms);
            let (next, transition) = match word.phase {
                BreakerPhase::Closed => return (Admission::Closed, None),
                BreakerPhase::Open if quiet_for < open_for => return (Admission::Rejected, None),
                BreakerPhase::Open => (
                    PhaseWord::half_open(1, 0, now_ms),
                    Some(BreakerPhase::Open.to(BreakerPhase::HalfOpen)),
                ),
                BreakerPhase::HalfOpen if word.probes < probe_slots(cfg) => (
                    PhaseWord::half_open(word.probes + 1, word.successes, now_ms),
                    None,
                ),
                // Lost probes: re-arm, this caller taking the first slot.
                BreakerPhase::HalfOpen if quiet_for >= open_for => {
                    (PhaseWord::half_open(1, word.successes, now_ms), None)
                }
                BreakerPhase::HalfOpen => return (Admission::Rejected, None),
            };
            match self.swap(current, next) {
                Ok(()) => return (Admission::Probe, transition),
                Err(actual) => current = actual,
            }
        }
    }

    /// Records how an admitted try ended; returns the transition this call
    /// made, if any. Results that arrive after the phase they were admitted
    /// in has ended (a closed-phase fault while open, a probe after a
    /// reopen) are ignored.
    pub fn record(
        &self,
        cfg: &Breaker,
        now: Instant,
        admission: Admission,
        result: TryResult,
    ) -> Option<Transition> {
        if !cfg.enabled {
            return None;
        }
        match admission {
            Admission::Closed => self.record_closed(cfg, now, result),
            Admission::Probe => self.record_probe(cfg, now, result),
            Admission::Rejected => None,
        }
    }

    /// The phase for reporting. An open breaker whose `open_for` has passed
    /// reports half-open: its next admit is a probe. (The transition itself
    /// is returned by that admit.)
    pub fn phase(&self, cfg: &Breaker, now: Instant) -> BreakerPhase {
        let word = PhaseWord::unpack(self.phase.load(Ordering::Acquire));
        match word.phase {
            _ if !cfg.enabled => BreakerPhase::Closed,
            BreakerPhase::Open if self.quiet_for(word, now) >= millis(cfg.open_for) => {
                BreakerPhase::HalfOpen
            }
            phase => phase,
        }
    }

    /// Whether [`BreakerState::admit`] would admit a try now, without taking
    /// a probe slot: for the balancer's "available".
    pub fn would_admit(&self, cfg: &Breaker, now: Instant) -> bool {
        let word = PhaseWord::unpack(self.phase.load(Ordering::Acquire));
        // The clock is read only off the closed path (the request path's common case).
        let open_for_passed = || self.quiet_for(word, now) >= millis(cfg.open_for);
        match word.phase {
            _ if !cfg.enabled => true,
            BreakerPhase::Closed => true,
            BreakerPhase::Open => open_for_passed(),
            BreakerPhase::HalfOpen => word.probes < probe_slots(cfg) || open_for_passed(),
        }
    }

    fn record_closed(&self, cfg: &Breaker, now: Instant, result: TryResult) -> Option<Transition> {
        let current = self.phase.load(Ordering::Acquire);
        if PhaseWord::unpack(current).phase != BreakerPhase::Closed || result == TryResult::Neutral
        {
            return None;
        }
        let now_ms = self.millis(now);
        let fault = result == TryResult::Fault;
        let ratio_trips = cfg.error_ratio_permille > 0 && {
            self.count_in_window(cfg, now_ms, fault);
            // Only a fault can newly cross the ratio; a success skips the sum.
            fault && {
                let (total, faults) = self.window_counts(cfg, now_ms);
                total >= u64::from(cfg.min_requests.max(1))
                    && faults * 1000 >= u64::from(cfg.error_ratio_permille) * total
            }
        };
        let run_trips = if fault {
            let run = self
                .consecutive
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1);
            cfg.consecutive_failures > 0 && run >= cfg.consecutive_failures
        } else {
            // Read first: most successes find it 0 already and need no write.
            if self.consecutive.load(Ordering::Relaxed) != 0 {
                self.consecutive.store(0, Ordering::Relaxed);
            }
            false
        };
        if !(run_trips || ratio_trips) {
            return None;
        }
        let open = PhaseWord::open(now_ms);
        // Losing the swap means another caller changed the phase first.
        self.swap(current, open)
            .ok()
            .map(|()| BreakerPhase::Closed.to(BreakerPhase::Open))
    }

    fn record_probe(&self, cfg: &Breaker, now: Instant, result: TryResult) -> Option<Transition> {
        let now_ms = self.millis(now);
        let mut current = self.phase.load(Ordering::Acquire);
        loop {
            let word = PhaseWord::unpack(current);
            if word.phase != BreakerPhase::HalfOpen {
                return None;
            }
            let released = word.probes.saturating_sub(1);
            let (next, to) = match result {
                TryResult::Fault => (PhaseWord::open(now_ms), Some(BreakerPhase::Open)),
                TryResult::Success if word.successes + 1 >= probe_slots(cfg) => {
                    (PhaseWord::CLOSED, Some(BreakerPhase::Closed))
                }
                TryResult::Success => (
                    PhaseWord::half_open(released, word.successes + 1, now_ms),
                    None,
                ),
                TryResult::Neutral => {
                    (PhaseWord::half_open(released, word.successes, now_ms), None)
                }
            };
            match self.swap(current, next) {
                Ok(()) if to == Some(BreakerPhase::Closed) => {
                    self.forget_counts();
                    return Some(BreakerPhase::HalfOpen.to(BreakerPhase::Closed));
                }
                Ok(()) => return to.map(|to| BreakerPhase::HalfOpen.to(to)),
                Err(actual) => current = actual,
            }
        }
    }

    /// One CAS on the phase word (strong: a single-shot trip must not fail
    /// spuriously); the error carries the word found instead.
    fn swap(&self, current: u64, next: PhaseWord) -> Result<(), u64> {
        self.phase
            .compare_exchange(current, next.pack(), Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
    }

    /// Adds one result to the bucket of `now_ms`, resetting the slot first
    /// when it holds another bucket (a CAS loop, so concurrent results are
    /// all counted). A result into a full bucket is dropped: the ratio
    /// stays that of the first 262,143.
    fn count_in_window(&self, cfg: &Breaker, now_ms: u64, fault: bool) {
        let index = now_ms / bucket_width_ms(cfg);
        let epoch = index & Bucket::EPOCH_MASK;
        let slot = &self.buckets[(index % BUCKETS as u64) as usize];
        // `None` (full) is the only error and leaves the bucket as it is.
        let _ = slot.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |packed| {
            let found = Bucket::unpack(packed);
            let bucket = if found.epoch == epoch {
                found
            } else {
                Bucket::empty(epoch)
            };
            (bucket.total < Bucket::COUNT_MAX).then(|| bucket.plus(fault).pack())
        });
    }

    /// (total, faults) over the buckets of the last `window`: the current
    /// bucket and the seven before it, so between 7/8 and all of `window`.
    fn window_counts(&self, cfg: &Breaker, now_ms: u64) -> (u64, u64) {
        let epoch = (now_ms / bucket_width_ms(cfg)) & Bucket::EPOCH_MASK;
        self.buckets
            .iter()
            .map(|slot| Bucket::unpack(slot.load(Ordering::Relaxed)))
            .filter(|bucket| bucket.age_at(epoch) < BUCKETS as u64)
            .fold((0, 0), |(total, faults), b| {
                (total + b.total, faults + b.faults)
            })
    }

    /// A closed breaker starts from nothing.
    fn forget_counts(&self) {
        self.consecutive.store(0, Ordering::Relaxed);
        for slot in &self.buckets {
            slot.store(0, Ordering::Relaxed);
        }
    }

    fn millis(&self, now: Instant) -> u64 {
        millis(now.saturating_duration_since(self.epoch)).min(PhaseWord::SINCE_MAX)
    }

    fn quiet_for(&self, word: PhaseWord, now: Instant) -> u64 {
        self.millis(now).saturating_sub(word.since_ms)
    }
}

impl BreakerPhase {
    const fn to(self, to: BreakerPhase) -> Transition {
        Transition { from: self, to }
    }
}

/// Buckets in the error-ratio window.
const BUCKETS: usize = 8;

/// Probe slots: `half_open_probes`, at least 1 and at most what the phase
/// word holds.
fn probe_slots(cfg: &Breaker) -> u32 {
    cfg.half_open_probes.clamp(1, PhaseWord::PROBES_MAX)
}

fn bucket_width_ms(cfg: &Breaker) -> u64 {
    (millis(cfg.window) / BUCKETS as u64).max(1)
}

fn millis(duration: Duration) -> u64 {
    // Seconds and sub-second millis: `as_millis` divides a u128, which costs
    // more than the rest of a closed-path record.
    duration
        .as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(duration.subsec_millis()))
}

/// The phase word, packed into one `u64` so every phase change is one CAS:
/// bits 0-1 phase, 2-11 probes in flight, 12-21 probe successes, 22-63
/// `since_ms` (42 bits of milliseconds: 139 years). `since_ms` is when the
/// breaker opened (open), or the last probe admitted or reported
/// (half-open); unused when closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PhaseWord {
    phase: BreakerPhase,
    probes: u32,
    successes: u32,
    since_ms: u64,
}

impl PhaseWord {
    const PROBES_MAX: u32 = (1 << 10) - 1;
    const SINCE_MAX: u64 = (1 << 42) - 1;
    const CLOSED: PhaseWord = PhaseWord {
        phase: BreakerPhase::Closed,
        probes: 0,
        successes: 0,
        since_ms: 0,
    };

    fn open(since_ms: u64) -> Self {
        Self {
            phase: BreakerPhase::Open,
            since_ms,
            ..Self::CLOSED
        }
    }

    fn half_open(probes: u32, successes: u32, since_ms: u64) -> Self {
        Self {
            phase: BreakerPhase::HalfOpen,
            probes,
            successes,
            since_ms,
        }
    }

    fn pack(self) -> u64 {
        let field = |value: u32| u64::from(value.min(Self::PROBES_MAX));
        self.phase as u64
            | field(self.probes) << 2
            | field(self.successes) << 12
            | self.since_ms.min(Self::SINCE_MAX) << 22
    }

    fn unpack(word: u64) -> Self {
        let field = |shift: u32| ((word >> shift) as u32) & Self::PROBES_MAX;
        Self {
            phase: match word & 3 {
                1 => BreakerPhase::Open,
                2 => BreakerPhase::HalfOpen,
                _ => BreakerPhase::Closed,
            },
            probes: field(2),
            successes: field(12),
            since_ms: word >> 22,
        }
    }
}

/// One time bucket of the error-ratio window, packed into one `u64`: bits
/// 36-63 the bucket's index (time / bucket width, modulo 2^28), 18-35 the
/// results counted, 0-17 the faults among them. A slot holding another
/// index is stale: left out of the sums and reset by the next result
/// counted into it. (An index equal modulo 2^28, a slot untouched for
/// 2^28 bucket widths, would be read as current: years at sane windows.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bucket {
    epoch: u64,
    total: u64,
    faults: u64,
}

impl Bucket {
    const COUNT_MAX: u64 = (1 << 18) - 1;
    const EPOCH_MASK: u64 = (1 << 28) - 1;

    fn empty(epoch: u64) -> Self {
        Self {
            epoch,
            total: 0,
            faults: 0,
        }
    }

    /// How many buckets ago this one was, seen from `epoch` (modulo 2^28;
    /// one written by a caller with a later clock reading looks very old).
    fn age_at(self, epoch: u64) -> u64 {
        epoch.wrapping_sub(self.epoch) & Self::EPOCH_MASK
    }

    fn plus(self, fault: bool) -> Self {
        Self {
            total: self.total + 1,
            faults: self.faults + u64::from(fault),
            ..self
        }
    }

    fn pack(self) -> u64 {
        (self.epoch & Self::EPOCH_MASK) << 36
            | self.total.min(Self::COUNT_MAX) << 18
            | self.faults.min(Self::COUNT_MAX)
    }

    fn unpack(word: u64) -> Self {
        Self {
            epoch: word >> 36,
            total: (word >> 18) & Self::COUNT_MAX,
            faults: word & Self::COUNT_MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Admission::{Probe, Rejected};
    use BreakerPhase::{Closed, HalfOpen, Open};
    use TryResult::{Fault, Neutral, Success};

    const OPEN_FOR: Duration = Duration::from_secs(30);
    const MS: Duration = Duration::from_millis(1);
    const TRIPS: Option<Transition> = Some(Closed.to(Open));
    const HALF_OPENS: Option<Transition> = Some(Open.to(HalfOpen));
    const CLOSES: Option<Transition> = Some(HalfOpen.to(Closed));
    const REOPENS: Option<Transition> = Some(HalfOpen.to(Open));

    /// Three faults in a row trip it; two probes.
    fn cfg() -> Breaker {
        Breaker {
            enabled: true,
            consecutive_failures: 3,
            error_ratio_permille: 0,
            window: Duration::from_secs(10),
            min_requests: 10,
            open_for: OPEN_FOR,
            half_open_probes: 2,
        }
    }

    /// Only the ratio trigger: half the requests, at least 10.
    fn ratio_cfg() -> Breaker {
        Breaker {
            consecutive_failures: 0,
            error_ratio_permille: 500,
            ..cfg()
        }
    }

    #[derive(Debug, Clone, Copy)]
    enum Step {
        /// `admit_with_transition` answers these.
        Admit(Admission, Option<Transition>),
        /// Recording a try admitted so that ended so returns this.
        Record(Admission, TryResult, Option<Transition>),
        /// The paused clock moves on.
        Wait(Duration),
        /// `phase` and `would_admit` report these.
        Reports(BreakerPhase, bool),
    }
    use Step::{Admit, Record, Reports, Wait};

    /// A closed-phase result expecting no transition.
    fn closed(result: TryResult) -> Step {
        Record(Admission::Closed, result, None)
    }

    /// Steps that trip a `cfg()` breaker.
    const TRIP: [Step; 3] = [
        Record(Admission::Closed, Fault, None),
        Record(Admission::Closed, Fault, None),
        Record(Admission::Closed, Fault, TRIPS),
    ];

    /// Runs `steps` on a new breaker under the paused clock.
    async fn check(cfg: Breaker, steps: &[Step]) {
        let breaker = BreakerState::new(Instant::now());
        for (at, &step) in steps.iter().enumerate() {
            let now = Instant::now();
            match step {
                Admit(admission, transition) => {
                    let got = breaker.admit_with_transition(&cfg, now);
                    assert_eq!(got, (admission, transition), "step {at}: {step:?}");
                }
                Record(admission, result, transition) => {
                    let got = breaker.record(&cfg, now, admission, result);
                    assert_eq!(got, transition, "step {at}: {step:?}");
                }
                Wait(duration) => tokio::time::advance(duration).await,
                Reports(phase, admits) => {
                    let got = (breaker.phase(&cfg, now), breaker.would_admit(&cfg, now));
                    assert_eq!(got, (phase, admits), "step {at}: {step:?}");
                }
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_faults_and_successes_reset_the_run() {
        let faults = [closed(Fault), closed(Fault)];
        check(
            cfg(),
            &[
                &faults[..],
                &[Reports(Closed, true), Admit(Admission::Closed, None)],
                &TRIP[2..],
                &[Reports(Open, false), Admit(Rejected, None)],
            ]
            .concat(),
        )
        .await;
        // Late results of tries admitted before it opened change nothing.
        check(
            cfg(),
            &[
                &TRIP[..],
                &[closed(Fault), closed(Success), Reports(Open, false)],
            ]
            .concat(),
        )
        .await;
        check(
            cfg(),
            &[&faults[..], &[closed(Success)], &faults[..], &TRIP[2..]].concat(),
        )
        .await;
        // Neutral neither counts nor resets.
        check(
            cfg(),
            &[&faults[..], &[closed(Neutral)], &TRIP[2..]].concat(),
        )
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn ratio_trips_once_min_requests_were_seen() {
        let five_faults = [closed(Fault); 5];
        let five_successes = [closed(Success); 5];
        // 5/5 faults is under min_requests; 6/10 trips.
        check(
            ratio_cfg(),
            &[
                &five_faults[..],
                &five_successes[..4],
                &[Record(Admission::Closed, Fault, TRIPS)],
            ]
            .concat(),
        )
        .await;
        // 4/10, 5/11 stay closed; 6/12 is exactly half and trips.
        let steps = [
            &five_successes[..],
            &five_faults[..4],
            &[
                closed(Success),
                closed(Fault),
                Record(Admission::Closed, Fault, TRIPS),
            ],
        ];
        check(ratio_cfg(), &steps.concat()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn old_buckets_age_out_of_the_window() {
        // Window 10s in 8 buckets of 1.25s: the bucket at 0 still counts
        // at 8.75s (7 buckets on), no longer at 10s.
        let nine_faults = [closed(Fault); 9];
        let tripping = Record(Admission::Closed, Fault, TRIPS);
        check(
            ratio_cfg(),
            &[
                &nine_faults[..],
                &[Wait(Duration::from_millis(8_750)), tripping],
            ]
            .concat(),
        )
        .await;
        check(
            ratio_cfg(),
            &[
                &nine_faults[..],
                &[Wait(Duration::from_secs(10)), closed(Fault)],
            ]
            .concat(),
        )
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn open_rejects_then_half_open_admits_the_probes() {
        let steps = [
            Admit(Rejected, None),
            Wait(OPEN_FOR - MS),
            Admit(Rejected, None),
            Reports(Open, false),
            Wait(MS),
            Reports(HalfOpen, true),
            Admit(Probe, HALF_OPENS),
            Admit(Probe, None),
            Admit(Rejected, None),
            Reports(HalfOpen, false),
        ];
        check(cfg(), &[&TRIP[..], &steps[..]].concat()).await;
    }

    /// `TRIP`, then `open_for` passes and two probes are admitted.
    fn probing() -> Vec<Step> {
        [
            &TRIP[..],
            &[Wait(OPEN_FOR), Admit(Probe, HALF_OPENS), Admit(Probe, None)],
        ]
        .concat()
    }

    #[tokio::test(start_paused = true)]
    async fn probe_successes_close_it_with_counts_forgotten() {
        let steps = [
            Record(Probe, Success, None),
            Admit(Probe, None), // the success freed its slot
            Record(Probe, Success, CLOSES),
            Reports(Closed, true),
            Admit(Admission::Closed, None),
            Record(Probe, Success, None), // the third probe, late: ignored
            closed(Fault),
            closed(Fault),
        ];
        check(cfg(), &[&probing()[..], &steps[..], &TRIP[2..]].concat()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_fault_opens_it_again() {
        let steps = [
            Record(Probe, Fault, REOPENS),
            Reports(Open, false),
            Record(Probe, Success, None), // the other probe, late: ignored
            Wait(OPEN_FOR - MS),
            Admit(Rejected, None),
            Wait(MS),
            Admit(Probe, HALF_OPENS),
        ];
        check(cfg(), &[&probing()[..], &steps[..]].concat()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn neutral_frees_a_probe_slot() {
        let steps = [
            Admit(Rejected, None),
            Record(Probe, Neutral, None),
            Reports(HalfOpen, true),
            Admit(Probe, None),
            Admit(Rejected, None),
        ];
        check(cfg(), &[&probing()[..], &steps[..]].concat()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn lost_probes_are_re_armed_after_open_for() {
        let steps = [
            Wait(OPEN_FOR - MS),
            Admit(Rejected, None),
            Reports(HalfOpen, false),
            Wait(MS),
            Reports(HalfOpen, true),
            Admit(Probe, None),
            Admit(Probe, None),
            Admit(Rejected, None),
            Record(Probe, Success, None),
            Record(Probe, Success, CLOSES),
        ];
        check(cfg(), &[&probing()[..], &steps[..]].concat()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn disabled_never_opens() {
        let off = Breaker {
            enabled: false,
            ..cfg()
        };
        let mut steps = vec![closed(Fault); 100];
        steps.extend([Reports(Closed, true), Admit(Admission::Closed, None)]);
        check(off, &steps).await;
        let ratio_off = Breaker {
            enabled: false,
            min_requests: 1,
            ..ratio_cfg()
        };
        check(ratio_off, &steps).await;
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_records_are_all_counted() {
        let counting_only = Breaker {
            consecutive_failures: 0,
            error_ratio_permille: 1000,
            min_requests: u32::MAX,
            ..cfg()
        };
        let breaker = BreakerState::new(Instant::now());
        let now = Instant::now() + Duration::from_secs(3);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for round in 0..10_000 {
                        let result = if round % 2 == 0 { Fault } else { Success };
                        assert_eq!(
                            breaker.record(&counting_only, now, Admission::Closed, result),
                            None
                        );
                    }
                });
            }
        });
        let now_ms = breaker.millis(now);
        assert_eq!(
            breaker.window_counts(&counting_only, now_ms),
            (40_000, 20_000)
        );
    }

    /// Runs `calls` on `threads` threads at once; returns every result.
    fn race<T: Send>(threads: usize, calls: usize, call: impl Fn() -> T + Sync) -> Vec<T> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| scope.spawn(|| (0..calls).map(|_| call()).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        })
    }

    #[tokio::test(start_paused = true)]
    async fn each_transition_is_observed_once_under_contention() {
        let cfg = Breaker {
            half_open_probes: 3,
            ..cfg()
        };
        let breaker = BreakerState::new(Instant::now());
        let now = Instant::now();
        let trips = race(8, 100, || {
            breaker.record(&cfg, now, Admission::Closed, Fault)
        });
        assert_eq!(
            trips.iter().filter(|t| t.is_some()).collect::<Vec<_>>(),
            [&TRIPS]
        );

        let later = now + OPEN_FOR;
        let admits = race(8, 50, || breaker.admit_with_transition(&cfg, later));
        assert_eq!(admits.iter().filter(|(a, _)| *a == Probe).count(), 3);
        assert_eq!(
            admits
                .iter()
                .filter(|(_, t)| t.is_some())
                .collect::<Vec<_>>(),
            [&(Probe, HALF_OPENS)]
        );

        let closes = race(3, 1, || breaker.record(&cfg, later, Probe, Success));
        assert_eq!(
            closes.iter().filter(|t| t.is_some()).collect::<Vec<_>>(),
            [&CLOSES]
        );
        assert_eq!(breaker.phase(&cfg, later), Closed);
    }

    #[test]
    fn words_pack_and_unpack() {
        for word in [
            PhaseWord::CLOSED,
            PhaseWord::open(PhaseWord::SINCE_MAX),
            PhaseWord::half_open(PhaseWord::PROBES_MAX, 7, 123_456),
        ] {
            assert_eq!(PhaseWord::unpack(word.pack()), word);
        }
        for bucket in [
            Bucket::empty(0),
            Bucket {
                epoch: Bucket::EPOCH_MASK,
                total: Bucket::COUNT_MAX,
                faults: 1,
            },
        ] {
            assert_eq!(Bucket::unpack(bucket.pack()), bucket);
        }
        assert_eq!(Bucket::empty(Bucket::EPOCH_MASK).age_at(2), 3);
    }
}
