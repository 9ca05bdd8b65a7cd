//! Property tests: the stream translators give the same bytes whatever the
//! chunking, their output always obeys its protocol's event order (checked
//! by the two validators below, which the golden tests also apply), and no
//! translator panics on garbage.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::super::*;
use super::events;

/// Anthropic stream order: `message_start` first; blocks started in index
/// order, one open at a time; deltas only for the open block and of its
/// kind; tool input fragments joining into a JSON object (unless an error
/// event ends the stream); `message_delta`
/// with no block open; `message_stop` or `error` last.
pub fn check_messages_stream(events: &[Value]) -> Result<(), String> {
    let mut started = false;
    let mut open: Option<(u64, String)> = None;
    let mut next = 0;
    let mut input = String::new();
    let mut ended = false;
    let mut bad_input = false;
    for (at, event) in events.iter().enumerate() {
        let name = event["event"].as_str().unwrap_or("message");
        let data = &event["data"];
        let fail = |why: &str| Err(format!("event {at} ({name}): {why}: {events:#?}"));
        if ended {
            return fail("after the end");
        }
        if name != data["type"].as_str().unwrap_or("") {
            return fail("event name differs from data.type");
        }
        match name {
            "ping" => {}
            "error" => ended = true,
            "message_start" if !started => started = true,
            _ if !started => return fail("before message_start"),
            "content_block_start" => {
                if open.is_some() || data["index"] != next {
                    return fail("a block starts while one is open or out of order");
                }
                next += 1;
                input.clear();
                open = Some((
                    data["index"].as_u64().unwrap_or(0),
                    data["content_block"]["type"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                ));
            }
            "content_block_delta" => {
                let Some((index, kind)) = &open else {
                    return fail("a delta with no open block");
                };
                let expected = match data["delta"]["type"].as_str() {
                    Some("text_delta") => "text",
                    Some("thinking_delta" | "signature_delta") => "thinking",
                    Some("input_json_delta") => "tool_use",
                    _ => "",
                };
                if data["index"] != *index || expected != kind {
                    return fail("a delta for another block or of another kind");
                }
                input.push_str(data["delta"]["partial_json"].as_str().unwrap_or(""));
            }
            "content_block_stop" => match open.take() {
                Some((index, kind)) if data["index"] == index => {
                    if kind == "tool_use"
                        && !input.is_empty()
                        && !serde_json::from_str::<Value>(&input).is_ok_and(|v| v.is_object())
                    {
                        bad_input = true;
                    }
                }
                _ => return fail("stop for a block that is not open"),
            },
            "message_delta" if open.is_none() => {}
            "message_stop" => ended = true,
            _ => return fail("unexpected here"),
        }
    }
    if !ended {
        return Err(format!("the stream does not end: {events:#?}"));
    }
    if bad_input && events.last().is_some_and(|e| e["event"] != "error") {
        return Err(format!(
            "tool input fragments do not join into an object: {events:#?}"
        ));
    }
    Ok(())
}

/// OpenAI stream shape: chunks with one choice at index 0 (or none, for the
/// usage chunk), a tool call's first fragment with id and name, each call's
/// arguments joining into JSON, `[DONE]` or `event: error` last.
pub fn check_chat_stream(events: &[Value]) -> Result<(), String> {
    let mut arguments: Vec<String> = Vec::new();
    let mut ended = false;
    for (at, event) in events.iter().enumerate() {
        let data = &event["data"];
        let fail = |why: &str| Err(format!("event {at}: {why}: {events:#?}"));
        if ended {
            return fail("after the end");
        }
        if event["event"] == "error" {
            ended = data["error"]["message"].is_string();
            if !ended {
                return fail("an error event without a message");
            }
            continue;
        }
        if *data == "[DONE]" {
            ended = true;
            continue;
        }
        if data["object"] != "chat.completion.chunk" || !data["id"].is_string() {
            return fail("not a chunk");
        }
        let Some(choices) = data["choices"].as_array() else {
            return fail("no choices");
        };
        for call in choices
            .first()
            .map(|c| &c["delta"]["tool_calls"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let index = call["index"].as_u64().unwrap_or(u64::MAX) as usize;
            if index == arguments.len() {
                if !call["id"].is_string() || !call["function"]["name"].is_string() {
                    return fail("a tool call's first fragment lacks id or name");
                }
                arguments.push(String::new());
            } else if index > arguments.len() {
                return fail("tool call index skipped");
            }
            arguments[index].push_str(call["function"]["arguments"].as_str().unwrap_or(""));
        }
    }
    if !ended {
        return Err(format!("the stream does not end: {events:#?}"));
    }
    for joined in arguments.iter().filter(|a| !a.is_empty()) {
        if !serde_json::from_str::<Value>(joined).is_ok_and(|v| v.is_object()) {
            return Err(format!(
                "tool arguments do not join into an object: {joined}"
            ));
        }
    }
    Ok(())
}

fn text() -> impl Strategy<Value = String> {
    "[a-z \"\\\\\n{}é\u{1F600}]{0,6}"
}

/// A string cut into pieces at character boundaries.
fn pieces(whole: String) -> impl Strategy<Value = Vec<String>> {
    let cuts: Vec<usize> = whole.char_indices().map(|(i, _)| i).skip(1).collect();
    proptest::sample::subsequence(cuts.clone(), 0..=cuts.len()).prop_map(move |cuts| {
        let mut out = Vec::new();
        let mut from = 0;
        for cut in cuts.into_iter().chain([whole.len()]) {
            out.push(whole[from..cut].to_owned());
            from = cut;
        }
        out
    })
}

fn arguments() -> impl Strategy<Value = Vec<String>> {
    (text(), 0u32..1000).prop_flat_map(|(s, n)| pieces(json!({ "s": s, "n": n }).to_string()))
}

#[derive(Debug, Clone)]
enum ChatOp {
    Content(String),
    Reasoning(String),
    Tool(String, Vec<String>),
}

fn chat_op() -> impl Strategy<Value = ChatOp> {
    prop_oneof![
        text().prop_map(ChatOp::Content),
        text().prop_map(ChatOp::Reasoning),
        ("[a-z_]{1,8}", arguments()).prop_map(|(n, a)| ChatOp::Tool(n, a)),
    ]
}

/// A well-formed OpenAI stream for a list of operations.
fn chat_stream(ops: &[ChatOp], usage: bool) -> Vec<u8> {
    let chunk = |delta: Value, finish: Value| {
        format!(
            "data: {}\n\n",
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    let mut out = chunk(json!({"role": "assistant", "content": ""}), Value::Null);
    let mut tools = 0;
    for op in ops {
        match op {
            ChatOp::Content(t) => out += &chunk(json!({ "content": t }), Value::Null),
            ChatOp::Reasoning(t) => out += &chunk(json!({ "reasoning_content": t }), Value::Null),
            ChatOp::Tool(name, args) => {
                out += &chunk(
                    json!({"tool_calls": [{"index": tools, "id": format!("call_{tools}"), "type": "function", "function": {"name": name, "arguments": ""}}]}),
                    Value::Null,
                );
                for arg in args {
                    out += &chunk(
                        json!({"tool_calls": [{"index": tools, "function": {"arguments": arg}}]}),
                        Value::Null,
                    );
                }
                tools += 1;
            }
        }
    }
    out += &chunk(
        json!({}),
        json!(if tools > 0 { "tool_calls" } else { "stop" }),
    );
    if usage {
        out += &format!(
            "data: {}\n\n",
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13, "prompt_tokens_details": {"cached_tokens": 2}}})
        );
    }
    (out + "data: [DONE]\n\n").into_bytes()
}

#[derive(Debug, Clone)]
enum Block {
    Text(Vec<String>),
    Thinking(Vec<String>),
    Tool(String, Vec<String>),
}

fn block() -> impl Strategy<Value = Block> {
    prop_oneof![
        prop::collection::vec(text(), 0..4).prop_map(Block::Text),
        prop::collection::vec(text(), 0..4).prop_map(Block::Thinking),
        ("[a-z_]{1,8}", arguments()).prop_map(|(n, a)| Block::Tool(n, a)),
    ]
}

/// A well-formed Anthropic stream for a list of blocks.
fn messages_stream(blocks: &[Block]) -> Vec<u8> {
    let event = |data: Value| {
        format!(
            "event: {}\ndata: {data}\n\n",
            data["type"].as_str().unwrap_or("")
        )
    };
    let mut out = event(
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": null, "usage": {"input_tokens": 5, "output_tokens": 1, "cache_read_input_tokens": 3}}}),
    );
    for (index, block) in blocks.iter().enumerate() {
        let (start, deltas): (Value, Vec<Value>) = match block {
            Block::Text(parts) => (
                json!({"type": "text", "text": ""}),
                parts
                    .iter()
                    .map(|t| json!({"type": "text_delta", "text": t}))
                    .collect(),
            ),
            Block::Thinking(parts) => (
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                parts
                    .iter()
                    .map(|t| json!({"type": "thinking_delta", "thinking": t}))
                    .chain([json!({"type": "signature_delta", "signature": "c2ln"})])
                    .collect(),
            ),
            Block::Tool(name, parts) => (
                json!({"type": "tool_use", "id": format!("toolu_{index}"), "name": name, "input": {}}),
                parts
                    .iter()
                    .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
                    .collect(),
            ),
        };
        out +=
            &event(json!({"type": "content_block_start", "index": index, "content_block": start}));
        out += &event(json!({"type": "ping"}));
        for delta in deltas {
            out += &event(json!({"type": "content_block_delta", "index": index, "delta": delta}));
        }
        out += &event(json!({"type": "content_block_stop", "index": index}));
    }
    out += &event(
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 7}}),
    );
    (out + &event(json!({"type": "message_stop"}))).into_bytes()
}

