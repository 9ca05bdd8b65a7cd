//! Lowering: checked [`Spec`] -> [`Ir`]. Applies defaults, assigns dense ids in
//! name order, resolves references to ids and parses string values.
//!
//! Runs only after `check/` found no errors, so parse failures cannot happen
//! here; they still fall back to defaults rather than panic. The one error this
//! phase reports itself is a table too large for 16-bit ids.

use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind};
use crate::ir::{
    ApiKey, Auth, Ir, Mock, Model, ModelId, SecretRef, Server, Upstream, UpstreamId, UpstreamKind,
};
use crate::parse;
use crate::spec::{ServerSpec, Spec, UpstreamKindSpec, UpstreamSpec};

/// Default mock reply.
pub const DEFAULT_REPLY: &str =
    "This is a deterministic reply from the gateway's built-in mock upstream.";

/// Environment-level facts that do not come from the spec.
#[derive(Clone, Debug)]
pub struct Meta {
    /// Environment name.
    pub environment: String,
    /// Display paths of the sources.
    pub sources: Vec<String>,
    /// Hex digest of the sources.
    pub config_sha256: String,
}

/// Lower a checked spec; `None` (with a diagnostic) if ids would overflow.
pub fn lower(spec: &Spec, meta: Meta, diags: &mut Diagnostics) -> Option<Ir> {
    let upstream_names: Vec<&String> = spec.upstreams.upstreams.keys().collect();
    let upstreams = spec
        .upstreams
        .upstreams
        .iter()
        .enumerate()
        .map(|(i, (name, u))| Some(upstream(id16(i, diags)?, name, u)))
        .collect::<Option<Vec<_>>>()?;
    let models = spec
        .upstreams
        .models
        .iter()
        .enumerate()
        .map(|(i, (name, m))| {
            let up = upstream_names.binary_search(&&m.upstream).ok()?;
            Some(Model {
                id: ModelId(id16(i, diags)?),
                name: name.clone(),
                upstream: UpstreamId(id16(up, diags)?),
                upstream_model: m.model.clone().unwrap_or_else(|| name.clone()),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Ir {
        environment: meta.environment,
        sources: meta.sources,
        config_sha256: meta.config_sha256,
        upstreams,
        models,
        server: server(&spec.security.server),
        auth: auth(spec),
        agent_count: spec.agents.agents.len(),
        tool_count: spec.tools.tools.len(),
    })
}

fn id16(i: usize, diags: &mut Diagnostics) -> Option<u16> {
    let id = u16::try_from(i).ok().filter(|id| *id < u16::MAX);
    if id.is_none() {
        diags.push(
            Diagnostic::error(
                codes::TOO_MANY,
                FileKind::Upstreams,
                "more entries than 16-bit ids can address",
            )
            .help("split the configuration or remove unused entries"),
        );
    }
    id
}

fn ms(value: Option<&String>, default: u64) -> u64 {
    value
        .and_then(|v| parse::duration_ms(v).ok())
        .unwrap_or(default)
}

fn upstream(id: u16, name: &str, u: &UpstreamSpec) -> Upstream {
    let kind = match u.kind {
        UpstreamKindSpec::OpenAi => UpstreamKind::OpenAi {
            base_url: u
                .base_url
                .as_deref()
                .and_then(|b| parse::base_url(b).ok())
                .unwrap_or_default(),
            base_url_env: u.base_url_env.clone(),
        },
        UpstreamKindSpec::Mock => UpstreamKind::Mock(Mock {
            latency_ms: ms(u.mock.latency.as_ref(), 0),
            chunks: u.mock.chunks.unwrap_or(8),
            chunk_gap_ms: ms(u.mock.chunk_gap.as_ref(), 0),
            usage: u.mock.usage.unwrap_or(true),
            reply: u
                .mock
                .reply
                .clone()
                .unwrap_or_else(|| DEFAULT_REPLY.to_owned()),
        }),
    };
    let api_key = match (&u.api_key.env, &u.api_key.file) {
        (Some(env), _) => Some(SecretRef::Env(env.clone())),
        (None, Some(file)) => Some(SecretRef::File(file.clone())),
        (None, None) => None,
    };
    Upstream {
        id: UpstreamId(id),
        name: name.to_owned(),
        kind,
        api_key,
        optional: u.optional,
        connect_ms: ms(u.timeout.connect.as_ref(), 5_000),
        total_ms: ms(u.timeout.total.as_ref(), 300_000),
    }
}

fn server(s: &ServerSpec) -> Server {
    Server {
        listen: s
            .listen
            .clone()
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
        max_request_body: s
            .max_request_body
            .as_deref()
            .and_then(|v| parse::size_bytes(v).ok())
            .unwrap_or(4 << 20),
        header_read_timeout_ms: ms(s.header_read_timeout.as_ref(), 10_000),
        body_read_timeout_ms: ms(s.body_read_timeout.as_ref(), 30_000),
        shutdown_delay_ms: ms(s.shutdown_delay.as_ref(), 0),
        drain_timeout_ms: ms(s.drain_timeout.as_ref(), 30_000),
    }
}

fn auth(spec: &Spec) -> Auth {
    let a = &spec.security.auth;
    let mut api_keys: Vec<ApiKey> = a
        .api_keys
        .iter()
        .filter_map(|k| {
            Some(ApiKey {
                name: k.name.clone(),
                sha256: parse::digest(&k.sha256).ok()?,
            })
        })
        .collect();
    api_keys.sort_by(|x, y| (x.sha256, &x.name).cmp(&(y.sha256, &y.name)));
    Auth {
        api_keys,
        admin_key_sha256: a
            .admin_key_sha256
            .as_deref()
            .and_then(|d| parse::digest(d).ok()),
    }
}
