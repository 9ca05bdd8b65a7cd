//! Lowering how a model is served: its deployments (upstreams resolved to
//! ids, defaults applied, sorted by priority then as written, dense ids
//! over all models, serving per protocol from the upstream's kind), the
//! balance, the retry settings (conditions expanded to sorted statuses),
//! endpoints, fallbacks as ids and the deadline (explicit or derived).

use crate::diag::FileKind::Upstreams as F;
use crate::diag::ptr;
use crate::ir::{
    Balance, Deployment, DeploymentId, Endpoints, ModelId, Retry, Serving, Upstream, UpstreamId,
};
use crate::lower::Cx;
use crate::parse::{self, RetryCondition};
use crate::spec::routing::defaults as d;
use crate::spec::{BalanceSpec, EndpointSpec, ModelSpec, UpstreamKindSpec, UpstreamsFile};

/// The deployments of `model`, sorted by priority (stable), with ids from `next` on.
pub(crate) fn deployments(
    model: &str,
    m: &ModelSpec,
    file: &UpstreamsFile,
    upstreams: &[Upstream],
    next: &mut usize,
    cx: &mut Cx<'_>,
) -> Option<Vec<Deployment>> {
    let mut written = Vec::new();
    for w in m.written() {
        let at = match w.index {
            Some(i) => ptr(&["models", model, "deployments", &i.to_string()]),
            None => ptr(&["models", model, "upstream"]),
        };
        let found = upstreams.binary_search_by(|u| u.name.as_str().cmp(w.upstream));
        let kind = file.upstreams.get(w.upstream).map(|u| u.kind);
        let weight = u32::try_from(w.weight.unwrap_or(d::WEIGHT));
        let priority = u8::try_from(w.priority.unwrap_or(d::PRIORITY));
        let (Ok(up), Some(kind), Ok(weight), Ok(priority)) = (found, kind, weight, priority) else {
            cx.internal(F, &at);
            return None;
        };
        written.push((priority, weight, up, w.model.unwrap_or(model), kind));
    }
    written.sort_by_key(|(priority, ..)| *priority);
    let mut out = Vec::with_capacity(written.len());
    for (priority, weight, up, upstream_model, kind) in written {
        let (chat, messages) = serving(kind);
        out.push(Deployment {
            id: DeploymentId(cx.id16(*next)?),
            upstream: UpstreamId(cx.id16(up)?),
            upstream_model: upstream_model.to_owned(),
            weight,
            priority,
            chat,
            messages,
        });
        *next += 1;
    }
    Some(out)
}

/// (chat completions, Anthropic Messages) for a deployment on an upstream
/// of `kind`: the protocol the upstream speaks passes through, the other is
/// translated (`openai` and `mock` speak chat completions, `anthropic`
/// speaks Messages).
pub(crate) fn serving(kind: UpstreamKindSpec) -> (Serving, Serving) {
    match kind {
        UpstreamKindSpec::OpenAi | UpstreamKindSpec::Mock => {
            (Serving::Passthrough, Serving::Translated)
        }
        UpstreamKindSpec::Anthropic => (Serving::Translated, Serving::Passthrough),
    }
}

/// The model's `balance` (default `p2c`).
pub(crate) fn balance(m: &ModelSpec) -> Balance {
    match m.balance.unwrap_or(d::BALANCE) {
        BalanceSpec::Weighted => Balance::Weighted,
        BalanceSpec::P2c => Balance::P2c,
        BalanceSpec::P2cEwma => Balance::P2cEwma,
    }
}

/// The model's `endpoints` (default both).
pub(crate) fn endpoints(m: &ModelSpec) -> Endpoints {
    let list = m.endpoints.as_deref().unwrap_or(d::ENDPOINTS);
    Endpoints {
        chat: list.contains(&EndpointSpec::ChatCompletions),
        messages: list.contains(&EndpointSpec::Messages),
    }
}

