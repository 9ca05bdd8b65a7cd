//! Quotas in security.yaml: `deployment` (how many gateway processes serve
//! this config), `stores` (the shared Redis store), `limits` (requests and
//! tokens per key, team, model or in all, as token buckets) and `budgets`
//! (USD per key, team or in all, per day or month). Prices and per-request
//! limits live on the models (`spec/models.rs`). Checked by
//! `check/quotas.rs`, resolved by `lower/quotas.rs`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::spec::values::DurationSpec;

/// Defaults applied by `lower/` when a key is absent (the docs below repeat them).
pub mod defaults {
    /// `deployment.replicas`.
    pub const REPLICAS: u64 = 1;
    /// `stores.redis.timeout`.
    pub const REDIS_TIMEOUT: &str = "100ms";
}

/// How this config is deployed.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentSpec {
    /// Gateway processes serving this config at once (default 1). With more than one, a `local` limit or budget would let each process admit its own share: it must use `store: redis` or say `per_instance: true`.
    #[schemars(extend("default" = defaults::REPLICAS))]
    pub replicas: Option<i64>,
}

/// Where shared quota state lives.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoresSpec {
    /// A Redis server shared by every replica (one Lua script call per request).
    pub redis: Option<RedisSpec>,
}

/// The shared Redis store.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedisSpec {
    /// Environment variable holding the `redis://[user:password@]host:port[/db]` URL (it may hold a password, so it is never written in YAML).
    pub url_env: String,
    /// Bound on one call to Redis; slower counts as unreachable (default `100ms`).
    #[schemars(extend("default" = defaults::REDIS_TIMEOUT))]
    pub timeout: Option<DurationSpec>,
}

/// What one limit or budget counts separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PerSpec {
    /// One count per caller: each API key (or token principal).
    Key,
    /// One count per team; callers without a team are not counted.
    Team,
    /// One count per model, whoever calls.
    Model,
    /// One count for every request it applies to.
    Global,
}

/// Which store keeps a limit's or budget's count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreSpec {
    /// In this process (atomics): exact for one process, per process with several.
    #[default]
    Local,
    /// In `stores.redis`, shared and exact across replicas.
    Redis,
}

/// What a request meets when the Redis store cannot be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnStoreErrorSpec {
    /// Admit the request uncounted.
    Open,
    /// Refuse it with 503.
    Closed,
}

/// A token bucket: holds `capacity` units, refilled at `refill_per_second`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateSpec {
    /// Most units admitted at once (the burst), a positive integer.
    pub capacity: i64,
    /// Units returned to the bucket per second, a positive number (e.g. `0.5`, `1000`).
    pub refill_per_second: f64,
}

/// Which requests a limit or budget counts, as written (every filter must hold; absent: any).
#[derive(Clone, Copy, Debug)]
pub struct Applies<'a> {
    /// `models`: exact names or globs.
    pub models: Option<&'a [String]>,
    /// `teams`: names under `auth.teams`.
    pub teams: Option<&'a [String]>,
    /// `keys`: names under `auth.api_keys`.
    pub keys: Option<&'a [String]>,
}

/// A rate limit on requests and/or tokens.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    /// What is counted separately: `key`, `team`, `model` or `global`.
    pub per: PerSpec,
    /// Requests admitted: each request takes one unit.
    pub requests: Option<RateSpec>,
    /// Tokens admitted: a request takes its prompt estimate plus its `max_tokens` up front; the difference to the tokens really used is settled when it ends.
    pub tokens: Option<RateSpec>,
    /// Only requests for these public models: exact names or globs (`*`, `?`) (absent: every model).
    pub models: Option<Vec<String>>,
    /// Only callers of these teams, names under `auth.teams` (absent: any caller).
    pub teams: Option<Vec<String>>,
    /// Only these API keys, names under `auth.api_keys` (absent: any caller).
    pub keys: Option<Vec<String>>,
    /// `local` (in process) or `redis` (shared by every replica) (default `local`).
    #[serde(default)]
    pub store: StoreSpec,
    /// With `store: redis`: `open` admits uncounted while Redis is unreachable, `closed` answers 503 (required with `store: redis`).
    pub on_store_error: Option<OnStoreErrorSpec>,
    /// With `store: local` and `deployment.replicas` above 1: acknowledge that each process counts alone (default false).
    #[serde(default)]
    pub per_instance: bool,
    /// Also send the rate-limit headers (`x-ratelimit-*`, or `anthropic-ratelimit-*` on `/v1/messages`) on admitted answers, not only on 429s (default false: three more headers on every answer cost about 5% of a small request's CPU).
    #[serde(default)]
    pub success_headers: bool,
}

/// How long a budget lasts before it starts again (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodSpec {
    /// From 00:00 UTC to the next.
    Day,
    /// From the first of the month, 00:00 UTC.
    Month,
}

/// A hard budget in US dollars.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// What is counted separately: `key`, `team`, `model` or `global`.
    pub per: PerSpec,
    /// Dollars that may be spent per period, a positive number; requests are refused (402) once spent.
    pub usd: f64,
    /// `day` or `month` (UTC).
    pub period: PeriodSpec,
    /// Only requests for these public models: exact names or globs (`*`, `?`) (absent: every model); every model a budget counts needs a `price`.
    pub models: Option<Vec<String>>,
    /// Only callers of these teams, names under `auth.teams` (absent: any caller).
    pub teams: Option<Vec<String>>,
    /// Only these API keys, names under `auth.api_keys` (absent: any caller).
    pub keys: Option<Vec<String>>,
    /// `local` (in process) or `redis` (shared by every replica) (default `local`).
    #[serde(default)]
    pub store: StoreSpec,
    /// With `store: redis`: `open` admits uncounted while Redis is unreachable, `closed` answers 503 (required with `store: redis`).
    pub on_store_error: Option<OnStoreErrorSpec>,
    /// With `store: local` and `deployment.replicas` above 1: acknowledge that each process counts alone (default false).
    #[serde(default)]
    pub per_instance: bool,
}

/// Limits and budgets by name.
pub type Limits = BTreeMap<String, LimitSpec>;
/// Budgets by name.
pub type Budgets = BTreeMap<String, BudgetSpec>;

impl LimitSpec {
    /// The filters.
    pub fn applies(&self) -> Applies<'_> {
        Applies {
            models: self.models.as_deref(),
            teams: self.teams.as_deref(),
            keys: self.keys.as_deref(),
        }
    }
}

impl BudgetSpec {
    /// The filters.
    pub fn applies(&self) -> Applies<'_> {
        Applies {
            models: self.models.as_deref(),
            teams: self.teams.as_deref(),
            keys: self.keys.as_deref(),
        }
    }
}
