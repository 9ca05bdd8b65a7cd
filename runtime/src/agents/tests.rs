//! The loop with hand-built tables and a scripted [`Steps`]: a tool round
//! trip, each bound, and the refused request fields.

use core::time::Duration;
use std::collections::VecDeque;

use serde_json::{Map, Value, json};

use super::{Steps, prepare, run};
use crate::error::{AgentBound, GatewayError};
use crate::observe::metrics::Metrics;
use crate::table::{Agent, AgentBounds, AgentId, Builtin, ModelId, Schema, Tool, ToolId, ToolKind};

static ANY: Schema = Schema::Object {
    properties: &[],
    required: &[],
    additional: true,
};

static TOOLS: [Tool; 2] = [
    Tool {
        id: ToolId(0),
        name: "clock",
        description: "the time",
        kind: ToolKind::Builtin(Builtin::CurrentTime),
        parameters: &ANY,
        parameters_json: "{\"type\":\"object\"}",
    },
    Tool {
        id: ToolId(1),
        name: "hidden",
        description: "not the agent's",
        kind: ToolKind::Builtin(Builtin::CurrentTime),
        parameters: &ANY,
        parameters_json: "{\"type\":\"object\"}",
    },
];

static AGENT: Agent = Agent {
    id: AgentId(0),
    name: "helper",
    model_id: "agent/helper",
    description: "",
    model: ModelId(0),
    system: Some("be brief"),
    tools: &[ToolId(0)],
    bounds: AgentBounds {
        max_steps: 3,
        max_time: Duration::from_secs(5),
        max_tokens: 100,
    },
    temperature: Some(0.5),
    sdk: None,
};

/// Model answers in order (each after `delay`), tool calls recorded.
#[derive(Default)]
struct Script {
    answers: VecDeque<Value>,
    delay: Duration,
    bodies: Vec<Value>,
    tools: Vec<(String, Value)>,
    notes: Vec<(u32, Option<String>)>,
}

impl Steps for Script {
    async fn model(&mut self, body: Vec<u8>) -> Result<Value, GatewayError> {
        self.bodies
            .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
        tokio::time::sleep(self.delay).await;
        Ok(self.answers.pop_front().unwrap_or(Value::Null))
    }

    async fn tool(&mut self, tool: &'static Tool, arguments: &Value) -> Result<Value, String> {
        self.tools.push((tool.name.to_owned(), arguments.clone()));
        Ok(json!({"now": "2026-01-01T00:00:00Z"}))
    }

    fn note(&mut self, step: u32, tool: Option<&str>) {
        self.notes.push((step, tool.map(str::to_owned)));
    }
}

fn asks(tool: &str, tokens: u64) -> Value {
    json!({
        "choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": tool, "arguments": "{\"tz\":\"UTC\"}"}}
        ]}}],
        "usage": {"prompt_tokens": tokens, "completion_tokens": 0},
    })
}

