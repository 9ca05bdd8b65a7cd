//! What one admitted request took from its limits and budgets, and how it
//! is settled: when the answer ends, the token and cost estimates taken up
//! front are corrected to the real usage (a refund, or a further charge);
//! a request that got no answer gives its tokens and cost back. A ticket
//! dropped unsettled (no usage reported, the client left) keeps the
//! estimates: never looser than the truth.
//!
//! The ticket also carries the tightest request and token buckets seen, for
//! the `x-ratelimit-*` (or `anthropic-ratelimit-*`) headers of the answer.

use super::Quotas;
use super::shared::{Adjust, Op, Outcome};
use crate::error::RateLine;
use crate::table::{Limit, Model, Price, Rate};

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Requests,
    Tokens,
}

impl Unit {
    /// The limit's bucket for this unit.
    pub fn rate(self, limit: &Limit) -> Option<Rate> {
        match self {
            Self::Requests => limit.requests,
            Self::Tokens => limit.tokens,
        }
    }
}

/// What a request asks for, estimated before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand {
    /// Prompt tokens, estimated from the body (a token per 4 bytes).
    pub prompt_tokens: u64,
    /// The request's `max_tokens` (or the model's default output limit).
    pub max_output_tokens: u64,
}

impl Demand {
    /// From the body's size and its `max_tokens`, if it sets one.
    pub fn estimate(body_len: usize, max_tokens: Option<u64>, model: &Model) -> Self {
        Self {
            prompt_tokens: (body_len as u64).div_ceil(4),
            max_output_tokens: max_tokens.unwrap_or(u64::from(model.default_max_tokens)),
        }
    }

    /// Tokens taken from a token bucket up front.
    pub fn tokens(self) -> u64 {
        self.prompt_tokens.saturating_add(self.max_output_tokens)
    }

    /// Micro-dollars taken from a budget up front.
    pub fn cost_micros(self, model: &Model) -> u64 {
        cost_micros(model.price, self.prompt_tokens, self.max_output_tokens, 0)
    }
}

/// Micro-dollars for these token counts at the model's price (rounded up);
/// `cached` of the `prompt` tokens were read from the prompt cache.
fn cost_micros(price: Option<Price>, prompt: u64, completion: u64, cached: u64) -> u64 {
    let Some(price) = price else { return 0 };
    let cached = cached.min(prompt);
    let nanos = (prompt - cached)
        .saturating_mul(price.input_nanos)
        .saturating_add(cached.saturating_mul(price.cached_input_nanos))
        .saturating_add(completion.saturating_mul(price.output_nanos));
    nanos.div_ceil(1000)
}

/// One share taken.
#[derive(Debug)]
pub enum Taken {
    /// Tokens of a local bucket (request units are never settled, so not recorded).
    Bucket {
        slot: usize,
        rate: Rate,
        cost: u64,
    },
    Spend {
        slot: usize,
        period: u32,
        cost: u64,
    },
    SharedBucket {
        limit: usize,
        unit: Unit,
        rate: Rate,
        key: String,
        cost: u64,
    },
    SharedSpend {
        budget: usize,
        slot: usize,
        limit: u64,
        key: String,
        period: u32,
        ttl: u64,
        cost: u64,
    },
}

impl Taken {
    fn shared(&self) -> bool {
        matches!(self, Self::SharedBucket { .. } | Self::SharedSpend { .. })
    }

    /// The script op for a shared share.
    pub fn op(&self) -> Option<Op<'_>> {
        match self {
            Self::SharedBucket {
                rate, key, cost, ..
            } => Some(Op::Gcra {
                key,
                capacity: rate.capacity,
                emission_ns: rate.emission_ns,
                cost: (*cost).min(rate.capacity),
            }),
            Self::SharedSpend {
                limit,
                key,
                ttl,
                cost,
                ..
            } => Some(Op::Budget {
                key,
                limit: *limit,
                cost: *cost,
                ttl_s: ttl.saturating_add(86_400),
            }),
            _ => None,
        }
    }
}

/// An admitted request's shares.
pub struct Ticket {
    quotas: &'static Quotas,
    model: &'static Model,
    pub(super) demand: Demand,
    taken: Vec<Taken>,
    /// Tightest [requests, tokens] bucket seen.
    lines: [Option<RateLine>; 2],
}

impl Ticket {
    pub(super) fn new(quotas: &'static Quotas, model: &'static Model, demand: Demand) -> Self {
        Self {
            quotas,
            model,
            demand,
            taken: Vec::new(),
            lines: [None, None],
        }
    }

    pub(super) fn push(&mut self, taken: Taken) {
        self.taken.push(taken);
    }

    /// Keeps the bucket with the fewest units left, per unit, for the headers.
    pub(super) fn note(&mut self, unit: Unit, rate: Rate, remaining: u64, reset_ns: u64) {
        let slot = &mut self.lines[usize::from(unit == Unit::Tokens)];
        if slot.is_some_and(|line| line.remaining <= remaining) {
            return;
        }
        *slot = Some(RateLine {
            tokens: unit == Unit::Tokens,
            capacity: rate.capacity,
            remaining,
            reset_ms: reset_ns.div_ceil(1_000_000),
        });
    }

    pub fn has_shared(&self) -> bool {
        self.taken.iter().any(Taken::shared)
    }

