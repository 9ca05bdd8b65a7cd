//! Checks for tools.yaml `mcp_servers`: server names, the keys each
//! transport needs (GW1012), the URL and its hosts (the http tools' GW1006,
//! GW1008, GW1009), limits (GW1010), every pin (GW1011 hash, GW1002
//! schema), public names (GW1014) and collisions prefixing cannot resolve
//! (GW1013), servers without tools (GW1015).
//!
//! Reports only; `lower/tools.rs` builds the servers and tools.

use std::collections::BTreeMap;

use crate::check::duration;
use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Tools as F, ptr};
use crate::parse::mcp;
use crate::parse::{self, tool_schema, url_template};
use crate::spec::ToolsFile;
use crate::spec::tools::{DEFAULT_MCP_TIMEOUT, McpServerSpec, McpTransportSpec};
use crate::spec::tools::{Origin, public_tools};

const MAX_TIMEOUT_MS: u64 = 300_000;
const MAX_RESPONSE_BYTES: u64 = 16 << 20;

/// Every MCP check.
pub fn check(file: &ToolsFile, diags: &mut Diagnostics) {
    for (name, server) in &file.mcp_servers {
        check_server_name(name, diags);
        check_transport(name, server, diags);
        check_limits(name, server, diags);
        check_pins(name, server, diags);
    }
    check_public_names(file, diags);
}

fn check_server_name(name: &str, diags: &mut Diagnostics) {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !ok {
        diags.push(
            Diagnostic::new(
                codes::BAD_MCP_NAME,
                F,
                format!("MCP server name `{name}` is not 1 to 64 of `a-z`, `0-9`, `_`, `-`"),
            )
            .at_key(ptr(&["mcp_servers", name]))
            .label("invalid server name")
            .help("use a lower-case name such as `calc`"),
        );
    }
}

/// `url` (+ hosts) with streamable HTTP, a non-empty `command` with stdio, nothing of the other.
fn check_transport(name: &str, s: &McpServerSpec, diags: &mut Diagnostics) {
    let at = |key: &str| ptr(&["mcp_servers", name, key]);
    let keys = |message: String, pointer: String, help: &str| {
        Diagnostic::new(codes::MCP_TRANSPORT_KEYS, F, message)
            .at(pointer)
            .label("does not fit the transport")
            .help(help.to_owned())
    };
    match s.transport {
        McpTransportSpec::Stdio => {
            let http_keys = [
                ("url", s.url.is_some()),
                ("url_env", s.url_env.is_some()),
                ("allow_hosts", s.allow_hosts.is_some()),
                ("allow_private", s.allow_private.is_some()),
                ("headers", !s.headers.is_empty()),
            ];
            check_env_names(name, &s.env, diags);
            for (key, set) in http_keys {
                if set {
                    diags.push(keys(
                        format!("MCP server `{name}` uses `stdio` but sets `{key}`"),
                        at(key),
                        "remove it, or use `transport: streamable_http`",
                    ));
                }
            }
            match &s.command {
                None => diags.push(keys(
                    format!("MCP server `{name}` uses `stdio` but has no `command`"),
                    at("transport"),
                    "add `command: [program, args...]`",
                )),
                Some(argv) if argv.is_empty() || argv[0].is_empty() => diags.push(keys(
                    format!("MCP server `{name}` has an empty `command`"),
                    at("command"),
                    "name the program first, e.g. `command: [\"mcp-server\", \"--stdio\"]`",
                )),
                Some(_) => {}
            }
        }
        McpTransportSpec::StreamableHttp => {
            if !s.env.is_empty() {
                diags.push(keys(
                    format!("MCP server `{name}` uses `streamable_http` but sets `env`"),
                    at("env"),
                    "remove it (it names what a stdio child may see), or use `transport: stdio`",
                ));
            }
            if s.command.is_some() {
                diags.push(keys(
                    format!("MCP server `{name}` uses `streamable_http` but sets `command`"),
                    at("command"),
                    "remove it, or use `transport: stdio`",
                ));
            }
            match &s.url {
                None => diags.push(keys(
                    format!("MCP server `{name}` uses `streamable_http` but has no `url`"),
                    at("transport"),
                    "add `url: https://host/mcp` and `allow_hosts`",
                )),
                Some(url) => check_url(name, s, url, diags),
            }
        }
    }
}

