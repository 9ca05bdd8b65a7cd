//! `gateway_tool_invocations_total{tool,outcome}`: one atomic slot per
//! compiled tool and outcome, sized at startup; rendered on scrape (touched
//! series only). Not here: deciding the outcome (`api/tools.rs`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::render::{escape, header};
use super::zeroed;
use crate::table::{Tool, ToolId};

/// What became of one tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolOutcome {
    Ok = 0,
    /// The arguments did not fit the schema (nothing ran).
    InvalidArguments = 1,
    /// The tool ran and failed.
    Failed = 2,
    /// The result was over the cap.
    TooLarge = 3,
    /// The caller may not use the tool (answered as unknown).
    Forbidden = 4,
    /// An http tool's server could not be reached or broke off.
    UpstreamError = 5,
    /// An http tool's call passed its timeout.
    Timeout = 6,
    /// An MCP tool is disabled (its pin drifted).
    Unavailable = 7,
}

const OUTCOME_LABELS: [&str; OUTCOMES] = [
    "ok",
    "invalid_arguments",
    "failed",
    "too_large",
    "forbidden",
    "upstream_error",
    "timeout",
    "unavailable",
];
const OUTCOMES: usize = 8;

impl ToolOutcome {
    /// The `outcome` label (also logged).
    pub fn label(self) -> &'static str {
        OUTCOME_LABELS[self as usize]
    }
}

/// `[tool][outcome]` counters.
pub(super) struct ToolCounters(Box<[AtomicU64]>);

impl ToolCounters {
    pub(super) fn new(tools: usize) -> Self {
        Self(zeroed(tools * OUTCOMES))
    }

    pub(super) fn record(&self, tool: ToolId, outcome: ToolOutcome) {
        let slot = usize::from(tool.0) * OUTCOMES + outcome as usize;
        if let Some(counter) = self.0.get(slot) {
            counter.fetch_add(1, Relaxed);
        }
    }

    pub(super) fn render(&self, tools: &[Tool], out: &mut String) {
        header(
            out,
            "gateway_tool_invocations_total",
            "counter",
            "Tool calls by tool and outcome: ok, invalid_arguments, failed, too_large, forbidden, upstream_error, timeout, unavailable.",
        );
        for (tool, row) in tools.iter().zip(self.0.chunks(OUTCOMES)) {
            for (label, counter) in OUTCOME_LABELS.iter().zip(row) {
                let value = counter.load(Relaxed);
                if value > 0 {
                    let _ = writeln!(
                        out,
                        "gateway_tool_invocations_total{{tool=\"{}\",outcome=\"{label}\"}} {value}",
                        escape(tool.name)
                    );
                }
            }
        }
    }
}
