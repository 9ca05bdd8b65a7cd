//! Agents (issue 13): `model: "agent/<name>"` runs the agent's tool loop in
//! the gateway against a scripted OpenAI-format upstream (below) that asks
//! for a tool, gets its result in the next request and answers; bounds stop
//! a model that loops, spends too many tokens or is too slow; every step is
//! logged; a key without access sees an unknown model. Agents:
//! config/test/agents.yaml (all on `echo`, the `local` upstream, except
//! `guarded` on `secured-model`, which `restricted-client` may not use).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};

use crate::support::*;

/// Published on purpose, test environment only (config/test/security.yaml).
const RESTRICTED_KEY: &str = "gw-test-restricted-key";

/// One scripted answer: a delay, then a chat completion body.
#[derive(Clone)]
struct Scripted {
    delay: Duration,
    body: Value,
}

#[derive(Default)]
struct Script {
    queue: VecDeque<Scripted>,
    /// Answers once the queue is empty.
    default: Option<Scripted>,
    /// Every chat request body received, in order.
    seen: Vec<Value>,
}

/// An OpenAI chat completions upstream answering from a script.
struct ScriptedUpstream {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl ScriptedUpstream {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = script.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let script = shared.clone();
                let service =
                    hyper::service::service_fn(move |request| answer(request, script.clone()));
                tokio::spawn(async move {
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, script }
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn push(&self, body: Value) {
        let delay = Duration::ZERO;
        self.script
            .lock()
            .unwrap()
            .queue
            .push_back(Scripted { delay, body });
    }

    fn set_default(&self, delay: Duration, body: Value) {
        self.script.lock().unwrap().default = Some(Scripted { delay, body });
    }

    fn seen(&self) -> Vec<Value> {
        self.script.lock().unwrap().seen.clone()
    }
}

async fn answer(
    request: http::Request<Incoming>,
    script: Arc<Mutex<Script>>,
) -> Result<http::Response<Full<Bytes>>, std::convert::Infallible> {
    let body = request.into_body().collect().await.map(|c| c.to_bytes());
    let json: Value = body
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let streamed = json["stream"] == true;
    let next = {
        let mut script = script.lock().unwrap();
        script.seen.push(json);
        script.queue.pop_front().or_else(|| script.default.clone())
    };
    let Some(next) = next else {
        let error = json!({"error": {"message": "script exhausted", "type": "server_error", "param": null, "code": null}});
        let mut response = http::Response::new(Full::new(Bytes::from(error.to_string())));
        *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        return Ok(response);
    };
    tokio::time::sleep(next.delay).await;
    let (body, content_type) = if streamed {
        (as_event_stream(&next.body), "text/event-stream")
    } else {
        (next.body.to_string(), "application/json")
    };
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    Ok(response)
}

/// A scripted chat completion as OpenAI streams it: the role, the content a
/// word at a time, each tool call's id and name then its arguments in two
/// pieces, the finish chunk, the usage chunk, `[DONE]`.
fn as_event_stream(completion: &Value) -> String {
    let chunk = |delta: Value, finish: Value, usage: Value| {
        let choices = if usage.is_null() {
            json!([{"index": 0, "delta": delta, "finish_reason": finish}])
        } else {
            json!([])
        };
        let body = json!({"id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1,
            "model": "upstream-echo-model", "choices": choices, "usage": usage});
        format!("data: {body}\n\n")
    };
    let message = &completion["choices"][0]["message"];
    let mut out = chunk(json!({"role": "assistant"}), Value::Null, Value::Null);
    let content = message["content"].as_str().unwrap_or_default();
    for (i, word) in content.split(' ').enumerate() {
        let piece = if i == 0 {
            word.to_owned()
        } else {
            format!(" {word}")
        };
        out += &chunk(json!({"content": piece}), Value::Null, Value::Null);
    }
    for (index, call) in message["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let head = json!({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""}}]});
        out += &chunk(head, Value::Null, Value::Null);
        let arguments = call["function"]["arguments"].as_str().unwrap_or_default();
        let (a, b) = arguments.split_at(arguments.len() / 2);
        for piece in [a, b] {
            let delta = json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]});
            out += &chunk(delta, Value::Null, Value::Null);
        }
    }
    let finish = completion["choices"][0]["finish_reason"].clone();
    out += &chunk(json!({}), finish, Value::Null);
    out += &chunk(Value::Null, Value::Null, completion["usage"].clone());
    out + "data: [DONE]\n\n"
}

