//! Lowering agents.yaml: agents sorted by name (dense ids), each with its
//! model and tools as ids and its bounds resolved (the agent's own, else
//! `defaults`, else the documented default).

use crate::diag::FileKind::Agents as F;
use crate::diag::ptr;
use crate::ir::{Agent, Model};
use crate::lower::Cx;
use crate::spec::agents::{AgentKindSpec, DEFAULT_MAX_STEPS, DEFAULT_MAX_TIME, DEFAULT_MAX_TOKENS};
use crate::spec::{AgentsFile, ToolsFile};

/// Every agent, in name order.
pub(crate) fn lower(
    file: &AgentsFile,
    models: &[Model],
    tools: &ToolsFile,
    cx: &mut Cx<'_>,
) -> Option<Vec<Agent>> {
    let defaults = &file.defaults;
    let default_time = match &defaults.max_time {
        Some(time) => cx.value(F, "/defaults/max_time", time)?,
        None => crate::parse::duration_ms(DEFAULT_MAX_TIME).ok()?,
    };
    let public = crate::spec::tools::public_tools(tools);
    let mut agents = Vec::with_capacity(file.agents.len());
    for (i, (name, spec)) in file.agents.iter().enumerate() {
        cx.id16(i)?;
        let at = ptr(&["agents", name]);
        let Some(model) = models.iter().find(|m| m.name == spec.model) else {
            cx.internal(F, &format!("{at}/model"));
            return None;
        };
        let mut ids = Vec::with_capacity(spec.tools.len());
        for tool in &spec.tools {
            // Tool ids index the registry: every public name, sorted.
            let Some(id) = public.iter().position(|(t, _)| t == tool) else {
                cx.internal(F, &format!("{at}/tools"));
                return None;
            };
            ids.push(cx.id16(id)?);
        }
        let max_time_ms = match &spec.max_time {
            Some(time) => cx.value(F, &format!("{at}/max_time"), time)?,
            None => default_time,
        };
        agents.push(Agent {
            name: name.clone(),
            description: spec.description.clone().unwrap_or_default(),
            model: model.id,
            system: spec.system.clone(),
            tools: ids,
            max_steps: spec
                .max_steps
                .or(defaults.max_steps)
                .unwrap_or(DEFAULT_MAX_STEPS),
            max_time_ms,
            max_tokens: spec
                .max_tokens
                .or(defaults.max_tokens)
                .unwrap_or(DEFAULT_MAX_TOKENS),
            temperature: spec.temperature,
            sdk: match spec.kind {
                AgentKindSpec::Declarative => None,
                AgentKindSpec::Sdk => {
                    let path = spec.path.as_deref().and_then(|p| p.split_once("::"));
                    let Some((module, ty)) = path else {
                        cx.internal(F, &format!("{at}/path"));
                        return None;
                    };
                    Some((module.to_owned(), ty.to_owned()))
                }
            },
        });
    }
    Some(agents)
}