/// Feeds `input` in pieces cut at `cuts` (sorted offsets, any values).
fn split<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut offsets: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    offsets.sort_unstable();
    let mut pieces = Vec::new();
    let mut from = 0;
    for cut in offsets.into_iter().chain([input.len()]) {
        pieces.push(&input[from..cut]);
        from = cut;
    }
    pieces
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn chat_streams_translate_to_valid_anthropic_streams_whatever_the_chunking(
        ops in prop::collection::vec(chat_op(), 0..6),
        usage in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let input = chat_stream(&ops, usage);
        let mut whole = ChatSseToMessages::new("m");
        let expected = whole.feed(&input);
        prop_assert!(whole.finished() && !whole.failed());
        let mut pieces = ChatSseToMessages::new("m");
        let got: Vec<u8> = split(&input, &cuts).into_iter().flat_map(|p| pieces.feed(p).to_vec()).collect();
        prop_assert_eq!(&got[..], &expected[..]);
        let events = events(&expected);
        if let Err(why) = check_messages_stream(&events) {
            return Err(TestCaseError::fail(why));
        }
    }

    #[test]
    fn anthropic_streams_translate_to_valid_chat_streams_whatever_the_chunking(
        blocks in prop::collection::vec(block(), 0..5),
        include_usage in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let input = messages_stream(&blocks);
        let mut whole = MessagesSseToChat::new("m", include_usage, 1);
        let expected = whole.feed(&input);
        prop_assert!(whole.finished() && !whole.failed());
        prop_assert_eq!(whole.usage(), (8, 7, 3, 0));
        let mut pieces = MessagesSseToChat::new("m", include_usage, 1);
        let got: Vec<u8> = split(&input, &cuts).into_iter().flat_map(|p| pieces.feed(p).to_vec()).collect();
        prop_assert_eq!(&got[..], &expected[..]);
        if let Err(why) = check_chat_stream(&events(&expected)) {
            return Err(TestCaseError::fail(why));
        }
    }

    #[test]
    fn garbage_never_panics_and_streams_stay_well_formed(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..8),
        prefix in prop::sample::select(vec!["", "data: ", "event: error\ndata: ", "data: {\"type\":\"content_block_delta\",\"index\":0,", "data: {\"choices\":[{\"delta\":"]),
    ) {
        let mut to_messages = ChatSseToMessages::new("m");
        let mut to_chat = MessagesSseToChat::new("m", true, 1);
        let mut out_messages = to_messages.feed(prefix.as_bytes()).to_vec();
        let mut out_chat = to_chat.feed(prefix.as_bytes()).to_vec();
        for chunk in &chunks {
            out_messages.extend_from_slice(&to_messages.feed(chunk));
            out_chat.extend_from_slice(&to_chat.feed(chunk));
            let body: Vec<u8> = prefix.bytes().chain(chunk.iter().copied()).collect();
            let _ = chat_request_to_messages(&body, "m", 1);
            let _ = messages_request_to_chat(&body, "m");
            let _ = messages_response_to_chat(&body, "m", "h", 1);
            let _ = chat_response_to_messages(&body, "m");
            let _ = error_to_anthropic(500, &body);
            let _ = error_to_openai(500, &body);
            let _ = estimate_input_tokens(&body);
        }
        out_messages.extend_from_slice(&to_messages.cut("c", "m"));
        out_chat.extend_from_slice(&to_chat.cut("c", "m"));
        for event in events(&out_messages).iter().chain(events(&out_chat).iter()) {
            prop_assert!(event["data"].is_object() || event["data"] == "[DONE]", "{}", event);
        }
    }
}
