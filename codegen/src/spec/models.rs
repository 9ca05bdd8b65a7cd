//! The `models` table of upstreams.yaml: public model names and where each is served.

use schemars::JsonSchema;
use serde::Deserialize;

/// A public model and the upstream serving it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Name of an entry under `upstreams`.
    pub upstream: String,
    /// Model name sent upstream (defaults to the public name).
    pub model: Option<String>,
}
