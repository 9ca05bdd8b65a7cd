//! Choosing one deployment of a model for a try: priority levels first, then
//! the model's [`Balance`] policy among the candidates of the chosen level.
//!
//! The rules, in order:
//!
//! 1. Deployments are sorted by priority (0 first). The first level with at
//!    least one *available* deployment of weight > 0 is used; a lower level
//!    only when every weighted deployment above is unavailable. Having been
//!    tried already does not make a deployment unavailable.
//! 2. Within that level, deployments not yet tried in this request are
//!    preferred; when all available ones were tried, tried ones are chosen
//!    again (retrying a model's only deployment is fine).
//! 3. Weight 0 means "drained": never chosen by this function, whatever the
//!    level (a level whose only available deployments weigh 0 is skipped).
//! 4. One candidate is returned without drawing a random number, so a model
//!    with one deployment costs a few comparisons.
//!
//! Not here: what "available" means (breaker, health, maintenance) and the
//! in-flight and latency numbers: the caller supplies them through
//! [`LoadView`] from its per-deployment state.

use super::rng::Rng;
use crate::table::{Balance, Deployment};

/// The caller's live view of a model's deployments, indexed like
/// [`crate::table::Model::deployments`].
pub trait LoadView {
    /// Whether a try may go there now (breaker admits, healthy, not in maintenance).
    fn available(&self, index: usize) -> bool;
    /// Requests to it in flight now.
    fn in_flight(&self, index: usize) -> u32;
    /// Its latency moving average in microseconds; 0 when it has no data yet.
    fn ewma_micros(&self, index: usize) -> u64;
}

/// The deployments already tried in this request, as a bit set of their
/// indices. Indices from 64 up are never marked (so never avoided): models
/// have a handful of deployments, and a bit set keeps this `Copy` and free.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tried(u64);

impl Tried {
    /// Nothing tried yet.
    pub const NONE: Tried = Tried(0);

    /// This set with `index` marked (unchanged for indices from 64 up).
    #[must_use]
    pub fn with(self, index: usize) -> Tried {
        let bit = u32::try_from(index)
            .ok()
            .and_then(|shift| 1u64.checked_shl(shift));
        Tried(self.0 | bit.unwrap_or(0))
    }

    /// Both sets together.
    #[must_use]
    pub fn union(self, other: Tried) -> Tried {
        Tried(self.0 | other.0)
    }

    /// Whether `index` is marked.
    pub fn contains(self, index: usize) -> bool {
        u32::try_from(index)
            .ok()
            .and_then(|shift| self.0.checked_shr(shift))
            .is_some_and(|rest| rest & 1 == 1)
    }
}

/// The index into `deployments` of the deployment to try next, or `None`
/// when no deployment of weight > 0 is available.
pub fn pick(
    deployments: &[Deployment],
    policy: Balance,
    view: &impl LoadView,
    tried: Tried,
    rng: &mut Rng,
) -> Option<usize> {
    let mut start = 0;
    while let Some(first) = deployments.get(start) {
        let level_len = deployments
            .iter()
            .skip(start)
            .take_while(|d| d.priority == first.priority)
            .count();
        let level = Level {
            deployments,
            start,
            end: start + level_len,
        };
        if let Some(index) = level.pick(policy, view, tried, rng) {
            return Some(index);
        }
        start = level.end;
    }
    None
}

/// One priority level: `deployments[start..end]`.
struct Level<'a> {
    deployments: &'a [Deployment],
    start: usize,
    end: usize,
}

/// The candidates of a level: available, weight > 0 and, when `untried_only`,
/// not yet tried. Their total weight and the first of them come with it.
#[derive(Clone, Copy)]
struct Candidates {
    untried_only: bool,
    count: u32,
    total_weight: u64,
    first: usize,
}

