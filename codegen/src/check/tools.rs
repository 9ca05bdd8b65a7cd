//! Checks for tools.yaml and who may use which tool: tool names fit
//! OpenAI's function-name rule, every builtin exists, every `parameters`
//! schema is in the supported subset and only narrows its builtin's own,
//! every `tools` pattern of security.yaml matches a tool, and a tool no
//! principal can reach is a warning (GW0610).
//!
//! Reports only; the registry and the access sets are built in
//! `lower/tools.rs` and `lower/auth.rs`.

use super::http_tools;
use crate::diag::codes;
use crate::diag::suggest;
use crate::diag::{Diagnostic, Diagnostics, FileKind, ptr};
use crate::parse::{self, glob, tool_schema};
use crate::spec::tools::{self as spec_tools, BuiltinDef, ToolKindSpec};
use crate::spec::{ApiKeySpec, SecurityFile, TeamSpec, ToolSpec, ToolsFile};

/// Every tools check; access patterns and reach only when security.yaml loaded.
pub fn check(file: &ToolsFile, security: Option<&SecurityFile>, diags: &mut Diagnostics) {
    check_names(file, diags);
    for (name, tool) in &file.tools {
        check_tool(name, tool, diags);
    }
    if let Some(security) = security {
        let public = crate::spec::tools::public_tools(file);
        let names: Vec<&str> = public.iter().map(|(name, _)| name.as_str()).collect();
        for (at, list) in tool_lists(security) {
            check_patterns(&at, list, &names, diags);
        }
        warn_unreachable(security, &names, diags);
    }
}

/// Tool names: non-empty, at most 64 of `A-Z a-z 0-9 _ -`.
fn check_names(file: &ToolsFile, diags: &mut Diagnostics) {
    for name in file.tools.keys() {
        let why = match parse::name(name) {
            Err(why) => Some(why.to_string()),
            Ok(()) if name.chars().count() > 64 => Some("is longer than 64 characters".to_owned()),
            Ok(())
                if !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                Some("holds a character other than `A-Z`, `a-z`, `0-9`, `_` and `-`".to_owned())
            }
            Ok(()) => None,
        };
        if let Some(why) = why {
            diags.push(
                Diagnostic::new(
                    codes::BAD_TOOL_NAME,
                    FileKind::Tools,
                    format!("tool name {why}"),
                )
                .at_key(ptr(&["tools", name]))
                .label("invalid tool name")
                .help("use up to 64 of `A-Z`, `a-z`, `0-9`, `_`, `-`, e.g. `web_search`"),
            );
        }
    }
}

/// A tool's keys fit its kind; a builtin exists and its `parameters` schema
/// compiles and narrows the builtin's; an http tool's URL, hosts and limits.
fn check_tool(name: &str, tool: &ToolSpec, diags: &mut Diagnostics) {
    http_tools::check_kind_keys(name, tool, diags);
    let builtin = match tool.kind {
        ToolKindSpec::Builtin => check_builtin(name, tool.builtin.as_deref(), diags),
        ToolKindSpec::Http => {
            http_tools::check_http(name, tool, diags);
            None
        }
    };
    if let Some(parameters) = &tool.parameters {
        check_parameters(name, parameters, builtin, diags);
    }
}

/// The builtin a `kind: builtin` tool names (GW1001 when absent or unknown).
fn check_builtin(
    name: &str,
    function: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<&'static BuiltinDef> {
    let known = || suggest::list(spec_tools::BUILTINS.iter().map(|b| b.name));
    let Some(function) = function else {
        diags.push(
            Diagnostic::new(
                codes::UNKNOWN_BUILTIN,
                FileKind::Tools,
                format!("builtin tool `{name}` names no function"),
            )
            .at_key(ptr(&["tools", name]))
            .label("no `builtin` key")
            .help(format!("add `builtin:` with one of {}", known())),
        );
        return None;
    };
    let found = spec_tools::builtin(function);
    if found.is_none() {
        let names = spec_tools::BUILTINS.iter().map(|b| b.name);
        let hint = suggest::did_you_mean(function, names);
        diags.push(
            Diagnostic::new(
                codes::UNKNOWN_BUILTIN,
                FileKind::Tools,
                format!("unknown builtin `{function}`"),
            )
            .at(ptr(&["tools", name, "builtin"]))
            .label("not a builtin function of the gateway")
            .help(format!("{hint}builtins are {}", known())),
        );
    }
    found
}

