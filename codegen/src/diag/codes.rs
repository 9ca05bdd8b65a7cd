//! The stable diagnostic codes: one table, mirrored in `docs/config-errors.md`.
//!
//! This module is the only place a code is defined, with its severity; it
//! does not render or decide when a code applies (see `diag/mod.rs` and
//! `check/`). Codes are grouped: GW00xx YAML/schema, GW01xx upstreams/models,
//! GW02xx secrets/env, GW03xx values, GW04xx auth digests, GW05xx
//! agents/tools, GW06xx warnings (valid but almost surely wrong), GW07xx
//! routing and resilience (deployments, retries, fallbacks, deadlines,
//! breakers, health checks, maintenance), GW08xx access (teams and the
//! models each team and API key may use), GW09xx quotas (limits, budgets,
//! stores, prices), GW10xx tools (builtins, argument schemas, who may use
//! which tool).

// Retired, never to be reused: GW0017 `not-served` (`kind: anthropic` before
// the runtime's table had its variant).

/// Whether a diagnostic fails the build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Fails the build.
    Error,
    /// Shown (by `cargo check` and `gateway-check`), never fails the build.
    Warning,
}

/// A stable diagnostic code with its severity, short name and one-line explanation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code {
    /// `GW0101`-style identifier, never reused for another meaning.
    pub id: &'static str,
    /// Whether a diagnostic with this code fails the build.
    pub severity: Severity,
    /// Short kebab-case name.
    pub name: &'static str,
    /// One-line explanation for the documentation table.
    pub explanation: &'static str,
}

macro_rules! codes {
    ($($konst:ident = $id:literal, $sev:ident, $name:literal, $expl:literal;)*) => {
        $(
            #[doc = $expl]
            pub const $konst: Code =
                Code { id: $id, severity: Severity::$sev, name: $name, explanation: $expl };
        )*
        /// Every code, in id order.
        pub const ALL: &[Code] = &[$($konst),*];
    };
}