/// The model's `retry`, defaults applied and conditions expanded.
pub(crate) fn retry(model: &str, m: &ModelSpec, cx: &mut Cx<'_>) -> Option<Retry> {
    let r = &m.retry;
    let at = |key: &str| ptr(&["models", model, "retry", key]);
    let attempts = u8::try_from(r.attempts.unwrap_or(d::ATTEMPTS))
        .map_err(|_| cx.internal(F, &at("attempts")))
        .ok();
    let conditions: Option<Vec<RetryCondition>> = match &r.on {
        Some(on) => on.iter().map(|c| c.value().ok().copied()).collect(),
        None => d::RETRY_ON
            .iter()
            .map(|c| parse::retry_condition(c).ok())
            .collect(),
    };
    let Some(conditions) = conditions else {
        cx.internal(F, &at("on"));
        return None;
    };
    let mut statuses: Vec<u16> = conditions.iter().flat_map(|c| c.statuses()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    let base = cx.value_or(F, &at("backoff"), r.backoff.as_ref(), d::BACKOFF);
    let max = cx.value_or(
        F,
        &at("backoff_max"),
        r.backoff_max.as_ref(),
        d::BACKOFF_MAX,
    );
    let after = r.retry_after_max.as_ref();
    let after = cx.value_or(F, &at("retry_after_max"), after, d::RETRY_AFTER_MAX);
    Some(Retry {
        attempts: attempts?,
        on_connect_error: conditions.contains(&RetryCondition::ConnectError),
        on_timeout: conditions.contains(&RetryCondition::Timeout),
        statuses,
        backoff_base_ms: base?,
        backoff_max_ms: max?,
        retry_after_max_ms: after?,
    })
}

/// The models named by `list` (`fallbacks` or `context_window_fallbacks`) as ids.
pub(crate) fn fallbacks(
    model: &str,
    key: &str,
    list: &[String],
    names: &[&String],
    cx: &mut Cx<'_>,
) -> Option<Vec<ModelId>> {
    let mut out = Vec::with_capacity(list.len());
    for (i, target) in list.iter().enumerate() {
        match names.binary_search(&target) {
            Ok(id) => out.push(ModelId(cx.id16(id)?)),
            Err(_) => {
                cx.internal(F, &ptr(&["models", model, key, &i.to_string()]));
                return None;
            }
        }
    }
    Some(out)
}

/// The explicit `deadline`, or `attempts` x the largest `timeout.total` of
/// the deployments' upstreams + (`attempts` - 1) x `backoff_max`.
pub(crate) fn deadline(
    model: &str,
    m: &ModelSpec,
    retry: &Retry,
    deployments: &[Deployment],
    upstreams: &[Upstream],
    cx: &mut Cx<'_>,
) -> Option<u64> {
    if let Some(deadline) = &m.deadline {
        return cx.value(F, &ptr(&["models", model, "deadline"]), deadline);
    }
    let totals = deployments.iter().map(|dep| {
        upstreams
            .get(usize::from(dep.upstream.0))
            .map(|u| u.total_ms)
    });
    let Some(Some(longest)) = totals
        .collect::<Option<Vec<u64>>>()
        .map(|t| t.into_iter().max())
    else {
        cx.internal(F, &ptr(&["models", model]));
        return None;
    };
    Some(derived_deadline(
        retry.attempts,
        longest,
        retry.backoff_max_ms,
    ))
}

/// `attempts` x `longest_total` + (`attempts` - 1) x `backoff_max`, in ms (saturating).
pub(crate) fn derived_deadline(attempts: u8, longest_total: u64, backoff_max: u64) -> u64 {
    let attempts = u64::from(attempts);
    attempts
        .saturating_mul(longest_total)
        .saturating_add(attempts.saturating_sub(1).saturating_mul(backoff_max))
}

#[cfg(test)]
mod tests {
    use super::derived_deadline;

    #[test]
    fn the_derived_deadline() {
        assert_eq!(derived_deadline(2, 300_000, 5_000), 605_000);
        assert_eq!(derived_deadline(1, 300_000, 5_000), 300_000);
        assert_eq!(derived_deadline(3, 3_000, 20), 9_040);
        assert_eq!(derived_deadline(10, u64::MAX, 1), u64::MAX);
    }
}
