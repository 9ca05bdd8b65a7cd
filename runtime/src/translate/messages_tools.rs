//! Anthropic `tools` and `tool_choice` as OpenAI function tools,
//! `tool_choice` and `parallel_tool_calls`.
//!
//! A custom tool (no `type`, or `custom`) becomes a function tool with its
//! `input_schema` as `parameters`, byte for byte; its Anthropic-only flags
//! (`strict`, `defer_loading`, `cache_control`, `input_examples`) are
//! dropped and reported. Server tools (`web_search_*`, `bash_*`, ...) run at
//! Anthropic and are dropped. `tool_choice`: auto -> "auto", any ->
//! "required", tool -> the named function (refused when it names a tool
//! that was dropped), none -> "none"; `disable_parallel_tool_use` ->
//! `parallel_tool_calls: false`.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::TranslateError;
use super::common::Notes;
use super::json;

#[derive(Deserialize)]
struct Tool<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    description: Option<&'a RawValue>,
    #[serde(borrow, default)]
    input_schema: Option<&'a RawValue>,
    #[serde(default)]
    strict: Option<IgnoredAny>,
    #[serde(default)]
    defer_loading: Option<IgnoredAny>,
    #[serde(default)]
    cache_control: Option<IgnoredAny>,
    #[serde(default)]
    input_examples: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ToolChoice<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    disable_parallel_tool_use: Option<bool>,
}

/// One OpenAI function tool.
#[derive(Serialize)]
pub struct ChatTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: Function<'a>,
}

#[derive(Serialize)]
struct Function<'a> {
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a RawValue>,
    parameters: &'a RawValue,
}

/// OpenAI's `tool_choice`.
#[derive(Serialize)]
#[serde(untagged)]
pub enum ChatToolChoice<'a> {
    Mode(&'static str),
    Function {
        #[serde(rename = "type")]
        kind: &'static str,
        function: Named<'a>,
    },
}

#[derive(Serialize)]
pub struct Named<'a> {
    name: Cow<'a, str>,
}

/// What the tools translate to.
pub type Tools<'a> = (
    Option<Vec<ChatTool<'a>>>,
    Option<ChatToolChoice<'a>>,
    Option<bool>,
);

/// (tools, tool_choice, parallel_tool_calls) for Anthropic's `tools` and `tool_choice`.
pub fn tools<'a>(
    tools: Option<&'a RawValue>,
    choice: Option<&'a RawValue>,
    notes: &mut Notes,
) -> Result<Tools<'a>, TranslateError> {
    let declared: Vec<Tool<'a>> = match tools {
        Some(raw) => json::field(raw, "tools")?,
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(declared.len());
    for tool in declared {
        if tool.kind.as_deref().is_some_and(|kind| kind != "custom") {
            notes.drop("tools[].server_tool");
            continue;
        }
        for (present, label) in [
            (tool.strict.is_some(), "tools[].strict"),
            (tool.defer_loading.is_some(), "tools[].defer_loading"),
            (tool.cache_control.is_some(), "tools[].cache_control"),
            (tool.input_examples.is_some(), "tools[].input_examples"),
        ] {
            if present {
                notes.drop(label);
            }
        }
        let (Some(name), Some(parameters)) = (tool.name, tool.input_schema) else {
            return Err(TranslateError::invalid(
                "tools",
                "a custom tool needs `name` and `input_schema`",
            ));
        };
        out.push(ChatTool {
            kind: "function",
            function: Function {
                name,
                description: tool.description,
                parameters,
            },
        });
    }
    let choice: Option<ToolChoice<'a>> = choice
        .map(|raw| json::field(raw, "tool_choice"))
        .transpose()?;
    if out.is_empty() {
        if choice.is_some() {
            notes.drop("tool_choice");
        }
        return Ok((None, None, None));
    }
    let Some(choice) = choice else {
        return Ok((Some(out), None, None));
    };
    let parallel = choice
        .disable_parallel_tool_use
        .filter(|d| *d)
        .map(|_| false);
    let mapped = match choice.kind.as_ref() {
        "auto" => ChatToolChoice::Mode("auto"),
        "any" => ChatToolChoice::Mode("required"),
        "none" => ChatToolChoice::Mode("none"),
        "tool" => {
            let name = choice.name.ok_or_else(|| {
                TranslateError::invalid("tool_choice", "a tool choice of type `tool` needs `name`")
            })?;
            if !out.iter().any(|tool| tool.function.name == name) {
                return Err(TranslateError::unsupported(
                    "tool_choice",
                    format!(
                        "tool_choice names `{name}`, which is not a custom tool of this request"
                    ),
                ));
            }
            ChatToolChoice::Function {
                kind: "function",
                function: Named { name },
            }
        }
        other => {
            return Err(TranslateError::invalid(
                "tool_choice",
                format!("unknown tool_choice type `{other}`"),
            ));
        }
    };
    Ok((Some(out), Some(mapped), parallel))
}
