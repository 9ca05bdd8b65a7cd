//! Semantic checks over what loaded, one file per concern (`upstreams`,
//! `urls`, `env`, `resilience` (breakers, health checks), `models`,
//! `routing` (deployment lists), `retry` (retries, deadlines), `fallbacks`,
//! `server`, `auth`, `access` (teams, who may use which model), `quotas` (limits, budgets,
//! prices), `agents`,
//! `tools`); each concern's `check` runs its `check_x(part, diags)`
//! functions and every finding (error or warning) accumulates.
//!
//! A file that failed to load is skipped, so a schema error in one file
//! never hides value errors in another; a check that needs two files (an
//! agent's model, a key's model patterns) runs when both loaded. Checks only
//! report (errors and warnings); they never convert or default values (that
//! is `lower/`). Locations are JSON pointers resolved to spans at render
//! time.

mod access;
mod agents;
mod auth;
mod env;
mod fallbacks;
mod http_tools;
mod jwt;
mod mcp_tools;
mod models;
mod quotas;
mod resilience;
mod retry;
mod routing;
mod sdk_agents;
mod server;
mod tools;
mod upstreams;
mod urls;

use crate::diag::values;
use crate::diag::{Diagnostics, FileKind};
use crate::parse;
use crate::spec::{DurationSpec, Loaded};

/// Run every check whose files loaded; SDK agent paths resolve against `sdk` when it was read.
pub fn check_all(
    loaded: &Loaded,
    sdk: Option<&crate::spec::agents::SdkSources>,
    diags: &mut Diagnostics,
) {
    if let (Some(file), Some(sdk)) = (&loaded.agents, sdk) {
        sdk_agents::check(file, sdk, diags);
    }
    if let Some(file) = &loaded.upstreams {
        upstreams::check(file, diags);
        urls::check(file, diags);
        env::check(file, diags);
        resilience::check(file, diags);
        models::check(file, diags);
        routing::check(file, diags);
        retry::check(file, diags);
        fallbacks::check(file, diags);
    }
    if let Some(file) = &loaded.security {
        server::check(&file.server, diags);
        auth::check(&file.auth, diags);
        jwt::check(file.auth.jwt.as_ref(), diags);
        access::check(&file.auth, loaded.upstreams.as_ref(), diags);
        quotas::check(file, loaded.upstreams.as_ref(), diags);
    }
    if let Some(file) = &loaded.tools {
        tools::check(file, loaded.security.as_ref(), diags);
        mcp_tools::check(file, diags);
    }
    if let Some(file) = &loaded.agents {
        let references = (loaded.upstreams.as_ref(), loaded.tools.as_ref());
        agents::check(file, references, loaded.security.as_ref(), diags);
    }
}

/// A duration at `pointer`: its value, or the default's when absent; `None`
/// (and reported) when it does not parse.
pub(crate) fn duration(
    file: FileKind,
    pointer: String,
    value: Option<&DurationSpec>,
    default: &str,
    diags: &mut Diagnostics,
) -> Option<u64> {
    let Some(value) = value else {
        return parse::duration_ms(default).ok();
    };
    match value.value() {
        Ok(&ms) => Some(ms),
        Err(err) => {
            let raw = value.raw();
            diags.push(values::malformed(
                file,
                pointer,
                &parse::DURATION,
                raw,
                err,
                Some(default),
            ));
            None
        }
    }
}

/// `ms` in whole seconds when it is, else in milliseconds (`300s`,
/// `1500ms`): one unit, so numbers side by side add up at a glance.
pub(crate) fn show_ms(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}
