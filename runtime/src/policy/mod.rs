//! Quotas: the compiled rate limits and budgets, enforced per request
//! against a local store (atomics: `gcra.rs`, `budget.rs`) or the shared
//! Redis store (`shared.rs`, one script call per request at most;
//! `store.rs` judges its answers and applies the compiled fail choice).
//!
//! [`Quotas::admit`] runs before the first try: every limit and budget
//! whose filters match the caller and model takes its share (one request;
//! the prompt estimate plus `max_tokens`; the estimated cost), local ones
//! first; a refusal undoes what was taken. The [`Ticket`] it returns
//! settles the token and cost estimates against the real usage when the
//! answer ends (`ticket.rs`). With no limit and no budget configured the
//! step costs one branch.

pub mod budget;
pub mod gcra;
mod period;
pub mod shared;
mod slots;
mod store;
#[cfg(test)]
mod tests;
mod ticket;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::auth::Caller;
use crate::error::{GatewayError, RateLimit, RateLine};
use crate::table::{Config, Model, Per, Rate, Store};

pub use slots::Subject;
pub use ticket::{Demand, Ticket};

use budget::Spend;
use gcra::Bucket;
use shared::SharedStore;
use slots::Layout;
use ticket::{Taken, Unit};

/// Quota state for the process: local counts and the shared store.
pub struct Quotas {
    config: &'static Config,
    layout: Layout,
    buckets: Box<[Bucket]>,
    spends: Box<[Spend]>,
    shared: Option<SharedStore>,
    /// The local buckets' clock.
    epoch: Instant,
    /// Some limit counts tokens or some budget exists.
    counts_tokens: bool,
    counters: slots::Counters,
}

impl Quotas {
    /// Sizes the local counts from the tables; connects to Redis in the
    /// background when a limit or budget uses it (`redis_url` from its
    /// variable). Must run inside the tokio runtime.
    pub fn new(config: &'static Config, redis_url: Option<&str>) -> Result<Self, String> {
        let layout = Layout::new(config);
        let shared = match (&config.quotas.redis, redis_url) {
            (Some(redis), Some(url)) => Some(
                SharedStore::new(url, redis.timeout)
                    .map_err(|e| format!("stores.redis ({}): {e}", redis.url_env))?,
            ),
            (Some(redis), None) if layout.uses_redis => {
                return Err(format!(
                    "stores.redis: the environment variable {} holding the Redis URL is not set",
                    redis.url_env
                ));
            }
            _ => None,
        };
        Ok(Self {
            config,
            buckets: (0..layout.buckets).map(|_| Bucket::default()).collect(),
            spends: (0..layout.spends).map(|_| Spend::default()).collect(),
            counters: slots::Counters::new(config),
            layout,
            shared,
            // tokio's clock (the std one unless a test paused it).
            epoch: tokio::time::Instant::now().into_std(),
            counts_tokens: !config.quotas.budgets.is_empty()
                || config.quotas.limits.iter().any(|l| l.tokens.is_some()),
        })
    }

    /// Whether any limit counts tokens or any budget exists: only then is a
    /// request's `max_tokens` part of its demand.
    pub fn counts_tokens(&self) -> bool {
        self.counts_tokens
    }

    /// Whether any limit or budget exists (else `admit` is never called).
    pub fn active(&self) -> bool {
        !self.config.quotas.limits.is_empty() || !self.config.quotas.budgets.is_empty()
    }

    /// Takes this request's share of every local limit and budget that
    /// applies, at `now`; the shared ones are listed on the ticket for
    /// [`Quotas::admit_shared`] (plain code: a request that meets only
    /// local quotas never builds a future for them).
    pub fn admit(
        &'static self,
        caller: &Caller,
        model: &'static Model,
        demand: Demand,
        now: Instant,
    ) -> Result<Ticket, GatewayError> {
        let mut ticket = Ticket::new(self, model, demand);
        if !self.active() {
            return Ok(ticket);
        }
        let now = self.ns_at(now);
        if let Err((error, taken)) = self.admit_local(caller, model, &mut ticket, now) {
            self.give_back_requests(caller, model, taken);
            ticket.undo();
            return Err(error);
        }
        Ok(ticket)
    }

    /// The shared quotas the ticket lists, in one script call; a refusal
    /// (or a fail-closed store error) gives back everything taken.
    pub async fn admit_shared(
        &'static self,
        caller: &Caller,
        model: &'static Model,
        ticket: &mut Ticket,
    ) -> Result<(), GatewayError> {
        let answer = self.check_shared(ticket).await;
        if answer.is_err() {
            self.give_back_requests(caller, model, self.config.quotas.limits.len());
            ticket.undo();
        }
        answer
    }

    /// Gives back the request unit of every local limit among the first
    /// `limits` that this request was counted in (a later quota refused it).
    /// Request units are not recorded on the ticket (they are never settled),
    /// so a request that meets only request limits allocates nothing.
    fn give_back_requests(&self, caller: &Caller, model: &Model, limits: usize) {
        let config = self.config;
        for (index, limit) in config.quotas.limits.iter().enumerate().take(limits) {
            let (Some(rate), Store::Local) = (limit.requests, limit.store) else {
                continue;
            };
            if let Some(subject) = Subject::of(config, limit.per, &limit.applies, caller, model) {
                let slot = self.layout.bucket(index, Unit::Requests, subject);
                self.adjust_bucket(slot, rate, -1);
            }
        }
    }

