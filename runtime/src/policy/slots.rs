//! Where each count lives: the layout of the local bucket and spend arrays
//! (one slot per key, team, model or one in all, per limit and budget), the
//! [`Subject`] a request is counted under, the Redis key names, and the
//! quota counters with their Prometheus text.
//!
//! Compiled keys, teams and models have a slot each. Callers known only at
//! run time (file keys, the admin) share [`DYNAMIC`] slots by a hash of
//! their name: two of them may share a count (stricter, never looser).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::budget::Spend;
use super::period;
use super::shared::SharedStore;
use super::ticket::Unit;
use crate::auth::Caller;
use crate::table::{Applies, Config, Model, Per, Store, bit};

/// Slots shared by callers that are not compiled keys.
pub const DYNAMIC: usize = 64;

/// What one request is counted under for one limit or budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    /// Index within the limit's slots.
    pub index: usize,
}

impl Subject {
    /// The subject `per` counts this request under, if the filters apply
    /// (`None`: not counted, e.g. a team limit for a caller with no team).
    pub fn of(
        config: &Config,
        per: Per,
        applies: &Applies,
        caller: &Caller,
        model: &Model,
    ) -> Option<Subject> {
        if !applies.models.allows(model.id) {
            return None;
        }
        let in_set = |set: Option<&[u64]>, index: Option<u16>| match set {
            None => true,
            Some(words) => index.is_some_and(|i| bit(words, usize::from(i))),
        };
        if !in_set(applies.teams, caller.team_index()) || !in_set(applies.keys, caller.key_index())
        {
            return None;
        }
        let index = match per {
            Per::Global => 0,
            Per::Model => usize::from(model.id.0),
            Per::Team => usize::from(caller.team_index()?),
            Per::Key => match caller.key_index() {
                Some(index) => usize::from(index),
                None => config.auth.api_keys.len() + hash(caller.name()) % DYNAMIC,
            },
        };
        Some(Subject { index })
    }

    /// The subject's name in Redis keys and metric labels.
    pub fn name<'a>(per: Per, caller: &'a Caller, model: &'a Model, config: &'a Config) -> &'a str {
        match per {
            Per::Global => "*",
            Per::Model => model.name,
            Per::Team => caller
                .team_index()
                .and_then(|t| config.auth.teams.get(usize::from(t)))
                .map_or("", |t| t.name),
            Per::Key => caller.name(),
        }
    }
}

