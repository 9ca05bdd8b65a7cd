//! Lowering the `models` table: dense ids in name order, upstream names
//! resolved to ids, `default_max_tokens` defaulted, and how each ingress
//! protocol reaches the model decided by its upstream's kind ([`serving`]).

use crate::diag::{FileKind, ptr};
use crate::ir::{Model, ModelId, Serving, UpstreamId};
use crate::lower::Cx;
use crate::spec::models::defaults::DEFAULT_MAX_TOKENS;
use crate::spec::{UpstreamKindSpec, UpstreamsFile};

/// Models sorted by name; `None` when an id overflows or a reference does not resolve.
pub(crate) fn lower(file: &UpstreamsFile, cx: &mut Cx<'_>) -> Option<Vec<Model>> {
    let upstream_names: Vec<&String> = file.upstreams.keys().collect();
    file.models
        .iter()
        .enumerate()
        .map(|(i, (name, m))| {
            let up = upstream_names.binary_search(&&m.upstream).ok()?;
            let kind = file.upstreams.get(&m.upstream)?.kind;
            let (chat, messages) = serving(kind);
            Some(Model {
                id: ModelId(cx.id16(i)?),
                name: name.clone(),
                upstream: UpstreamId(cx.id16(up)?),
                upstream_model: m.model.clone().unwrap_or_else(|| name.clone()),
                default_max_tokens: max_tokens(name, m.default_max_tokens, cx)?,
                chat,
                messages,
            })
        })
        .collect()
}

/// (chat completions, Anthropic Messages) for a model on an upstream of
/// `kind`: the protocol the upstream speaks passes through, the other is
/// translated (`openai` and `mock` speak chat completions, `anthropic`
/// speaks Messages).
fn serving(kind: UpstreamKindSpec) -> (Serving, Serving) {
    match kind {
        UpstreamKindSpec::OpenAi | UpstreamKindSpec::Mock => {
            (Serving::Passthrough, Serving::Translated)
        }
        UpstreamKindSpec::Anthropic => (Serving::Translated, Serving::Passthrough),
    }
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
