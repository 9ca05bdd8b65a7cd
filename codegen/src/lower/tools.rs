//! Lowering tools.yaml: tools sorted by name (dense ids), each with its
//! builtin's variant and its argument schema as a tree and as JSON text
//! (the config's `parameters`, else the builtin's own).
//!
//! Runs after `check/` passed, so a schema that does not compile here is
//! an internal error (GW0016), never a silent default.

use serde_json::Value;

use crate::diag::FileKind::Tools as F;
use crate::diag::ptr;
use crate::ir::{HttpTool, McpServer, McpTool, SecretRef, Tool, ToolRun, ToolSchema};
use crate::lower::Cx;
use crate::parse;
use crate::parse::mcp;
use crate::parse::tool_schema::{self, Node};
use crate::parse::url_template::{self, Piece};
use crate::spec::tools::{
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MCP_MAX_RESPONSE_BYTES, DEFAULT_MCP_TIMEOUT,
    DEFAULT_TIMEOUT, McpTransportSpec, OnDriftSpec, ToolKindSpec, builtin,
};
use crate::spec::tools::{Origin, public_tools};
use crate::spec::{ToolSpec, ToolsFile};

/// Every tool (local and pinned MCP tools under their public names), in name order.
pub(crate) fn lower(file: &ToolsFile, cx: &mut Cx<'_>) -> Option<Vec<Tool>> {
    let public = public_tools(file);
    let mut tools = Vec::with_capacity(public.len());
    for (i, (name, origin)) in public.iter().enumerate() {
        cx.id16(i)?;
        if let Origin::Mcp { server, remote } = origin {
            tools.push(mcp_tool(file, name, server, remote, cx)?);
            continue;
        }
        let Some(spec) = file.tools.get(name) else {
            cx.internal(F, &ptr(&["tools", name]));
            return None;
        };
        let at = ptr(&["tools", name]);
        let (run, parameters): (ToolRun, Value) = match spec.kind {
            ToolKindSpec::Builtin => {
                let Some(function) = spec.builtin.as_deref().and_then(builtin) else {
                    cx.internal(F, &at);
                    return None;
                };
                let parameters = match &spec.parameters {
                    Some(p) => p.clone(),
                    None => serde_json::from_str(function.parameters).ok()?,
                };
                (ToolRun::Builtin(function.variant.to_owned()), parameters)
            }
            ToolKindSpec::Http => {
                let (Some(http), Some(parameters)) = (http(spec), spec.parameters.clone()) else {
                    cx.internal(F, &at);
                    return None;
                };
                (ToolRun::Http(http), parameters)
            }
        };
        let Ok(node) = tool_schema::compile(&parameters) else {
            cx.internal(F, &format!("{at}/parameters"));
            return None;
        };
        tools.push(Tool {
            name: name.clone(),
            description: spec.description.clone(),
            run,
            parameters: schema(node),
            parameters_json: parameters.to_string(),
        });
    }
    Some(tools)
}

/// A pinned MCP tool as IR.
fn mcp_tool(
    file: &ToolsFile,
    name: &str,
    server: &str,
    remote: &str,
    cx: &mut Cx<'_>,
) -> Option<Tool> {
    let at = ptr(&["mcp_servers", server, "tools", remote]);
    let index = file.mcp_servers.keys().position(|s| s == server);
    let pin = file
        .mcp_servers
        .get(server)
        .and_then(|s| s.tools.get(remote));
    let (Some(index), Some(pin)) = (index, pin) else {
        cx.internal(F, &at);
        return None;
    };
    let Ok(node) = tool_schema::compile(&pin.input_schema) else {
        cx.internal(F, &format!("{at}/input_schema"));
        return None;
    };
    let description = pin
        .description
        .clone()
        .unwrap_or_else(|| format!("`{remote}` of MCP server `{server}`."));
    Some(Tool {
        name: name.to_owned(),
        description,
        run: ToolRun::Mcp(McpTool {
            server: u16::try_from(index).ok()?,
            remote_name: remote.to_owned(),
            sha256: pin.sha256.clone(),
        }),
        parameters: schema(node),
        parameters_json: mcp::canonical(&pin.input_schema),
    })
}

