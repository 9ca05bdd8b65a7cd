//! Tools of tools.yaml: each tool's kind, function, description and
//! argument schema, and the builtin functions the runtime compiles in with
//! their own argument schemas ([`BUILTINS`], the defaults a config may
//! narrow).
//!
//! `kind: builtin` (a function compiled in) and `kind: http` (an HTTP call
//! to a host the config names); `mcp` tools will be another kind. Nothing
//! here is checked: see `check/tools.rs` (names, builtins, schemas),
//! `check/http_tools.rs`, `parse/tool_schema.rs` and `parse/url_template.rs`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::SecretSpec;
use super::values::{DurationSpec, SizeSpec};

/// One tool.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// What runs the tool: `builtin`, a function compiled into the gateway, or `http`, a call to an HTTP API (MCP tools come in a later release).
    pub kind: ToolKindSpec,
    /// With `kind: builtin`: the function, `calculator` (add, subtract, multiply or divide two numbers) or `current_time` (the UTC time in RFC 3339).
    pub builtin: Option<String>,
    /// What the tool does, shown to callers and models in `GET /v1/tools`.
    pub description: String,
    /// JSON Schema of the tool's arguments: an object schema using only `type` (object, string, number, integer, boolean, array), `properties`, `required`, `enum` (strings), `minimum`, `maximum`, `maxLength`, `items`, `additionalProperties`, `description`, `title`. For a builtin it may narrow the builtin's own schema (fewer optional properties, an `enum`, bounds), never widen it. Absent: the builtin's own schema.
    pub parameters: Option<serde_json::Value>,
    /// With `kind: http`: the request method.
    pub method: Option<HttpMethodSpec>,
    /// With `kind: http`: the URL template, e.g. `https://api.example.com/v1/items/{id}`. `{name}` placeholders may only fill the path; each names a required string or integer argument and is percent-encoded as a path segment. The other arguments go to the query string (GET, DELETE) or the JSON body (POST, PUT, PATCH). The scheme and host are fixed: no argument can change them.
    pub url: Option<String>,
    /// With `kind: http`: the hosts the tool may reach (exact names or addresses); the URL's host must be one of them.
    pub allow_hosts: Option<Vec<String>>,
    /// With `kind: http`: allow a private, loopback or link-local address or `localhost` as the host (default `false`).
    pub allow_private: Option<bool>,
    /// With `kind: http`: the name of an environment variable that, when set at startup, replaces the URL's origin (`scheme://host[:port]`), e.g. to point tests at a loopback server. Its host must still be in `allow_hosts` (and private only with `allow_private`), else the gateway refuses to start.
    pub url_env: Option<String>,
    /// With `kind: http`: request headers whose values are secrets read at startup, each `{ env: NAME }` or `{ file: /abs/path }` (never a literal value).
    #[serde(default)]
    pub headers: BTreeMap<String, SecretSpec>,
    /// With `kind: http`: the whole call's time limit (default `10s`, at most `5m`).
    pub timeout: Option<DurationSpec>,
    /// With `kind: http`: the largest response body accepted (default `1MiB`, at most `16MiB`); a larger one fails the call with `tool_result_too_large`.
    pub max_response_bytes: Option<SizeSpec>,
}

/// An http tool's `timeout` when none is written.
pub const DEFAULT_TIMEOUT: &str = "10s";
/// An http tool's `max_response_bytes` when none is written (1 MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1 << 20;

/// The methods of an HTTP tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethodSpec {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethodSpec {
    /// Whether the arguments left after the URL go to the query string (else the JSON body).
    pub fn query_arguments(self) -> bool {
        matches!(self, Self::Get | Self::Delete)
    }

    /// The `table::HttpMethod` variant.
    pub fn variant(self) -> &'static str {
        match self {
            Self::Get => "Get",
            Self::Post => "Post",
            Self::Put => "Put",
            Self::Patch => "Patch",
            Self::Delete => "Delete",
        }
    }
}

/// The kinds of tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ToolKindSpec {
    /// A function compiled into the gateway (`builtin` names it).
    Builtin,
    /// An HTTP call (`method`, `url`, `allow_hosts`, `parameters` required).
    Http,
}

/// A builtin function: its name in tools.yaml, its `table::Builtin`
/// variant, and the JSON Schema of the arguments it reads.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinDef {
    pub name: &'static str,
    pub variant: &'static str,
    pub parameters: &'static str,
}

/// Every builtin, sorted by name.
pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef {
        name: "calculator",
        variant: "Calculator",
        parameters: r#"{"type":"object","properties":{"operation":{"type":"string","enum":["add","subtract","multiply","divide"],"description":"The operation."},"a":{"type":"number","description":"The first operand."},"b":{"type":"number","description":"The second operand."}},"required":["operation","a","b"],"additionalProperties":false}"#,
    },
    BuiltinDef {
        name: "current_time",
        variant: "CurrentTime",
        parameters: r#"{"type":"object","properties":{},"additionalProperties":false}"#,
    },
];