fn says(text: &str, tokens: u64) -> Value {
    json!({
        "choices": [{"message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": tokens},
    })
}

fn request() -> Map<String, Value> {
    let body = json!({"model": "agent/helper", "stream": true, "messages": [{"role": "user", "content": "time?"}]});
    body.as_object().cloned().unwrap_or_default()
}

async fn go(script: &mut Script) -> Result<super::Answer, GatewayError> {
    let prepared = prepare(&AGENT, &TOOLS, "demo", request()).expect("prepared");
    let metrics = Metrics::new(&crate::testing::CONFIG);
    run((&AGENT, &TOOLS), prepared, script, &metrics, "req-1").await
}

#[tokio::test(start_paused = true)]
async fn a_tool_result_goes_back_and_the_answer_comes_out() {
    let mut script = Script {
        answers: [asks("clock", 10), says("noon", 5)].into(),
        ..Script::default()
    };
    let answer = go(&mut script).await.expect("answer");
    assert_eq!(answer.content, "noon");
    assert_eq!(
        (answer.steps, answer.prompt_tokens, answer.completion_tokens),
        (2, 10, 5)
    );
    assert_eq!(script.tools, [("clock".to_owned(), json!({"tz": "UTC"}))]);
    let first = &script.bodies[0];
    assert_eq!(first["model"], "demo");
    assert_eq!(first["temperature"], 0.5);
    assert!(first.get("stream").is_none(), "{first}");
    assert_eq!(
        first["messages"][0],
        json!({"role": "system", "content": "be brief"})
    );
    assert_eq!(
        first["tools"].as_array().map(Vec::len),
        Some(1),
        "only the agent's tools"
    );
    let second = script.bodies[1]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(second.len(), 4);
    assert_eq!(second[3]["role"], "tool");
    assert_eq!(second[3]["tool_call_id"], "c1");
    assert_eq!(second[3]["content"], "{\"now\":\"2026-01-01T00:00:00Z\"}");
    let notes: Vec<(u32, Option<&str>)> = script
        .notes
        .iter()
        .map(|(s, t)| (*s, t.as_deref()))
        .collect();
    assert_eq!(notes, [(1, None), (1, Some("clock")), (2, None)]);
}

#[tokio::test(start_paused = true)]
async fn a_tool_the_agent_lacks_is_an_error_message_not_a_call() {
    let mut script = Script {
        answers: [asks("hidden", 1), says("ok", 1)].into(),
        ..Script::default()
    };
    go(&mut script).await.expect("answer");
    assert!(script.tools.is_empty());
    let content = &script.bodies[1]["messages"][3]["content"];
    assert_eq!(content, "error: the agent has no tool `hidden`");
}

#[tokio::test(start_paused = true)]
async fn each_bound_ends_the_run() {
    let bound = |result: Result<super::Answer, GatewayError>| match result {
        Err(GatewayError::AgentLimit { bound, limit, .. }) => (bound, limit),
        other => panic!("{other:?}"),
    };
    let mut script = Script {
        answers: [asks("clock", 1), asks("clock", 1), asks("clock", 1)].into(),
        ..Script::default()
    };
    assert_eq!(bound(go(&mut script).await), (AgentBound::Steps, 3));
    assert_eq!(script.bodies.len(), 3);
    assert_eq!(script.tools.len(), 2, "the last step's tools are not run");
    let mut script = Script {
        answers: [asks("clock", 60), says("late", 60)].into(),
        ..Script::default()
    };
    assert_eq!(bound(go(&mut script).await), (AgentBound::Tokens, 100));
    let mut script = Script {
        answers: [says("slow", 1)].into(),
        delay: Duration::from_secs(6),
        ..Script::default()
    };
    assert_eq!(bound(go(&mut script).await), (AgentBound::Time, 5000));
}

#[test]
fn a_request_may_not_bring_tools_or_lack_messages() {
    for param in ["tools", "tool_choice", "functions", "function_call"] {
        let mut body = request();
        body.insert(param.to_owned(), json!("auto"));
        match prepare(&AGENT, &TOOLS, "demo", body) {
            Err(GatewayError::UnsupportedField { param: p, .. }) => assert_eq!(p, param),
            other => panic!("{param}: {other:?}"),
        }
    }
    let mut body = request();
    body.remove("messages");
    assert!(matches!(
        prepare(&AGENT, &TOOLS, "demo", body),
        Err(GatewayError::MissingField("messages"))
    ));
}

/// An SDK program that never stops calling the clock.
struct Forever;

impl crate::table::Program for Forever {
    fn next(&self, _transcript: &[Value]) -> crate::table::Action {
        crate::table::Action::CallTool {
            tool: "clock".to_owned(),
            arguments: json!({}),
        }
    }
}

static FOREVER: Agent = Agent {
    id: AgentId(0),
    name: "forever",
    model_id: "agent/forever",
    description: "",
    model: ModelId(0),
    system: None,
    tools: &[ToolId(0)],
    bounds: AgentBounds {
        max_steps: 3,
        max_time: Duration::from_secs(5),
        max_tokens: 100,
    },
    temperature: None,
    sdk: Some(crate::table::SdkAgent(&Forever)),
};

#[tokio::test(start_paused = true)]
async fn an_sdk_agent_cannot_escape_the_step_bound() {
    let mut script = Script::default();
    let prepared = prepare(&FOREVER, &TOOLS, "demo", request()).expect("prepared");
    let metrics = Metrics::new(&crate::testing::CONFIG);
    let result = run((&FOREVER, &TOOLS), prepared, &mut script, &metrics, "req-2").await;
    assert!(matches!(
        result,
        Err(GatewayError::AgentLimit {
            bound: AgentBound::Steps,
            limit: 3,
            ..
        })
    ));
    assert_eq!(script.tools.len(), 3);
    assert!(script.bodies.is_empty(), "no model call");
}