/// Every name a stdio child may see is a valid environment variable name.
fn check_env_names(name: &str, env: &[String], diags: &mut Diagnostics) {
    for (i, var) in env.iter().enumerate() {
        if parse::is_env_name(var) {
            continue;
        }
        diags.push(
            Diagnostic::new(
                codes::BAD_ENV_NAME,
                F,
                format!("invalid environment variable name `{var}`"),
            )
            .at(ptr(&["mcp_servers", name, "env", &i.to_string()]))
            .label("must match `[A-Z_][A-Z0-9_]*`")
            .help("list the names of variables the child needs, e.g. `env: [GITHUB_TOKEN]`"),
        );
    }
}

/// The URL parses, has no placeholder, and its host is allowed.
fn check_url(name: &str, s: &McpServerSpec, url: &str, diags: &mut Diagnostics) {
    let at = |key: &str| ptr(&["mcp_servers", name, key]);
    let allow_private = s.allow_private.unwrap_or(false);
    let hosts: Vec<String> = s
        .allow_hosts
        .iter()
        .flatten()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for (i, host) in hosts.iter().enumerate() {
        if !allow_private && url_template::is_private_host(host) {
            diags.push(
                Diagnostic::new(
                    codes::PRIVATE_TOOL_HOST,
                    F,
                    format!("`{host}` is a private or loopback host"),
                )
                .at(format!("{}/{i}", at("allow_hosts")))
                .label("private address")
                .help("set `allow_private: true` if the server is an internal service"),
            );
        }
    }
    let template = url_template::parse(url).and_then(|t| {
        if url.contains('{') {
            Err("has a placeholder; an MCP URL is fixed".to_owned())
        } else {
            Ok(t)
        }
    });
    match template {
        Err(why) => diags.push(
            Diagnostic::new(codes::BAD_TOOL_URL, F, format!("MCP server URL {why}"))
                .at(at("url"))
                .label("not a usable URL")
                .help("write `http(s)://host[:port]/path`"),
        ),
        Ok(t) if !hosts.contains(&t.host) => diags.push(
            Diagnostic::new(
                codes::TOOL_HOST_NOT_ALLOWED,
                F,
                format!("host `{}` is not in `allow_hosts`", t.host),
            )
            .at(at("url"))
            .label("the server may not be reached at this host")
            .help(format!("add `{}` to `allow_hosts`, or fix the URL", t.host)),
        ),
        Ok(_) => {}
    }
    if let Some(var) = s.url_env.as_deref().filter(|v| !parse::is_env_name(v)) {
        diags.push(
            Diagnostic::new(
                codes::BAD_ENV_NAME,
                F,
                format!("invalid environment variable name `{var}`"),
            )
            .at(at("url_env"))
            .label("must match `[A-Z_][A-Z0-9_]*`")
            .help("use an upper-case name such as `MCP_URL`"),
        );
    }
    for (header, secret) in &s.headers {
        if secret.env.is_some() == secret.file.is_some() {
            diags.push(
                Diagnostic::new(
                    codes::SECRET_REF_SHAPE,
                    F,
                    format!("header `{header}` must set exactly one of `env` and `file`"),
                )
                .at(ptr(&["mcp_servers", name, "headers", header]))
                .label("not one secret reference")
                .help("write `{ env: NAME }` or `{ file: /abs/path }`"),
            );
        }
    }
}

/// `timeout` and `max_response_bytes` within bounds.
fn check_limits(name: &str, s: &McpServerSpec, diags: &mut Diagnostics) {
    let at = |key: &str| ptr(&["mcp_servers", name, key]);
    let timeout = duration(
        F,
        at("timeout"),
        s.timeout.as_ref(),
        DEFAULT_MCP_TIMEOUT,
        diags,
    );
    if let Some(ms) = timeout.filter(|ms| *ms == 0 || *ms > MAX_TIMEOUT_MS) {
        diags.push(
            Diagnostic::new(
                codes::BAD_TOOL_LIMIT,
                F,
                format!("MCP timeout of {ms}ms is not within 1ms..=5m"),
            )
            .at(at("timeout"))
            .label("out of range")
            .help("use e.g. `timeout: 10s`"),
        );
    }
    if let Some(Ok(&bytes)) = s.max_response_bytes.as_ref().map(|v| v.value())
        && (bytes == 0 || bytes > MAX_RESPONSE_BYTES)
    {
        diags.push(
            Diagnostic::new(
                codes::BAD_TOOL_LIMIT,
                F,
                format!("`max_response_bytes` of {bytes} bytes is not within 1B..=16MiB"),
            )
            .at(at("max_response_bytes"))
            .label("out of range")
            .help("use e.g. `max_response_bytes: 64KiB`"),
        );
    }
}

