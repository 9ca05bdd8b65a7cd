//! OpenAI `tools`, `tool_choice` and `parallel_tool_calls` as Anthropic
//! `tools` and `tool_choice`.
//!
//! A function tool becomes `{name, description, input_schema}` (its
//! `parameters` byte for byte; none: an empty object schema); `strict` is
//! dropped and reported; other tool types are refused. `tool_choice`:
//! "none"/"auto"/"required"/{function} -> none/auto/any/tool; other shapes
//! (`allowed_tools`, custom) are refused; without tools it is dropped.
//! `parallel_tool_calls: false` -> `disable_parallel_tool_use: true`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::TranslateError;
use super::common::Notes;
use super::json;

/// (tools, tool_choice) for the chat request's tool fields.
pub fn tools<'a>(
    tools: Option<&'a RawValue>,
    tool_choice_raw: Option<&'a RawValue>,
    parallel_tool_calls: Option<&'a RawValue>,
    notes: &mut Notes,
) -> Result<(Option<Vec<Tool<'a>>>, Option<ToolChoice<'a>>), TranslateError> {
    let tools: Vec<ChatTool<'a>> = match tools {
        Some(raw) => json::field(raw, "tools")?,
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(tools.len());
    for tool in tools {
        if tool.kind != "function" {
            return Err(TranslateError::unsupported(
                "tools",
                format!(
                    "tools of type `{}` are not supported for this model",
                    tool.kind
                ),
            ));
        }
        let Some(function) = tool.function else {
            return Err(TranslateError::invalid(
                "tools",
                "a function tool needs `function`",
            ));
        };
        if function.strict.is_some() {
            notes.drop("tools[].function.strict");
        }
        out.push(Tool {
            name: function.name,
            description: function.description,
            input_schema: function
                .parameters
                .map_or_else(|| Cow::Owned(empty_schema()), Cow::Borrowed),
        });
    }
    let parallel = match parallel_tool_calls {
        Some(raw) => json::field::<bool>(raw, "parallel_tool_calls")?,
        None => true,
    };
    if out.is_empty() {
        if tool_choice_raw.is_some() {
            notes.drop("tool_choice");
        }
        return Ok((None, None));
    }
    let mut choice = match tool_choice_raw {
        Some(raw) => Some(tool_choice(raw)?),
        None => None,
    };
    if !parallel && choice.as_ref().is_none_or(|c| c.kind != "none") {
        let choice = choice.get_or_insert(ToolChoice {
            kind: "auto",
            name: None,
            disable_parallel_tool_use: false,
        });
        choice.disable_parallel_tool_use = true;
    }
    Ok((Some(out), choice))
}

fn empty_schema() -> Box<RawValue> {
    RawValue::from_string(r#"{"type":"object","properties":{}}"#.to_owned())
        .unwrap_or_else(|_| Box::default())
}

fn tool_choice<'a>(raw: &'a RawValue) -> Result<ToolChoice<'a>, TranslateError> {
    let named = |kind| {
        Ok(ToolChoice {
            kind,
            name: None,
            disable_parallel_tool_use: false,
        })
    };
    if json::is_string(raw) {
        return match json::field::<Cow<'_, str>>(raw, "tool_choice")?.as_ref() {
            "none" => named("none"),
            "auto" => named("auto"),
            "required" => named("any"),
            other => Err(TranslateError::invalid(
                "tool_choice",
                format!("unknown tool_choice `{other}`"),
            )),
        };
    }
    let choice: ChatToolChoice<'a> = json::field(raw, "tool_choice")?;
    match (choice.kind.as_ref(), choice.function) {
        ("function", Some(function)) => Ok(ToolChoice {
            kind: "tool",
            name: Some(function.name),
            disable_parallel_tool_use: false,
        }),
        (kind, _) => Err(TranslateError::unsupported(
            "tool_choice",
            format!("tool_choice of type `{kind}` is not supported for this model"),
        )),
    }
}

#[derive(Deserialize)]
struct ChatTool<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    function: Option<ChatFunction<'a>>,
}

#[derive(Deserialize)]
struct ChatFunction<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    description: Option<&'a RawValue>,
    #[serde(borrow, default)]
    parameters: Option<&'a RawValue>,
    #[serde(default)]
    strict: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct ChatToolChoice<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    function: Option<NamedFunction<'a>>,
}

#[derive(Deserialize)]
struct NamedFunction<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Serialize)]
pub struct Tool<'a> {
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a RawValue>,
    input_schema: Cow<'a, RawValue>,
}

#[derive(Serialize)]
pub struct ToolChoice<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    disable_parallel_tool_use: bool,
}
