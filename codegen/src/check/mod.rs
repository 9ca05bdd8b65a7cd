//! Semantic checks over what loaded, one file per concern (`upstreams`,
//! `urls`, `env`, `models`, `server`, `auth`, `agents`, `tools`); each
//! concern's `check` runs its `check_x(part, diags)` functions and every
//! finding (error or warning) accumulates.
//!
//! A file that failed to load is skipped, so a schema error in one file
//! never hides value errors in another; a check that needs two files (an
//! agent's model) runs when both loaded. Checks only report (errors and
//! warnings); they never convert or default values (that is `lower/`).
//! Locations are JSON pointers resolved to spans at render time.

mod agents;
mod auth;
mod env;
mod models;
mod server;
mod tools;
mod upstreams;
mod urls;

use crate::diag::Diagnostics;
use crate::spec::Loaded;

/// Run every check whose files loaded.
pub fn check_all(loaded: &Loaded, diags: &mut Diagnostics) {
    if let Some(file) = &loaded.upstreams {
        upstreams::check(file, diags);
        urls::check(file, diags);
        env::check(file, diags);
        models::check(file, diags);
    }
    if let Some(file) = &loaded.security {
        server::check(&file.server, diags);
        auth::check(&file.auth, diags);
    }
    if let Some(file) = &loaded.tools {
        tools::check(file, diags);
    }
    if let Some(file) = &loaded.agents {
        agents::check(file, loaded.upstreams.as_ref(), diags);
    }
}
