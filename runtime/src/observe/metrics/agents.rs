//! `gateway_agent_runs_total{agent,outcome}` and
//! `gateway_agent_steps_total{agent,kind}`: one atomic slot per compiled
//! agent and label, sized at startup; rendered on scrape (touched series
//! only). Not here: running agents (`agents/`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::render::{escape, header};
use super::zeroed;
use crate::table::{Agent, AgentId};

/// How an agent run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentOutcome {
    Ok = 0,
    StepLimit = 1,
    TokenLimit = 2,
    TimeLimit = 3,
    /// A model call failed (upstream error, quota, ...).
    ModelError = 4,
}

const OUTCOME_LABELS: [&str; OUTCOMES] = [
    "ok",
    "step_limit",
    "token_limit",
    "time_limit",
    "model_error",
];
const OUTCOMES: usize = 5;

/// What a step was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Model = 0,
    Tool = 1,
}

const KIND_LABELS: [&str; KINDS] = ["model", "tool"];
const KINDS: usize = 2;

/// `[agent][outcome]` and `[agent][kind]` counters.
pub(super) struct AgentCounters {
    runs: Box<[AtomicU64]>,
    steps: Box<[AtomicU64]>,
}

impl AgentCounters {
    pub(super) fn new(agents: usize) -> Self {
        Self {
            runs: zeroed(agents * OUTCOMES),
            steps: zeroed(agents * KINDS),
        }
    }

    pub(super) fn run(&self, agent: AgentId, outcome: AgentOutcome) {
        let slot = usize::from(agent.0) * OUTCOMES + outcome as usize;
        if let Some(counter) = self.runs.get(slot) {
            counter.fetch_add(1, Relaxed);
        }
    }

    pub(super) fn step(&self, agent: AgentId, kind: StepKind) {
        let slot = usize::from(agent.0) * KINDS + kind as usize;
        if let Some(counter) = self.steps.get(slot) {
            counter.fetch_add(1, Relaxed);
        }
    }

    pub(super) fn render(&self, agents: &[Agent], out: &mut String) {
        header(
            out,
            "gateway_agent_runs_total",
            "counter",
            "Agent runs by agent and outcome: ok, step_limit, token_limit, time_limit, model_error.",
        );
        render_rows(
            out,
            agents,
            &self.runs,
            ("gateway_agent_runs_total", "outcome"),
            &OUTCOME_LABELS,
        );
        header(
            out,
            "gateway_agent_steps_total",
            "counter",
            "Agent steps by agent and kind: model (a model call), tool (a tool call).",
        );
        render_rows(
            out,
            agents,
            &self.steps,
            ("gateway_agent_steps_total", "kind"),
            &KIND_LABELS,
        );
    }
}

fn render_rows(
    out: &mut String,
    agents: &[Agent],
    counters: &[AtomicU64],
    (name, key): (&str, &str),
    labels: &[&str],
) {
    for (agent, row) in agents.iter().zip(counters.chunks(labels.len())) {
        for (label, counter) in labels.iter().zip(row) {
            let value = counter.load(Relaxed);
            if value > 0 {
                let agent = escape(agent.name);
                let _ = writeln!(out, "{name}{{agent=\"{agent}\",{key}=\"{label}\"}} {value}");
            }
        }
    }
}
