//! Semantic checks over the deserialized [`Spec`]: one function per concern,
//! each `fn check_x(spec: &Spec, diags: &mut Diagnostics)`, all errors accumulated.
//!
//! Checks only report; they never convert or default values (that is
//! `lower.rs`). Locations are JSON pointers resolved to spans at render time.

mod agents;
mod security;
mod upstreams;

use crate::diag::Diagnostics;
use crate::load::yaml::escape;
use crate::spec::Spec;

/// Every check, in no particular order (the report is sorted afterwards).
const CHECKS: &[fn(&Spec, &mut Diagnostics)] = &[
    upstreams::check_models_present,
    upstreams::check_model_upstreams,
    upstreams::check_model_names,
    upstreams::check_kind_settings,
    upstreams::check_base_urls,
    upstreams::check_env_names,
    upstreams::check_secret_refs,
    upstreams::check_timeouts,
    upstreams::check_mock_values,
    upstreams::check_counts,
    security::check_server,
    security::check_digests,
    security::check_key_names,
    agents::check_agents,
    agents::check_tools,
];

/// Run every semantic check.
pub fn check_all(spec: &Spec, diags: &mut Diagnostics) {
    for check in CHECKS {
        check(spec, diags);
    }
}

/// Build a JSON pointer from unescaped segments.
pub(crate) fn ptr(segments: &[&str]) -> String {
    segments.iter().map(|s| format!("/{}", escape(s))).collect()
}
