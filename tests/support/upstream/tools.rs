//! Tool calling shared by both mock upstreams (OpenAI and Anthropic wire
//! formats): which tool a `tool` mode calls, with which arguments, and the
//! answer a mock gives from a tool result. Not a wire format: each mock
//! wraps these values in its own shapes.
//!
//! Mode words: `tool` calls the first tool of the request whose input schema
//! the mock can satisfy (arguments made up from the schema's required
//! properties); `tool:NAME` calls that tool; `tool:NAME:{JSON}` calls it with
//! exactly that input. The answer to a tool result quotes it:
//! `the tool said: <result>` (`the tool failed: ...` for an error result).

use serde_json::{Map, Value, json};

/// A tool call a mock makes: the tool's name and its input object.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    pub name: String,
    pub input: Value,
}

/// The prefix of every answer a mock gives from a tool result.
pub const TOOL_ANSWER_PREFIX: &str = "the tool said: ";

/// The answer to a tool result (what a test looks for in the next turn).
/// `<system-reminder>` sections a client appends (Claude Code does) are
/// left out of the quote.
pub fn answer_from_tool_result(result: &str, is_error: bool) -> String {
    let mut quoted = result.to_string();
    while let Some(start) = quoted.find("<system-reminder>") {
        let end = quoted[start..]
            .find("</system-reminder>")
            .map_or(quoted.len(), |e| start + e + "</system-reminder>".len());
        quoted.replace_range(start..end, "");
    }
    if is_error {
        format!("the tool failed: {}", quoted.trim())
    } else {
        format!("{TOOL_ANSWER_PREFIX}{}", quoted.trim())
    }
}

/// Parses a mode word that asks for tool calls: `tool`, `tool:NAME` or
/// `tool:NAME:{JSON}` (also with the prefixes `sse-` and `parallel-`, which the
/// callers strip first). `None` when `mode` is not a tool mode.
pub fn parse_tool_mode(mode: &str) -> Option<(Option<String>, Option<Value>)> {
    if mode == "tool" {
        return Some((None, None));
    }
    let rest = mode.strip_prefix("tool:")?;
    match rest.split_once(':') {
        Some((name, input)) => Some((Some(name.to_string()), serde_json::from_str(input).ok())),
        None => Some((Some(rest.to_string()), None)),
    }
}

/// Chooses `count` calls from the request's tools, each as `(name, JSON
/// schema of its input)`. A named tool is called even when the request does
/// not declare it (a test of what the client does then); without a name, the
/// first tools whose schemas can be satisfied, repeating the last one when
/// there are fewer than `count`.
pub fn choose_calls(
    tools: &[(String, Value)],
    name: Option<&str>,
    input: Option<&Value>,
    count: usize,
) -> Vec<ToolCall> {
    if let Some(name) = name {
        let schema = tools.iter().find(|(n, _)| n == name).map(|(_, s)| s);
        let input = input
            .cloned()
            .or_else(|| schema.and_then(satisfy))
            .unwrap_or_else(|| json!({}));
        return vec![
            ToolCall {
                name: name.to_string(),
                input
            };
            count
        ];
    }
    let mut calls: Vec<ToolCall> = tools
        .iter()
        .filter_map(|(name, schema)| {
            satisfy(schema).map(|input| ToolCall {
                name: name.clone(),
                input,
            })
        })
        .take(count)
        .collect();
    while let Some(last) = calls.last().cloned()
        && calls.len() < count
    {
        calls.push(last);
    }
    calls
}

/// Makes up an input object that satisfies `schema`: every required
/// property gets a value of its type. `None` when a required property has no
/// type the mock knows.
pub fn satisfy(schema: &Value) -> Option<Value> {
    let properties = schema["properties"].as_object();
    let mut input = Map::new();
    for name in schema["required"].as_array().into_iter().flatten() {
        let name = name.as_str()?;
        let property = properties.and_then(|p| p.get(name))?;
        input.insert(name.to_string(), value_for(name, property)?);
    }
    Some(Value::Object(input))
}

fn value_for(name: &str, schema: &Value) -> Option<Value> {
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return Some(first.clone());
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.as_str(),
        Value::Array(kinds) => kinds
            .iter()
            .find_map(|k| k.as_str().filter(|k| *k != "null"))?,
        _ => return None,
    };
    Some(match kind {
        "string" if name == "command" => json!("echo mock-tool-ran"),
        "string" => json!("mock"),
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        "array" => json!([]),
        "object" => satisfy(schema).unwrap_or_else(|| json!({})),
        _ => return None,
    })
}

/// The text of a tool result's content: a string, or the text of an array of
/// text blocks/parts joined by newlines.
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Splits `text` into `parts` pieces of about equal length on char
/// boundaries (how streamed tool arguments arrive), never an empty piece
/// unless `text` is empty.
pub fn split_text(text: &str, parts: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let size = chars.len().div_ceil(parts.max(1)).max(1);
    let pieces: Vec<String> = chars.chunks(size).map(|c| c.iter().collect()).collect();
    if pieces.is_empty() {
        vec![String::new()]
    } else {
        pieces
    }
}

#[test]
fn tool_modes_and_schemas() {
    assert_eq!(parse_tool_mode("tool"), Some((None, None)));
    assert_eq!(
        parse_tool_mode("tool:Bash"),
        Some((Some("Bash".into()), None))
    );
    assert_eq!(
        parse_tool_mode(r#"tool:Bash:{"command":"echo hi"}"#),
        Some((Some("Bash".into()), Some(json!({"command": "echo hi"}))))
    );
    assert_eq!(parse_tool_mode("text"), None);
    let tools = vec![
        (
            "odd".to_string(),
            json!({"type": "object", "required": ["x"], "properties": {"x": {"$ref": "#/y"}}}),
        ),
        (
            "Bash".to_string(),
            json!({"type": "object", "required": ["command"], "properties": {"command": {"type": "string"}, "timeout": {"type": "number"}}}),
        ),
        (
            "Read".to_string(),
            json!({"type": "object", "required": ["file_path", "mode"], "properties": {"file_path": {"type": "string"}, "mode": {"enum": ["a", "b"]}}}),
        ),
    ];
    let calls = choose_calls(&tools, None, None, 2);
    assert_eq!(
        calls[0],
        ToolCall {
            name: "Bash".into(),
            input: json!({"command": "echo mock-tool-ran"})
        }
    );
    assert_eq!(
        calls[1],
        ToolCall {
            name: "Read".into(),
            input: json!({"file_path": "mock", "mode": "a"})
        }
    );
    assert_eq!(choose_calls(&tools[..2], None, None, 2).len(), 2);
    assert_eq!(split_text("abcdefg", 3), ["abc", "def", "g"]);
    let reminded =
        "marker-1\n\n<system-reminder>\n<total_tokens>9 left</total_tokens>\n</system-reminder>";
    assert_eq!(
        answer_from_tool_result(reminded, false),
        "the tool said: marker-1"
    );
    assert_eq!(
        content_text(&json!([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}])),
        "a\nb"
    );
}
