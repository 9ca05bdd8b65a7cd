//! Checks for quotas (security.yaml `deployment`, `stores`, `limits`,
//! `budgets`) and the per-model quota settings of upstreams.yaml (`price`,
//! `max_messages`, `max_tokens`): every number positive, every filter names
//! a defined team, key or model, each store choice complete and exact for
//! the replica count, and every model a budget counts priced.
//!
//! Reports only; `lower/quotas.rs` resolves what passes.

use crate::check::access;
use crate::diag::codes;
use crate::diag::suggest::{self, Reference};
use crate::diag::{Diagnostic, Diagnostics, FileKind, ptr};
use crate::parse::{self, glob};
use crate::spec::quotas::{Applies, OnStoreErrorSpec, RateSpec, StoreSpec};
use crate::spec::{SecurityFile, UpstreamsFile};

const F: FileKind = FileKind::Security;

/// Every quota check; those needing the models only when upstreams.yaml loaded.
pub fn check(security: &SecurityFile, upstreams: Option<&UpstreamsFile>, diags: &mut Diagnostics) {
    let replicas = security.deployment.replicas.unwrap_or(1);
    if replicas < 1 {
        diags.push(not_positive(F, "/deployment/replicas", "`replicas`", "1"));
    }
    if let Some(redis) = &security.stores.redis
        && !parse::is_env_name(&redis.url_env)
    {
        diags.push(
            Diagnostic::new(
                codes::BAD_ENV_NAME,
                F,
                format!("invalid environment variable name `{}`", redis.url_env),
            )
            .at("/stores/redis/url_env")
            .label("must match `[A-Z_][A-Z0-9_]*`")
            .help("name the variable holding the Redis URL, e.g. `GATEWAY_REDIS_URL`"),
        );
    }
    let models: Option<Vec<&str>> =
        upstreams.map(|u| u.models.keys().map(String::as_str).collect());
    for (name, limit) in &security.limits {
        let at = ptr(&["limits", name]);
        let owner = format!("limit `{name}`");
        if limit.requests.is_none() && limit.tokens.is_none() {
            diags.push(
                Diagnostic::new(
                    codes::LIMIT_WITHOUT_RATE,
                    F,
                    format!("{owner} limits nothing"),
                )
                .at_key(&at)
                .label("neither `requests` nor `tokens`")
                .help("add `requests: { capacity: 60, refill_per_second: 1 }` and/or `tokens: { capacity, refill_per_second }`"),
            );
        }
        for (field, rate) in [("requests", &limit.requests), ("tokens", &limit.tokens)] {
            if let Some(rate) = rate {
                check_rate(&format!("{at}/{field}"), rate, diags);
            }
        }
        let choice = (limit.store, limit.on_store_error, limit.per_instance);
        check_store(security, &at, &owner, choice, diags);
        check_applies(security, &at, limit.applies(), models.as_deref(), diags);
    }
    for (name, budget) in &security.budgets {
        let at = ptr(&["budgets", name]);
        let owner = format!("budget `{name}`");
        if !(budget.usd.is_finite() && budget.usd >= 0.000_001) {
            diags.push(not_positive(F, &format!("{at}/usd"), "`usd`", "100"));
        }
        let choice = (budget.store, budget.on_store_error, budget.per_instance);
        check_store(security, &at, &owner, choice, diags);
        check_applies(security, &at, budget.applies(), models.as_deref(), diags);
        if let (Some(upstreams), Some(names)) = (upstreams, models.as_deref()) {
            check_priced(&at, &owner, budget.applies(), upstreams, names, diags);
        }
    }
    if let Some(upstreams) = upstreams {
        check_models(upstreams, diags);
    }
}

/// `price`, `max_messages` and `max_tokens` on every model.
fn check_models(upstreams: &UpstreamsFile, diags: &mut Diagnostics) {
    const U: FileKind = FileKind::Upstreams;
    for (name, model) in &upstreams.models {
        for (field, value) in [
            ("max_messages", model.max_messages),
            ("max_tokens", model.max_tokens),
        ] {
            if value.is_some_and(|v| !(1..=i64::from(u32::MAX)).contains(&v)) {
                let at = ptr(&["models", name, field]);
                diags.push(not_positive(U, &at, &format!("`{field}`"), "4096"));
            }
        }
        let Some(price) = &model.price else { continue };
        let prices = [
            ("input", Some(price.input)),
            ("cached_input", price.cached_input),
            ("output", Some(price.output)),
        ];
        for (field, value) in prices {
            if value.is_some_and(|v| !(v.is_finite() && (0.0..=1e9).contains(&v))) {
                let at = ptr(&["models", name, "price", field]);
                diags.push(
                    Diagnostic::new(
                        codes::QUOTA_NOT_POSITIVE,
                        U,
                        format!("price `{field}` must be zero or more dollars per million tokens"),
                    )
                    .at(at)
                    .label("negative or not a number")
                    .help("write the provider's list price, e.g. `2.50`"),
                );
            }
        }
    }
}

fn check_rate(at: &str, rate: &RateSpec, diags: &mut Diagnostics) {
    if rate.capacity < 1 {
        diags.push(not_positive(
            F,
            &format!("{at}/capacity"),
            "`capacity`",
            "60",
        ));
    }
    let refill = rate.refill_per_second;
    if !(refill.is_finite() && refill >= 1e-6) {
        let at = format!("{at}/refill_per_second");
        diags.push(not_positive(F, &at, "`refill_per_second`", "1"));
    }
}

