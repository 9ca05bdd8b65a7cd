//! The mock upstream's tool-call rule (see `mock.rs`): reads the chat
//! messages and function tools of a request that carries `tools` and decides
//! whether the next assistant turn is a tool call, a text answer about a tool
//! result, or the ordinary configured reply. Names nothing outside `serde`.
//!
//! Only requests with `tools` reach this module, so the plain mock path (the
//! benchmark's) never parses `messages`.

use serde_json::{Value, value::RawValue};

/// What the mock answers instead of its configured reply.
#[derive(Debug, PartialEq, Eq)]
pub enum ToolTurn {
    /// One assistant tool call: `id` is `call_<n>`, `arguments` a JSON object text.
    Call {
        id: String,
        name: String,
        arguments: String,
    },
    /// A text answer (`The tool returned: ...`).
    Text(String),
}

/// The rule: last message `user` with `call <name> <json-object>` (name one
/// of the request's function tools) -> that call; last message `tool` ->
/// `The tool returned: <content>`, or the latest user message's call again
/// when that message contains the word `repeatedly`. Anything else (or
/// unreadable JSON, left to the ordinary reply) -> `None`.
pub fn tool_turn(messages: &RawValue, tools: &RawValue) -> Option<ToolTurn> {
    let messages: Vec<Value> = serde_json::from_str(messages.get()).ok()?;
    let tools: Vec<Value> = serde_json::from_str(tools.get()).ok()?;
    let names: Vec<&str> = tools
        .iter()
        .filter(|tool| tool["type"] == "function")
        .filter_map(|tool| tool["function"]["name"].as_str())
        .collect();
    let last = messages.last()?;
    // `call_<n>`: n counts the assistant turns so far, so ids differ along a loop.
    let n = 1 + messages.iter().filter(|m| m["role"] == "assistant").count();
    let call = |text: &str| {
        directive(text, &names).map(|(name, arguments)| ToolTurn::Call {
            id: format!("call_{n}"),
            name,
            arguments,
        })
    };
    match last["role"].as_str()? {
        "user" => call(&text_of(last)),
        "tool" => {
            let user = messages.iter().rev().find(|m| m["role"] == "user");
            let user_text = user.map(text_of).unwrap_or_default();
            let again = has_word(&user_text, "repeatedly")
                .then(|| call(&user_text))
                .flatten();
            Some(
                again.unwrap_or_else(|| {
                    ToolTurn::Text(format!("The tool returned: {}", text_of(last)))
                }),
            )
        }
        _ => None,
    }
}

/// A message's text: a string `content`, or its text parts concatenated.
fn text_of(message: &Value) -> String {
    match &message["content"] {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part["text"].as_str())
            .collect(),
        _ => String::new(),
    }
}

fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case(word))
}

/// The first `call <name> <json-object>` in `text` whose name is a tool;
/// returns the name and the object re-serialized compactly.
fn directive(text: &str, names: &[&str]) -> Option<(String, String)> {
    text.match_indices("call ").find_map(|(at, _)| {
        let starts_word = text
            .get(..at)
            .and_then(|before| before.chars().next_back())
            .is_none_or(char::is_whitespace);
        if !starts_word {
            return None;
        }
        let rest = text.get(at + "call ".len()..)?.trim_start();
        let name = rest.split_whitespace().next()?;
        if !names.contains(&name) {
            return None;
        }
        let object = rest.get(name.len()..)?.trim_start();
        let mut values = serde_json::Deserializer::from_str(object).into_iter::<Value>();
        match values.next()? {
            Ok(value @ Value::Object(_)) => Some((name.to_string(), value.to_string())),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_string()).unwrap()
    }

    const TOOLS: &str = r#"[{"type":"function","function":{"name":"calculator","parameters":{}}},
                           {"type":"function","function":{"name":"current_time"}}]"#;

    #[test]
    fn user_directive_becomes_a_call() {
        let messages = raw(
            r#"[{"role":"system","content":"s"},{"role":"user","content":"please call calculator {\"a\": 1, \"op\":\"add\"} now"}]"#,
        );
        assert_eq!(
            tool_turn(&messages, &raw(TOOLS)),
            Some(ToolTurn::Call {
                id: "call_1".into(),
                name: "calculator".into(),
                arguments: r#"{"a":1,"op":"add"}"#.into()
            })
        );
    }

    #[test]
    fn unknown_tool_or_no_object_or_no_word_boundary_is_no_call() {
        for text in [
            r#"call nothere {}"#,
            r#"call calculator [1]"#,
            r#"call calculator"#,
            r#"recall calculator {}"#,
            r#"hello"#,
        ] {
            let messages = raw(&serde_json::json!([{"role":"user","content":text}]).to_string());
            assert_eq!(tool_turn(&messages, &raw(TOOLS)), None, "{text}");
        }
    }

    #[test]
    fn tool_result_is_reported_then_repeated_on_request() {
        let history = |user: &str| {
            raw(&serde_json::json!([
                {"role":"user","content":[{"type":"text","text":user}]},
                {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"current_time","arguments":"{}"}}]},
                {"role":"tool","tool_call_id":"call_1","content":"{\"now\":1}"}
            ]).to_string())
        };
        assert_eq!(
            tool_turn(&history("call current_time {}"), &raw(TOOLS)),
            Some(ToolTurn::Text(r#"The tool returned: {"now":1}"#.into()))
        );
        assert_eq!(
            tool_turn(&history("call current_time {} repeatedly"), &raw(TOOLS)),
            Some(ToolTurn::Call {
                id: "call_2".into(),
                name: "current_time".into(),
                arguments: "{}".into()
            })
        );
    }
}
