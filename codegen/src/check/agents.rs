//! Checks for agents.yaml and tools.yaml (placeholders until agents and tools
//! ship): agents must name a public model; tool names must be well-formed.
//!
//! Reports only; neither file is emitted beyond counts.

use crate::check::ptr;
use crate::diag::codes;
use crate::diag::suggest;
use crate::diag::{Diagnostic, Diagnostics, FileKind};
use crate::parse;
use crate::spec::Spec;

/// Every agent's `model` is a public model from upstreams.yaml.
pub fn check_agents(spec: &Spec, diags: &mut Diagnostics) {
    let models = || spec.upstreams.models.keys().map(String::as_str);
    for (name, agent) in &spec.agents.agents {
        if !spec.upstreams.models.contains_key(&agent.model) {
            diags.push(
                Diagnostic::error(
                    codes::AGENT_UNKNOWN_MODEL,
                    FileKind::Agents,
                    format!("agent `{name}` references unknown model `{}`", agent.model),
                )
                .at(ptr(&["agents", name, "model"]))
                .label("not a public model in upstreams.yaml")
                .help(format!(
                    "{}public models are {}",
                    suggest::did_you_mean(&agent.model, models()),
                    suggest::list(models())
                )),
            );
        }
    }
}

/// Tool names are non-empty and free of whitespace.
pub fn check_tools(spec: &Spec, diags: &mut Diagnostics) {
    for name in spec.tools.tools.keys() {
        if let Err(why) = parse::name(name) {
            diags.push(
                Diagnostic::error(
                    codes::BAD_TOOL_NAME,
                    FileKind::Tools,
                    format!("tool name {why}"),
                )
                .at_key(ptr(&["tools", name]))
                .label("invalid tool name")
                .help("use a non-empty name without spaces, e.g. `web-search`"),
            );
        }
    }
}
