//! The quota tables: rate limits, budgets, the shared store and model
//! prices, as codegen resolved them (names to indexes, globs to bit sets,
//! dollars to integers). Data only; the logic is `policy/`.

use core::time::Duration;

use super::ModelAccess;

/// Rate limits and budgets from security.yaml.
#[derive(Debug)]
pub struct Quotas {
    /// Gateway processes serving this config (`deployment.replicas`).
    pub replicas: u16,
    /// The shared store, when `stores.redis` is configured.
    pub redis: Option<RedisStore>,
    /// Sorted by name.
    pub limits: &'static [Limit],
    /// Sorted by name.
    pub budgets: &'static [Budget],
}

impl Quotas {
    /// No limit and no budget: requests skip the quota step entirely.
    pub const NONE: Quotas = Quotas {
        replicas: 1,
        redis: None,
        limits: &[],
        budgets: &[],
    };
}

/// The shared Redis store.
#[derive(Debug)]
pub struct RedisStore {
    /// Environment variable holding the `redis://` URL (read at startup).
    pub url_env: &'static str,
    /// Bound on one call; slower counts as unreachable.
    pub timeout: Duration,
}

/// What one limit or budget counts separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Each caller (API key or token principal).
    Key,
    /// Each team; callers without a team are not counted.
    Team,
    /// Each model.
    Model,
    /// Every request together.
    Global,
}

/// Where a count lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// In this process (atomics).
    Local,
    /// In the shared Redis store; `fail_open` admits requests uncounted
    /// while Redis is unreachable, else they are refused with 503.
    Redis { fail_open: bool },
}

/// Which requests a limit or budget counts (all must hold).
#[derive(Debug, Clone, Copy)]
pub struct Applies {
    /// The requested model is one of these.
    pub models: ModelAccess,
    /// Bit set over team indexes (`Auth::teams` order); `None`: any caller.
    pub teams: Option<&'static [u64]>,
    /// Bit set over compiled API key indexes (`Auth::api_keys` order); `None`: any caller.
    pub keys: Option<&'static [u64]>,
}

/// A token bucket (run as GCRA): `capacity` units at most, one unit back every `emission_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub capacity: u64,
    pub emission_ns: u64,
}

/// A rate limit on requests and/or tokens.
#[derive(Debug)]
pub struct Limit {
    pub name: &'static str,
    pub per: Per,
    pub applies: Applies,
    /// One unit per request.
    pub requests: Option<Rate>,
    /// One unit per token: the prompt estimate plus `max_tokens` up front, settled from the usage.
    pub tokens: Option<Rate>,
    pub store: Store,
    /// Rate-limit headers on admitted answers too (else only on 429s).
    pub success_headers: bool,
}

/// A calendar period, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Month,
}

/// A hard budget in US dollars per period.
#[derive(Debug)]
pub struct Budget {
    pub name: &'static str,
    pub per: Per,
    pub applies: Applies,
    /// Micro-dollars per period.
    pub limit_micros: u64,
    pub period: Period,
    pub store: Store,
}

/// A model's price in nano-dollars per token (dollars per million tokens x 1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub input_nanos: u64,
    pub cached_input_nanos: u64,
    pub output_nanos: u64,
}

/// Bit `i % 64` of word `i / 64`.
pub fn bit(words: &[u64], index: usize) -> bool {
    words
        .get(index / 64)
        .is_some_and(|word| word >> (index % 64) & 1 == 1)
}