/// `parameters` is a supported schema (GW1002) that narrows the builtin's own (GW1003).
fn check_parameters(
    name: &str,
    parameters: &serde_json::Value,
    builtin: Option<&BuiltinDef>,
    diags: &mut Diagnostics,
) {
    let base = ptr(&["tools", name, "parameters"]);
    let node = match tool_schema::compile(parameters) {
        Ok(node) => node,
        Err(e) => {
            diags.push(
                Diagnostic::new(codes::BAD_TOOL_SCHEMA, FileKind::Tools, e.message)
                    .at(format!("{base}{}", e.at))
                    .label("not a supported argument schema")
                    .help(e.help),
            );
            return;
        }
    };
    let Some(builtin) = builtin else { return };
    let own = serde_json::from_str(builtin.parameters)
        .map_err(drop)
        .and_then(|v| tool_schema::compile(&v).map_err(drop));
    let Ok(own) = own else { return };
    if let Err((at, why)) = tool_schema::narrows(&node, &own, "") {
        let message = format!(
            "`parameters` of tool `{name}` does not fit builtin `{}`",
            builtin.name
        );
        diags.push(
            Diagnostic::new(codes::BUILTIN_SCHEMA_MISMATCH, FileKind::Tools, message)
                .at(format!("{base}{at}"))
                .label(why)
                .help(format!(
                    "narrow the builtin's own schema, or remove `parameters` to use it: {}",
                    builtin.parameters
                )),
        );
    }
}

/// Every `tools` list of security.yaml with its pointer: teams by name, then keys in order.
pub(crate) fn tool_lists(security: &SecurityFile) -> Vec<(String, &[String])> {
    let auth = &security.auth;
    let teams = auth.teams.iter().filter_map(|(name, t)| {
        Some((ptr(&["auth", "teams", name, "tools"]), t.tools.as_deref()?))
    });
    let keys = auth
        .api_keys
        .iter()
        .enumerate()
        .filter_map(|(i, k)| Some((format!("/auth/api_keys/{i}/tools"), k.tools.as_deref()?)));
    teams.chain(keys).collect()
}

/// Each pattern of one list matches some tool.
fn check_patterns(at: &str, list: &[String], names: &[&str], diags: &mut Diagnostics) {
    for (j, pattern) in list.iter().enumerate() {
        if glob::reach(std::slice::from_ref(pattern), names).contains(&true) {
            continue;
        }
        let known = format!("tools are {}", suggest::list(names.iter().copied()));
        let help = if glob::is_glob(pattern) {
            format!("{known} (`*` is any run of characters, `?` one character)")
        } else {
            format!(
                "{}{known}",
                suggest::did_you_mean(pattern, names.iter().copied())
            )
        };
        diags.push(
            Diagnostic::new(
                codes::UNMATCHED_TOOL_PATTERN,
                FileKind::Security,
                format!("tool pattern `{pattern}` matches no tool"),
            )
            .at(format!("{at}/{j}"))
            .label("no tool in tools.yaml matches")
            .help(help),
        );
    }
}

/// Picks an API key's `tools` or `agents` list.
pub type KeyList = fn(&ApiKeySpec) -> Option<&[String]>;
/// Picks a team's `tools` or `agents` list.
pub type TeamList = fn(&TeamSpec) -> Option<&[String]>;

/// Which of `names` some compiled API key may use, by the key's own list
/// within its team's (`lists` picks the `tools` or `agents` lists); `None`
/// when callers the build cannot see reach everything (a key file or a
/// token without a team, or an open API), so nothing is unreachable.
pub fn reached_by_keys(
    security: &SecurityFile,
    names: &[&str],
    (key_list, team_list): (KeyList, TeamList),
) -> Option<Vec<bool>> {
    let auth = &security.auth;
    let runtime_principals = !auth.key_files.is_empty() || auth.jwt.is_some();
    if runtime_principals || (auth.api_keys.is_empty() && auth.admin_key_sha256.is_none()) {
        return None;
    }
    let reach = |list: Option<&[String]>| match list {
        Some(list) => glob::reach(list, names),
        None => vec![true; names.len()],
    };
    let mut any = vec![false; names.len()];
    for key in &auth.api_keys {
        let team = key.team.as_deref().and_then(|t| auth.teams.get(t));
        let both = reach(key_list(key))
            .into_iter()
            .zip(reach(team.and_then(team_list)));
        any.iter_mut()
            .zip(both)
            .for_each(|(a, (x, y))| *a |= x && y);
    }
    Some(any)
}

/// GW0610: a tool that no API key, team, file key or token may use (the
/// admin key, an operator's, is not counted; an open API reaches every tool).
fn warn_unreachable(security: &SecurityFile, names: &[&str], diags: &mut Diagnostics) {
    fn key(k: &ApiKeySpec) -> Option<&[String]> {
        k.tools.as_deref()
    }
    fn team(t: &TeamSpec) -> Option<&[String]> {
        t.tools.as_deref()
    }
    let Some(any) = reached_by_keys(security, names, (key, team)) else {
        return;
    };
    for (name, _) in names.iter().zip(&any).filter(|(_, a)| !**a) {
        diags.push(
            Diagnostic::new(
                codes::UNREACHABLE_TOOL,
                FileKind::Tools,
                format!("no principal may use tool `{name}`"),
            )
            .at_key(ptr(&["tools", name]))
            .label("no API key's `tools` (within its team's) matches")
            .help("name it in an API key's or team's `tools` in security.yaml, or remove the tool"),
        );
    }
}
