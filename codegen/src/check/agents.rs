//! Checks for agents.yaml: names, every agent's model (a public model that
//! serves chat completions and, when the agent has tools, can call them),
//! its tools (each defined in tools.yaml) and its bounds (here and under
//! `defaults`); and every `agents` pattern of security.yaml matches an agent.
//!
//! Reports only; `lower/agents.rs` builds the table once these passed.

use crate::diag::codes;
use crate::diag::ptr;
use crate::diag::suggest::{self, Reference};
use crate::diag::{Diagnostic, Diagnostics, FileKind};
use crate::parse::glob;
use crate::spec::agents::{
    AgentKindSpec, MAX_STEPS_CEILING, MAX_TIME_CEILING_MS, MAX_TOKENS_CEILING,
};
use crate::spec::{AgentsFile, DurationSpec, EndpointSpec, SecurityFile, ToolsFile, UpstreamsFile};

/// Every agents.yaml check; references are checked only when their file loaded.
pub fn check(
    file: &AgentsFile,
    (upstreams, tools): (Option<&UpstreamsFile>, Option<&ToolsFile>),
    security: Option<&SecurityFile>,
    diags: &mut Diagnostics,
) {
    check_names(file, diags);
    check_kind_keys(file, diags);
    let d = &file.defaults;
    check_bounds(
        &["defaults"],
        (d.max_steps, d.max_time.as_ref(), d.max_tokens),
        None,
        diags,
    );
    for (name, agent) in &file.agents {
        let at = ["agents", name.as_str()];
        let bounds = (agent.max_steps, agent.max_time.as_ref(), agent.max_tokens);
        check_bounds(&at, bounds, agent.temperature, diags);
    }
    if let Some(upstreams) = upstreams {
        check_models(file, upstreams, diags);
    }
    if let Some(tools) = tools {
        check_tools(file, tools, diags);
    }
    if let Some(security) = security {
        check_patterns(file, security, diags);
        warn_unreachable(file, security, diags);
    }
}

/// GW0611: an agent no API key may run (its `agents` list within its
/// team's), like GW0610 for tools.
fn warn_unreachable(file: &AgentsFile, security: &SecurityFile, diags: &mut Diagnostics) {
    let names: Vec<&str> = file.agents.keys().map(String::as_str).collect();
    fn key(k: &crate::spec::ApiKeySpec) -> Option<&[String]> {
        k.agents.as_deref()
    }
    fn team(t: &crate::spec::TeamSpec) -> Option<&[String]> {
        t.agents.as_deref()
    }
    let Some(any) = super::tools::reached_by_keys(security, &names, (key, team)) else {
        return;
    };
    for (name, _) in names.iter().zip(&any).filter(|(_, a)| !**a) {
        diags.push(
            Diagnostic::new(
                codes::UNREACHABLE_AGENT,
                FileKind::Agents,
                format!("no principal may run agent `{name}`"),
            )
            .at_key(ptr(&["agents", name]))
            .label("no API key's `agents` (within its team's) matches")
            .help(
                "name it in an API key's or team's `agents` in security.yaml, or remove the agent",
            ),
        );
    }
}

/// Each `agents` pattern of a team or API key matches some agent.
fn check_patterns(file: &AgentsFile, security: &SecurityFile, diags: &mut Diagnostics) {
    let auth = &security.auth;
    let names: Vec<&str> = file.agents.keys().map(String::as_str).collect();
    let teams = auth.teams.iter().filter_map(|(name, t)| {
        Some((
            ptr(&["auth", "teams", name, "agents"]),
            t.agents.as_deref()?,
        ))
    });
    let keys =
        auth.api_keys.iter().enumerate().filter_map(|(i, k)| {
            Some((format!("/auth/api_keys/{i}/agents"), k.agents.as_deref()?))
        });
    for (at, list) in teams.chain(keys) {
        for (j, pattern) in list.iter().enumerate() {
            if glob::reach(std::slice::from_ref(pattern), &names).contains(&true) {
                continue;
            }
            let known = format!("agents are {}", suggest::list(names.iter().copied()));
            let help = if glob::is_glob(pattern) {
                format!("{known} (`*` is any run of characters, `?` one character)")
            } else {
                let close = suggest::did_you_mean(pattern, names.iter().copied());
                format!("{close}{known}")
            };
            diags.push(
                Diagnostic::new(
                    codes::UNMATCHED_AGENT_PATTERN,
                    FileKind::Security,
                    format!("agent pattern `{pattern}` matches no agent"),
                )
                .at(format!("{at}/{j}"))
                .label("no agent in agents.yaml matches")
                .help(help),
            );
        }
    }
}

