//! `kind: mcp` tools: tools imported from upstream MCP servers (tools.yaml
//! `mcp_servers`), pinned by name and input-schema hash. One task per server
//! (`server.rs`) owns the connection and verifies every (re)connection with
//! `tools/list` before any `tools/call`; a drifted tool is disabled (an
//! atomic flag per tool id), an unreachable server is retried on the next
//! call. Transports: streamable HTTP (`http.rs`) and stdio (`stdio.rs`).
//!
//! Names `table`, `secrets`, the upstream client constructor and the rest
//! of `tools`. Not here: the endpoints (`api/`), who may call a tool.

mod canonical;
mod http;
mod rpc;
mod server;
mod stdio;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::ToolError;
use crate::table::{McpServer, McpTool, McpTransport, OnDrift, Tool, ToolId, ToolKind};

/// Why a link failed.
#[derive(Debug)]
pub enum LinkError {
    /// The session expired (HTTP 404) or the child died: reconnect once.
    Gone,
    Unreachable(String),
    TooLarge,
    Protocol(String),
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Gone => f.write_str("the session ended"),
            Self::Unreachable(why) | Self::Protocol(why) => f.write_str(why),
            Self::TooLarge => f.write_str("the answer is larger than `max_response_bytes`"),
        }
    }
}

/// The enabled flag of every tool (by id; non-MCP tools stay enabled) and
/// the up flag of every server (by index), shared with the server tasks.
pub struct Flags {
    enabled: Box<[AtomicBool]>,
    up: Box<[AtomicBool]>,
}

impl Flags {
    fn enabled(&self, id: ToolId) -> bool {
        self.enabled
            .get(usize::from(id.0))
            .is_none_or(|f| f.load(Ordering::Acquire))
    }
    fn set_enabled(&self, id: ToolId, on: bool) {
        if let Some(flag) = self.enabled.get(usize::from(id.0)) {
            flag.store(on, Ordering::Release);
        }
    }
    fn set_up(&self, server: u16, on: bool) {
        if let Some(flag) = self.up.get(usize::from(server)) {
            flag.store(on, Ordering::Release);
        }
    }
}

/// A server's state after a (re)connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    Ok,
    Drift,
    Unreachable,
}

/// A pinned tool's state after a (re)connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolState {
    Enabled,
    Drift,
    Missing,
}

/// The outcome of verifying one server.
pub struct ServerReport {
    pub server: &'static McpServer,
    pub state: ServerState,
    pub tools: Vec<ToolReport>,
}

pub struct ToolReport {
    pub name: &'static str,
    pub remote_name: &'static str,
    pub state: ToolState,
}

impl ServerReport {
    /// `{"name","transport","state","tools":[{"name","remote_name","state"}]}`.
    pub fn json(&self) -> Value {
        let state = match self.state {
            ServerState::Ok => "ok",
            ServerState::Drift => "drift",
            ServerState::Unreachable => "unreachable",
        };
        let tools: Vec<Value> = self
            .tools
            .iter()
            .map(|t| {
                let state = match t.state {
                    ToolState::Enabled => "enabled",
                    ToolState::Drift => "drift",
                    ToolState::Missing => "missing",
                };
                json!({"name": t.name, "remote_name": t.remote_name, "state": state})
            })
            .collect();
        json!({"name": self.server.name, "transport": transport(self.server), "state": state, "tools": tools})
    }

    /// Drift on a server with `on_drift: fail`.
    pub fn fatal(&self) -> bool {
        self.state == ServerState::Drift && self.server.on_drift == OnDrift::Fail
    }
}

fn transport(server: &McpServer) -> &'static str {
    match server.transport {
        McpTransport::StreamableHttp { .. } => "streamable_http",
        McpTransport::Stdio { .. } => "stdio",
    }
}

