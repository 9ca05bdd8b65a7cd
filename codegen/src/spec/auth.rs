//! The `auth` section of security.yaml: inbound API keys and the admin key, as digests only.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::spec::values::DigestSpec;

/// Inbound authentication.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// Accepted API keys as SHA-256 digests; empty means the API is open.
    #[serde(default)]
    pub api_keys: Vec<ApiKeySpec>,
    /// SHA-256 of the admin key (accepted on the API; required for `/metrics` when set).
    pub admin_key_sha256: Option<DigestSpec>,
}

/// One inbound API key, by digest only.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySpec {
    /// Name for logs (never the key).
    pub name: String,
    /// Hex SHA-256 of the key: `printf %s "$KEY" | sha256sum`.
    pub sha256: DigestSpec,
}