    /// Local limits, then local budgets; shared ones are listed for one script call.
    fn admit_local(
        &self,
        caller: &Caller,
        model: &Model,
        ticket: &mut Ticket,
        now: u64,
    ) -> Result<(), (GatewayError, usize)> {
        let config = self.config;
        for (index, limit) in config.quotas.limits.iter().enumerate() {
            let Some(subject) = Subject::of(config, limit.per, &limit.applies, caller, model)
            else {
                continue;
            };
            let units = [(Unit::Requests, 1), (Unit::Tokens, ticket.demand.tokens())];
            for (unit, cost) in units {
                let Some(rate) = unit.rate(limit) else {
                    continue;
                };
                if let Store::Redis { .. } = limit.store {
                    let key = self.key(
                        "limit",
                        limit.name,
                        unit_name(unit),
                        limit.per,
                        caller,
                        model,
                    );
                    ticket.push(Taken::SharedBucket {
                        limit: index,
                        unit,
                        rate,
                        key,
                        cost,
                    });
                    continue;
                }
                let slot = self.layout.bucket(index, unit, subject);
                let verdict = self.buckets[slot].take(rate, cost, now);
                if limit.success_headers {
                    ticket.note(unit, rate, verdict.remaining, verdict.reset_ns);
                }
                if !verdict.allowed {
                    self.counters.limited(index, unit);
                    // This limit's request unit was taken when tokens refuse.
                    let taken = index + usize::from(unit == Unit::Tokens);
                    return Err((limited(limit.name, unit, rate, verdict), taken));
                }
                if unit == Unit::Tokens {
                    ticket.push(Taken::Bucket { slot, rate, cost });
                }
            }
        }
        let every = config.quotas.limits.len();
        let unix = if config.quotas.budgets.is_empty() {
            0
        } else {
            unix_secs()
        };
        for (index, budget) in config.quotas.budgets.iter().enumerate() {
            let Some(subject) = Subject::of(config, budget.per, &budget.applies, caller, model)
            else {
                continue;
            };
            let (period, resets_in) = period::current(budget.period, unix);
            let (slot, cost) = (
                self.layout.spend(index, subject),
                ticket.demand.cost_micros(model),
            );
            if let Store::Redis { .. } = budget.store {
                let key = self.key(
                    "budget",
                    budget.name,
                    &period.to_string(),
                    budget.per,
                    caller,
                    model,
                );
                let limit = budget.limit_micros;
                ticket.push(Taken::SharedSpend {
                    budget: index,
                    slot,
                    limit,
                    key,
                    period,
                    ttl: resets_in,
                    cost,
                });
                continue;
            }
            if !self.spends[slot].take(budget.limit_micros, cost, period).0 {
                self.counters.exhausted(index);
                return Err((exhausted(budget, resets_in), every));
            }
            ticket.push(Taken::Spend { slot, period, cost });
        }
        Ok(())
    }

    /// `gw:{environment}:{kind}:{name}:{part}:{subject}`: one Redis key per count.
    fn key(
        &self,
        kind: &str,
        name: &str,
        part: &str,
        per: Per,
        caller: &Caller,
        model: &Model,
    ) -> String {
        let subject = Subject::name(per, caller, model, self.config);
        format!(
            "gw:{}:{kind}:{name}:{part}:{subject}",
            self.config.environment
        )
    }

    fn adjust_bucket(&self, slot: usize, rate: Rate, delta: i64) {
        if let (Some(bucket), true) = (self.buckets.get(slot), delta != 0) {
            bucket.adjust(rate, delta, self.now_ns());
        }
    }

    fn adjust_spend(&self, slot: usize, delta: i64, period: u32) {
        if let (Some(spend), true) = (self.spends.get(slot), delta != 0) {
            spend.adjust(delta, period);
        }
    }

    fn mirror(&self, slot: usize, spent: u64, period: u32) {
        if let Some(spend) = self.spends.get(slot) {
            spend.mirror(spent, period);
        }
    }

    /// ns on the local buckets' clock.
    fn now_ns(&self) -> u64 {
        self.ns_at(tokio::time::Instant::now().into_std())
    }

    /// `at` in ns on the local buckets' clock.
    fn ns_at(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Quota metrics in the Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        self.counters.render(
            self.config,
            &self.layout,
            &self.spends,
            self.shared.as_ref(),
            out,
        );
    }
}

fn limited(name: &'static str, unit: Unit, rate: Rate, verdict: gcra::Verdict) -> GatewayError {
    GatewayError::RateLimited(RateLimit {
        limit: name,
        line: RateLine {
            tokens: unit == Unit::Tokens,
            capacity: rate.capacity,
            remaining: verdict.remaining,
            reset_ms: verdict.reset_ns.div_ceil(1_000_000),
        },
        retry_after_ms: verdict.retry_after_ns.div_ceil(1_000_000).max(1),
    })
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Requests => "requests",
        Unit::Tokens => "tokens",
    }
}

fn exhausted(budget: &crate::table::Budget, resets_in_secs: u64) -> GatewayError {
    GatewayError::BudgetExceeded {
        budget: budget.name,
        period: match budget.period {
            crate::table::Period::Day => "day",
            crate::table::Period::Month => "month",
        },
        resets_in_secs,
    }
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