/// A chat completion asking for one tool call.
fn tool_call(id: &str, tool: &str, arguments: Value, tokens: (u64, u64)) -> Value {
    json!({
        "id": "chatcmpl-up", "object": "chat.completion", "created": 1, "model": "upstream-echo-model",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant", "content": null,
                "tool_calls": [{"id": id, "type": "function", "function": {"name": tool, "arguments": arguments.to_string()}}],
            },
            "finish_reason": "tool_calls",
        }],
        "usage": {"prompt_tokens": tokens.0, "completion_tokens": tokens.1, "total_tokens": tokens.0 + tokens.1},
    })
}

/// A chat completion with a final answer.
fn final_answer(content: &str, tokens: (u64, u64)) -> Value {
    json!({
        "id": "chatcmpl-up", "object": "chat.completion", "created": 1, "model": "upstream-echo-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": tokens.0, "completion_tokens": tokens.1, "total_tokens": tokens.0 + tokens.1},
    })
}

async fn chat_as(gateway: &Gateway, key: &str, body: &Value) -> Reply {
    let auth = format!("Bearer {key}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body = Bytes::from(body.to_string());
    send(gateway.addr, "POST", "/v1/chat/completions", &headers, body).await
}

fn ask(agent: &str, text: &str) -> Value {
    json!({"model": format!("agent/{agent}"), "messages": [{"role": "user", "content": text}]})
}

/// The upstream asks for the calculator, then answers with what it got.
fn script_add(upstream: &ScriptedUpstream) {
    let add = json!({"operation": "add", "a": 2, "b": 3});
    upstream.push(tool_call("call_1", "calculator", add, (10, 5)));
    upstream.push(final_answer("2 + 3 = 5", (20, 7)));
}

/// The second request carries the tool's result as the `tool` message; a
/// streamed run asks each step streamed, with usage.
fn assert_tool_round_trip(seen: &[Value], streamed: bool) {
    assert_eq!(seen.len(), 2, "{seen:?}");
    let first = &seen[0];
    assert_eq!(first["model"], "upstream-echo-model", "{first}");
    assert_eq!(first["messages"][0]["role"], "system", "{first}");
    assert_eq!(
        first["messages"][0]["content"],
        "You are a helpful assistant."
    );
    assert_eq!(first["messages"][1]["role"], "user");
    assert_eq!(first["temperature"], 0.2, "{first}");
    if streamed {
        assert_eq!(first["stream"], true, "{first}");
        assert_eq!(first["stream_options"]["include_usage"], true, "{first}");
    } else {
        assert!(first.get("stream").is_none_or(|s| s == false), "{first}");
    }
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["calculator", "current_time"]);
    let messages = seen[1]["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(messages[2]["tool_calls"][0]["id"], "call_1");
    assert_eq!(messages[3]["role"], "tool");
    assert_eq!(messages[3]["tool_call_id"], "call_1");
    let content = messages[3]["content"].as_str().expect("content");
    assert!(content.contains('5'), "{content}");
    assert!(!content.starts_with("error"), "{content}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_calls_a_tool_and_answers() {
    let upstream = ScriptedUpstream::start().await;
    script_add(&upstream);
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let reply = chat_as(&gateway, CLIENT_KEY, &ask("assistant", "what is 2 + 3?")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["object"], "chat.completion");
    assert_eq!(json["model"], "agent/assistant");
    assert_eq!(json["choices"][0]["message"]["content"], "2 + 3 = 5");
    assert_eq!(json["choices"][0]["finish_reason"], "stop");
    assert_eq!(json["usage"]["prompt_tokens"], 30);
    assert_eq!(json["usage"]["completion_tokens"], 12);
    assert_eq!(json["usage"]["total_tokens"], 42);
    assert_tool_round_trip(&upstream.seen(), false);
    let run = gateway.wait_for_log("\"agent.run\"", Duration::from_secs(5));
    assert!(run.contains("\"outcome\":\"ok\""), "{run}");
    let logs = gateway.logs();
    let steps: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("\"agent.step\""))
        .collect();
    assert_eq!(steps.len(), 3, "model, tool, model: {logs}");
    assert!(steps[0].contains("\"kind\":\"model\""), "{}", steps[0]);
    assert!(steps[1].contains("\"kind\":\"tool\"") && steps[1].contains("\"tool\":\"calculator\""));
    assert!(steps.iter().all(|s| s.contains("\"agent\":\"assistant\"")));
    let invoke = logs
        .lines()
        .find(|l| l.contains("\"tool.invoke\""))
        .expect("tool.invoke");
    assert!(invoke.contains("\"via\":\"agent\""), "{invoke}");
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    for series in [
        "gateway_agent_runs_total{agent=\"assistant\",outcome=\"ok\"} 1",
        "gateway_agent_steps_total{agent=\"assistant\",kind=\"model\"} 2",
        "gateway_agent_steps_total{agent=\"assistant\",kind=\"tool\"} 1",
    ] {
        assert!(metrics.contains(series), "{series} in {metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_run_sends_progress_then_the_answer() {
    let upstream = ScriptedUpstream::start().await;
    script_add(&upstream);
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let mut body = ask("assistant", "what is 2 + 3?");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let reply = chat_as(&gateway, CLIENT_KEY, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.headers["content-type"], "text/event-stream");
    let text = reply.text();
    assert!(text.contains(": agent step 1 model\n"), "{text}");
    assert!(text.contains(": agent step 1 tool calculator\n"), "{text}");
    assert!(text.contains(": agent step 2 model\n"), "{text}");
    let data: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("chunk JSON"))
        .collect();
    assert!(
        data.iter()
            .all(|c| c["object"] == "chat.completion.chunk" && c["model"] == "agent/assistant")
    );
    let content: String = data
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "2 + 3 = 5");
    // The final answer streamed as the model wrote it, a word at a time, not
    // as one chunk at the end.
    let pieces = data
        .iter()
        .filter(|c| c["choices"][0]["delta"]["content"].is_string())
        .count();
    assert_eq!(pieces, 5, "{text}");
    assert!(
        data.iter()
            .any(|c| c["choices"][0]["finish_reason"] == "stop")
    );
    assert_eq!(data.last().unwrap()["usage"]["total_tokens"], 42, "{text}");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    assert_tool_round_trip(&upstream.seen(), true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_keeps_asking_is_stopped_by_max_steps() {
    let upstream = ScriptedUpstream::start().await;
    let add = json!({"operation": "add", "a": 1, "b": 1});
    upstream.set_default(
        Duration::ZERO,
        tool_call("call_n", "calculator", add, (1, 1)),
    );
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let reply = chat_as(&gateway, CLIENT_KEY, &ask("assistant", "loop")).await;
    reply.assert_error(422, "agent_step_limit");
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("max_steps") && message.contains('4'),
        "{message}"
    );
    assert!(message.contains("agents.yaml"), "{message}");
    // defaults.max_steps is 4: four model calls, the last one's tools not run.
    assert_eq!(upstream.seen().len(), 4);
    let run = gateway.wait_for_log("\"agent.run\"", Duration::from_secs(5));
    assert!(
        run.contains("agent_step_limit") && run.contains("\"steps\":4"),
        "{run}"
    );
    // A streamed run ends with an explicit error event, not a clean end.
    let mut body = ask("assistant", "loop");
    body["stream"] = json!(true);
    let reply = chat_as(&gateway, CLIENT_KEY, &body).await;
    assert_eq!(reply.status, 200);
    let text = reply.text();
    assert!(
        text.contains("event: error\n") && text.contains("agent_step_limit"),
        "{text}"
    );
    assert!(!text.contains("[DONE]"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_and_time_bounds_end_a_run() {
    let upstream = ScriptedUpstream::start().await;
    let add = json!({"operation": "add", "a": 1, "b": 1});
    // `frugal` has max_tokens 100: 60 + 60 goes over at the second call.
    upstream.push(tool_call("call_1", "calculator", add.clone(), (50, 10)));
    upstream.push(final_answer("too late", (50, 10)));
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let reply = chat_as(&gateway, CLIENT_KEY, &ask("frugal", "count")).await;
    reply.assert_error(422, "agent_token_limit");
    assert!(reply.text().contains("max_tokens"), "{}", reply.text());
    // `hasty` has max_time 1s; the upstream takes 3s (the test waits at most that).
    upstream.set_default(Duration::from_secs(3), final_answer("slow", (1, 1)));
    let reply = chat_as(&gateway, CLIENT_KEY, &ask("hasty", "hurry")).await;
    reply.assert_error(504, "agent_time_limit");
    assert!(reply.text().contains("max_time"), "{}", reply.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_failure_goes_back_to_the_model() {
    let upstream = ScriptedUpstream::start().await;
    let bad = json!({"operation": "power", "a": 2, "b": 3});
    upstream.push(tool_call("call_bad", "calculator", bad, (1, 1)));
    upstream.push(tool_call("call_x", "web_search", json!({}), (1, 1)));
    upstream.push(final_answer("I could not compute that", (1, 1)));
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let reply = chat_as(&gateway, CLIENT_KEY, &ask("assistant", "2 ** 3")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let seen = upstream.seen();
    let tool = |i: usize| {
        seen[i]["messages"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone()
    };
    assert_eq!(tool(1)["tool_call_id"], "call_bad");
    assert!(
        tool(1)["content"].as_str().unwrap().starts_with("error: "),
        "{}",
        tool(1)
    );
    assert_eq!(tool(2)["tool_call_id"], "call_x");
    assert!(
        tool(2)["content"]
            .as_str()
            .unwrap()
            .contains("no tool `web_search`"),
        "{}",
        tool(2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_may_not_bring_tools_and_access_is_not_revealed() {
    let upstream = ScriptedUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let mut body = ask("assistant", "hi");
    body["tools"] = json!([{"type": "function", "function": {"name": "x", "parameters": {}}}]);
    let reply = chat_as(&gateway, CLIENT_KEY, &body).await;
    reply.assert_error(400, "unsupported_parameter");
    assert_eq!(reply.json()["error"]["param"], "tools");
    let mut body = ask("assistant", "hi");
    body["tool_choice"] = json!("auto");
    let reply = chat_as(&gateway, CLIENT_KEY, &body).await;
    assert_eq!(reply.json()["error"]["param"], "tool_choice");
    // `guarded` runs on a model the restricted key may not use: it answers
    // exactly like an agent that does not exist.
    let hidden = chat_as(&gateway, RESTRICTED_KEY, &ask("guarded", "hi")).await;
    let unknown = chat_as(&gateway, RESTRICTED_KEY, &ask("guardee", "hi")).await;
    hidden.assert_error(404, "model_not_found");
    unknown.assert_error(404, "model_not_found");
    let message = |r: &Reply| {
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .replace("guarded", "guardee")
    };
    assert_eq!(message(&hidden), message(&unknown));
    assert!(upstream.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_outside_the_keys_agents_list_is_unknown() {
    let upstream = ScriptedUpstream::start().await;
    upstream.set_default(Duration::ZERO, final_answer("hello", (1, 1)));
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    // restricted-team's `agents` is [assistant, guarded]: `frugal` (on `echo`,
    // which the key may use) is hidden by the list alone.
    let hidden = chat_as(&gateway, RESTRICTED_KEY, &ask("frugal", "hi")).await;
    hidden.assert_error(404, "model_not_found");
    let allowed = chat_as(&gateway, RESTRICTED_KEY, &ask("assistant", "hi")).await;
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    assert_eq!(allowed.json()["choices"][0]["message"]["content"], "hello");
    let open = chat_as(&gateway, CLIENT_KEY, &ask("frugal", "hi")).await;
    assert_eq!(open.status, 200, "{}", open.text());
}

#[test]
fn gateway_access_prints_agent_rows() {
    let (status, stdout, stderr) = run_to_exit(&["access"], &[]);
    assert!(status.success(), "{stderr}");
    let rows: Vec<String> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for row in [
        "AGENT admin restricted-client (restricted-team) test-client key-file key-file:restricted-team scope:chat scope:claude",
        // An agent needs its model too: `scope:claude` grants no `echo`.
        "agent/assistant yes yes yes yes yes yes -",
        "agent/frugal yes - yes yes - yes -",
        // `guarded` is on `secured-model`, outside restricted-team's models.
        "agent/guarded yes - yes yes - - -",
    ] {
        assert!(rows.iter().any(|r| r == row), "no row `{row}`:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_list_their_agents_and_operators_refresh_them() {
    let upstream = ScriptedUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let names = |reply: &Reply| -> Vec<String> {
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = get(gateway.addr, "/v1/agents", Some(CLIENT_KEY)).await;
    let ids = names(&all);
    let expected = [
        "arithmetic",
        "assistant",
        "frugal",
        "guarded",
        "hasty",
        "mocked",
        "offline",
        "pinned",
    ];
    assert_eq!(ids, expected.map(|n| format!("agent/{n}")));
    let assistant = &all.json()["data"][1];
    assert_eq!(assistant["name"], "assistant");
    assert_eq!(assistant["kind"], "declarative");
    assert_eq!(assistant["model"], "echo");
    assert_eq!(assistant["tools"], json!(["calculator", "current_time"]));
    assert_eq!(
        assistant["bounds"],
        json!({"max_steps": 4, "max_time_ms": 30000, "max_tokens": 5000})
    );
    assert_eq!(assistant["state"], "ready");
    let mine = get(gateway.addr, "/v1/agents", Some(RESTRICTED_KEY)).await;
    assert_eq!(names(&mine), ["agent/assistant"]);
    // The agents are models too, for callers who may use them.
    let models = names(&get(gateway.addr, "/v1/models", Some(CLIENT_KEY)).await);
    assert!(models.contains(&"agent/hasty".to_owned()), "{models:?}");
    let models = names(&get(gateway.addr, "/v1/models", Some(RESTRICTED_KEY)).await);
    assert!(models.contains(&"agent/assistant".to_owned()), "{models:?}");
    assert!(!models.contains(&"agent/frugal".to_owned()), "{models:?}");
    let one = get(gateway.addr, "/v1/models/agent/assistant", Some(CLIENT_KEY)).await;
    assert_eq!(one.json()["id"], "agent/assistant");
    get(
        gateway.addr,
        "/v1/models/agent/frugal",
        Some(RESTRICTED_KEY),
    )
    .await
    .assert_error(404, "model_not_found");
    // `POST /agents/refresh` needs the admin key and answers every agent's state.
    let refresh = |key: &'static str| {
        let auth = format!("Bearer {key}");
        async move {
            let headers = [("authorization", auth.as_str())];
            send(
                gateway.addr,
                "POST",
                "/agents/refresh",
                &headers,
                Bytes::new(),
            )
            .await
        }
    };
    assert_eq!(refresh(CLIENT_KEY).await.status, 401);
    let reply = refresh(ADMIN_KEY).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["ready"], 7, "{json}");
    assert_eq!(
        json["agents"][1],
        json!({"name": "assistant", "state": "ready", "detail": null})
    );
    let offline = &json["agents"][6];
    assert_eq!(offline["state"], "unavailable", "{json}");
    assert!(
        offline["detail"].as_str().unwrap().contains("cloud-model"),
        "{json}"
    );
    // An agent that is not ready answers 503 saying why.
    let reply = chat_as(&gateway, CLIENT_KEY, &ask("offline", "hi")).await;
    reply.assert_error(503, "agent_unavailable");
    assert!(reply.text().contains("cloud-model"), "{}", reply.text());
    assert!(json["note"].as_str().unwrap().contains("rebuilding"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_agent_runs_its_own_steps_within_the_bounds() {
    let upstream = ScriptedUpstream::start().await;
    upstream.push(final_answer("Rayleigh scattering.", (3, 4)));
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    // `12 * 7`: the type calls the calculator itself; no model call.
    let reply = chat_as(&gateway, CLIENT_KEY, &ask("arithmetic", "12 * 7")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["model"], "agent/arithmetic");
    assert_eq!(json["choices"][0]["message"]["content"], "12 * 7 = 84");
    assert!(upstream.seen().is_empty());
    // Anything else goes to its model, with the transcript and no tools.
    let reply = chat_as(
        &gateway,
        CLIENT_KEY,
        &ask("arithmetic", "why is the sky blue?"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    assert_eq!(
        json["choices"][0]["message"]["content"],
        "Rayleigh scattering."
    );
    assert_eq!(json["usage"]["total_tokens"], 7);
    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].get("tools").is_none(), "{}", seen[0]);
    assert_eq!(seen[0]["messages"][0]["content"], "why is the sky blue?");
    // Logs arrive through a pipe: wait for the second run's end line (the
    // only `agent.run` with a model step), which follows every step line.
    gateway.wait_for_log(
        "\"outcome\":\"ok\",\"steps\":1,\"tokens\":7",
        Duration::from_secs(5),
    );
    let logs = gateway.logs();
    let steps = logs
        .lines()
        .filter(|l| l.contains("\"agent.step\"") && l.contains("\"agent\":\"arithmetic\""))
        .count();
    assert_eq!(steps, 2, "one tool step, one model step: {logs}");
    let agents = get(gateway.addr, "/v1/agents", Some(CLIENT_KEY))
        .await
        .json();
    let sdk = agents["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "arithmetic")
        .cloned()
        .unwrap();
    assert_eq!(sdk["kind"], "sdk", "{sdk}");
}

async fn messages_as(gateway: &Gateway, body: &Value) -> Reply {
    let headers = [
        ("x-api-key", CLIENT_KEY),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ];
    let body = Bytes::from(body.to_string());
    send(gateway.addr, "POST", "/v1/messages", &headers, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_clients_reach_agents_through_translation() {
    let upstream = ScriptedUpstream::start().await;
    script_add(&upstream);
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let mut body = json!({
        "model": "agent/assistant",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": "what is 2 + 3?"}],
    });
    let reply = messages_as(&gateway, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["type"], "message", "{json}");
    assert_eq!(json["model"], "agent/assistant");
    assert_eq!(json["content"][0]["text"], "2 + 3 = 5", "{json}");
    assert_eq!(json["usage"]["input_tokens"], 30, "{json}");
    assert_eq!(json["usage"]["output_tokens"], 12, "{json}");
    assert_tool_round_trip(&upstream.seen(), false);
    // Streaming: progress comments, then the answer as Messages events.
    script_add(&upstream);
    body["stream"] = json!(true);
    let reply = messages_as(&gateway, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let text = reply.text();
    assert!(text.contains(": agent step 1 tool calculator\n"), "{text}");
    assert!(text.contains("event: message_start"), "{text}");
    // The answer's text streams as the model writes it.
    let deltas: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|e| e["delta"]["type"] == "text_delta")
        .map(|e| e["delta"]["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(deltas.concat(), "2 + 3 = 5", "{text}");
    assert_eq!(deltas.len(), 5, "{text}");
    assert!(text.contains("event: message_stop"), "{text}");
    // A bound hit mid-stream ends it with Anthropic's error event.
    let add = json!({"operation": "add", "a": 1, "b": 1});
    upstream.set_default(
        Duration::ZERO,
        tool_call("call_n", "calculator", add, (1, 1)),
    );
    let reply = messages_as(&gateway, &body).await;
    let text = reply.text();
    assert!(
        text.contains("event: error") && text.contains("max_steps"),
        "{text}"
    );
    assert!(!text.contains("event: message_stop"), "{text}");
    // An unknown agent is an unknown model, in Anthropic's shape.
    body["model"] = json!("agent/nobody");
    body["stream"] = json!(false);
    let reply = messages_as(&gateway, &body).await;
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert_eq!(reply.json()["type"], "error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_on_the_built_in_mock_runs_offline() {
    // config/dev's `assistant` in miniature: no upstream at all.
    let upstream = ScriptedUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let text = r#"call calculator {"operation":"multiply","a":6,"b":7}"#;
    let reply = chat_as(&gateway, CLIENT_KEY, &ask("mocked", text)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let content = reply.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(content.starts_with("The tool returned: "), "{content}");
    assert!(content.contains("42"), "{content}");
    // Streamed: the mock's steps are streamed too, and the answer arrives in pieces.
    let mut body = ask("mocked", text);
    body["stream"] = json!(true);
    let reply = chat_as(&gateway, CLIENT_KEY, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let text = reply.text();
    let pieces: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(pieces.concat(), content, "{text}");
    assert!(pieces.len() > 1, "{text}");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    // `repeatedly` makes the mock ask again every time: the step bound stops it.
    let text = r#"call current_time {} repeatedly"#;
    let reply = chat_as(&gateway, CLIENT_KEY, &ask("mocked", text)).await;
    reply.assert_error(422, "agent_step_limit");
    assert!(upstream.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_run_stops_when_its_client_leaves() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = ScriptedUpstream::start().await;
    // Every step asks for the calculator after a pause: left alone, the run
    // would make `max_steps` (4) model calls.
    let add = json!({"operation": "add", "a": 1, "b": 1});
    upstream.set_default(
        Duration::from_millis(300),
        tool_call("call_n", "calculator", add, (1, 1)),
    );
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let mut body = ask("assistant", "loop");
    body["stream"] = json!(true);
    let body = body.to_string();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {CLIENT_KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(gateway.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    // Read until the first progress comment, then leave.
    let mut seen = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&seen).contains(": agent step 1 model") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "{}", String::from_utf8_lossy(&seen));
    drop(stream);
    let logs = gateway.wait_for_log("\"client_closed\"", Duration::from_secs(5));
    let run = logs
        .lines()
        .find(|l| l.contains("\"agent.run\"") && l.contains("\"client_closed\""))
        .expect("agent.run with client_closed");
    assert!(run.contains("\"agent\":\"assistant\""), "{run}");
    // The run stopped there: no further steps were asked of the model.
    let asked = upstream.seen().len();
    assert!(asked < 4, "{asked} model calls after the client left");
}
