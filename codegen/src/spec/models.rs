//! The `models` table of upstreams.yaml: public model names and how each is
//! served: one upstream (the short form) or a list of deployments, with the
//! balance, retry, fallback, deadline and endpoint settings of `routing.rs`,
//! and the output limit sent to an Anthropic upstream when a chat client
//! sets none.

use core::ops::RangeInclusive;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::spec::routing::{BalanceSpec, DeploymentSpec, EndpointSpec, RetrySpec};
use crate::spec::values::DurationSpec;

/// Defaults applied by `lower/` when a key is absent (the docs below repeat them).
pub mod defaults {
    /// `default_max_tokens`.
    pub const DEFAULT_MAX_TOKENS: u32 = 4096;
}

/// The values `default_max_tokens` may take (checked by `check/models.rs`;
/// the schema only says "a non-negative integer", so 0 and too-large values
/// get a located diagnostic with its own code rather than a schema error).
pub const DEFAULT_MAX_TOKENS_RANGE: RangeInclusive<u64> = 1..=1_000_000;

/// A public model and where it is served: set exactly one of `upstream` (one deployment) or `deployments`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Short form: the name of the one entry under `upstreams` serving this model (weight 1, priority 0). Use `deployments` instead for several.
    pub upstream: Option<String>,
    /// Short form only: the model name sent upstream (defaults to the public name).
    pub model: Option<String>,
    /// Where the model is served, each `{ upstream, model, weight, priority }`; tried by priority (0 first), chosen by weight within a priority.
    pub deployments: Option<Vec<DeploymentSpec>>,
    /// How a deployment is chosen within a priority: `weighted` (random by weight), `p2c` (two drawn by weight, fewer requests in flight wins) or `p2c_ewma` (two drawn by weight, lower latency EWMA x (in flight + 1) wins) (default `p2c`).
    #[schemars(extend("default" = crate::spec::routing::defaults::BALANCE))]
    pub balance: Option<BalanceSpec>,
    /// When a request is tried again at this model (defaults: 2 tries on `connect_error`, `timeout`, 429 and 5xx, backoff 250ms up to 5s, `Retry-After` honoured up to 30s).
    #[serde(default)]
    pub retry: RetrySpec,
    /// Public models tried in order once this model's tries are spent (default `[]`: none). They must serve every endpoint this model serves, and no chain of fallbacks may lead back.
    #[serde(default)]
    pub fallbacks: Vec<String>,
    /// Public models tried in order when an upstream says the prompt does not fit the model's context window, e.g. OpenAI's `context_length_exceeded` (default `[]`: none). They must serve every endpoint this model serves.
    #[serde(default)]
    pub context_window_fallbacks: Vec<String>,
    /// Bound on the whole request: every try, backoff and fallback, and a streamed answer to its end. Default: `retry.attempts` x the largest `timeout.total` of its deployments' upstreams + (`retry.attempts` - 1) x `retry.backoff_max`. With retries, it must fit `retry.attempts` x `timeout.total` of every deployment's upstream.
    pub deadline: Option<DurationSpec>,
    /// Which ingress endpoints serve this model: `chat_completions` (`POST /v1/chat/completions`) and `messages` (`POST /v1/messages` and `/v1/messages/count_tokens`) (default both).
    pub endpoints: Option<Vec<EndpointSpec>>,
    /// Whether the model can answer with `tool_calls` (default `true`); an agent with tools on a model with `tool_calls: false` fails the build.
    pub tool_calls: Option<bool>,
    /// Output limit (`max_tokens`) the gateway sends when a chat completions request for this model sets neither `max_tokens` nor `max_completion_tokens` and is translated for an `anthropic` upstream, which requires one; an integer in 1..=1000000 (default 4096). It has no effect on `openai` and `mock` upstreams (chat passes through unchanged there, and Anthropic Messages clients always send `max_tokens` themselves).
    #[schemars(extend("default" = defaults::DEFAULT_MAX_TOKENS))]
    pub default_max_tokens: Option<u64>,
    /// What the model costs, in US dollars per million tokens; needed when a budget counts this model.
    pub price: Option<PriceSpec>,
    /// Most `messages` one request may send (larger: 400); absent: no limit.
    pub max_messages: Option<i64>,
    /// Largest `max_tokens` (or `max_completion_tokens`) one request may ask for (larger: 400); absent: no limit.
    pub max_tokens: Option<i64>,
}

/// A model's price in US dollars per million tokens.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceSpec {
    /// Prompt tokens, e.g. `2.50`.
    pub input: f64,
    /// Prompt tokens read from the provider's prompt cache (default: `input`).
    pub cached_input: Option<f64>,
    /// Completion tokens, e.g. `10.00`.
    pub output: f64,
}

/// One deployment as written, whichever form the model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written<'a> {
    /// Position under `deployments`; `None` for the short form (`upstream:` on the model).
    pub index: Option<usize>,
    /// The upstream's name.
    pub upstream: &'a str,
    /// The upstream model name, if written.
    pub model: Option<&'a str>,
    /// The weight, if written.
    pub weight: Option<u64>,
    /// The priority, if written.
    pub priority: Option<u64>,
}

impl ModelSpec {
    /// Every deployment as written: the short form's one (if `upstream` is
    /// set), then the `deployments` list in order. A model that sets both is
    /// an error `check/` reports; both are listed so each is still checked.
    pub fn written(&self) -> Vec<Written<'_>> {
        let short = self.upstream.as_deref().map(|upstream| Written {
            index: None,
            upstream,
            model: self.model.as_deref(),
            weight: None,
            priority: None,
        });
        let listed = self.deployments.iter().flatten().enumerate();
        short
            .into_iter()
            .chain(listed.map(|(i, d)| Written {
                index: Some(i),
                upstream: &d.upstream,
                model: d.model.as_deref(),
                weight: d.weight,
                priority: d.priority,
            }))
            .collect()
    }
}
