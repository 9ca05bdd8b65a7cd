//! Golden fixtures for the translators, both directions: each
//! `fixtures/<set>/<case>.in.*` is translated and compared, as JSON values
//! (streams as the sequence of parsed events), with `<case>.out.json`.
//! `<case>.options.json` sets a case's options. `GATEWAY_BLESS=1` rewrites
//! the expected files (refused under CI). Every stream fixture is also fed
//! split at every byte offset and byte by byte, and must give the same bytes.
//! Property tests: `properties.rs`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;

mod properties;

const CREATED: u64 = 1_700_000_000;
const CUT: (&str, &str) = (
    "upstream_stream_truncated",
    "The upstream ended the stream early; the response is incomplete.",
);

fn fixtures() -> PathBuf {
    let beside = Path::new(file!()).with_file_name("fixtures");
    if beside.is_absolute() && beside.is_dir() {
        return beside;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/translate/fixtures")
}

fn bless() -> bool {
    let bless = std::env::var("GATEWAY_BLESS").is_ok_and(|v| v == "1");
    assert!(
        !(bless && std::env::var_os("CI").is_some()),
        "GATEWAY_BLESS=1 is refused under CI: expected files are reviewed, not rewritten"
    );
    bless
}

/// The cases of one fixture set: (name, input path, options).
fn cases(set: &str) -> Vec<(String, PathBuf, Value)> {
    let dir = fixtures().join(set);
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let file = path.file_name()?.to_str()?.to_owned();
            let name = file
                .strip_suffix(".in.json")
                .or(file.strip_suffix(".in.sse"))?
                .to_owned();
            let options = std::fs::read(dir.join(format!("{name}.options.json")))
                .map(|bytes| serde_json::from_slice(&bytes).unwrap())
                .unwrap_or(Value::Null);
            Some((name, path, options))
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    cases
}

/// Compares (or, blessing, writes) every case of `set`; reports all failures.
fn run(set: &str, translate: impl Fn(&[u8], &Value) -> Value) {
    let bless = bless();
    let mut failures = Vec::new();
    for (name, input, options) in cases(set) {
        let bytes = std::fs::read(&input).unwrap();
        let actual = translate(&bytes, &options);
        let expected_path = input.with_file_name(format!("{name}.out.json"));
        let rendered = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        if bless {
            std::fs::write(&expected_path, rendered).unwrap();
            continue;
        }
        let expected: Value = match std::fs::read(&expected_path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap(),
            Err(_) => Value::Null,
        };
        if expected != actual {
            failures.push(format!(
                "{set}/{name}: expected {}\n--- actual:\n{rendered}",
                expected_path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ (GATEWAY_BLESS=1 rewrites them; review the diff):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn translated(result: Result<Translated, TranslateError>) -> Value {
    match result {
        Ok(t) => json!({
            "body": parse(&t.body),
            "dropped": t.dropped,
            "unknown": t.unknown,
            "stream": t.stream,
            "include_usage": t.include_usage,
        }),
        Err(error) => json!({
            "status": error.status(),
            "param": error.param(),
            "openai": parse(&error.openai_body()),
            "anthropic": parse(&error.anthropic_body()),
        }),
    }
}

fn failed(error: TranslateError) -> Value {
    json!({ "error": error.to_string(), "param": error.param() })
}

/// Stream output as events: `{"event"?, "data"}` (data parsed when JSON).
pub(super) fn events(bytes: &[u8]) -> Vec<Value> {
    sse::events(bytes)
        .into_iter()
        .map(|(name, data)| {
            let data = parse(data.as_bytes());
            if name == "message" {
                json!({ "data": data })
            } else {
                json!({ "event": name, "data": data })
            }
        })
        .collect()
}

/// Feeds a stream whole, split at every offset and byte by byte; all must
/// give the same bytes. Returns them.
fn same_whatever_the_chunking(input: &[u8], mut feed: impl FnMut(&[&[u8]]) -> Vec<u8>) -> Vec<u8> {
    let whole = feed(&[input]);
    for at in 0..=input.len() {
        let (a, b) = input.split_at(at);
        assert_eq!(feed(&[a, b]), whole, "split at byte {at}");
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(feed(&bytes), whole, "byte by byte");
    whole
}

fn chat_stream(pieces: &[&[u8]], options: &Value) -> (Vec<u8>, MessagesSseToChat) {
    let include_usage = options["include_usage"].as_bool().unwrap_or(false);
    let mut translator = MessagesSseToChat::new("public-model", include_usage, CREATED);
    let mut out = Vec::new();
    for piece in pieces {
        translator.feed_into(piece, &mut out);
    }
    if !translator.finished() {
        out.extend_from_slice(&translator.cut(CUT.0, CUT.1));
    }
    (out, translator)
}

fn messages_stream(pieces: &[&[u8]], options: &Value) -> (Vec<u8>, ChatSseToMessages) {
    let estimate = options["input_tokens"].as_u64().unwrap_or(0);
    let mut translator = ChatSseToMessages::new("public-model").with_input_tokens(estimate);
    let mut out = Vec::new();
    for piece in pieces {
        out.extend_from_slice(&translator.feed(piece));
    }
    if !translator.finished() {
        out.extend_from_slice(&translator.cut(CUT.0, CUT.1));
    }
    (out, translator)
}

#[test]
fn chat_to_messages_requests() {
    run("chat_to_messages/request", |body, options| {
        let default = options["default_max_tokens"].as_u64().unwrap_or(4096) as u32;
        translated(chat_request_to_messages(body, "claude-upstream", default))
    });
}

#[test]
fn chat_to_messages_responses() {
    run(
        "chat_to_messages/response",
        |body, _| match messages_response_to_chat(body, "public-model", "chatcmpl-hint", CREATED) {
            Ok(bytes) => parse(&bytes),
            Err(error) => failed(error),
        },
    );
}

#[test]
fn chat_to_messages_streams() {
    run("chat_to_messages/stream", |input, options| {
        let out = same_whatever_the_chunking(input, |pieces| chat_stream(pieces, options).0);
        let (_, translator) = chat_stream(&[input], options);
        let events = events(&out);
        properties::check_chat_stream(&events).unwrap_or_else(|e| panic!("{e}"));
        json!({
            "events": events,
            "finished": translator.finished(),
            "failed": translator.failed(),
            "usage": translator.usage(),
        })
    });
}

#[test]
fn messages_to_chat_requests() {
    run("messages_to_chat/request", |body, options| {
        let upstream = ChatUpstream {
            reasoning_effort: options["reasoning_effort"].as_bool().unwrap_or(false),
            max_tokens_field: match options["max_tokens_field"].as_str() {
                Some("max_tokens") => MaxTokensField::MaxTokens,
                _ => MaxTokensField::MaxCompletionTokens,
            },
        };
        translated(messages_request_to_chat_for(body, "gpt-upstream", upstream))
    });
}

#[test]
fn messages_to_chat_responses() {
    run(
        "messages_to_chat/response",
        |body, _| match chat_response_to_messages(body, "public-model") {
            Ok(bytes) => parse(&bytes),
            Err(error) => failed(error),
        },
    );
}

#[test]
fn messages_to_chat_streams() {
    run("messages_to_chat/stream", |input, options| {
        let out = same_whatever_the_chunking(input, |pieces| messages_stream(pieces, options).0);
        let (_, translator) = messages_stream(&[input], options);
        let events = events(&out);
        properties::check_messages_stream(&events).unwrap_or_else(|e| panic!("{e}"));
        json!({
            "events": events,
            "finished": translator.finished(),
            "failed": translator.failed(),
            "usage": translator.usage(),
        })
    });
}

#[test]
fn errors_both_ways() {
    run("errors", |input, _| {
        let case: Value = serde_json::from_slice(input).unwrap();
        let status = case["status"].as_u64().unwrap() as u16;
        let body = match &case["body"] {
            Value::String(text) => text.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        };
        let (status, body) = match case["to"].as_str() {
            Some("anthropic") => error_to_anthropic(status, &body),
            _ => error_to_openai(status, &body),
        };
        json!({ "status": status, "body": parse(&body) })
    });
}

#[test]
fn count_tokens_estimates() {
    run("count_tokens", |body, _| {
        match estimate_input_tokens(body) {
            Ok(n) => {
                json!({ "body": parse(&count_tokens_body(n)), "header": [ESTIMATE_HEADER.0, ESTIMATE_HEADER.1] })
            }
            Err(error) => failed(error),
        }
    });
}

#[test]
fn policy_markdown_is_fresh() {
    let path = fixtures().with_file_name("POLICY.md");
    let rendered = policy::markdown();
    if bless() {
        std::fs::write(&path, rendered).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == rendered,
        "{} is stale: run with GATEWAY_BLESS=1",
        path.display()
    );
}

#[test]
fn every_policy_row_is_unique_and_every_reported_label_has_a_row() {
    for table in [policy::CHAT_REQUEST, policy::MESSAGES_REQUEST] {
        for (i, rule) in table.iter().enumerate() {
            assert!(
                table[..i].iter().all(|r| r.field != rule.field),
                "{} twice",
                rule.field
            );
        }
    }
    // Every label a fixture reports as dropped is a row of its table.
    for (set, table) in [
        ("chat_to_messages/request", policy::CHAT_REQUEST),
        ("messages_to_chat/request", policy::MESSAGES_REQUEST),
    ] {
        for (name, input, _) in cases(set) {
            let out: Value = std::fs::read(input.with_file_name(format!("{name}.out.json")))
                .map(|b| serde_json::from_slice(&b).unwrap())
                .unwrap_or(Value::Null);
            for label in out["dropped"].as_array().into_iter().flatten() {
                let label = label.as_str().unwrap();
                let rule = policy::lookup(table, label)
                    .unwrap_or_else(|| panic!("{set}/{name}: `{label}` has no row"));
                assert!(rule.policy != policy::Policy::Rejected, "{label}");
            }
            // A field refused as unsupported is a rejected (or conditionally
            // mapped) row of its table.
            if out["openai"]["error"]["code"] == "unsupported_parameter" {
                let param = out["param"].as_str().unwrap_or("");
                let rule = policy::lookup(table, param)
                    .unwrap_or_else(|| panic!("{set}/{name}: `{param}` has no row"));
                assert!(
                    rule.policy != policy::Policy::Dropped,
                    "{set}/{name}: `{param}` is a dropped row"
                );
            }
        }
    }
}

/// Architecture invariant: `translate` is a leaf. Its files name nothing
/// else of the crate and do no I/O (tests excepted: they read fixtures).
#[test]
fn translate_is_a_leaf() {
    let dir = fixtures().with_file_name("");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("tests.rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for (number, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for forbidden in [
                "crate::",
                "tokio",
                "std::fs",
                "std::net",
                "std::time",
                "std::env",
            ] {
                assert!(
                    !code.contains(forbidden),
                    "{}:{}: `{forbidden}` in a leaf module",
                    path.display(),
                    number + 1
                );
            }
        }
        checked += 1;
    }
    assert!(
        checked > 10,
        "only {checked} files checked in {}",
        dir.display()
    );
}

/// The benchmark's translated request (body S, an Anthropic `message` with
/// one text block) through both non-streaming translators, many times: a
/// loop to profile under callgrind (`--toggle-collect` on the two
/// functions). Asserts only that every round gives the same bytes.
#[test]
fn body_s_round_trip_loop() {
    const REQUEST: &[u8] = br#"{"model":"bench-model","messages":[{"role":"system","content":"You are a concise assistant. Answer in one short paragraph."},{"role":"user","content":"Please summarise the following. Region"}],"max_tokens":64}"#;
    const REPLY: &[u8] = br#"{"id":"msg_bench0001","type":"message","role":"assistant","model":"mock-claude","content":[{"type":"text","text":"The benchmark mock streams this deterministic text so that every response is identical and checkable. Gateways add latency; this text measures it. The benchmark mock streams this deterministic text so that every response is identical and checkable."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":42,"output_tokens":60}}"#;
    let round = || {
        let request = chat_request_to_messages(REQUEST, "mock-claude", 4096).unwrap();
        let reply = messages_response_to_chat(REPLY, "bench-translated", "hint", CREATED).unwrap();
        (request.body, reply)
    };
    let first = round();
    for _ in 0..1000 {
        assert_eq!(round(), first);
    }
}

/// An answer with invalid UTF-8 in a member the translation leaves out
/// (here `model`) translates, as it did when the answer was read from bytes.
#[test]
fn invalid_utf8_in_an_unused_member_is_tolerated() {
    let mut reply = br#"{"id":"msg_1","type":"message","role":"assistant","model":"m"#.to_vec();
    reply.extend_from_slice(&[0xff, 0xfe]);
    reply.extend_from_slice(
        br#"","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":2}}"#,
    );
    let out = messages_response_to_chat(&reply, "public-model", "hint", CREATED).unwrap();
    let out: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(out["choices"][0]["message"]["content"], "hi");
    // In the text it is still refused.
    let at = reply.windows(4).position(|w| w == b"\"hi\"").unwrap();
    reply[at + 2] = 0xff;
    assert!(matches!(
        messages_response_to_chat(&reply, "public-model", "hint", CREATED),
        Err(TranslateError::InvalidJson(_))
    ));
}

/// The hand writers agree with serde_json on numbers and strings.
#[test]
fn hand_written_numbers_and_strings_match_serde() {
    for n in [
        0,
        7,
        9,
        10,
        42,
        99,
        100,
        101,
        999,
        1000,
        65_536,
        1_700_000_000,
        u64::MAX,
    ] {
        let mut out = Vec::new();
        json::push_u64(&mut out, n);
        assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
    }
    for text in [
        "",
        "plain",
        "q\"b\\s/",
        "nl\n\r\t\u{1}\u{1f}\u{7f}",
        "é😀",
        "end\\",
    ] {
        let mut out = Vec::new();
        json::push_str(&mut out, text);
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, text);
    }
}
