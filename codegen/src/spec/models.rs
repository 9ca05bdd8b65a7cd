//! The `models` table of upstreams.yaml: public model names, where each is
//! served, and the output limit sent to an Anthropic upstream when a chat
//! client sets none.

use core::ops::RangeInclusive;

use schemars::JsonSchema;
use serde::Deserialize;

/// Defaults applied by `lower/` when a key is absent (the docs below repeat them).
pub mod defaults {
    /// `default_max_tokens`.
    pub const DEFAULT_MAX_TOKENS: u32 = 4096;
}

/// The values `default_max_tokens` may take (checked by `check/models.rs`;
/// the schema only says "a non-negative integer", so 0 and too-large values
/// get a located diagnostic with its own code rather than a schema error).
pub const DEFAULT_MAX_TOKENS_RANGE: RangeInclusive<u64> = 1..=1_000_000;

/// A public model and the upstream serving it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Name of an entry under `upstreams`.
    pub upstream: String,
    /// Model name sent upstream (defaults to the public name).
    pub model: Option<String>,
    /// Output limit (`max_tokens`) the gateway sends when a chat completions request for this model sets neither `max_tokens` nor `max_completion_tokens` and is translated for an `anthropic` upstream, which requires one; an integer in 1..=1000000 (default 4096). It has no effect on `openai` and `mock` upstreams (chat passes through unchanged there, and Anthropic Messages clients always send `max_tokens` themselves).
    #[schemars(extend("default" = defaults::DEFAULT_MAX_TOKENS))]
    pub default_max_tokens: Option<u64>,
}
