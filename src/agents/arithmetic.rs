//! `arithmetic::Arithmetic`: answers `<a> <op> <b>` (`+ - * /`) in the last
//! user message with the `calculator` tool, and anything else by asking
//! the agent's model. An example of an SDK agent: no I/O of its own, every
//! action runs through the gateway.

use gateway_runtime::agents::serde_json::{self, Value, json};
use gateway_runtime::agents::{Action, Agent};

/// The arithmetic agent.
pub struct Arithmetic;

impl Agent for Arithmetic {
    fn next(&self, transcript: &[Value]) -> Action {
        let Some(last) = transcript.last() else {
            return Action::Answer("Ask me something like `12 * 7`.".to_owned());
        };
        let content = last.get("content").and_then(Value::as_str).unwrap_or("");
        match last.get("role").and_then(Value::as_str) {
            Some("tool") => Action::Answer(match (question(transcript), value(content)) {
                (Some(expression), Some(value)) => format!("{expression} = {value}"),
                // A failed call (`error: ...`) is passed on as it is.
                _ => content.to_owned(),
            }),
            Some("assistant") => Action::Answer(content.to_owned()),
            _ => match parse(content) {
                Some((operation, a, b)) => Action::CallTool {
                    tool: "calculator".to_owned(),
                    arguments: json!({ "operation": operation, "a": a, "b": b }),
                },
                None => Action::AskModel,
            },
        }
    }
}

/// The last user message's text.
fn question(transcript: &[Value]) -> Option<&str> {
    let user = transcript.iter().rev().find(|m| m["role"] == "user")?;
    Some(user.get("content")?.as_str()?.trim())
}

/// The calculator's `{"value": x}` as text (`84`, not `84.0`).
fn value(result: &str) -> Option<String> {
    let value: Value = serde_json::from_str(result).ok()?;
    let x = value.get("value")?.as_f64()?;
    Some(if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        x.to_string()
    })
}

/// `<a> <op> <b>` as the calculator's operation and operands.
fn parse(text: &str) -> Option<(&'static str, f64, f64)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [a, op, b] = words.as_slice() else {
        return None;
    };
    let operation = match *op {
        "+" => "add",
        "-" => "subtract",
        "*" | "x" => "multiply",
        "/" => "divide",
        _ => return None,
    };
    Some((operation, a.parse().ok()?, b.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> Value {
        json!({ "role": "user", "content": text })
    }

    #[test]
    fn calls_the_calculator_then_answers_with_its_result() {
        let first = Arithmetic.next(&[user("12 * 7")]);
        let expected = Action::CallTool {
            tool: "calculator".to_owned(),
            arguments: json!({ "operation": "multiply", "a": 12.0, "b": 7.0 }),
        };
        assert_eq!(first, expected);
        let tool = json!({ "role": "tool", "name": "calculator", "content": "{\"value\":84.0}" });
        let done = Arithmetic.next(&[user("12 * 7"), tool]);
        assert_eq!(done, Action::Answer("12 * 7 = 84".to_owned()));
        let failed =
            json!({ "role": "tool", "name": "calculator", "content": "error: division by zero" });
        let done = Arithmetic.next(&[user("1 / 0"), failed]);
        assert_eq!(done, Action::Answer("error: division by zero".to_owned()));
    }

    #[test]
    fn anything_else_goes_to_the_model() {
        assert_eq!(
            Arithmetic.next(&[user("why is the sky blue?")]),
            Action::AskModel
        );
        let answer = json!({ "role": "assistant", "content": "Rayleigh scattering." });
        let done = Arithmetic.next(&[user("why?"), answer]);
        assert_eq!(done, Action::Answer("Rayleigh scattering.".to_owned()));
    }
}
