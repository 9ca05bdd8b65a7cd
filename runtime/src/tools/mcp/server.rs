//! One MCP server's task: it owns the current connection (a session over
//! streamable HTTP, or a child over stdio), connects on demand, and verifies
//! every (re)connection with `tools/list` against the pins before any
//! `tools/call` uses it. Callers get the verified link over a channel and
//! call concurrently; drift and reachability land in the shared flags.
//!
//! Names `table` and `tools` (through `super`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::http::{Endpoint, HttpLink};
use super::stdio::StdioLink;
use super::{Flags, LinkError, ServerReport, ServerState, ToolReport, ToolState, canonical, rpc};
use crate::table::{McpServer, McpTool, McpTransport, ToolId};

/// Most `tools/list` pages read per verification.
const MAX_PAGES: usize = 32;

/// A connected, verified link.
pub enum Link {
    Http(Box<HttpLink>),
    Stdio(StdioLink),
}

impl Link {
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, LinkError> {
        match self {
            Self::Http(link) => link.request(1, method, params).await,
            Self::Stdio(link) => link.request(method, params).await,
        }
    }
}

/// A pinned tool of this server: its id, public name and pin.
pub type Pinned = (ToolId, &'static str, &'static McpTool);

/// A link and its generation (to ask for a fresh one after `Gone`).
pub type Current = (u64, Arc<Link>);

pub enum Msg {
    /// The verified link (a new one if `stale` is the current generation).
    Link {
        stale: Option<u64>,
        reply: oneshot::Sender<Result<Current, String>>,
    },
    /// Reconnect and verify now.
    Refresh {
        reply: oneshot::Sender<ServerReport>,
    },
}

/// What the task owns.
pub struct Task {
    pub server: &'static McpServer,
    pub endpoint: Option<Endpoint>,
    /// This server's pinned tools with their ids and public names.
    pub tools: Vec<Pinned>,
    pub flags: Arc<Flags>,
    pub current: Option<Current>,
    pub generation: u64,
}

impl Task {
    pub async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Link { stale, reply } => {
                    let fresh = match (&self.current, stale) {
                        (Some(current), stale) if stale != Some(current.0) => Ok(current.clone()),
                        _ => self.reconnect().await.1,
                    };
                    let _ = reply.send(fresh);
                }
                Msg::Refresh { reply } => {
                    let (report, _) = self.reconnect().await;
                    let _ = reply.send(report);
                }
            }
        }
    }

    /// Connects, verifies and records the outcome in the flags and the log.
    async fn reconnect(&mut self) -> (ServerReport, Result<Current, String>) {
        self.current = None;
        let limit = Duration::from_millis(self.server.timeout_ms);
        let attempt = tokio::time::timeout(limit, self.connect_and_list()).await;
        let listed = match attempt {
            Ok(Ok(listed)) => Ok(listed),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {}ms", self.server.timeout_ms)),
        };
        let (link, listed) = match listed {
            Ok(pair) => pair,
            Err(why) => {
                self.flags.set_up(self.server.index, false);
                tracing::warn!(event = "mcp.unreachable", server = self.server.name, reason = %why);
                let tools = self
                    .tools
                    .iter()
                    .map(|&(id, name, pin)| ToolReport {
                        name,
                        remote_name: pin.remote_name,
                        state: if self.flags.enabled(id) {
                            ToolState::Enabled
                        } else {
                            ToolState::Drift
                        },
                    })
                    .collect();
                return (self.report(ServerState::Unreachable, tools), Err(why));
            }
        };
        self.flags.set_up(self.server.index, true);
        let tools = self.compare(&listed);
        let state = if tools.iter().all(|t| t.state == ToolState::Enabled) {
            ServerState::Ok
        } else {
            ServerState::Drift
        };
        self.generation += 1;
        let current = (self.generation, Arc::new(link));
        self.current = Some(current.clone());
        (self.report(state, tools), Ok(current))
    }

    pub async fn connect_and_list(&self) -> Result<(Link, Vec<Value>), LinkError> {
        let link = match (&self.server.transport, &self.endpoint) {
            (McpTransport::StreamableHttp { .. }, Some(endpoint)) => {
                Link::Http(Box::new(endpoint.connect().await?.0))
            }
            (McpTransport::Stdio { command, env }, _) => {
                let link = StdioLink::spawn(
                    self.server.name,
                    command,
                    env,
                    self.server.max_response_bytes,
                )?;
                let answer = link.request("initialize", rpc::initialize_params()).await?;
                rpc::result(answer).map_err(LinkError::Protocol)?;
                link.notify("notifications/initialized").await?;
                Link::Stdio(link)
            }
            _ => {
                return Err(LinkError::Unreachable(
                    "the server is not configured".to_owned(),
                ));
            }
        };
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(c) => json!({ "cursor": c }),
                None => json!({}),
            };
            let answer = link.request("tools/list", params).await?;
            let mut page = rpc::result(answer).map_err(LinkError::Protocol)?;
            if let Some(Value::Array(listed)) = page.get_mut("tools").map(Value::take) {
                tools.extend(listed);
            }
            cursor = page
                .get("nextCursor")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        Ok((link, tools))
    }

    /// Each pin against the listed tools; sets the enabled flags, logs drift.
    fn compare(&self, listed: &[Value]) -> Vec<ToolReport> {
        let mut reports = Vec::with_capacity(self.tools.len());
        for &(id, public, pin) in &self.tools {
            let found = listed
                .iter()
                .find(|t| t.get("name").and_then(Value::as_str) == Some(pin.remote_name));
            let actual =
                found.map(|t| canonical::sha256(t.get("inputSchema").unwrap_or(&Value::Null)));
            let state = match &actual {
                Some(hash) if hash == pin.sha256 => ToolState::Enabled,
                Some(_) => ToolState::Drift,
                None => ToolState::Missing,
            };
            if state != ToolState::Enabled {
                tracing::warn!(
                    event = "mcp.drift",
                    server = self.server.name,
                    tool = public,
                    remote_name = pin.remote_name,
                    expected = pin.sha256,
                    actual = actual.as_deref().unwrap_or("missing"),
                    "pinned MCP tool changed; it is disabled until it is re-pinned or matches again"
                );
            }
            self.flags.set_enabled(id, state == ToolState::Enabled);
            reports.push(ToolReport {
                name: public,
                remote_name: pin.remote_name,
                state,
            });
        }
        let extra: Vec<&str> = listed
            .iter()
            .filter_map(|t| t.get("name").and_then(Value::as_str))
            .filter(|name| {
                !self
                    .tools
                    .iter()
                    .any(|(_, _, pin)| pin.remote_name == *name)
            })
            .collect();
        if !extra.is_empty() && self.generation == 0 {
            tracing::info!(event = "mcp.unpinned_tools", server = self.server.name, tools = ?extra);
        }
        reports
    }

    fn report(&self, state: ServerState, tools: Vec<ToolReport>) -> ServerReport {
        ServerReport {
            server: self.server,
            state,
            tools,
        }
    }
}