/// Agent names: at most 64 of `A-Z a-z 0-9 _ -` (the name is part of a model id).
fn check_names(file: &AgentsFile, diags: &mut Diagnostics) {
    for name in file.agents.keys() {
        let why = if name.is_empty() {
            "is empty"
        } else if name.chars().count() > 64 {
            "is longer than 64 characters"
        } else if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            "holds a character other than `A-Z`, `a-z`, `0-9`, `_` and `-`"
        } else {
            continue;
        };
        diags.push(
            Diagnostic::new(
                codes::BAD_AGENT_NAME,
                FileKind::Agents,
                format!("agent name `{name}` {why}"),
            )
            .at_key(ptr(&["agents", name]))
            .label("invalid agent name")
            .help("use up to 64 of `A-Z`, `a-z`, `0-9`, `_`, `-`, e.g. `support_bot`; clients call it as `agent/<name>`"),
        );
    }
}

/// Each agent sets only its kind's keys: `path` for `sdk` (required);
/// `system` and `temperature` for `declarative`.
fn check_kind_keys(file: &AgentsFile, diags: &mut Diagnostics) {
    for (name, agent) in &file.agents {
        let sdk = agent.kind == AgentKindSpec::Sdk;
        let mut bad = |key: &str, what: String, help: &str| {
            let at = ptr(&["agents", name, key]);
            let diagnostic = Diagnostic::new(codes::AGENT_KIND_KEYS, FileKind::Agents, what);
            let diagnostic = if key == "kind" {
                diagnostic.at(ptr(&["agents", name]))
            } else {
                diagnostic.at_key(at)
            };
            diags.push(diagnostic.label("not for this kind").help(help.to_owned()));
        };
        if sdk && agent.path.is_none() {
            let what = format!("SDK agent `{name}` has no `path`");
            bad(
                "kind",
                what,
                "add `path: module::Type` naming the type in `src/agents/<module>.rs`, or remove `kind: sdk`",
            );
        }
        if !sdk && agent.path.is_some() {
            let what = format!("declarative agent `{name}` sets `path`");
            bad(
                "path",
                what,
                "add `kind: sdk` to run the Rust type, or remove `path`",
            );
        }
        for (key, set) in [
            ("system", agent.system.is_some()),
            ("temperature", agent.temperature.is_some()),
        ] {
            if sdk && set {
                let what =
                    format!("SDK agent `{name}` sets `{key}`, which only declarative agents use");
                bad(
                    key,
                    what,
                    "remove it: the SDK agent's type decides what it sends",
                );
            }
        }
    }
}

