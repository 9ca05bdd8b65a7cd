//! Checks for agents.yaml (a placeholder until agents ship): every agent names
//! a public model of upstreams.yaml.
//!
//! Reports only; the file is not emitted beyond a count.

use crate::diag::codes;
use crate::diag::ptr;
use crate::diag::suggest::{self, Reference};
use crate::diag::{Diagnostics, FileKind};
use crate::spec::{AgentsFile, UpstreamsFile};

/// Every agents.yaml check; references are checked only when upstreams.yaml loaded.
pub fn check(file: &AgentsFile, upstreams: Option<&UpstreamsFile>, diags: &mut Diagnostics) {
    if let Some(upstreams) = upstreams {
        check_models(file, upstreams, diags);
    }
}

/// Every agent's `model` is a public model from upstreams.yaml.
fn check_models(file: &AgentsFile, upstreams: &UpstreamsFile, diags: &mut Diagnostics) {
    for (name, agent) in &file.agents {
        if upstreams.models.contains_key(&agent.model) {
            continue;
        }
        let from = format!("agent `{name}`");
        let reference = Reference {
            code: codes::AGENT_UNKNOWN_MODEL,
            file: FileKind::Agents,
            from: &from,
            kind: "model",
            defined: "a public model in upstreams.yaml",
            known: "public models",
        };
        diags.push(suggest::unknown_reference(
            &reference,
            ptr(&["agents", name, "model"]),
            &agent.model,
            upstreams.models.keys().map(String::as_str),
        ));
    }
}
