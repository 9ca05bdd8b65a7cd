//! Lowering: a checked [`Spec`] -> [`Ir`]. Applies the documented defaults
//! (constants in `spec/`), assigns dense ids in name order, resolves
//! references to ids and takes the values `spec/values.rs` parsed when the
//! files were read. One file per concern: `upstreams`, `resilience`
//! (breakers, health checks), `models`, `routing` (deployments, retry,
//! fallbacks, deadline), `server`, `auth` (keys, teams, model and tool
//! access), `quotas` (limits, budgets, prices), `tools` (the registry and
//! argument schemas), `agents` (bounds with defaults, model and tool ids).
//!
//! Runs only after `check/` found no errors. Nothing is silently defaulted:
//! an absent key gets its documented default, and a value that still fails
//! to convert (or a default that does not parse) is an internal error
//! (GW0016), reported, never papered over. The one config error this phase
//! reports itself is a table too large for 16-bit ids.

mod agents;
mod auth;
mod models;
mod quotas;
mod resilience;
mod routing;
mod server;
mod tools;
mod upstreams;

use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind};
use crate::ir::Ir;
use crate::spec::Spec;
use crate::spec::values::{Parsed, Parser};

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

/// Lower a checked spec; `None` (with a diagnostic) if ids would overflow or a value does not convert.
pub fn lower(spec: &Spec, meta: Meta, diags: &mut Diagnostics) -> Option<Ir> {
    let mut cx = Cx { diags };
    let upstreams = upstreams::lower(&spec.upstreams, &mut cx);
    let models = upstreams
        .as_deref()
        .and_then(|u| models::lower(&spec.upstreams, u, &mut cx));
    let server = server::lower(&spec.security.server, &mut cx);
    let tools = tools::lower(&spec.tools, &mut cx);
    let mcp_servers = tools::lower_mcp_servers(&spec.tools, &mut cx);
    let auth = auth::lower(
        &spec.security.auth,
        &spec.upstreams,
        (&spec.tools, &spec.agents),
        &mut cx,
    );
    let (models, deployment_count) = models?;
    let auth = auth?;
    let quotas = quotas::lower(&spec.security, &spec.upstreams, &auth, &mut cx)?;
    let agents = agents::lower(&spec.agents, &models, &spec.tools, &mut cx)?;
    Some(Ir {
        environment: meta.environment,
        sources: meta.sources,
        config_sha256: meta.config_sha256,
        upstreams: upstreams?,
        models,
        deployment_count,
        server: server?,
        auth,
        quotas,
        agents,
        tools: tools?,
        mcp_servers: mcp_servers?,
    })
}

/// What every concern's lowering shares: where to report.
pub(crate) struct Cx<'a> {
    diags: &'a mut Diagnostics,
}

impl Cx<'_> {
    /// Position `i` as a 16-bit id (`u16::MAX` is reserved).
    pub(crate) fn id16(&mut self, i: usize) -> Option<u16> {
        let id = u16::try_from(i).ok().filter(|id| *id < u16::MAX);
        if id.is_none() {
            self.diags.push(
                Diagnostic::new(
                    codes::TOO_MANY,
                    FileKind::Upstreams,
                    "more entries than 16-bit ids can address",
                )
                .help("split the configuration or remove unused entries"),
            );
        }
        id
    }

    /// The parsed value at `pointer`, or `default` parsed when the key is absent.
    pub(crate) fn value_or<P: Parser>(
        &mut self,
        file: FileKind,
        pointer: &str,
        value: Option<&Parsed<P>>,
        default: &str,
    ) -> Option<P::Value> {
        let parsed = match value {
            Some(v) => v.value().cloned().map_err(drop),
            None => P::parse(default).map_err(drop),
        };
        parsed.map_err(|_| self.internal(file, pointer)).ok()
    }

    /// The parsed value at `pointer` (the key is present).
    pub(crate) fn value<P: Parser>(
        &mut self,
        file: FileKind,
        pointer: &str,
        value: &Parsed<P>,
    ) -> Option<P::Value> {
        value
            .value()
            .cloned()
            .map_err(|_| self.internal(file, pointer))
            .ok()
    }

    /// Report a checked value that did not convert.
    pub(crate) fn internal(&mut self, file: FileKind, pointer: &str) {
        self.diags.push(
            Diagnostic::new(
                codes::INTERNAL,
                file,
                "internal error: a checked value did not convert",
            )
            .at(pointer)
            .label("passed `check` but not `lower`")
            .help("this is a compiler bug; please report it with this config"),
        );
    }
}
