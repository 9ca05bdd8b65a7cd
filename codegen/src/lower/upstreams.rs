//! Lowering the `upstreams` table: dense ids in name order, kind settings,
//! secret references and timeouts with defaults applied (an absent
//! `first_byte` is its default capped at `total`); the breaker and
//! health check are `resilience.rs`.

use crate::diag::FileKind::Upstreams as F;
use crate::diag::ptr;
use crate::ir::{Mock, SecretRef, Upstream, UpstreamId, UpstreamKind};
use crate::lower::{Cx, resilience};
use crate::spec::upstreams::defaults as d;
use crate::spec::{UpstreamKindSpec, UpstreamSpec, UpstreamsFile};

/// Upstreams sorted by name; `None` when an id overflows or a value does not convert.
pub(crate) fn lower(file: &UpstreamsFile, cx: &mut Cx<'_>) -> Option<Vec<Upstream>> {
    file.upstreams
        .iter()
        .enumerate()
        .map(|(i, (name, u))| upstream(cx.id16(i)?, name, u, cx))
        .collect()
}

fn upstream(id: u16, name: &str, u: &UpstreamSpec, cx: &mut Cx<'_>) -> Option<Upstream> {
    let at = |key: &str| ptr(&["upstreams", name, "timeout", key]);
    let connect_ms = cx.value_or(F, &at("connect"), u.timeout.connect.as_ref(), d::CONNECT);
    let first_byte = u.timeout.first_byte.as_ref();
    let first_byte_ms = cx.value_or(F, &at("first_byte"), first_byte, d::FIRST_BYTE);
    let total_ms = cx.value_or(F, &at("total"), u.timeout.total.as_ref(), d::TOTAL);
    let stream_idle = u.timeout.stream_idle.as_ref();
    let stream_idle_ms = cx.value_or(F, &at("stream_idle"), stream_idle, d::STREAM_IDLE);
    let api_key = match (&u.api_key.env, &u.api_key.file) {
        (Some(env), _) => Some(SecretRef::Env(env.clone())),
        (None, Some(file)) => Some(SecretRef::File(file.clone())),
        (None, None) => None,
    };
    Some(Upstream {
        id: UpstreamId(id),
        name: name.to_owned(),
        kind: kind(name, u, cx)?,
        api_key,
        optional: u.optional,
        connect_ms: connect_ms?,
        first_byte_ms: first_byte_ms?.min(total_ms?),
        total_ms: total_ms?,
        stream_idle_ms: stream_idle_ms?,
        breaker: resilience::breaker(name, &u.breaker, cx)?,
        health_check: resilience::health_check(name, u.health_check.as_ref(), cx)?,
    })
}

fn kind(name: &str, u: &UpstreamSpec, cx: &mut Cx<'_>) -> Option<UpstreamKind> {
    Some(match u.kind {
        UpstreamKindSpec::OpenAi => UpstreamKind::OpenAi {
            base_url: base_url(name, u, cx)?,
            base_url_env: u.base_url_env.clone(),
        },
        UpstreamKindSpec::Anthropic => {
            let at = ptr(&["upstreams", name, "anthropic_version"]);
            let version = u.anthropic_version.as_ref();
            UpstreamKind::Anthropic {
                base_url: base_url(name, u, cx)?,
                base_url_env: u.base_url_env.clone(),
                version: cx.value_or(F, &at, version, d::ANTHROPIC_VERSION)?,
            }
        }
        UpstreamKindSpec::Mock => UpstreamKind::Mock(mock(name, u, cx)?),
    })
}

fn mock(name: &str, u: &UpstreamSpec, cx: &mut Cx<'_>) -> Option<Mock> {
    let at = |key: &str| ptr(&["upstreams", name, "mock", key]);
    let m = &u.mock;
    let latency_ms = cx.value_or(F, &at("latency"), m.latency.as_ref(), d::MOCK_LATENCY);
    let chunk_gap_ms = cx.value_or(F, &at("chunk_gap"), m.chunk_gap.as_ref(), d::MOCK_CHUNK_GAP);
    Some(Mock {
        latency_ms: latency_ms?,
        chunks: m.chunks.unwrap_or(d::MOCK_CHUNKS),
        chunk_gap_ms: chunk_gap_ms?,
        usage: m.usage.unwrap_or(d::MOCK_USAGE),
        reply: m.reply.clone().unwrap_or_else(|| d::MOCK_REPLY.to_owned()),
    })
}

/// The checked `base_url` (required for the HTTP kinds).
fn base_url(name: &str, u: &UpstreamSpec, cx: &mut Cx<'_>) -> Option<String> {
    let at = ptr(&["upstreams", name, "base_url"]);
    match &u.base_url {
        Some(url) => cx.value(F, &at, url),
        None => {
            cx.internal(F, &at);
            None
        }
    }
}