impl Level<'_> {
    fn pick(
        &self,
        policy: Balance,
        view: &impl LoadView,
        tried: Tried,
        rng: &mut Rng,
    ) -> Option<usize> {
        let candidates = self.candidates(view, tried)?;
        if candidates.count == 1 {
            return Some(candidates.first);
        }
        let first = self.draw(candidates, view, tried, None, rng);
        if policy == Balance::Weighted {
            return Some(first);
        }
        let second = self.draw(candidates, view, tried, Some(first), rng);
        Some(if beats(policy, view, second, first) {
            second
        } else {
            first
        })
    }

    /// The untried candidates if there are any, else all candidates, else `None`.
    fn candidates(&self, view: &impl LoadView, tried: Tried) -> Option<Candidates> {
        let mut untried = Candidates::empty(true);
        let mut all = Candidates::empty(false);
        for (index, weight) in self.weighted(view) {
            all.add(index, weight);
            if !tried.contains(index) {
                untried.add(index, weight);
            }
        }
        [untried, all].into_iter().find(|c| c.count > 0)
    }

    /// The available deployments of weight > 0, as (index, weight).
    fn weighted<'v>(&'v self, view: &'v impl LoadView) -> impl Iterator<Item = (usize, u64)> + 'v {
        let level = self.deployments.get(self.start..self.end).unwrap_or(&[]);
        level
            .iter()
            .zip(self.start..)
            .filter(move |(d, index)| d.weight > 0 && view.available(*index))
            .map(|(d, index)| (index, u64::from(d.weight)))
    }

    /// A candidate drawn proportionally to weight, `excluded` left out (the
    /// caller guarantees another candidate remains).
    fn draw(
        &self,
        candidates: Candidates,
        view: &impl LoadView,
        tried: Tried,
        excluded: Option<usize>,
        rng: &mut Rng,
    ) -> usize {
        let mut members = self.weighted(view).filter(|&(index, _)| {
            Some(index) != excluded && !(candidates.untried_only && tried.contains(index))
        });
        let excluded_weight = excluded.map_or(0, |index| {
            self.deployments
                .get(index)
                .map_or(0, |d| u64::from(d.weight))
        });
        let mut ticket = rng.below(candidates.total_weight.saturating_sub(excluded_weight));
        // The view is live: availability may change between the count and
        // this walk. If the ticket then runs past the end, the first
        // candidate counted stands in (its try is admitted or refused later).
        members
            .find(|&(_, weight)| {
                let hit = ticket < weight;
                ticket = ticket.saturating_sub(weight);
                hit
            })
            .map_or(candidates.first, |(index, _)| index)
    }
}

impl Candidates {
    fn empty(untried_only: bool) -> Self {
        Self {
            untried_only,
            count: 0,
            total_weight: 0,
            first: 0,
        }
    }

    fn add(&mut self, index: usize, weight: u64) {
        if self.count == 0 {
            self.first = index;
        }
        self.count += 1;
        self.total_weight += weight;
    }
}

/// Whether the second draw `challenger` beats the first draw `holder`; a
/// tie keeps the first draw.
fn beats(policy: Balance, view: &impl LoadView, challenger: usize, holder: usize) -> bool {
    let (challenger_flight, holder_flight) = (view.in_flight(challenger), view.in_flight(holder));
    match policy {
        Balance::P2cEwma => {
            // EWMA 0 (no data yet) costs 0: new deployments get traffic and
            // so get data. Equal cost: fewer in flight, then the first draw.
            let cost = |index, flight: u32| {
                view.ewma_micros(index)
                    .saturating_mul(u64::from(flight) + 1)
            };
            (cost(challenger, challenger_flight), challenger_flight)
                < (cost(holder, holder_flight), holder_flight)
        }
        // Ties keep the first draw, itself drawn by weight: a latency
        // tie-break here made one deployment win every idle comparison.
        Balance::P2c | Balance::Weighted => challenger_flight < holder_flight,
    }
}

/// A fixed [`LoadView`] for tests: every deployment's availability, load
/// and latency as plain values.
#[cfg(test)]
#[derive(Debug, Default, Clone)]
pub(crate) struct FixedLoad {
    pub available: Vec<bool>,
    pub in_flight: Vec<u32>,
    pub ewma_micros: Vec<u64>,
}

#[cfg(test)]
impl FixedLoad {
    /// `count` deployments, all available, idle and without latency data.
    pub fn idle(count: usize) -> Self {
        Self {
            available: vec![true; count],
            in_flight: vec![0; count],
            ewma_micros: vec![0; count],
        }
    }
}