/// `max_steps`, `max_time`, `max_tokens` and `temperature` within range.
fn check_bounds(
    at: &[&str],
    (steps, time, tokens): (Option<u32>, Option<&DurationSpec>, Option<u64>),
    temperature: Option<f64>,
    diags: &mut Diagnostics,
) {
    let mut bad = |key: &str, what: String, help: &str| {
        let mut path = at.to_vec();
        path.push(key);
        diags.push(
            Diagnostic::new(codes::AGENT_BOUND, FileKind::Agents, what)
                .at(ptr(&path))
                .label("out of range")
                .help(help.to_owned()),
        );
    };
    if let Some(steps) = steps.filter(|s| *s == 0 || *s > MAX_STEPS_CEILING) {
        let what = format!("`max_steps` is {steps}; it must be 1..={MAX_STEPS_CEILING}");
        bad(
            "max_steps",
            what,
            "set `max_steps` between 1 and 100, e.g. `8`",
        );
    }
    // A duration that does not parse was reported when the file was read.
    if let Some(&ms) = time.and_then(|t| t.value().ok())
        && (ms == 0 || ms > MAX_TIME_CEILING_MS)
    {
        let what = format!("`max_time` is {ms}ms; it must be above zero and at most 1h");
        bad(
            "max_time",
            what,
            "set `max_time` between `1s` and `1h`, e.g. `60s`",
        );
    }
    if let Some(tokens) = tokens.filter(|t| *t == 0 || *t > MAX_TOKENS_CEILING) {
        let what = format!("`max_tokens` is {tokens}; it must be 1..={MAX_TOKENS_CEILING}");
        bad(
            "max_tokens",
            what,
            "set `max_tokens` between 1 and 10000000, e.g. `20000`",
        );
    }
    if let Some(t) = temperature.filter(|t| !(0.0..=2.0).contains(t)) {
        let what = format!("`temperature` is {t}; it must be 0..=2");
        bad(
            "temperature",
            what,
            "set `temperature` between 0 and 2, or leave it out",
        );
    }
}

/// Every agent's `model` is a public model from upstreams.yaml that serves
/// chat completions and, when the agent has tools, can call them.
fn check_models(file: &AgentsFile, upstreams: &UpstreamsFile, diags: &mut Diagnostics) {
    for (name, agent) in &file.agents {
        let Some(model) = upstreams.models.get(&agent.model) else {
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
            continue;
        };
        let chat = model
            .endpoints
            .as_ref()
            .is_none_or(|e| e.contains(&EndpointSpec::ChatCompletions));
        let why = if !chat {
            "does not serve `chat_completions`, which the agent loop speaks"
        } else if model.tool_calls == Some(false)
            && !agent.tools.is_empty()
            && agent.kind == AgentKindSpec::Declarative
        {
            "cannot call tools (`tool_calls: false` in upstreams.yaml)"
        } else {
            continue;
        };
        let capable: Vec<&str> = upstreams
            .models
            .iter()
            .filter(|(_, m)| {
                m.tool_calls != Some(false)
                    && m.endpoints
                        .as_ref()
                        .is_none_or(|e| e.contains(&EndpointSpec::ChatCompletions))
            })
            .map(|(n, _)| n.as_str())
            .collect();
        diags.push(
            Diagnostic::new(
                codes::AGENT_MODEL_NO_TOOLS,
                FileKind::Agents,
                format!("agent `{name}` uses model `{}`, which {why}", agent.model),
            )
            .at(ptr(&["agents", name, "model"]))
            .label("this model cannot run the agent")
            .help(format!(
                "pick a model that serves `chat_completions` and calls tools: {}",
                suggest::list(capable)
            )),
        );
    }
}

/// Every tool an agent names is a public tool name of tools.yaml: a local
/// tool, or an MCP tool under its public name (`<server>_<name>` when it
/// collides).
fn check_tools(file: &AgentsFile, tools: &ToolsFile, diags: &mut Diagnostics) {
    let public = crate::spec::tools::public_tools(tools);
    for (name, agent) in &file.agents {
        for (i, tool) in agent.tools.iter().enumerate() {
            if public.iter().any(|(known, _)| known == tool) {
                continue;
            }
            let from = format!("agent `{name}`");
            let reference = Reference {
                code: codes::AGENT_UNKNOWN_TOOL,
                file: FileKind::Agents,
                from: &from,
                kind: "tool",
                defined: "a tool in tools.yaml (`tools` or an MCP server's pinned tools)",
                known: "tools",
            };
            diags.push(suggest::unknown_reference(
                &reference,
                ptr(&["agents", name, "tools", &i.to_string()]),
                tool,
                public.iter().map(|(known, _)| known.as_str()),
            ));
        }
    }
}