/// Every MCP server's task handle and the shared flags.
pub struct McpTools {
    servers: Vec<(&'static McpServer, mpsc::Sender<server::Msg>)>,
    flags: Arc<Flags>,
}

impl McpTools {
    /// Resolves every server's endpoint and starts its task (no connection
    /// yet: see [`McpTools::refresh`]). Needs a tokio runtime when any server exists.
    pub fn new(
        tools: &'static [Tool],
        mcp_servers: &'static [McpServer],
        lookup_env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let mut found: Vec<(&'static McpServer, Vec<server::Pinned>)> =
            mcp_servers.iter().map(|s| (s, Vec::new())).collect();
        for tool in tools {
            let ToolKind::Mcp(mcp) = tool.kind else {
                continue;
            };
            if let Some((_, list)) = found.get_mut(usize::from(mcp.server.index)) {
                list.push((tool.id, tool.name, mcp));
            }
        }
        let flags = Arc::new(Flags {
            enabled: tools.iter().map(|_| AtomicBool::new(true)).collect(),
            up: mcp_servers.iter().map(|_| AtomicBool::new(false)).collect(),
        });
        let mut problems = Vec::new();
        let mut servers = Vec::with_capacity(found.len());
        for (server, tools) in found {
            let endpoint = match server.transport {
                McpTransport::StreamableHttp { .. } => {
                    match http::Endpoint::new(
                        &server.transport,
                        server.max_response_bytes,
                        lookup_env,
                    ) {
                        Ok(endpoint) => Some(endpoint),
                        Err(why) => {
                            problems.push(format!("MCP server `{}`: {why}", server.name));
                            continue;
                        }
                    }
                }
                McpTransport::Stdio { .. } => None,
            };
            let (tx, rx) = mpsc::channel(64);
            let task = server::Task {
                server,
                endpoint,
                tools,
                flags: Arc::clone(&flags),
                current: None,
                generation: 0,
            };
            tokio::spawn(task.run(rx));
            servers.push((server, tx));
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        Ok(Self { servers, flags })
    }

    /// Whether `tool` may be listed and called (false: a drifted MCP tool).
    pub fn is_enabled(&self, tool: ToolId) -> bool {
        self.flags.enabled(tool)
    }

    /// Reconnects and verifies every server now (concurrently; each bounded by its timeout).
    pub async fn refresh(&self) -> Vec<ServerReport> {
        let mut waiting = Vec::with_capacity(self.servers.len());
        for (server, tx) in &self.servers {
            let (reply, answer) = oneshot::channel();
            let sent = tx.send(server::Msg::Refresh { reply }).await.is_ok();
            waiting.push((*server, sent.then_some(answer)));
        }
        let mut reports = Vec::with_capacity(waiting.len());
        for (server, answer) in waiting {
            let report = match answer {
                Some(answer) => answer.await.ok(),
                None => None,
            };
            reports.push(report.unwrap_or(ServerReport {
                server,
                state: ServerState::Unreachable,
                tools: Vec::new(),
            }));
        }
        reports
    }

    /// Startup: verify every server; `Err` names each `on_drift: fail` server that drifted.
    pub async fn start(&self) -> Result<(), String> {
        let fatal: Vec<String> = self
            .refresh()
            .await
            .iter()
            .filter(|r| r.fatal())
            .map(|r| {
                let tools: Vec<String> = r
                    .tools
                    .iter()
                    .filter(|t| t.state != ToolState::Enabled)
                    .map(|t| format!("`{}`", t.remote_name))
                    .collect();
                format!(
                    "MCP server `{}` (on_drift: fail) drifted: {} no longer match their pins (tools.yaml `mcp_servers.{}.tools`); re-pin them (`gateway mcp-pin {}` prints the block) or fix the server",
                    r.server.name,
                    tools.join(", "),
                    r.server.name,
                    r.server.name
                )
            })
            .collect();
        if fatal.is_empty() {
            Ok(())
        } else {
            Err(fatal.join("; "))
        }
    }

    /// One `tools/call` of pinned tool `id` (arguments already validated).
    pub async fn call(
        &self,
        id: ToolId,
        mcp: &'static McpTool,
        arguments: &Value,
    ) -> Result<Value, ToolError> {
        let server = mcp.server;
        let limit = Duration::from_millis(server.timeout_ms);
        tokio::time::timeout(limit, self.call_within(id, mcp, arguments))
            .await
            .map_err(|_| ToolError::Timeout(limit))?
    }

    async fn call_within(
        &self,
        id: ToolId,
        mcp: &'static McpTool,
        arguments: &Value,
    ) -> Result<Value, ToolError> {
        let Some((_, tx)) = self
            .servers
            .iter()
            .find(|(s, _)| s.index == mcp.server.index)
        else {
            return Err(ToolError::Unreachable(
                "the MCP server is not configured".to_owned(),
            ));
        };
        let params = json!({"name": mcp.remote_name, "arguments": arguments});
        let mut stale = None;
        for _ in 0..2 {
            if !self.flags.enabled(id) {
                return Err(unavailable(mcp));
            }
            let (generation, link) = link(tx, stale).await.map_err(ToolError::Unreachable)?;
            if !self.flags.enabled(id) {
                return Err(unavailable(mcp));
            }
            match link.request("tools/call", params.clone()).await {
                Err(LinkError::Gone) => {
                    tracing::info!(
                        event = "mcp.session_ended",
                        server = mcp.server.name,
                        "reconnecting once"
                    );
                    stale = Some(generation);
                }
                Err(LinkError::TooLarge) => return Err(ToolError::TooLarge),
                Err(LinkError::Protocol(why)) => return Err(ToolError::Failed(why)),
                Err(LinkError::Unreachable(why)) => return Err(ToolError::Unreachable(why)),
                Ok(answer) => {
                    let result = rpc::result(answer).map_err(ToolError::Failed)?;
                    return rpc::call_result(result);
                }
            }
        }
        Err(ToolError::Unreachable(
            "the MCP session ended twice in a row".to_owned(),
        ))
    }

    /// `gateway_mcp_server_up{server}` and `gateway_tool_enabled{tool}` (MCP tools only).
    pub fn render_metrics(&self, tools: &[Tool], out: &mut String) {
        if self.servers.is_empty() {
            return;
        }
        out.push_str("# HELP gateway_mcp_server_up Whether the last connection to the MCP server succeeded (1) or not (0).\n# TYPE gateway_mcp_server_up gauge\n");
        for (server, _) in &self.servers {
            let up = self
                .flags
                .up
                .get(usize::from(server.index))
                .is_some_and(|f| f.load(Ordering::Acquire));
            let _ = writeln!(
                out,
                "gateway_mcp_server_up{{server=\"{}\"}} {}",
                server.name,
                u8::from(up)
            );
        }
        out.push_str("# HELP gateway_tool_enabled Whether the MCP tool may be called (0: its pin drifted).\n# TYPE gateway_tool_enabled gauge\n");
        for tool in tools.iter().filter(|t| matches!(t.kind, ToolKind::Mcp(_))) {
            let on = u8::from(self.flags.enabled(tool.id));
            let _ = writeln!(out, "gateway_tool_enabled{{tool=\"{}\"}} {on}", tool.name);
        }
    }
}

/// The verified link from the server's task.
async fn link(
    tx: &mpsc::Sender<server::Msg>,
    stale: Option<u64>,
) -> Result<server::Current, String> {
    let (reply, answer) = oneshot::channel();
    tx.send(server::Msg::Link { stale, reply })
        .await
        .map_err(|_| "the MCP server's task stopped".to_owned())?;
    answer
        .await
        .map_err(|_| "the MCP server's task stopped".to_owned())?
}

fn unavailable(mcp: &McpTool) -> ToolError {
    ToolError::Unavailable(format!(
        "MCP tool `{}` of server `{}` no longer matches its pin; re-pin it in tools.yaml or fix the server and POST /tools/refresh",
        mcp.remote_name, mcp.server.name
    ))
}

/// `gateway mcp-pin`: connects to configured server `name`, lists its tools
/// and renders the `tools:` block of tools.yaml (JSON values are YAML flow
/// values), each with its schema's hash.
pub async fn pin_block(
    mcp_servers: &'static [McpServer],
    name: &str,
    lookup_env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let server = mcp_servers
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("no MCP server `{name}` in the compiled tools.yaml"))?;
    let endpoint = match server.transport {
        McpTransport::StreamableHttp { .. } => Some(http::Endpoint::new(
            &server.transport,
            server.max_response_bytes,
            lookup_env,
        )?),
        McpTransport::Stdio { .. } => None,
    };
    let task = server::Task {
        server,
        endpoint,
        tools: Vec::new(),
        flags: Arc::new(Flags {
            enabled: Box::default(),
            up: Box::default(),
        }),
        current: None,
        generation: 0,
    };
    let limit = Duration::from_millis(server.timeout_ms);
    let (_, listed) = tokio::time::timeout(limit, task.connect_and_list())
        .await
        .map_err(|_| {
            format!(
                "MCP server `{name}` did not answer within {}ms",
                server.timeout_ms
            )
        })?
        .map_err(|e| format!("MCP server `{name}`: {e}"))?;
    Ok(render_pins(&listed))
}

/// The `tools:` block for `listed` (`tools/list` entries).
fn render_pins(listed: &[Value]) -> String {
    let mut out = String::from("    tools:\n");
    for tool in listed {
        let Some(name) = tool.get("name").and_then(Value::as_str) else {
            continue;
        };
        let schema = tool.get("inputSchema").unwrap_or(&Value::Null);
        let _ = writeln!(out, "      {}:", Value::String(name.to_owned()));
        let _ = writeln!(out, "        sha256: {}", canonical::sha256(schema));
        let _ = writeln!(
            out,
            "        input_schema: {}",
            canonical::canonical(schema)
        );
        if let Some(description) = tool.get("description").and_then(Value::as_str) {
            let _ = writeln!(
                out,
                "        description: {}",
                Value::String(description.to_owned())
            );
        }
    }
    out
}
