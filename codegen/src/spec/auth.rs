//! The `auth` section of security.yaml: inbound API keys and the admin key,
//! as digests only, and teams with the model patterns each team and key may
//! use (resolved against upstreams.yaml's models by `check/access.rs` and
//! `lower/auth.rs`), and the files of more key digests read at run time.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::spec::values::{DigestSpec, DurationSpec};

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
    /// Bearer tokens (JWTs) from an identity provider (OIDC), verified against its published keys (absent: no tokens accepted).
    pub jwt: Option<JwtSpec>,
}

/// Accepting JWTs signed by an identity provider.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtSpec {
    /// The `iss` a token must carry, exactly (e.g. `https://login.example.com/`).
    pub issuer: String,
    /// The audience: a token's `aud` must hold this value, or one of these values.
    pub audience: AudienceSpec,
    /// Where the signing keys (a JWKS document) come from: `{ file: /abs/path }` or `{ url: https://..., refresh: 10m, timeout: 2s, ca_file: /abs/ca.pem }`.
    pub jwks: JwksSpec,
    /// Accepted `alg` values: `RS256`, `RS384`, `RS512`, `PS256`, `PS384`, `PS512`, `ES256`, `ES384`, `EdDSA` (never `none`, never `HS*`).
    pub algorithms: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf` (default `30s`, at most `5m`).
    pub leeway: Option<DurationSpec>,
    /// The claim naming the principal, shown in logs (default `sub`).
    pub principal_claim: Option<String>,
    /// The claim naming the caller's team; a value that is not a team under `auth.teams` is refused (403). Absent: tokens have no team.
    pub team_claim: Option<String>,
    /// The claim holding the token's scopes, a space-separated string or a list (default `scope`).
    pub scope_claim: Option<String>,
    /// Scopes and the models each grants: a token may use the models of its known scopes (within its team's). Absent or empty: no scope needed, a token may use its team's models (no team: every model).
    #[serde(default)]
    pub scopes: BTreeMap<String, ScopeSpec>,
}

/// One audience or a list of them.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AudienceSpec {
    /// One audience.
    One(String),
    /// Any of these audiences.
    Any(Vec<String>),
}

impl AudienceSpec {
    /// The audiences as a list.
    pub fn list(&self) -> Vec<&str> {
        match self {
            Self::One(one) => vec![one.as_str()],
            Self::Any(list) => list.iter().map(String::as_str).collect(),
        }
    }
}

/// A JWKS document's source: exactly one of `file` and `url`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwksSpec {
    /// Absolute path of a JWKS file, read at startup and on SIGHUP and `POST /security/refresh`.
    pub file: Option<String>,
    /// An `https://` URL, fetched at startup and every `refresh`.
    pub url: Option<String>,
    /// With `url`: time between fetches (default `10m`).
    pub refresh: Option<DurationSpec>,
    /// With `url`: bound on one fetch and on a request waiting for the first (default `2s`).
    pub timeout: Option<DurationSpec>,
    /// With `url`: absolute path of a PEM bundle of the CAs to trust (a private identity provider) instead of the web PKI roots.
    pub ca_file: Option<String>,
}

/// A scope a token may carry.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeSpec {
    /// Public models this scope grants: exact names or globs (`*` any run of characters, `?` one character).
    pub models: Vec<String>,
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
    /// Tools (tools.yaml) the team's keys, file keys and tokens may use at most: exact names or globs, e.g. `["current_time"]`; `[]`: none. Absent: every tool.
    pub tools: Option<Vec<String>>,
    /// Agents (agents.yaml) the team's keys, file keys and tokens may use at most: exact names or globs, e.g. `["support-*"]`; `[]`: none. Absent: every agent. An agent also needs its model to be allowed.
    pub agents: Option<Vec<String>>,
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
    /// Tools (tools.yaml) this key may use: exact names or globs, further limited to its team's `tools`; `[]`: none. Absent: every tool its team allows.
    pub tools: Option<Vec<String>>,
    /// Agents (agents.yaml) this key may use: exact names or globs, further limited to its team's `agents`; `[]`: none. Absent: every agent its team allows. An agent also needs its model to be allowed.
    pub agents: Option<Vec<String>>,
    /// Labels logged with every request this key makes (`key_metadata`), e.g. `{ owner: payments, cost_center: "4711" }`: names of `a-z`, `0-9`, `_`, `-`, `.`; values without `,`, `=` or control characters (default {}: none).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}