/// Each pin: a 64-hex `sha256` equal to the schema's, a supported schema.
fn check_pins(name: &str, s: &McpServerSpec, diags: &mut Diagnostics) {
    if s.tools.is_empty() {
        diags.push(
            Diagnostic::new(
                codes::MCP_SERVER_WITHOUT_TOOLS,
                F,
                format!("MCP server `{name}` pins no tools"),
            )
            .at(ptr(&["mcp_servers", name, "tools"]))
            .label("nothing would be imported")
            .help(format!("pin a tool (any `sha256`: the build prints the schema's hash), build, then `gateway mcp-pin {name}` prints every tool's pin; or remove the server")),
        );
    }
    for (remote, pin) in &s.tools {
        let at = |key: &str| ptr(&["mcp_servers", name, "tools", remote, key]);
        let computed = mcp::schema_sha256(&pin.input_schema);
        if !mcp::is_sha256(&pin.sha256) {
            diags.push(
                Diagnostic::new(
                    codes::BAD_MCP_PIN,
                    F,
                    format!("pin of `{remote}` is not 64 lower-case hex digits"),
                )
                .at(at("sha256"))
                .label("not a SHA-256")
                .help(format!("the schema below hashes to `{computed}`")),
            );
        } else if pin.sha256 != computed {
            diags.push(
                Diagnostic::new(
                    codes::BAD_MCP_PIN,
                    F,
                    format!("pin of `{remote}` does not match its `input_schema`"),
                )
                .at(at("sha256"))
                .label(format!("the schema hashes to `{computed}`"))
                .help(format!("re-pin: `gateway mcp-pin {name}` prints the schema the server lists now and its hash")),
            );
        }
        if let Err(e) = tool_schema::compile(&pin.input_schema) {
            diags.push(
                Diagnostic::new(codes::BAD_TOOL_SCHEMA, F, e.message)
                    .at(format!("{}{}", at("input_schema"), e.at))
                    .label("not a supported argument schema")
                    .help(e.help),
            );
        }
    }
}

/// Public names fit `[A-Za-z0-9_-]{1,64}` and are unique after prefixing.
fn check_public_names(file: &ToolsFile, diags: &mut Diagnostics) {
    let public = public_tools(file);
    let mut seen: BTreeMap<&str, &Origin> = BTreeMap::new();
    for (name, origin) in &public {
        let where_ = |o: &Origin| match o {
            Origin::Local => format!("`tools.{name}`"),
            Origin::Mcp { server, remote } => format!("`mcp_servers.{server}.tools.{remote}`"),
        };
        let Origin::Mcp { server, remote } = origin else {
            seen.insert(name, origin);
            continue;
        };
        let pointer = ptr(&["mcp_servers", server, "tools", remote]);
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            diags.push(
                Diagnostic::new(
                    codes::BAD_MCP_NAME,
                    F,
                    format!("MCP tool {} would be named `{name}`", where_(origin)),
                )
                .at_key(pointer.clone())
                .label("not 1 to 64 of `A-Z`, `a-z`, `0-9`, `_`, `-`")
                .help("the gateway cannot rename it; pin only tools with such names"),
            );
        }
        if let Some(other) = seen.get(name.as_str()) {
            diags.push(
                Diagnostic::new(
                    codes::TOOL_NAME_COLLISION,
                    F,
                    format!(
                        "MCP tool {} and {} both get the public name `{name}`",
                        where_(origin),
                        where_(other)
                    ),
                )
                .at_key(pointer)
                .label("the same public name twice")
                .help("rename the other tool or the server, so prefixing `<server>_` tells them apart"),
            );
        }
        seen.insert(name, origin);
    }
}