/// `store: redis` needs `stores.redis` and an explicit `on_store_error`;
/// `store: local` with several replicas needs `per_instance: true`.
fn check_store(
    security: &SecurityFile,
    at: &str,
    owner: &str,
    (store, on_error, per_instance): (StoreSpec, Option<OnStoreErrorSpec>, bool),
    diags: &mut Diagnostics,
) {
    let replicas = security.deployment.replicas.unwrap_or(1);
    let mismatch = |field: &str, message: String, help: &str| {
        Diagnostic::new(codes::QUOTA_STORE_OPTION, F, message)
            .at_key(format!("{at}/{field}"))
            .label("only meaningful with the other store")
            .help(help.to_owned())
    };
    match store {
        StoreSpec::Redis => {
            if security.stores.redis.is_none() {
                diags.push(
                    Diagnostic::new(codes::NO_REDIS_STORE, F, format!("{owner} uses a Redis store that is not defined"))
                        .at(format!("{at}/store"))
                        .label("no `stores.redis` in security.yaml")
                        .help("add `stores: { redis: { url_env: GATEWAY_REDIS_URL } }`, or use `store: local`"),
                );
            }
            if on_error.is_none() {
                diags.push(
                    Diagnostic::new(codes::QUOTA_STORE_OPTION, F, format!("{owner} does not say what happens when Redis is unreachable"))
                        .at(format!("{at}/store"))
                        .label("`store: redis` without `on_store_error`")
                        .help("add `on_store_error: closed` (refuse with 503) or `on_store_error: open` (admit uncounted)"),
                );
            }
            if per_instance {
                diags.push(mismatch(
                    "per_instance",
                    format!("{owner} is shared, not per instance"),
                    "remove `per_instance`: a Redis count is shared by every replica",
                ));
            }
        }
        StoreSpec::Local => {
            if on_error.is_some() {
                diags.push(mismatch(
                    "on_store_error",
                    format!("{owner} keeps its count in process; there is no store to lose"),
                    "remove `on_store_error`, or use `store: redis`",
                ));
            }
            if replicas > 1 && !per_instance {
                diags.push(
                    Diagnostic::new(codes::LOCAL_QUOTA_WITH_REPLICAS, F, format!("{owner} is counted in each of {replicas} replicas"))
                        .at_key(at.to_owned())
                        .label(format!("`local` with `deployment.replicas: {replicas}`: each process admits the whole amount"))
                        .help("use `store: redis` (shared and exact across replicas), or add `per_instance: true` if a per-process count is what you mean"),
                );
            }
        }
    }
}

/// Teams and keys are defined; model patterns match models and hide none.
fn check_applies(
    security: &SecurityFile,
    at: &str,
    applies: Applies<'_>,
    models: Option<&[&str]>,
    diags: &mut Diagnostics,
) {
    let auth = &security.auth;
    let teams = auth.teams.keys().map(String::as_str);
    let keys: Vec<&str> = auth.api_keys.iter().map(|k| k.name.as_str()).collect();
    let lists = [
        (
            "teams",
            applies.teams,
            "team",
            "defined under `auth.teams`",
            "defined teams",
            codes::QUOTA_UNKNOWN_TEAM,
            teams.collect::<Vec<_>>(),
        ),
        (
            "keys",
            applies.keys,
            "API key",
            "named under `auth.api_keys`",
            "API key names",
            codes::QUOTA_UNKNOWN_KEY,
            keys,
        ),
    ];
    for (field, list, kind, defined, known, code, names) in lists {
        for (i, name) in list.into_iter().flatten().enumerate() {
            if names.contains(&name.as_str()) {
                continue;
            }
            let from = format!("`{}`", at.trim_start_matches('/').replace('/', "."));
            let reference = Reference {
                code,
                file: F,
                from: &from,
                kind,
                defined,
                known,
            };
            let pointer = format!("{at}/{field}/{i}");
            diags.push(suggest::unknown_reference(
                &reference,
                pointer,
                name,
                names.iter().copied(),
            ));
        }
    }
    if let Some(list) = applies.models {
        let list_at = format!("{at}/models");
        if list.is_empty() {
            diags.push(access::empty_list(
                &list_at,
                &format!("`{}`", at.trim_start_matches('/').replace('/', ".")),
            ));
        } else if let Some(models) = models {
            access::check_patterns(&list_at, list, models, diags);
        }
    }
}

/// Every model a budget counts has a price.
fn check_priced(
    at: &str,
    owner: &str,
    applies: Applies<'_>,
    upstreams: &UpstreamsFile,
    names: &[&str],
    diags: &mut Diagnostics,
) {
    let counted = match applies.models {
        Some(list) => glob::reach(list, names),
        None => vec![true; names.len()],
    };
    let unpriced: Vec<&str> = names
        .iter()
        .zip(&counted)
        .filter(|(name, counted)| {
            **counted
                && upstreams
                    .models
                    .get(**name)
                    .is_some_and(|m| m.price.is_none())
        })
        .map(|(name, _)| *name)
        .collect();
    if unpriced.is_empty() {
        return;
    }
    diags.push(
        Diagnostic::new(
            codes::MISSING_PRICE,
            F,
            format!("{owner} counts models without a price"),
        )
        .at_key(at)
        .label(format!("no `price` on {}", suggest::list(unpriced.iter().copied())))
        .help("add `price: { input: <$ per million prompt tokens>, output: <$ per million completion tokens> }` to each model in upstreams.yaml, or narrow the budget's `models`"),
    );
}

fn not_positive(file: FileKind, at: &str, what: &str, example: &str) -> Diagnostic {
    Diagnostic::new(
        codes::QUOTA_NOT_POSITIVE,
        file,
        format!("{what} must be positive"),
    )
    .at(at)
    .label("zero, negative or out of range: nothing would ever be admitted")
    .help(format!(
        "write a positive number such as `{example}`, or remove the limit"
    ))
}
