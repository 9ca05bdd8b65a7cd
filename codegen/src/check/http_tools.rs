//! Checks for `kind: http` tools: the keys each kind needs and refuses
//! (GW1005), the URL template (GW1006), its placeholders against
//! `parameters` (GW1007), the host against `allow_hosts` (GW1008) and
//! private addresses (GW1009), limits and header names (GW1010), and the
//! variable names and secret files the tool reads at startup.
//!
//! Reports only; `lower/tools.rs` builds the table.

use crate::check::duration;
use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Tools as F, ptr};
use crate::parse::{self, url_template};
use crate::spec::ToolSpec;
use crate::spec::tools::{DEFAULT_TIMEOUT, ToolKindSpec};

/// The largest `timeout`.
const MAX_TIMEOUT_MS: u64 = 300_000;
/// The largest `max_response_bytes`.
const MAX_RESPONSE_BYTES: u64 = 16 << 20;

/// Keys of one kind set on a tool of the other, and keys its kind needs.
pub fn check_kind_keys(name: &str, tool: &ToolSpec, diags: &mut Diagnostics) {
    let http_keys = [
        ("method", tool.method.is_some()),
        ("url", tool.url.is_some()),
        ("allow_hosts", tool.allow_hosts.is_some()),
        ("allow_private", tool.allow_private.is_some()),
        ("url_env", tool.url_env.is_some()),
        ("headers", !tool.headers.is_empty()),
        ("timeout", tool.timeout.is_some()),
        ("max_response_bytes", tool.max_response_bytes.is_some()),
    ];
    let (kind, foreign, needed): (&str, Vec<&str>, Vec<&str>) = match tool.kind {
        ToolKindSpec::Builtin => {
            let set = http_keys.iter().filter(|(_, s)| *s).map(|(k, _)| *k);
            ("builtin", set.collect(), Vec::new())
        }
        ToolKindSpec::Http => {
            let foreign = if tool.builtin.is_some() {
                vec!["builtin"]
            } else {
                vec![]
            };
            let needed = http_keys[..3]
                .iter()
                .filter(|(_, s)| !*s)
                .map(|(k, _)| *k)
                .chain(tool.parameters.is_none().then_some("parameters"));
            ("http", foreign, needed.collect())
        }
    };
    for key in foreign {
        diags.push(
            Diagnostic::new(
                codes::TOOL_KIND_KEYS,
                F,
                format!("`{key}` does not apply to a `kind: {kind}` tool"),
            )
            .at_key(ptr(&["tools", name, key]))
            .label(format!("not a key of `kind: {kind}`"))
            .help(format!("remove `{key}`, or change `kind`")),
        );
    }
    for key in needed {
        diags.push(
            Diagnostic::new(
                codes::TOOL_KIND_KEYS,
                F,
                format!("http tool `{name}` has no `{key}`"),
            )
            .at_key(ptr(&["tools", name]))
            .label(format!("`{key}` is required for `kind: http`"))
            .help(needed_help(key)),
        );
    }
}

fn needed_help(key: &str) -> &'static str {
    match key {
        "method" => "add `method:` with one of `GET`, `POST`, `PUT`, `PATCH`, `DELETE`",
        "url" => "add `url:`, e.g. `https://api.example.com/v1/items/{id}`",
        "allow_hosts" => "add `allow_hosts:` listing the URL's host, e.g. `[api.example.com]`",
        _ => {
            "add `parameters:`, an object schema of the arguments (every URL placeholder a required string or integer)"
        }
    }
}

/// Everything about an http tool but its kind keys and schema.
pub fn check_http(name: &str, tool: &ToolSpec, diags: &mut Diagnostics) {
    let at = |key: &str| ptr(&["tools", name, key]);
    let allow_private = tool.allow_private.unwrap_or(false);
    let hosts: Vec<String> = tool
        .allow_hosts
        .iter()
        .flatten()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for (i, host) in hosts.iter().enumerate() {
        if !allow_private && url_template::is_private_host(host) {
            diags.push(private(format!("{}/{i}", at("allow_hosts")), host));
        }
    }
    if let Some(url) = &tool.url {
        match url_template::parse(url) {
            Err(why) => diags.push(
                Diagnostic::new(codes::BAD_TOOL_URL, F, format!("tool URL template {why}"))
                    .at(at("url"))
                    .label("not a usable URL template")
                    .help("write `http(s)://host[:port]/path/{argument}`: placeholders fill path segments only"),
            ),
            Ok(template) => {
                check_placeholders(name, tool, &template, diags);
                if tool.allow_hosts.is_some() && !hosts.contains(&template.host) {
                    diags.push(
                        Diagnostic::new(codes::TOOL_HOST_NOT_ALLOWED, F, format!("host `{}` is not in `allow_hosts`", template.host))
                            .at(at("url"))
                            .label("the tool may not reach this host")
                            .help(format!("add `{}` to `allow_hosts`, or fix the URL", template.host)),
                    );
                }
            }
        }
    }
    check_limits(name, tool, diags);
    check_inputs(name, tool, diags);
}

