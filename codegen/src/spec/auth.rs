//! The `auth` section of security.yaml: inbound API keys and the admin key,
//! as digests only, and teams with the model patterns each team and key may
//! use (resolved against upstreams.yaml's models by `check/access.rs` and
//! `lower/auth.rs`), and the files of more key digests read at run time.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::spec::values::DigestSpec;

/// Inbound authentication.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// Teams (tenants) by name, each bounding the models its keys may use (default `{}`: none).
    #[serde(default)]
    pub teams: BTreeMap<String, TeamSpec>,
    /// Accepted API keys as SHA-256 digests; empty means the API is open.
    #[serde(default)]
    pub api_keys: Vec<ApiKeySpec>,
    /// SHA-256 of the admin key (accepted on the API; required for `/metrics` when set).
    pub admin_key_sha256: Option<DigestSpec>,
    /// Files of more API keys, read at startup and again on SIGHUP and `POST /security/refresh`, so keys rotate without a build. One key per line: `<name> <sha256-hex> [team=<team>]`, `#` comments, blank lines (docs/RUNBOOK.md, "Key rotation"). A file key gets its team's models (no team: every model). Any file listed closes the API even while it holds no key (default `[]`).
    #[serde(default)]
    pub key_files: Vec<KeyFileSpec>,
}

/// One file of API key digests.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyFileSpec {
    /// Absolute path, outside the repository (e.g. `/etc/gateway/api-keys`): the file changes at run time, the config does not.
    pub path: String,
    /// `false` (default): a missing or unusable file stops the gateway at startup. `true`: a missing file holds no keys, and one unusable at startup is left out and logged. At a reload, any problem in any file keeps the keys in force.
    #[serde(default)]
    pub optional: bool,
}

/// A team (tenant) of API keys.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamSpec {
    /// Public models the team's keys may use at most: exact names or globs (`*` any run of characters, `?` one character), e.g. `["gpt-*", "claude-*"]`. Absent: every model.
    pub models: Option<Vec<String>>,
}

/// One inbound API key, by digest only.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySpec {
    /// Name for logs (never the key).
    pub name: String,
    /// Hex SHA-256 of the key: `printf %s "$KEY" | sha256sum`.
    pub sha256: DigestSpec,
    /// The key's team, a name under `auth.teams` (absent: no team).
    pub team: Option<String>,
    /// Public models this key may use: exact names or globs (`*` any run of characters, `?` one character), further limited to its team's `models`. Absent: every model its team allows.
    pub models: Option<Vec<String>>,
}