/// FNV-1a: stable across processes (the slot of a name never moves).
fn hash(name: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        h = (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    h as usize
}

/// Slots of one `per`.
fn width(config: &Config, per: Per) -> usize {
    match per {
        Per::Global => 1,
        Per::Model => config.models.len(),
        Per::Team => config.auth.teams.len(),
        Per::Key => config.auth.api_keys.len() + DYNAMIC,
    }
}

/// Offsets of every limit's and budget's slots.
#[derive(Debug)]
pub struct Layout {
    /// Per limit: (first bucket, slots per unit).
    limits: Box<[(usize, usize)]>,
    /// Per budget: first spend slot.
    budgets: Box<[usize]>,
    pub buckets: usize,
    pub spends: usize,
    /// Whether any limit or budget keeps its count in Redis.
    pub uses_redis: bool,
}

impl Layout {
    pub fn new(config: &Config) -> Self {
        let quotas = &config.quotas;
        let mut buckets = 0;
        let limits = quotas.limits.iter().map(|limit| {
            let w = width(config, limit.per);
            let at = (buckets, w);
            buckets += 2 * w;
            at
        });
        let limits = limits.collect();
        let mut spends = 0;
        let budgets = quotas.budgets.iter().map(|budget| {
            let at = spends;
            spends += width(config, budget.per);
            at
        });
        let budgets = budgets.collect();
        let redis = |store: Store| matches!(store, Store::Redis { .. });
        let uses_redis = quotas.limits.iter().any(|l| redis(l.store))
            || quotas.budgets.iter().any(|b| redis(b.store));
        Self {
            limits,
            budgets,
            buckets,
            spends,
            uses_redis,
        }
    }

    /// The bucket of `limit`'s `unit` for `subject`.
    pub fn bucket(&self, limit: usize, unit: Unit, subject: Subject) -> usize {
        let (base, width) = self.limits.get(limit).copied().unwrap_or_default();
        base + usize::from(unit == Unit::Tokens) * width + subject.index
    }

    /// The spend slot of `budget` for `subject`.
    pub fn spend(&self, budget: usize, subject: Subject) -> usize {
        self.budgets.get(budget).copied().unwrap_or_default() + subject.index
    }
}

/// Refusals and store errors, for `/metrics`.
#[derive(Debug)]
pub struct Counters {
    /// Per limit: [requests, tokens].
    limited: Box<[[AtomicU64; 2]]>,
    /// Per budget.
    exhausted: Box<[AtomicU64]>,
    /// [admitted uncounted, refused].
    store_errors: [AtomicU64; 2],
}

impl Counters {
    pub fn new(config: &Config) -> Self {
        let quotas = &config.quotas;
        Self {
            limited: quotas.limits.iter().map(|_| Default::default()).collect(),
            exhausted: quotas.budgets.iter().map(|_| AtomicU64::new(0)).collect(),
            store_errors: Default::default(),
        }
    }

    pub fn limited(&self, limit: usize, unit: Unit) {
        if let Some(pair) = self.limited.get(limit) {
            pair[usize::from(unit == Unit::Tokens)].fetch_add(1, Relaxed);
        }
    }

    pub fn exhausted(&self, budget: usize) {
        if let Some(count) = self.exhausted.get(budget) {
            count.fetch_add(1, Relaxed);
        }
    }

    pub fn store_error(&self, refused: bool) {
        self.store_errors[usize::from(refused)].fetch_add(1, Relaxed);
    }

    /// `gateway_rate_limited_total`, `gateway_budget_*`, `gateway_quota_store_*`.
    pub fn render(
        &self,
        config: &Config,
        layout: &Layout,
        spends: &[Spend],
        shared: Option<&SharedStore>,
        out: &mut String,
    ) {
        let quotas = &config.quotas;
        if !quotas.limits.is_empty() {
            out.push_str("# HELP gateway_rate_limited_total Requests refused by a rate limit.\n# TYPE gateway_rate_limited_total counter\n");
            for (limit, pair) in quotas.limits.iter().zip(self.limited.iter()) {
                for (unit, count) in ["requests", "tokens"].iter().zip(pair) {
                    let n = count.load(Relaxed);
                    let _ = writeln!(
                        out,
                        "gateway_rate_limited_total{{limit=\"{}\",unit=\"{unit}\"}} {n}",
                        limit.name
                    );
                }
            }
        }
        if !quotas.budgets.is_empty() {
            self.render_budgets(config, layout, spends, out);
        }
        if let Some(store) = shared {
            let status = store.status();
            out.push_str("# HELP gateway_quota_store_up Whether the last call to the shared quota store succeeded.\n# TYPE gateway_quota_store_up gauge\n");
            let _ = writeln!(out, "gateway_quota_store_up {}", u8::from(status.up));
        }
        if layout.uses_redis {
            out.push_str("# HELP gateway_quota_store_errors_total Requests that met an unreachable shared quota store, by what the compiled choice did.\n# TYPE gateway_quota_store_errors_total counter\n");
            for (outcome, count) in ["admitted", "refused"].iter().zip(&self.store_errors) {
                let _ = writeln!(
                    out,
                    "gateway_quota_store_errors_total{{outcome=\"{outcome}\"}} {}",
                    count.load(Relaxed)
                );
            }
        }
    }

    fn render_budgets(&self, config: &Config, layout: &Layout, spends: &[Spend], out: &mut String) {
        let quotas = &config.quotas;
        out.push_str("# HELP gateway_budget_exceeded_total Requests refused because a budget was spent.\n# TYPE gateway_budget_exceeded_total counter\n");
        for (budget, count) in quotas.budgets.iter().zip(self.exhausted.iter()) {
            let _ = writeln!(
                out,
                "gateway_budget_exceeded_total{{budget=\"{}\"}} {}",
                budget.name,
                count.load(Relaxed)
            );
        }
        out.push_str("# HELP gateway_budget_remaining_usd Dollars left in the current period (for a shared budget: as last seen by this process).\n# TYPE gateway_budget_remaining_usd gauge\n");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        for (index, budget) in quotas.budgets.iter().enumerate() {
            let (current, _) = period::current(budget.period, now);
            for (subject, name) in named_subjects(config, budget.per) {
                let spent = spends
                    .get(layout.spend(index, subject))
                    .map_or(0, |s| s.spent(current));
                let left = budget.limit_micros.saturating_sub(spent) as f64 / 1e6;
                let _ = writeln!(
                    out,
                    "gateway_budget_remaining_usd{{budget=\"{}\",subject=\"{name}\"}} {left}",
                    budget.name
                );
            }
        }
    }
}

/// The subjects with a name known at build time (dynamic slots have none).
fn named_subjects(config: &Config, per: Per) -> Vec<(Subject, &'static str)> {
    let names: Vec<&'static str> = match per {
        Per::Global => vec!["*"],
        Per::Model => config.models.iter().map(|m| m.name).collect(),
        Per::Team => config.auth.teams.iter().map(|t| t.name).collect(),
        Per::Key => config.auth.api_keys.iter().map(|k| k.name).collect(),
    };
    let subjects = names.into_iter().enumerate();
    subjects
        .map(|(index, name)| (Subject { index }, name))
        .collect()
}