    /// The shared shares, in the order their ops are sent.
    pub(super) fn shared(&self) -> impl Iterator<Item = &Taken> {
        self.taken.iter().filter(|t| t.shared())
    }

    /// Forgets the shared shares (not committed, or not countable).
    pub(super) fn drop_shared(&mut self) {
        self.taken.retain(|t| !t.shared());
    }

    /// Records the store's answers: header lines and budget mirrors.
    pub(super) fn record_shared(&mut self, outcomes: &[Outcome]) {
        let mut notes = Vec::new();
        for (taken, outcome) in self.shared().zip(outcomes) {
            match taken {
                Taken::SharedBucket {
                    limit, unit, rate, ..
                } => {
                    let limits = self.quotas.config.quotas.limits;
                    if limits.get(*limit).is_some_and(|l| l.success_headers) {
                        notes.push((*unit, *rate, outcome.remaining, outcome.reset_ns));
                    }
                }
                Taken::SharedSpend {
                    slot,
                    limit,
                    period,
                    ..
                } => {
                    let spent = limit.saturating_sub(outcome.remaining);
                    self.quotas.mirror(*slot, spent, *period);
                }
                _ => {}
            }
        }
        for (unit, rate, remaining, reset_ns) in notes {
            self.note(unit, rate, remaining, reset_ns);
        }
    }

    /// The tightest [requests, tokens] buckets seen at admission.
    pub fn lines(&self) -> Option<[Option<RateLine>; 2]> {
        self.lines.iter().any(Option::is_some).then_some(self.lines)
    }

    /// Settles against the real usage: prompt tokens (`cached` of them read
    /// from the prompt cache) and completion tokens.
    pub fn settle(self, prompt: u64, completion: u64, cached: u64) {
        if self.taken.is_empty() {
            return; // only request units: nothing to correct
        }
        let tokens = signed(prompt.saturating_add(completion)) - signed(self.demand.tokens());
        let cost = signed(cost_micros(self.model.price, prompt, completion, cached))
            - signed(self.demand.cost_micros(self.model));
        self.correct(tokens, cost);
    }

    /// Gives back the tokens and cost taken (request units are given back
    /// by `Quotas::give_back_requests` when admission fails).
    pub(super) fn undo(&mut self) {
        let tokens = -signed(self.demand.tokens());
        let cost = -signed(self.demand.cost_micros(self.model));
        let taken = std::mem::take(&mut self.taken);
        let ticket = Ticket { taken, ..*self };
        ticket.correct(tokens, cost);
    }

    /// The request got no answer: its tokens and cost go back (the request still counts).
    pub fn refund(mut self) {
        self.undo();
    }

    fn correct(self, tokens: i64, cost: i64) {
        let quotas = self.quotas;
        let delta = |unit: Unit, cost_taken: u64| match unit {
            Unit::Tokens => tokens.max(-signed(cost_taken)),
            Unit::Requests => 0,
        };
        let mut shared = Vec::new();
        for taken in &self.taken {
            match taken {
                Taken::Bucket {
                    slot,
                    rate,
                    cost: taken,
                } => {
                    quotas.adjust_bucket(*slot, *rate, delta(Unit::Tokens, *taken));
                }
                Taken::Spend {
                    slot,
                    period,
                    cost: taken,
                } => {
                    quotas.adjust_spend(*slot, cost.max(-signed(*taken)), *period);
                }
                Taken::SharedBucket {
                    unit,
                    rate,
                    key,
                    cost: taken,
                    ..
                } => {
                    let delta = delta(*unit, *taken);
                    shared.push((key.clone(), Some(rate.emission_ns), delta, 0));
                }
                Taken::SharedSpend {
                    key,
                    ttl,
                    cost: taken,
                    ..
                } => {
                    shared.push((key.clone(), None, cost.max(-signed(*taken)), *ttl));
                }
            }
        }
        shared.retain(|(_, _, delta, _)| *delta != 0);
        if !shared.is_empty() {
            quotas.settle_shared(shared);
        }
    }
}

/// A shared correction: key, emission (a bucket) or none (a budget), delta, ttl.
pub type SharedCorrection = (String, Option<u64>, i64, u64);

/// The correction as the store's adjustment.
pub fn adjustment((key, emission, delta, ttl): &SharedCorrection) -> Adjust<'_> {
    match emission {
        Some(emission_ns) => Adjust::Gcra {
            key,
            emission_ns: *emission_ns,
            delta: *delta,
        },
        None => Adjust::Budget {
            key,
            delta: *delta,
            ttl_s: ttl.saturating_add(86_400),
        },
    }
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::cost_micros;
    use crate::table::Price;

    #[test]
    fn cached_prompt_tokens_cost_the_cached_price() {
        // $2.50 / $1.25 / $10 per million tokens.
        let model = Some(Price {
            input_nanos: 2_500,
            cached_input_nanos: 1_250,
            output_nanos: 10_000,
        });
        // 1,000 prompt tokens of which 800 cached, 100 completion tokens:
        // 200 x 2.5 + 800 x 1.25 + 100 x 10 = 2,500 micro-dollars.
        assert_eq!(cost_micros(model, 1_000, 100, 800), 2_500);
        // Rounded up to a whole micro-dollar; never more cached than prompt.
        assert_eq!(cost_micros(model, 1, 0, 0), 3);
        assert_eq!(cost_micros(model, 10, 0, 99), 13);
    }
}