#[cfg(test)]
impl LoadView for FixedLoad {
    fn available(&self, index: usize) -> bool {
        self.available.get(index).copied().unwrap_or(false)
    }
    fn in_flight(&self, index: usize) -> u32 {
        self.in_flight.get(index).copied().unwrap_or(0)
    }
    fn ewma_micros(&self, index: usize) -> u64 {
        self.ewma_micros.get(index).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{DeploymentId, Serving, UpstreamId};

    /// Deployments from (weight, priority) pairs, already in priority order.
    fn deployments(spec: &[(u32, u8)]) -> Vec<Deployment> {
        spec.iter()
            .enumerate()
            .map(|(index, &(weight, priority))| Deployment {
                id: DeploymentId(index as u16),
                upstream: UpstreamId(index as u16),
                upstream_model: "m",
                weight,
                priority,
                chat: Serving::Passthrough,
                messages: Serving::Passthrough,
            })
            .collect()
    }

    /// The share of `picks` seeded picks each index got (last slot: `None`).
    fn shares(spec: &[(u32, u8)], policy: Balance, load: &FixedLoad, tried: Tried) -> Vec<f64> {
        const PICKS: usize = 100_000;
        let deployments = deployments(spec);
        let mut rng = Rng::seeded(42);
        let mut counts = vec![0usize; spec.len() + 1];
        for _ in 0..PICKS {
            let index = pick(&deployments, policy, load, tried, &mut rng).unwrap_or(spec.len());
            counts[index] += 1;
        }
        counts.iter().map(|&c| c as f64 / PICKS as f64).collect()
    }

    fn check(spec: &[(u32, u8)], policy: Balance, load: &FixedLoad, tried: Tried, expect: &[f64]) {
        let got = shares(spec, policy, load, tried);
        for (index, (got, expect)) in got.iter().zip(expect).enumerate() {
            assert!(
                (got - expect).abs() <= 0.02,
                "{policy:?} {spec:?} tried {tried:?}: index {index} got {got:.3}, expected {expect:.3}",
            );
        }
    }

    #[test]
    fn weights_are_respected_within_two_percent() {
        let load = FixedLoad::idle(3);
        check(
            &[(3, 0), (1, 0)],
            Balance::Weighted,
            &load,
            Tried::NONE,
            &[0.75, 0.25, 0.0],
        );
        check(
            &[(1, 0), (2, 0), (1, 0)],
            Balance::Weighted,
            &load,
            Tried::NONE,
            &[0.25, 0.5, 0.25, 0.0],
        );
        // Idle and equally fast: the two-choice policies follow the weights too.
        check(
            &[(3, 0), (1, 0), (0, 0)],
            Balance::P2c,
            &load,
            Tried::NONE,
            &[0.75, 0.25, 0.0, 0.0],
        );
    }

    #[test]
    fn p2c_prefers_the_idle_deployment() {
        let mut load = FixedLoad::idle(3);
        load.in_flight = vec![5, 0, 5];
        // Two equal draws from three: the idle one is in the pair 2/3 of the time.
        check(
            &[(1, 0), (1, 0), (1, 0)],
            Balance::P2c,
            &load,
            Tried::NONE,
            &[1.0 / 6.0, 2.0 / 3.0, 1.0 / 6.0, 0.0],
        );
        load.in_flight = vec![3, 1, 0];
        check(
            &[(1, 0), (1, 0)],
            Balance::P2c,
            &load,
            Tried::NONE,
            &[0.0, 1.0, 0.0],
        );
        // Equal in flight: the first draw (by weight) wins, whatever the
        // latencies, so idle traffic keeps spreading by weight.
        load.in_flight = vec![2, 2];
        load.ewma_micros = vec![9_000, 4_000];
        check(
            &[(1, 0), (1, 0)],
            Balance::P2c,
            &load,
            Tried::NONE,
            &[0.5, 0.5, 0.0],
        );
    }

    #[test]
    fn p2c_ewma_prefers_the_cheaper_deployment() {
        let mut load = FixedLoad::idle(2);
        load.ewma_micros = vec![50_000, 10_000];
        check(
            &[(1, 0), (1, 0)],
            Balance::P2cEwma,
            &load,
            Tried::NONE,
            &[0.0, 1.0, 0.0],
        );
        // Cost is EWMA x (in flight + 1): 10ms x 5 loses to 30ms x 1.
        load.ewma_micros = vec![10_000, 30_000];
        load.in_flight = vec![4, 0];
        check(
            &[(1, 0), (1, 0)],
            Balance::P2cEwma,
            &load,
            Tried::NONE,
            &[0.0, 1.0, 0.0],
        );
        // No data yet is the cheapest: a new deployment gets traffic.
        load.ewma_micros = vec![10_000, 0];
        check(
            &[(1, 0), (1, 0)],
            Balance::P2cEwma,
            &load,
            Tried::NONE,
            &[0.0, 1.0, 0.0],
        );
    }

    #[test]
    fn lower_priorities_only_when_everything_above_is_unavailable() {
        let spec = [(1, 0), (1, 0), (1, 1), (1, 2)];
        let mut load = FixedLoad::idle(4);
        check(
            &spec,
            Balance::Weighted,
            &load,
            Tried::NONE,
            &[0.5, 0.5, 0.0, 0.0, 0.0],
        );
        load.available = vec![false, true, true, true];
        check(
            &spec,
            Balance::Weighted,
            &load,
            Tried::NONE,
            &[0.0, 1.0, 0.0, 0.0, 0.0],
        );
        load.available = vec![false, false, true, true];
        check(
            &spec,
            Balance::P2c,
            &load,
            Tried::NONE,
            &[0.0, 0.0, 1.0, 0.0, 0.0],
        );
        load.available = vec![false, false, false, true];
        check(
            &spec,
            Balance::P2cEwma,
            &load,
            Tried::NONE,
            &[0.0, 0.0, 0.0, 1.0, 0.0],
        );
        // Tried but available above still holds the level.
        load.available = vec![false, true, true, true];
        check(
            &spec,
            Balance::Weighted,
            &load,
            Tried::NONE.with(1),
            &[0.0, 1.0, 0.0, 0.0, 0.0],
        );
    }

    #[test]
    fn untried_deployments_of_the_level_come_first() {
        let spec = [(1, 0), (1, 0), (1, 1)];
        let load = FixedLoad::idle(3);
        for policy in [Balance::Weighted, Balance::P2c, Balance::P2cEwma] {
            check(
                &spec,
                policy,
                &load,
                Tried::NONE.with(0),
                &[0.0, 1.0, 0.0, 0.0],
            );
            check(
                &spec,
                policy,
                &load,
                Tried::NONE.with(0).with(1),
                &[0.5, 0.5, 0.0, 0.0],
            );
        }
        // A model's only deployment is retried.
        check(
            &[(1, 0)],
            Balance::Weighted,
            &load,
            Tried::NONE.with(0),
            &[1.0, 0.0],
        );
    }

    #[test]
    fn weight_zero_is_never_chosen() {
        let mut load = FixedLoad::idle(3);
        check(
            &[(0, 0), (1, 0), (1, 1)],
            Balance::Weighted,
            &load,
            Tried::NONE,
            &[0.0, 1.0, 0.0, 0.0],
        );
        check(
            &[(0, 0), (1, 0), (1, 1)],
            Balance::P2c,
            &load,
            Tried::NONE.with(1),
            &[0.0, 1.0, 0.0, 0.0],
        );
        // Only weight 0 left at the level: the level is skipped.
        load.available = vec![true, false, true];
        check(
            &[(0, 0), (1, 0), (1, 1)],
            Balance::Weighted,
            &load,
            Tried::NONE,
            &[0.0, 0.0, 1.0, 0.0],
        );
        load.available = vec![true, false, false];
        check(
            &[(0, 0), (1, 0), (1, 1)],
            Balance::Weighted,
            &load,
            Tried::NONE,
            &[0.0, 0.0, 0.0, 1.0],
        );
    }

    #[test]
    fn none_when_nothing_is_available() {
        let load = FixedLoad {
            available: vec![false; 3],
            ..FixedLoad::idle(3)
        };
        for policy in [Balance::Weighted, Balance::P2c, Balance::P2cEwma] {
            let mut rng = Rng::seeded(1);
            assert_eq!(
                pick(
                    &deployments(&[(1, 0), (1, 0), (1, 1)]),
                    policy,
                    &load,
                    Tried::NONE,
                    &mut rng
                ),
                None
            );
            assert_eq!(pick(&[], policy, &load, Tried::NONE, &mut rng), None);
        }
    }

    #[test]
    fn one_candidate_draws_no_random_number() {
        let load = FixedLoad::idle(2);
        let mut rng = Rng::seeded(9);
        let untouched = rng.clone().next_u64();
        for policy in [Balance::Weighted, Balance::P2c, Balance::P2cEwma] {
            assert_eq!(
                pick(
                    &deployments(&[(5, 0), (1, 1)]),
                    policy,
                    &load,
                    Tried::NONE,
                    &mut rng
                ),
                Some(0)
            );
        }
        assert_eq!(rng.next_u64(), untouched);
    }

    #[test]
    fn tried_marks_only_indices_below_64() {
        let tried = Tried::NONE.with(0).with(63).with(64).with(usize::MAX);
        assert!(tried.contains(0) && tried.contains(63));
        assert!(!tried.contains(1) && !tried.contains(64) && !tried.contains(usize::MAX));
        assert_eq!(Tried::NONE.with(64), Tried::NONE);
    }
}