fn private(pointer: String, host: &str) -> Diagnostic {
    Diagnostic::new(
        codes::PRIVATE_TOOL_HOST,
        F,
        format!("`{host}` is a private or loopback host"),
    )
    .at(pointer)
    .label("private address")
    .help("set `allow_private: true` if the tool must reach an internal service")
}

/// Each placeholder is a required string or integer property of `parameters`.
fn check_placeholders(
    name: &str,
    tool: &ToolSpec,
    template: &url_template::Template,
    diags: &mut Diagnostics,
) {
    let Some(parameters) = &tool.parameters else {
        return;
    };
    let required: Vec<&str> = parameters["required"]
        .as_array()
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    for placeholder in template.placeholders() {
        let ty = parameters["properties"][placeholder]["type"].as_str();
        let why = match ty {
            None => Some("is not a property of `parameters`"),
            Some("string" | "integer") if required.contains(&placeholder) => None,
            Some("string" | "integer") => Some("is not in `parameters.required`"),
            Some(_) => Some("is neither a string nor an integer"),
        };
        if let Some(why) = why {
            diags.push(
                Diagnostic::new(codes::BAD_URL_PLACEHOLDER, F, format!("URL placeholder `{{{placeholder}}}` {why}"))
                    .at(ptr(&["tools", name, "url"]))
                    .label("placeholder without a required string or integer argument")
                    .help(format!("declare `{placeholder}` in `parameters.properties` as `type: string` or `type: integer` and list it in `required`")),
            );
        }
    }
}

/// `timeout` and `max_response_bytes` within bounds, header names valid.
fn check_limits(name: &str, tool: &ToolSpec, diags: &mut Diagnostics) {
    let at = |key: &str| ptr(&["tools", name, key]);
    let limit = |key: &str, what: String| {
        Diagnostic::new(codes::BAD_TOOL_LIMIT, F, what)
            .at(at(key))
            .label("out of range")
    };
    let timeout = duration(
        F,
        at("timeout"),
        tool.timeout.as_ref(),
        DEFAULT_TIMEOUT,
        diags,
    );
    if let Some(ms) = timeout.filter(|ms| *ms == 0 || *ms > MAX_TIMEOUT_MS) {
        diags.push(
            limit(
                "timeout",
                format!("tool timeout of {ms}ms is not within 1ms..=5m"),
            )
            .help("use e.g. `timeout: 10s`"),
        );
    }
    if let Some(size) = &tool.max_response_bytes {
        match size.value() {
            Ok(&bytes) if bytes == 0 || bytes > MAX_RESPONSE_BYTES => diags.push(
                limit(
                    "max_response_bytes",
                    format!("`max_response_bytes` of {bytes} bytes is not within 1B..=16MiB"),
                )
                .help("use e.g. `max_response_bytes: 1MiB`"),
            ),
            Ok(_) => {}
            Err(err) => diags.push(crate::diag::values::malformed(
                F,
                at("max_response_bytes"),
                &parse::SIZE,
                size.raw(),
                err,
                Some("1MiB"),
            )),
        }
    }
    for header in tool.headers.keys() {
        let token = !header.is_empty()
            && header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            diags.push(
                Diagnostic::new(
                    codes::BAD_TOOL_LIMIT,
                    F,
                    format!("`{header}` is not an HTTP header name"),
                )
                .at_key(ptr(&["tools", name, "headers", header]))
                .label("invalid header name")
                .help("use a token such as `authorization` or `x-api-key`"),
            );
        }
    }
}

/// Variable names and secret references read at startup.
fn check_inputs(name: &str, tool: &ToolSpec, diags: &mut Diagnostics) {
    let bad_env = |pointer: String, var: &str| {
        Diagnostic::new(
            codes::BAD_ENV_NAME,
            F,
            format!("invalid environment variable name `{var}`"),
        )
        .at(pointer)
        .label("must match `[A-Z_][A-Z0-9_]*`")
        .help("use an upper-case name such as `TOOL_API_KEY`")
    };
    if let Some(var) = tool.url_env.as_deref().filter(|v| !parse::is_env_name(v)) {
        diags.push(bad_env(ptr(&["tools", name, "url_env"]), var));
    }
    for (header, secret) in &tool.headers {
        let at = |key: &str| ptr(&["tools", name, "headers", header, key]);
        match (&secret.env, &secret.file) {
            (Some(_), Some(_)) => diags.push(
                Diagnostic::new(
                    codes::SECRET_REF_SHAPE,
                    F,
                    format!("header `{header}` sets both `env` and `file`"),
                )
                .at_key(ptr(&["tools", name, "headers", header]))
                .label("ambiguous secret source")
                .help("keep exactly one of `env:` or `file:`"),
            ),
            (Some(var), None) if !parse::is_env_name(var) => diags.push(bad_env(at("env"), var)),
            (None, Some(path)) if !path.starts_with('/') => diags.push(
                Diagnostic::new(
                    codes::RELATIVE_SECRET_FILE,
                    F,
                    format!("secret file path `{path}` is not absolute"),
                )
                .at(at("file"))
                .label("relative path")
                .help("use an absolute path such as `/run/secrets/tool-key`"),
            ),
            _ => {}
        }
    }
}
