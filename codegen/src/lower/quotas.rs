//! Lowering quotas: limits and budgets sorted by name, their filters
//! resolved to bit sets (models by glob, teams by name, compiled keys by
//! their place in the lowered key table), rates to nanoseconds per unit,
//! dollars to micro-dollars, and model prices to nano-dollars per token.

use crate::diag::FileKind::{Security as F, Upstreams as U};
use crate::diag::ptr;
use crate::ir::{
    Applies, Auth, Budget, Limit, Per, Period, Price, Quotas, Rate, RedisStore, Store,
};
use crate::lower::Cx;
use crate::lower::auth::{access, reach};
use crate::spec::models::PriceSpec;
use crate::spec::quotas::{self, OnStoreErrorSpec, PerSpec, PeriodSpec, RateSpec, StoreSpec};
use crate::spec::{ModelSpec, SecurityFile, UpstreamsFile};

/// The quotas of security.yaml against the lowered keys and teams.
pub(crate) fn lower(
    security: &SecurityFile,
    upstreams: &UpstreamsFile,
    auth: &Auth,
    cx: &mut Cx<'_>,
) -> Option<Quotas> {
    let models: Vec<&str> = upstreams.models.keys().map(String::as_str).collect();
    let resolve = Resolve { models, auth };
    let replicas = security.deployment.replicas.unwrap_or(1);
    let replicas = u16::try_from(replicas)
        .map_err(|_| cx.internal(F, "/deployment/replicas"))
        .ok()?;
    let redis = match &security.stores.redis {
        Some(r) => Some(RedisStore {
            url_env: r.url_env.clone(),
            timeout_ms: cx.value_or(
                F,
                "/stores/redis/timeout",
                r.timeout.as_ref(),
                quotas::defaults::REDIS_TIMEOUT,
            )?,
        }),
        None => None,
    };
    let limits = security.limits.iter().map(|(name, l)| {
        let at = |field: &str| ptr(&["limits", name, field]);
        Some(Limit {
            name: name.clone(),
            per: per(l.per),
            applies: resolve.applies(l.applies()),
            requests: rate(l.requests.as_ref(), &at("requests"), cx)?,
            tokens: rate(l.tokens.as_ref(), &at("tokens"), cx)?,
            store: store(l.store, l.on_store_error),
            success_headers: l.success_headers,
        })
    });
    let limits = limits.collect::<Option<Vec<_>>>()?;
    let budgets = security.budgets.iter().map(|(name, b)| Budget {
        name: name.clone(),
        per: per(b.per),
        applies: resolve.applies(b.applies()),
        limit_micros: micros(b.usd),
        period: match b.period {
            PeriodSpec::Day => Period::Day,
            PeriodSpec::Month => Period::Month,
        },
        store: store(b.store, b.on_store_error),
    });
    Some(Quotas {
        replicas,
        redis,
        limits,
        budgets: budgets.collect(),
    })
}

/// A model's price in nano-dollars per token (checked non-negative and finite).
pub(crate) fn price(m: &ModelSpec) -> Option<Price> {
    let PriceSpec {
        input,
        cached_input,
        output,
    } = m.price.as_ref()?;
    let nanos = |usd_per_million: f64| (usd_per_million * 1000.0).round() as u64;
    Some(Price {
        input_nanos: nanos(*input),
        cached_input_nanos: nanos(cached_input.unwrap_or(*input)),
        output_nanos: nanos(*output),
    })
}

/// A checked positive count (`max_messages`, `max_tokens`) as a u32.
pub(crate) fn count(
    model: &str,
    field: &str,
    value: Option<i64>,
    cx: &mut Cx<'_>,
) -> Option<Option<u32>> {
    let Some(value) = value else {
        return Some(None);
    };
    match u32::try_from(value) {
        Ok(n) => Some(Some(n)),
        Err(_) => {
            cx.internal(U, &ptr(&["models", model, field]));
            None
        }
    }
}

/// Names resolved against the models and the lowered auth tables.
struct Resolve<'a> {
    models: Vec<&'a str>,
    auth: &'a Auth,
}

impl Resolve<'_> {
    fn applies(&self, written: quotas::Applies<'_>) -> Applies {
        let teams = written.teams.map(|names| {
            let all = self.auth.teams.iter().map(|t| t.name.as_str());
            words(all.map(|t| names.iter().any(|n| n == t)))
        });
        let keys = written.keys.map(|names| {
            let all = self.auth.api_keys.iter().map(|k| k.name.as_str());
            words(all.map(|k| names.iter().any(|n| n == k)))
        });
        Applies {
            models: access(&reach(written.models, &self.models)),
            teams,
            keys,
        }
    }
}

/// A bit set over positions: bit `i % 64` of word `i / 64`.
fn words(members: impl ExactSizeIterator<Item = bool>) -> Vec<u64> {
    let mut words = vec![0u64; members.len().div_ceil(64).max(1)];
    for (i, member) in members.enumerate() {
        if member {
            words[i / 64] |= 1 << (i % 64);
        }
    }
    words
}

fn per(p: PerSpec) -> Per {
    match p {
        PerSpec::Key => Per::Key,
        PerSpec::Team => Per::Team,
        PerSpec::Model => Per::Model,
        PerSpec::Global => Per::Global,
    }
}

fn store(store: StoreSpec, on_error: Option<OnStoreErrorSpec>) -> Store {
    match store {
        StoreSpec::Local => Store::Local,
        StoreSpec::Redis => Store::Redis {
            fail_open: on_error == Some(OnStoreErrorSpec::Open),
        },
    }
}

/// A checked bucket: capacity and nanoseconds per unit refilled (at least 1).
fn rate(spec: Option<&RateSpec>, at: &str, cx: &mut Cx<'_>) -> Option<Option<Rate>> {
    let Some(spec) = spec else {
        return Some(None);
    };
    let Ok(capacity) = u64::try_from(spec.capacity) else {
        cx.internal(F, at);
        return None;
    };
    let emission_ns = (1e9 / spec.refill_per_second).round().max(1.0) as u64;
    Some(Some(Rate {
        capacity,
        emission_ns,
    }))
}

/// Dollars as micro-dollars (checked positive and finite).
fn micros(usd: f64) -> u64 {
    (usd * 1e6).round() as u64
}
