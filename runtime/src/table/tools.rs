//! The compiled tool registry (tools.yaml): each tool's builtin function,
//! description, and its argument schema as a tree of `&'static` nodes that
//! `tools::schema` validates against (no JSON Schema library at run time).
//!
//! Data only: nothing here validates or runs a tool. Which principals may
//! use a tool is a bit set over [`ToolId`]s on keys and teams
//! ([`super::ModelAccess`] over tool ids).

/// Dense index into [`super::Config::tools`]; tools are sorted by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ToolId(pub u16);

/// One tool a caller may list and invoke.
#[derive(Debug)]
pub struct Tool {
    pub id: ToolId,
    /// The public name (`/v1/tools/{name}/invoke`): `[A-Za-z0-9_-]{1,64}`.
    pub name: &'static str,
    pub description: &'static str,
    /// What runs the tool.
    pub kind: ToolKind,
    /// The argument schema, compiled.
    pub parameters: &'static Schema,
    /// The same schema as JSON text, as `GET /v1/tools` shows it.
    pub parameters_json: &'static str,
}

/// What runs a tool: a function compiled into the binary, an HTTP call, or
/// a `tools/call` to an upstream MCP server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ToolKind {
    Builtin(Builtin),
    Http(&'static HttpTool),
    Mcp(&'static McpTool),
}

/// A tool imported from an MCP server (tools.yaml `mcp_servers`), pinned by
/// its remote name and the SHA-256 of its input schema's canonical JSON.
#[derive(Debug, PartialEq)]
pub struct McpTool {
    pub server: &'static McpServer,
    /// The name the server lists it under (the public name may be `<server>_<name>`).
    pub remote_name: &'static str,
    /// Lower-case hex SHA-256 of the pinned schema's canonical JSON.
    pub sha256: &'static str,
}

/// An upstream MCP server: where it is, its limits and what drift does.
#[derive(Debug, PartialEq)]
pub struct McpServer {
    /// Dense index over the configured servers (sorted by name).
    pub index: u16,
    pub name: &'static str,
    pub transport: McpTransport,
    pub timeout_ms: u64,
    pub max_response_bytes: u64,
    pub on_drift: OnDrift,
}

/// How the gateway reaches an MCP server.
#[derive(Debug, PartialEq)]
pub enum McpTransport {
    /// JSON-RPC over HTTP POST (answers as JSON or SSE); host rules as for http tools.
    StreamableHttp {
        /// The full endpoint URL.
        url: &'static str,
        /// `scheme://authority` of `url`.
        origin: &'static str,
        url_env: Option<&'static str>,
        allow_hosts: &'static [&'static str],
        allow_private: bool,
        headers: &'static [(&'static str, super::SecretRef)],
    },
    /// A child process speaking newline-delimited JSON-RPC on stdin/stdout.
    Stdio {
        command: &'static [&'static str],
        /// The gateway variables the child may see (besides [`STDIO_BASE_ENV`]).
        env: &'static [&'static str],
    },
}

/// The variables every stdio child gets when the gateway has them; nothing
/// else of the gateway's environment (upstream keys included) reaches it
/// unless the server's `env` lists it.
pub const STDIO_BASE_ENV: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

/// What a pinned tool whose schema changed (or vanished) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDrift {
    /// Disable the drifted tools and keep serving.
    Disable,
    /// Refuse to start (at refresh: disable and answer 409).
    Fail,
}

/// A `kind: http` tool: where it calls and with what limits. The origin
/// (scheme and authority) is fixed here; arguments only fill `path`'s
/// placeholders, the query string or the JSON body.
#[derive(Debug, PartialEq)]
pub struct HttpTool {
    pub method: HttpMethod,
    /// Arguments not in the path go to the query string (GET, DELETE), else a JSON body.
    pub query_arguments: bool,
    /// `scheme://authority` of the URL template.
    pub origin: &'static str,
    /// The path template in pieces.
    pub path: &'static [UrlPiece],
    /// A fixed query string (without `?`), possibly empty.
    pub query: &'static str,
    /// A variable that, when set at startup, replaces `origin` (its host must be allowed).
    pub url_env: Option<&'static str>,
    /// Lower-cased hosts the tool may reach.
    pub allow_hosts: &'static [&'static str],
    /// Whether private, loopback and link-local hosts are allowed.
    pub allow_private: bool,
    /// Lower-cased header names and the secrets that fill them, read at startup.
    pub headers: &'static [(&'static str, super::SecretRef)],
    pub timeout_ms: u64,
    pub max_response_bytes: u64,
}

/// The method of an HTTP tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// A piece of an HTTP tool's path template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlPiece {
    Literal(&'static str),
    /// Filled from the named string or integer argument, percent-encoded as a segment.
    Arg(&'static str),
}

/// The builtin functions (`runtime/src/tools/builtin.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// The current UTC time in RFC 3339.
    CurrentTime,
    /// One arithmetic operation (`add`, `subtract`, `multiply`, `divide`) on two numbers.
    Calculator,
}

/// A node of a compiled argument schema: the subset of JSON Schema the
/// gateway checks at build time (type, properties, required, enum,
/// minimum/maximum, maxLength, items, additionalProperties: false).
#[derive(Debug)]
pub enum Schema {
    Object {
        /// Sorted by name.
        properties: &'static [Property],
        required: &'static [&'static str],
        /// `false` when the schema says `additionalProperties: false`.
        additional: bool,
    },
    /// A JSON string.
    Text {
        max_length: Option<u32>,
        /// Allowed values; empty: any.
        allowed: &'static [&'static str],
    },
    /// `number`, or `integer` when `integer` is set.
    Number {
        integer: bool,
        minimum: Option<f64>,
        maximum: Option<f64>,
    },
    Boolean,
    Array {
        items: Option<&'static Schema>,
    },
}

/// One named property of an object schema.
#[derive(Debug)]
pub struct Property {
    pub name: &'static str,
    pub schema: Schema,
}