codes! {
    YAML_SYNTAX = "GW0001", Error, "yaml-syntax", "The file is not well-formed YAML.";
    DUPLICATE_KEY = "GW0002", Error, "duplicate-key", "A mapping repeats a key.";
    MULTIPLE_DOCUMENTS = "GW0003", Error, "multiple-documents", "A config file holds more than one YAML document.";
    UNSUPPORTED_YAML = "GW0004", Error, "unsupported-yaml", "A YAML feature the config format does not use (non-string key, unresolved tag or alias, non-finite number).";
    UNREADABLE_FILE = "GW0005", Error, "unreadable-file", "A config file or directory could not be read.";
    BAD_ENVIRONMENT = "GW0006", Error, "bad-environment", "`GATEWAY_ENV` is not a valid environment name or names no directory under `config/`, or `GATEWAY_GIT_REVISION` is not a revision.";
    TAB = "GW0007", Error, "tab-indentation", "A tab is used where YAML needs spaces (indentation, or after `:`).";
    UNKNOWN_KEY = "GW0010", Error, "unknown-key", "A mapping holds a key the schema does not define.";
    MISSING_KEY = "GW0011", Error, "missing-key", "A required key is absent.";
    WRONG_TYPE = "GW0012", Error, "wrong-type", "A value has the wrong YAML type (e.g. a mapping where a string is expected).";
    UNKNOWN_VALUE = "GW0013", Error, "unknown-value", "A value is not one of the allowed words.";
    SCHEMA = "GW0014", Error, "schema-violation", "A value breaks another schema rule (e.g. a negative integer).";
    DESERIALIZE = "GW0015", Error, "deserialize", "The value passed the schema but could not be read into the spec types.";
    INTERNAL = "GW0016", Error, "internal-error", "The compiler contradicted itself (a checked value failed to convert, or generated code did not parse): a bug to report, not a config mistake.";
    UNKNOWN_UPSTREAM = "GW0101", Error, "unknown-upstream", "A model names an upstream that is not defined under `upstreams`.";
    NO_MODELS = "GW0102", Error, "no-models", "The `models` table is empty, so the gateway could serve nothing.";
    MISSING_BASE_URL = "GW0103", Error, "missing-base-url", "An `openai` or `anthropic` upstream has no `base_url`.";
    OPENAI_ONLY_SETTING = "GW0104", Error, "openai-only-setting", "`base_url` or `base_url_env` is set on a `mock` upstream.";
    MOCK_ONLY_SETTING = "GW0105", Error, "mock-only-setting", "`mock` settings are given for an upstream whose kind is not `mock`.";
    BAD_MODEL_NAME = "GW0106", Error, "bad-model-name", "A public or upstream model name is empty, too long, or holds whitespace or control characters.";
    MOCK_CHUNKS = "GW0107", Error, "mock-chunks-range", "`mock.chunks` is outside 1..=10000.";
    TOO_MANY = "GW0108", Error, "too-many-entries", "More upstreams, models or deployments than a 16-bit id can address.";
    BAD_UPSTREAM_NAME = "GW0109", Error, "bad-upstream-name", "An upstream name is empty, too long, or holds whitespace or control characters.";
    ANTHROPIC_ONLY_SETTING = "GW0110", Error, "anthropic-only-setting", "`anthropic_version` is set on an upstream whose kind is not `anthropic`.";
    INLINE_SECRET = "GW0201", Error, "inline-secret", "A secret is written inline where a secret reference (`env` or `file`) is expected.";
    SECRET_LOOKING_VALUE = "GW0202", Error, "secret-looking-value", "A value looks like a credential; config must name where secrets live, never hold them.";
    BAD_ENV_NAME = "GW0203", Error, "bad-env-name", "An environment variable name does not match `[A-Z_][A-Z0-9_]*`.";
    SECRET_REF_SHAPE = "GW0204", Error, "secret-ref-shape", "A secret reference sets both or neither of `env` and `file`.";
    RELATIVE_SECRET_FILE = "GW0205", Error, "relative-secret-file", "A secret file path is not absolute.";
    BAD_DURATION = "GW0301", Error, "bad-duration", "A duration is not an integer followed by `ms`, `s`, `m` or `h`.";
    BAD_TIMEOUT = "GW0302", Error, "bad-timeout", "A timeout or deadline is zero, or `connect` or `first_byte` exceeds `total`.";
    BAD_SIZE = "GW0303", Error, "bad-size", "A size is not an integer followed by `B`, `KB`, `MB`, `GB`, `KiB`, `MiB` or `GiB`.";
    SIZE_RANGE = "GW0304", Error, "size-out-of-range", "A size is zero or larger than the allowed maximum.";
    BAD_URL = "GW0305", Error, "bad-url", "A URL lacks an http(s) scheme or host, or has userinfo, a query or a fragment.";
    BAD_LISTEN = "GW0306", Error, "bad-listen", "A listen address is not an `ip:port` socket address.";
    BAD_API_VERSION = "GW0307", Error, "bad-api-version", "`anthropic_version` is not a date like `2023-06-01`.";
    COUNT_RANGE = "GW0308", Error, "count-out-of-range", "A count that must be positive (`server.max_connections`) is zero.";
    MAX_TOKENS_RANGE = "GW0309", Error, "max-tokens-out-of-range", "A model's `default_max_tokens` is zero or larger than 1000000.";
    BAD_DIGEST = "GW0401", Error, "bad-digest", "A key digest is not 64 hexadecimal characters.";
    DUPLICATE_DIGEST = "GW0402", Error, "duplicate-digest", "The same key digest appears twice (API keys and admin key included).";
    DUPLICATE_KEY_NAME = "GW0403", Error, "duplicate-key-name", "Two API keys share a name.";
    EMPTY_KEY_DIGEST = "GW0404", Error, "empty-key-digest", "A digest is the SHA-256 of the empty string, i.e. of an empty key.";
    BAD_KEY_NAME = "GW0405", Error, "bad-key-name", "An API key name is empty or holds whitespace or control characters.";
    AGENT_UNKNOWN_MODEL = "GW0501", Error, "agent-unknown-model", "An agent names a model that is not a public model in upstreams.yaml.";
    BAD_TOOL_NAME = "GW0502", Error, "bad-tool-name", "A tool name is empty or longer than 64 characters, or holds a character other than `A-Z`, `a-z`, `0-9`, `_` and `-` (OpenAI's function-name rule; the name is a URL path segment).";
    BASE_URL_ENDPOINT = "GW0601", Warning, "base-url-endpoint-path", "A `base_url` ends in an endpoint path (`/chat/completions`, `/messages`, ...) that the gateway appends itself.";
    BASE_URL_REPEATED_VERSION = "GW0602", Warning, "base-url-repeated-version", "A `base_url` repeats its version segment (`/v1/v1`).";
    BASE_URL_MISSING_VERSION = "GW0603", Warning, "base-url-missing-version", "A `base_url` on `api.openai.com` or `api.anthropic.com` lacks the `/v1` segment its API lives under.";
    UNUSED_UPSTREAM = "GW0604", Warning, "unused-upstream", "No model routes to the upstream, so it serves nothing (a secret it names is still required at startup).";
    OPTIONAL_WITHOUT_SECRET = "GW0605", Warning, "optional-without-secret", "`optional: true` on an upstream with no `api_key`, so there is no secret whose absence it could tolerate.";
    MAX_TOKENS_UNUSED = "GW0606", Warning, "max-tokens-unused", "`default_max_tokens` is set on a model none of whose upstreams is `anthropic`, where it has no effect.";
    DEADLINE_CUTS_TIMEOUT = "GW0607", Warning, "deadline-cuts-timeout", "A model without retries has a `deadline` shorter than the `timeout.total` of a deployment's upstream, so the deadline ends a slow try first.";
    HEALTH_CHECK_ON_MOCK = "GW0608", Warning, "health-check-on-mock", "A `health_check` on a `mock` upstream, which is always healthy.";
    RETRY_ON_WITHOUT_RETRIES = "GW0609", Warning, "retry-on-without-retries", "`retry.on` is set while `retry.attempts` is 1, so nothing is retried.";
    UNREACHABLE_TOOL = "GW0610", Warning, "unreachable-tool", "No API key, team, key file or token may use the tool, so nobody can call it.";
    UNREACHABLE_AGENT = "GW0611", Warning, "unreachable-agent", "No API key's `agents` list (within its team's) matches the agent, and there are no key files or tokens, so nobody can run it.";
    MODEL_TARGET = "GW0701", Error, "model-target", "A model sets both or neither of `upstream` and `deployments`, sets `model` beside `deployments`, or lists no deployments.";
    DEPLOYMENT_RANGE = "GW0702", Error, "deployment-range", "A deployment's `weight` is above 1000000 or its `priority` above 255.";
    ZERO_WEIGHT_PRIORITY = "GW0703", Error, "zero-weight-priority", "Every deployment of a model at one priority has weight 0, so that priority could never be chosen.";
    DUPLICATE_DEPLOYMENT = "GW0704", Error, "duplicate-deployment", "A model lists the same upstream and upstream model twice.";
    UNKNOWN_FALLBACK = "GW0705", Error, "unknown-fallback", "`fallbacks` or `context_window_fallbacks` names a model that is not defined under `models`.";
    FALLBACK_CYCLE = "GW0706", Error, "fallback-cycle", "Fallbacks (`fallbacks` and `context_window_fallbacks` together) lead from a model back to itself.";
    FALLBACK_ENDPOINTS = "GW0707", Error, "fallback-endpoints", "A fallback does not serve an endpoint the model falling back to it serves.";
    EMPTY_ENDPOINTS = "GW0708", Error, "empty-endpoints", "A model's `endpoints` list is empty, so no request could reach it.";
    RETRY_RANGE = "GW0709", Error, "retry-range", "`retry.attempts` is outside 1..=10, or `retry.backoff` exceeds `retry.backoff_max`.";
    BAD_RETRY_CONDITION = "GW0710", Error, "bad-retry-condition", "A `retry.on` item is not `connect_error`, `timeout`, `5xx` or an error status in 100..=599.";
    RETRY_CLIENT_ERROR = "GW0711", Error, "retry-client-error", "`retry.on` names a client error (a 4xx other than 408 and 429), which would fail the same way again.";
    DEADLINE_TOO_SHORT = "GW0712", Error, "deadline-too-short", "A model with retries has a `deadline` shorter than `retry.attempts` x `timeout.total` of a deployment's upstream, so its retries could not all run.";
    BREAKER_NEVER_TRIPS = "GW0713", Error, "breaker-never-trips", "An enabled breaker has both triggers off, or an `error_ratio` above 1 that no window can reach.";
    BREAKER_ALWAYS_TRIPS = "GW0714", Error, "breaker-always-trips", "`breaker.min_requests` is 0 while the ratio trigger is on, so the ratio is judged on an empty window.";
    BREAKER_VALUE = "GW0715", Error, "breaker-value", "A breaker value is out of range: a negative or finer-than-per-mille `error_ratio`, a zero `window` or `open_for`, or `half_open_probes: 0`.";
    HEALTH_PROBE = "GW0716", Error, "health-probe", "A `health_check` sets both or neither of `path` and `model`, or a `path` that does not start with `/`.";
    HEALTH_CHECK_VALUE = "GW0717", Error, "health-check-value", "A `health_check` has a zero `interval`, `timeout` or threshold, or a `timeout` longer than its `interval`.";
    RELATIVE_MAINTENANCE_FILE = "GW0718", Error, "relative-maintenance-file", "`server.maintenance_file` is not an absolute path.";
    UNKNOWN_TEAM = "GW0801", Error, "unknown-team", "An API key's `team` is not defined under `auth.teams`.";
    UNMATCHED_MODEL_PATTERN = "GW0802", Error, "unmatched-model-pattern", "A `models` pattern of a team, API key, limit or budget matches no public model of upstreams.yaml.";
    KEY_REACHES_NOTHING = "GW0803", Error, "key-reaches-nothing", "An API key may use no model: its own `models` and its team's have no model in common.";
    HIDDEN_MODEL_PATTERN = "GW0804", Error, "hidden-model-pattern", "Every model a `models` pattern matches is also matched by another pattern of the same list, so the pattern has no effect.";
    EMPTY_MODEL_LIST = "GW0805", Error, "empty-model-list", "A team, API key, limit or budget sets `models: []`, which would allow or count no model.";
    KEY_FILE_PATH = "GW0806", Error, "key-file-path", "An `auth.key_files` path is not absolute, or not in normal form (`.` or `..` components, `//`, a trailing `/`).";
    DUPLICATE_KEY_FILE = "GW0807", Error, "duplicate-key-file", "The same path is listed twice under `auth.key_files`.";
    JWKS_SOURCE = "GW0808", Error, "jwks-source", "`auth.jwt.jwks` sets both or neither of `file` and `url`, or a `url` option (`refresh`, `timeout`, `ca_file`) with `file`.";
    JWKS_URL = "GW0809", Error, "jwks-url", "`auth.jwt.jwks.url` is not a valid `https://` URL.";
    JWT_PATH = "GW0810", Error, "jwt-path", "`auth.jwt.jwks.file` or `ca_file` is not an absolute path in normal form.";
    JWT_ALGORITHM = "GW0811", Error, "jwt-algorithm", "`auth.jwt.algorithms` is empty or names an algorithm the gateway does not verify (`none`, an HMAC `HS*`, or an unknown name).";
    JWT_VALUE = "GW0812", Error, "jwt-value", "An `auth.jwt` value is unusable: an empty issuer, audience, claim or scope name, a zero JWKS `refresh` or `timeout`, a `timeout` longer than `refresh`, or a `leeway` over 5m.";
    BAD_KEY_METADATA = "GW0813", Error, "bad-key-metadata", "An API key's `metadata` label has a name outside `a-z`, `0-9`, `_`, `-`, `.` or a value holding `,`, `=` or control characters.";
    QUOTA_UNKNOWN_TEAM = "GW0901", Error, "quota-unknown-team", "A limit's or budget's `teams` names a team not defined under `auth.teams`.";
    QUOTA_UNKNOWN_KEY = "GW0902", Error, "quota-unknown-key", "A limit's or budget's `keys` names an API key not defined under `auth.api_keys`.";
    QUOTA_NOT_POSITIVE = "GW0903", Error, "quota-not-positive", "A limit's `capacity` or `refill_per_second`, a budget's `usd`, `deployment.replicas`, a model's `max_messages` or `max_tokens` is zero or negative, or a price is negative.";
    LIMIT_WITHOUT_RATE = "GW0904", Error, "limit-without-rate", "A limit sets neither `requests` nor `tokens`.";
    LOCAL_QUOTA_WITH_REPLICAS = "GW0905", Error, "local-quota-with-replicas", "A limit or budget uses `store: local` while `deployment.replicas` is above 1, without `per_instance: true`.";
    NO_REDIS_STORE = "GW0906", Error, "no-redis-store", "A limit or budget uses `store: redis` but security.yaml defines no `stores.redis`.";
    QUOTA_STORE_OPTION = "GW0907", Error, "quota-store-option", "A store option does not fit the store: `store: redis` without `on_store_error`, `on_store_error` with `store: local`, or `per_instance` with `store: redis`.";
    MISSING_PRICE = "GW0908", Error, "missing-price", "A budget counts a model that has no `price` in upstreams.yaml.";
    UNKNOWN_BUILTIN = "GW1001", Error, "unknown-builtin", "A `kind: builtin` tool names no builtin function, or one the gateway does not have.";
    BAD_TOOL_SCHEMA = "GW1002", Error, "bad-tool-schema", "A tool's `parameters` is not a supported argument schema: not an object schema, an unsupported keyword or type, a keyword of another type, a `required` property not defined, bad bounds, or nested too deeply.";
    BUILTIN_SCHEMA_MISMATCH = "GW1003", Error, "builtin-schema-mismatch", "A builtin tool's `parameters` widens or contradicts the builtin's own schema: an argument it does not read, a type it does not take, a value outside its `enum`, or an argument it needs left out of `required`.";
    UNMATCHED_TOOL_PATTERN = "GW1004", Error, "unmatched-tool-pattern", "A `tools` pattern of a team or API key matches no tool of tools.yaml.";
    TOOL_KIND_KEYS = "GW1005", Error, "tool-kind-keys", "A tool lacks a key its kind needs (`builtin`; for `http`: `method`, `url`, `allow_hosts`, `parameters`) or sets a key of another kind.";
    BAD_TOOL_URL = "GW1006", Error, "bad-tool-url", "An HTTP tool's `url` template does not parse: not http(s), userinfo, a fragment, unbalanced braces, or a placeholder outside the path.";
    BAD_URL_PLACEHOLDER = "GW1007", Error, "bad-url-placeholder", "A `{name}` placeholder of an HTTP tool's `url` is not a property of `parameters`, is not a string or integer, or is not `required`.";
    TOOL_HOST_NOT_ALLOWED = "GW1008", Error, "tool-host-not-allowed", "An HTTP tool's `url` host is not in its `allow_hosts`.";
    PRIVATE_TOOL_HOST = "GW1009", Error, "private-tool-host", "An HTTP tool's host (in `url` or `allow_hosts`) is `localhost` or a private, loopback or link-local address, without `allow_private: true`.";
    BAD_TOOL_LIMIT = "GW1010", Error, "bad-tool-limit", "An HTTP tool's `timeout` or `max_response_bytes` is zero or above its ceiling (5m, 16MiB), or a header name is not a valid HTTP header name.";
    BAD_MCP_PIN = "GW1011", Error, "bad-mcp-pin", "An MCP tool's `sha256` pin is not 64 lower-case hex digits, or is not the SHA-256 of its `input_schema`'s canonical JSON (the message prints the computed hash).";
    MCP_TRANSPORT_KEYS = "GW1012", Error, "mcp-transport-keys", "An MCP server's keys do not fit its `transport`: `stdio` without a non-empty `command` or with `url`, `url_env`, `allow_hosts`, `allow_private` or `headers`; `streamable_http` without `url` or with `command`.";
    TOOL_NAME_COLLISION = "GW1013", Error, "tool-name-collision", "Two tools get the same public name even after MCP tools in a collision are prefixed with `<server>_`.";
    BAD_MCP_NAME = "GW1014", Error, "bad-mcp-name", "An MCP server name is not 1 to 64 of `a-z`, `0-9`, `_`, `-`, or an MCP tool's public name is not 1 to 64 of `A-Z`, `a-z`, `0-9`, `_`, `-`.";
    MCP_SERVER_WITHOUT_TOOLS = "GW1015", Error, "mcp-server-without-tools", "An MCP server pins no tools (`tools:` is empty).";
    AGENT_UNKNOWN_TOOL = "GW1020", Error, "agent-unknown-tool", "An agent's `tools` names a tool that is not defined in tools.yaml.";
    AGENT_MODEL_NO_TOOLS = "GW1021", Error, "agent-model-no-tools", "An agent's model does not serve `chat_completions` (the agent loop speaks chat completions), or the agent has tools and its model says `tool_calls: false`.";
    AGENT_BOUND = "GW1022", Error, "agent-bound", "An agent's (or `defaults`') `max_steps`, `max_time` or `max_tokens` is zero or above its ceiling (100 steps, 1h, 10000000 tokens), or `temperature` is outside 0..=2.";
    BAD_AGENT_NAME = "GW1023", Error, "bad-agent-name", "An agent name is empty or longer than 64 characters, or holds a character other than `A-Z`, `a-z`, `0-9`, `_` and `-` (it is served as the model `agent/<name>`).";
    UNMATCHED_AGENT_PATTERN = "GW1024", Error, "unmatched-agent-pattern", "An `agents` pattern of a team or API key matches no agent of agents.yaml.";
    AGENT_KIND_KEYS = "GW1025", Error, "agent-kind-keys", "An agent sets a key of the other kind (`path` on a declarative agent; `system` or `temperature` on an SDK agent) or lacks `path` with `kind: sdk`.";
    SDK_AGENT_PATH = "GW1026", Error, "sdk-agent-path", "An SDK agent's `path` does not resolve: not `module::Type`, no `src/agents/<module>.rs`, no `pub struct Type;` in it, or no `impl Agent for Type`.";
}

#[cfg(test)]
mod tests {
    use super::{ALL, Severity};

    #[test]
    fn codes_are_sorted_unique_and_well_formed() {
        for pair in ALL.windows(2) {
            assert!(pair[0].id < pair[1].id, "{} !< {}", pair[0].id, pair[1].id);
        }
        for code in ALL {
            assert_eq!(code.id.len(), 6, "{}", code.id);
            assert!(code.id.starts_with("GW"), "{}", code.id);
            assert!(code.explanation.ends_with('.'), "{}", code.id);
            let warning = code.id.starts_with("GW06");
            assert_eq!(code.severity == Severity::Warning, warning, "{}", code.id);
        }
    }
}
