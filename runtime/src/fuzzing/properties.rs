//! Property tests on stable for what `fuzz/` checks on nightly: the head
//! parser never panics, the splice keeps every other byte, and the SSE
//! observer's verdict does not depend on where frames are cut.
//!
//! Deterministic: a fixed RNG seed and no failure files, so CI runs the
//! same cases every time (a few seconds in all). Not here: the invariants
//! themselves, which live in `fuzzing.rs` so the fuzz targets share them.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use serde_json::{Map, Value, json};

use super::*;

/// Runs `test` on `cases` values of `strategy` from a fixed seed.
fn check<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), String>)
where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(0x6761_7465_7761_7931),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    };
    let outcome =
        TestRunner::new(config).run(&strategy, |value| test(value).map_err(TestCaseError::fail));
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// Any JSON value, nested up to a few levels, with keys the parser cares about.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("model".to_string()),
        Just("messages".to_string()),
        Just("stream".to_string()),
        Just("usage".to_string()),
        "[a-z_]{1,8}",
        any::<String>(),
    ]
}

/// A body the parser must accept: a string `model`, an array `messages`,
/// maybe a boolean `stream`, other fields anywhere; compact or pretty.
fn valid_body() -> impl Strategy<Value = (Vec<u8>, String)> {
    let extras = prop::collection::vec(("[a-z_]{1,8}x", json_value()), 0..4);
    (
        any::<String>(),
        prop::collection::vec(json_value(), 0..4),
        prop::option::of(any::<bool>()),
        extras,
        any::<bool>(),
    )
        .prop_map(|(model, messages, stream, extras, pretty)| {
            let mut object = Map::new();
            for (name, value) in extras {
                object.insert(name, value);
            }
            object.insert("model".into(), Value::from(model.clone()));
            object.insert("messages".into(), Value::from(messages));
            if let Some(stream) = stream {
                object.insert("stream".into(), Value::from(stream));
            }
            let value = Value::Object(object);
            let text = if pretty {
                serde_json::to_string_pretty(&value)
            } else {
                serde_json::to_string(&value)
            };
            (text.unwrap_or_default().into_bytes(), model)
        })
}

/// JSON-ish bytes: a serialised value (often object-shaped), then maybe
/// truncated, a byte replaced, or junk appended.
fn jsonish_body() -> impl Strategy<Value = Vec<u8>> {
    let base = prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        valid_body().prop_map(|(body, _)| body),
    ];
    (base, any::<u16>(), any::<u8>(), 0u8..4).prop_map(|(mut body, at, byte, mutation)| {
        let at = usize::from(at) % (body.len() + 1);
        match mutation {
            0 => body.truncate(at),
            1 if at < body.len() => body[at] = byte,
            2 => body.extend_from_slice(&[byte, b'}', b']', b'"']),
            _ => {}
        }
        body
    })
}

/// An SSE stream as upstreams send it: data events (chunks with and without
/// usage, `[DONE]`), comments, `event:` lines, LF or CRLF endings.
fn sse_stream() -> impl Strategy<Value = Vec<u8>> {
    let usage = (any::<u64>(), any::<u64>(), json_value()).prop_map(|(p, c, extra)| {
        json!({"choices": [], "x": extra, "usage": {"prompt_tokens": p, "extra": extra, "completion_tokens": c}})
            .to_string()
    });
    let line = prop_oneof![
        usage.prop_map(|payload| format!("data: {payload}")),
        json_value().prop_map(|v| format!("data:{v}")),
        Just("data: [DONE]".to_string()),
        Just("data:[DONE]  ".to_string()),
        Just(": keep-alive".to_string()),
        Just("event: error".to_string()),
        Just(String::new()),
        "[ -~]{0,40}",
    ];
    let ending = prop_oneof![Just("\n"), Just("\r\n")];
    prop::collection::vec((line, ending), 0..12).prop_map(|lines| {
        let mut stream = String::new();
        for (line, ending) in lines {
            stream.push_str(&line);
            stream.push_str(ending);
        }
        stream.into_bytes()
    })
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..4096, 0..16)
}

#[test]
fn head_parser_never_panics_on_arbitrary_bytes() {
    check(2048, prop::collection::vec(any::<u8>(), 0..512), |body| {
        check_chat_head(&body)
    });
}

#[test]
fn head_parser_never_panics_on_jsonish_bodies() {
    check(1024, jsonish_body(), |body| check_chat_head(&body));
}

#[test]
fn head_parser_accepts_every_valid_body_and_finds_its_model() {
    check(512, valid_body(), |(body, model)| {
        check_chat_head(&body)?;
        match chat_head(&body) {
            Some((found, _)) if found == model => Ok(()),
            other => Err(format!("parsed as {other:?}, expected {model:?}")),
        }
    });
}

#[test]
fn splice_keeps_every_other_byte_and_reparses() {
    check(
        512,
        (valid_body(), any::<String>()),
        |((body, _), model)| check_splice(&body, &model),
    );
}

#[test]
fn splice_survives_any_span() {
    let input = (
        prop::collection::vec(any::<u8>(), 0..64),
        0usize..80,
        0usize..80,
        prop::collection::vec(any::<u8>(), 0..8),
    );
    check(1024, input, |(body, start, end, json)| {
        check_splice_any_span(&body, start..end, &json)
    });
}

#[test]
fn sse_verdict_is_the_same_whatever_the_chunk_boundaries() {
    check(512, (sse_stream(), cuts()), |(stream, cuts)| {
        check_sse_chunking(&stream, &cuts)
    });
}

#[test]
fn sse_observer_never_panics_on_arbitrary_bytes() {
    check(
        1024,
        (prop::collection::vec(any::<u8>(), 0..512), cuts()),
        |(stream, cuts)| check_sse_chunking(&stream, &cuts),
    );
}

#[test]
fn usage_scanner_reads_what_serde_wrote() {
    // The scanner reads the last `"usage"` key, so the filler holds none.
    let filler = json_value().prop_filter("no usage key", |v| !v.to_string().contains("\"usage\""));
    let input = (any::<u64>(), any::<u64>(), filler, any::<bool>());
    check(1024, input, |(prompt, completion, extra, pretty)| {
        let value = json!({"id": "c", "choices": [extra.clone()], "usage": {
            "nested": extra, "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": 0
        }});
        let text = if pretty {
            serde_json::to_string_pretty(&value)
        } else {
            serde_json::to_string(&value)
        }
        .map_err(|e| e.to_string())?;
        match usage(text.as_bytes()) {
            Some(found) if found == (prompt, completion) => Ok(()),
            other => Err(format!("usage {other:?} in {text}")),
        }
    });
}

/// Lines longer than the observer's carry-over limit (1 MiB) are never
/// inspected, whether they arrive in one frame or in many.
#[test]
fn overlong_lines_are_skipped_whatever_the_chunking() {
    let pad = " ".repeat(1 << 20);
    let streams = [
        format!("data: [DONE]x{pad}\n"),
        format!("data: [DONE]{pad}\n"),
        format!("data: {{\"usage\":{{\"prompt_tokens\":1}}}}{pad}\ndata: [DONE]\n"),
    ];
    for stream in &streams {
        let stream = stream.as_bytes();
        let whole = observe([stream]);
        for cuts in [
            vec![12],
            vec![12, 13],
            vec![13, 100],
            vec![stream.len() - 1],
        ] {
            assert_eq!(observe(chunks(stream, &cuts)), whole, "cuts {cuts:?}");
        }
    }
}