/// Every MCP server, in name order.
pub(crate) fn lower_mcp_servers(file: &ToolsFile, cx: &mut Cx<'_>) -> Option<Vec<McpServer>> {
    let mut out = Vec::with_capacity(file.mcp_servers.len());
    for (i, (name, spec)) in file.mcp_servers.iter().enumerate() {
        cx.id16(i)?;
        let at = ptr(&["mcp_servers", name]);
        let timeout_ms = match &spec.timeout {
            Some(t) => t.value().ok().copied(),
            None => parse::duration_ms(DEFAULT_MCP_TIMEOUT).ok(),
        };
        let max_response_bytes = match &spec.max_response_bytes {
            Some(s) => s.value().ok().copied(),
            None => Some(DEFAULT_MCP_MAX_RESPONSE_BYTES),
        };
        let http = match (spec.transport, &spec.url) {
            (McpTransportSpec::StreamableHttp, Some(url)) => url_template::parse(url)
                .ok()
                .map(|t| Some((url.clone(), t.origin))),
            (McpTransportSpec::Stdio, None) => Some(None),
            _ => None,
        };
        let headers = secret_headers(&spec.headers);
        let (Some(timeout_ms), Some(max_response_bytes), Some(http), Some(headers)) =
            (timeout_ms, max_response_bytes, http, headers)
        else {
            cx.internal(F, &at);
            return None;
        };
        out.push(McpServer {
            name: name.clone(),
            http,
            url_env: spec.url_env.clone(),
            allow_hosts: spec
                .allow_hosts
                .iter()
                .flatten()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            allow_private: spec.allow_private.unwrap_or(false),
            headers,
            command: spec.command.clone().unwrap_or_default(),
            env: spec.env.clone(),
            timeout_ms,
            max_response_bytes,
            fail_on_drift: spec.on_drift == Some(OnDriftSpec::Fail),
        });
    }
    Some(out)
}

/// Header secrets as IR, sorted by lower-cased name (`None`: a check should have failed).
fn secret_headers(
    headers: &std::collections::BTreeMap<String, crate::spec::SecretSpec>,
) -> Option<Vec<(String, SecretRef)>> {
    let mut out = Vec::with_capacity(headers.len());
    for (name, secret) in headers {
        let secret = match (&secret.env, &secret.file) {
            (Some(env), None) => SecretRef::Env(env.clone()),
            (None, Some(file)) => SecretRef::File(file.clone()),
            _ => return None,
        };
        out.push((name.to_ascii_lowercase(), secret));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Some(out)
}

/// A checked http tool as IR (`None`: a check should have failed).
fn http(spec: &ToolSpec) -> Option<HttpTool> {
    let template = url_template::parse(spec.url.as_deref()?).ok()?;
    let method = spec.method?;
    let timeout_ms = match &spec.timeout {
        Some(t) => *t.value().ok()?,
        None => parse::duration_ms(DEFAULT_TIMEOUT).ok()?,
    };
    let max_response_bytes = match &spec.max_response_bytes {
        Some(s) => *s.value().ok()?,
        None => DEFAULT_MAX_RESPONSE_BYTES,
    };
    let mut headers = Vec::with_capacity(spec.headers.len());
    for (name, secret) in &spec.headers {
        let secret = match (&secret.env, &secret.file) {
            (Some(env), None) => SecretRef::Env(env.clone()),
            (None, Some(file)) => SecretRef::File(file.clone()),
            _ => return None,
        };
        headers.push((name.to_ascii_lowercase(), secret));
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    Some(HttpTool {
        method: method.variant().to_owned(),
        query_arguments: method.query_arguments(),
        origin: template.origin,
        path: template
            .path
            .into_iter()
            .map(|piece| match piece {
                Piece::Literal(text) => (text, false),
                Piece::Arg(name) => (name, true),
            })
            .collect(),
        query: template.query,
        url_env: spec.url_env.clone(),
        allow_hosts: spec
            .allow_hosts
            .iter()
            .flatten()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
        allow_private: spec.allow_private.unwrap_or(false),
        headers,
        timeout_ms,
        max_response_bytes,
    })
}

/// A checked schema node as IR.
fn schema(node: Node) -> ToolSchema {
    match node {
        Node::Object {
            properties,
            required,
            additional,
        } => ToolSchema::Object {
            properties: properties
                .into_iter()
                .map(|(name, node)| (name, schema(node)))
                .collect(),
            required,
            additional,
        },
        Node::String {
            max_length,
            allowed,
        } => ToolSchema::Text {
            max_length,
            allowed,
        },
        Node::Number {
            integer,
            minimum,
            maximum,
        } => ToolSchema::Number {
            integer,
            minimum,
            maximum,
        },
        Node::Boolean => ToolSchema::Boolean,
        Node::Array { items } => ToolSchema::Array {
            items: items.map(|node| Box::new(schema(*node))),
        },
    }
}
