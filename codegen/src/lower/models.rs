//! Lowering the `models` table: dense ids in name order, `default_max_tokens`
//! defaulted, and each model's deployments, balance, retry, endpoints,
//! fallbacks and deadline through `routing.rs`; deployment ids run densely
//! over all models in model order.

use crate::diag::{FileKind, ptr};
use crate::ir::{Deployment, Model, ModelId, Upstream};
use crate::lower::{Cx, routing};
use crate::spec::models::defaults::DEFAULT_MAX_TOKENS;
use crate::spec::{ModelSpec, UpstreamsFile};

/// Models sorted by name and the number of deployments over all of them;
/// `None` when an id overflows or a reference does not resolve.
pub(crate) fn lower(
    file: &UpstreamsFile,
    upstreams: &[Upstream],
    cx: &mut Cx<'_>,
) -> Option<(Vec<Model>, u16)> {
    let names: Vec<&String> = file.models.keys().collect();
    let mut next = 0;
    let mut models = Vec::with_capacity(names.len());
    for (i, (name, m)) in file.models.iter().enumerate() {
        let deployments = routing::deployments(name, m, file, upstreams, &mut next, cx)?;
        models.push(model(i, name, m, deployments, &names, upstreams, cx)?);
    }
    let count = u16::try_from(next)
        .map_err(|_| cx.internal(FileKind::Upstreams, "/models"))
        .ok()?;
    Some((models, count))
}

fn model(
    i: usize,
    name: &str,
    m: &ModelSpec,
    deployments: Vec<Deployment>,
    names: &[&String],
    upstreams: &[Upstream],
    cx: &mut Cx<'_>,
) -> Option<Model> {
    let retry = routing::retry(name, m, cx)?;
    let deadline_ms = routing::deadline(name, m, &retry, &deployments, upstreams, cx)?;
    let fallbacks = routing::fallbacks(name, "fallbacks", &m.fallbacks, names, cx)?;
    let window = &m.context_window_fallbacks;
    let context_window_fallbacks =
        routing::fallbacks(name, "context_window_fallbacks", window, names, cx)?;
    Some(Model {
        id: ModelId(cx.id16(i)?),
        name: name.to_owned(),
        deployments,
        default_max_tokens: max_tokens(name, m.default_max_tokens, cx)?,
        endpoints: routing::endpoints(m),
        balance: routing::balance(m),
        retry,
        fallbacks,
        context_window_fallbacks,
        deadline_ms,
        price: super::quotas::price(m),
        max_messages: super::quotas::count(name, "max_messages", m.max_messages, cx)?,
        max_tokens: super::quotas::count(name, "max_tokens", m.max_tokens, cx)?,
    })
}

/// The checked `default_max_tokens` as a u32, or its default when absent.
fn max_tokens(model: &str, value: Option<u64>, cx: &mut Cx<'_>) -> Option<u32> {
    let Some(value) = value else {
        return Some(DEFAULT_MAX_TOKENS);
    };
    let pointer = ptr(&["models", model, "default_max_tokens"]);
    u32::try_from(value)
        .map_err(|_| cx.internal(FileKind::Upstreams, &pointer))
        .ok()
}
