//! `gateway_mcp_requests_total{method,outcome}`: one atomic slot per known
//! MCP method (plus `other`) and outcome, a fixed label set. Not here:
//! deciding the method and outcome (`api/mcp.rs`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::render::header;

/// The JSON-RPC method of one `/mcp` message, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpMethod {
    Initialize = 0,
    Ping = 1,
    ToolsList = 2,
    ToolsCall = 3,
    /// Any `notifications/*` message (acknowledged, not acted on).
    Notification = 4,
    /// Anything else, including unparsable messages and batches.
    Other = 5,
    /// `server/discover` (2026-07-28).
    Discover = 6,
}

const METHOD_LABELS: [&str; METHODS] = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "notification",
    "other",
    "server/discover",
];
const METHODS: usize = 7;

/// What became of one `/mcp` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpOutcome {
    Ok = 0,
    /// `tools/call` answered with `isError: true` (the tool failed or its
    /// arguments did not fit the schema).
    ToolError = 1,
    /// A JSON-RPC error answer (unknown method or tool, bad params, ...).
    Error = 2,
    /// Refused at the HTTP level (unparsable, not JSON-RPC, batch,
    /// unsupported protocol version, forbidden origin).
    Rejected = 3,
}

const OUTCOME_LABELS: [&str; OUTCOMES] = ["ok", "tool_error", "error", "rejected"];
const OUTCOMES: usize = 4;

/// `[method][outcome]` counters.
pub(super) struct McpCounters([AtomicU64; METHODS * OUTCOMES]);

impl Default for McpCounters {
    fn default() -> Self {
        Self(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

impl McpCounters {
    pub(super) fn record(&self, method: McpMethod, outcome: McpOutcome) {
        let slot = method as usize * OUTCOMES + outcome as usize;
        if let Some(counter) = self.0.get(slot) {
            counter.fetch_add(1, Relaxed);
        }
    }

    pub(super) fn render(&self, out: &mut String) {
        header(
            out,
            "gateway_mcp_requests_total",
            "counter",
            "Messages on /mcp by JSON-RPC method and outcome: ok, tool_error, error, rejected.",
        );
        for (method, row) in METHOD_LABELS.iter().zip(self.0.chunks(OUTCOMES)) {
            for (outcome, counter) in OUTCOME_LABELS.iter().zip(row) {
                let value = counter.load(Relaxed);
                if value > 0 {
                    let _ = writeln!(
                        out,
                        "gateway_mcp_requests_total{{method=\"{method}\",outcome=\"{outcome}\"}} {value}"
                    );
                }
            }
        }
    }
}