/// The builtin named `name`.
pub fn builtin(name: &str) -> Option<&'static BuiltinDef> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// An upstream MCP server whose tools the gateway imports (`kind: mcp` tools).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct McpServerSpec {
    /// How to reach the server: `streamable_http` (JSON-RPC over HTTP POST, `url` required) or `stdio` (a child process, `command` required).
    pub transport: McpTransportSpec,
    /// With `streamable_http`: the server's MCP endpoint, e.g. `https://mcp.example.com/mcp`.
    pub url: Option<String>,
    /// With `streamable_http`: the name of an environment variable that, when set at startup, replaces the URL's origin (`scheme://host[:port]`); its host must still be in `allow_hosts` (and private only with `allow_private`).
    pub url_env: Option<String>,
    /// With `streamable_http`: the hosts the server may be reached at; the URL's host must be one of them.
    pub allow_hosts: Option<Vec<String>>,
    /// With `streamable_http`: allow a private, loopback or link-local address or `localhost` as the host (default `false`).
    pub allow_private: Option<bool>,
    /// With `streamable_http`: request headers whose values are secrets read at startup, each `{ env: NAME }` or `{ file: /abs/path }` (default none).
    #[serde(default)]
    pub headers: BTreeMap<String, SecretSpec>,
    /// With `stdio`: the program and its arguments (non-empty), run in the gateway's working directory.
    pub command: Option<Vec<String>>,
    /// With `stdio`: the names of the gateway's environment variables the child may see (default `[]`: none). The child starts with an empty environment plus `PATH`, `HOME`, `LANG`, `LC_ALL`, `TZ` and `TMPDIR` when the gateway has them, so upstream keys and other secrets never reach it unless listed here.
    #[serde(default)]
    pub env: Vec<String>,
    /// The time limit of one call, connecting and verifying included (default `10s`, at most `5m`).
    pub timeout: Option<DurationSpec>,
    /// The largest answer accepted from the server (default `64KiB`, at most `16MiB`); a larger one fails the call with `tool_result_too_large`.
    pub max_response_bytes: Option<SizeSpec>,
    /// What a pinned tool whose schema changed or vanished does: `disable` it (default `disable`) or `fail` (the gateway refuses to start; at refresh the tools are disabled and the refresh answers 409).
    pub on_drift: Option<OnDriftSpec>,
    /// The pin: every tool imported from this server, by the name the server lists it under.
    pub tools: BTreeMap<String, McpPinSpec>,
}

/// One pinned MCP tool.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct McpPinSpec {
    /// Lower-case hex SHA-256 of the canonical JSON of `input_schema` (object keys sorted, no whitespace); the build prints the right value when it differs.
    pub sha256: String,
    /// The tool's input schema exactly as the server lists it (`inputSchema`); arguments are validated against it before any call. The keywords of a tool's `parameters` apply; the annotations `default`, `examples` and `$schema` are accepted and not checked.
    pub input_schema: serde_json::Value,
    /// What the tool does, shown in `GET /v1/tools` (default: a short text naming the server and the tool).
    pub description: Option<String>,
}

/// An MCP server's transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum McpTransportSpec {
    /// MCP streamable HTTP.
    StreamableHttp,
    /// A child process speaking newline-delimited JSON-RPC.
    Stdio,
}

/// What drift does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnDriftSpec {
    /// Disable the drifted tools, keep serving the rest.
    Disable,
    /// Refuse to start.
    Fail,
}

/// An MCP server's `timeout` when none is written.
pub const DEFAULT_MCP_TIMEOUT: &str = "10s";
/// An MCP server's `max_response_bytes` when none is written (64 KiB).
pub const DEFAULT_MCP_MAX_RESPONSE_BYTES: u64 = 64 << 10;

/// Where a public tool name comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `tools.<name>`.
    Local,
    /// `mcp_servers.<server>.tools.<remote>`.
    Mcp { server: String, remote: String },
}

/// Every tool's public name and origin, sorted by public name (the order of
/// tool ids). An MCP tool whose remote name another tool also has (local or
/// from any server) is named `<server>_<name>`. Names still equal after
/// prefixing all appear (check reports them; lowering never sees them).
pub fn public_tools(file: &super::ToolsFile) -> Vec<(String, Origin)> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for name in file.tools.keys() {
        *count.entry(name).or_default() += 1;
    }
    for server in file.mcp_servers.values() {
        for remote in server.tools.keys() {
            *count.entry(remote).or_default() += 1;
        }
    }
    let mut out: Vec<(String, Origin)> = file
        .tools
        .keys()
        .map(|name| (name.clone(), Origin::Local))
        .collect();
    for (server, spec) in &file.mcp_servers {
        for remote in spec.tools.keys() {
            let name = if count.get(remote.as_str()).copied().unwrap_or(0) > 1 {
                format!("{server}_{remote}")
            } else {
                remote.clone()
            };
            let origin = Origin::Mcp {
                server: server.clone(),
                remote: remote.clone(),
            };
            out.push((name, origin));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
