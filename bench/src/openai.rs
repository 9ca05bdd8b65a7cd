//! The mock upstream's fixed OpenAI payloads, built once at startup: the
//! ~540-byte `chat.completion`, the SSE events (each content delta exactly
//! [`DELTA_EVENT_BYTES`]), `/v1/models`, and OpenAI-shaped error bodies.
//!
//! Nothing here echoes the request (not even `model`): the same bytes go to
//! every caller, so a response fetched directly from the mock and one fetched
//! through a proxy must be byte-identical, which is the correctness guard.
//! Content is deterministic filler text; it is not a language model.

use bytes::Bytes;
use serde::Serialize;

/// Size of the non-streaming completion body, in bytes.
pub const COMPLETION_BYTES: usize = 540;
/// Size of each content-delta SSE event (`data: {…}\n\n`), in bytes.
pub const DELTA_EVENT_BYTES: usize = 180;
/// The upstream model name the mock reports (the gateway's bench config maps
/// `bench-model` to it).
pub const MODEL: &str = "mock-gpt";

const ID: &str = "chatcmpl-bench0001";
const CREATED: u64 = 1_700_000_000;
const PROMPT_TOKENS: u64 = 42;
/// ASCII with no character JSON escapes, so N filler chars add N bytes.
const FILLER: &str = "The benchmark mock streams this deterministic text so that every \
response is identical and checkable. Gateways add latency; this text measures it. ";

#[derive(Serialize)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

impl Usage {
    fn new(completion_tokens: u64) -> Self {
        Usage {
            prompt_tokens: PROMPT_TOKENS,
            completion_tokens,
            total_tokens: PROMPT_TOKENS + completion_tokens,
        }
    }
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
    refusal: Option<()>,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: Message<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct Completion<'a> {
    id: &'static str,
    object: &'static str,
    created: u64,
    model: &'static str,
    choices: [Choice<'a>; 1],
    usage: Usage,
}

#[derive(Serialize, Default)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    finish_reason: Option<&'static str>,
}

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'static str,
    object: &'static str,
    created: u64,
    model: &'static str,
    choices: Vec<ChunkChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Usage>,
}

/// Everything the mock sends, precomputed for a given `--chunks`.
#[derive(Debug)]
pub struct Payloads {
    /// The non-streaming `chat.completion` body.
    pub completion: Bytes,
    /// SSE frames in order, one per event, ending with `data: [DONE]`.
    pub stream: Vec<Bytes>,
    /// As `stream`, with the usage chunk before `[DONE]`.
    pub stream_with_usage: Vec<Bytes>,
    /// The `/v1/models` body.
    pub models: Bytes,
}

impl Payloads {
    pub fn new(chunks: u32) -> Payloads {
        let completion = sized_completion();
        let role = event(&chunk(
            Delta {
                role: Some("assistant"),
                content: Some(""),
            },
            None,
        ));
        let mut stream = vec![role];
        for i in 0..chunks {
            stream.push(delta_event(i));
        }
        stream.push(event(&chunk(Delta::default(), Some("stop"))));
        let done = Bytes::from_static(b"data: [DONE]\n\n");
        let mut stream_with_usage = stream.clone();
        let usage = Chunk {
            choices: Vec::new(),
            usage: Some(Usage::new(u64::from(chunks) * 2)),
            ..chunk(Delta::default(), None)
        };
        stream_with_usage.push(event(&usage));
        stream.push(done.clone());
        stream_with_usage.push(done);
        let models = Bytes::from(format!(
            r#"{{"object":"list","data":[{{"id":"{MODEL}","object":"model","created":{CREATED},"owned_by":"bench-mock"}}]}}"#
        ));
        Payloads {
            completion,
            stream,
            stream_with_usage,
            models,
        }
    }
}

/// Which pacing slot frame `k` of a stream of `chunks` deltas belongs to:
/// the role chunk and the first delta go at once (slot 0), delta `i` at slot
/// `i`, and the closing frames right after the last delta.
pub fn pace_slot(k: usize, chunks: u32) -> u32 {
    let k = u32::try_from(k).unwrap_or(u32::MAX);
    k.saturating_sub(1).min(chunks.saturating_sub(1))
}

/// An OpenAI-shaped error body: `{"error":{"message","type","param","code"}}`.
pub fn error_body(message: &str, kind: &str) -> Bytes {
    #[derive(Serialize)]
    struct Error<'a> {
        message: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        param: Option<()>,
        code: Option<()>,
    }
    #[derive(Serialize)]
    struct Body<'a> {
        error: Error<'a>,
    }
    let body = Body {
        error: Error {
            message,
            kind,
            param: None,
            code: None,
        },
    };
    Bytes::from(serde_json::to_string(&body).unwrap_or_default())
}

/// `len` filler characters starting at `offset` (wrapping).
fn filler(offset: usize, len: usize) -> String {
    FILLER
        .chars()
        .cycle()
        .skip(offset % FILLER.len())
        .take(len)
        .collect()
}

fn chunk<'a>(delta: Delta<'a>, finish_reason: Option<&'static str>) -> Chunk<'a> {
    Chunk {
        id: ID,
        object: "chat.completion.chunk",
        created: CREATED,
        model: MODEL,
        choices: vec![ChunkChoice {
            index: 0,
            delta,
            finish_reason,
        }],
        usage: None,
    }
}

fn event(chunk: &Chunk<'_>) -> Bytes {
    // Serializing these plain structs cannot fail; an empty event would show
    // up at once as a failed stream, never as a silent mismeasurement.
    let json = serde_json::to_string(chunk).unwrap_or_default();
    Bytes::from(format!("data: {json}\n\n"))
}

/// Content delta `i`, padded so the whole event is [`DELTA_EVENT_BYTES`];
/// consecutive deltas continue the filler text.
fn delta_event(i: u32) -> Bytes {
    let overhead = event(&chunk(
        Delta {
            role: None,
            content: Some(""),
        },
        None,
    ))
    .len();
    let len = DELTA_EVENT_BYTES.saturating_sub(overhead).max(1);
    let content = filler(i as usize * len, len);
    event(&chunk(
        Delta {
            role: None,
            content: Some(&content),
        },
        None,
    ))
}

/// The completion with its content padded to exactly [`COMPLETION_BYTES`].
fn sized_completion() -> Bytes {
    let build = |content: &str| {
        let completion = Completion {
            id: ID,
            object: "chat.completion",
            created: CREATED,
            model: MODEL,
            choices: [Choice {
                index: 0,
                message: Message {
                    role: "assistant",
                    content,
                    refusal: None,
                },
                logprobs: None,
                finish_reason: "stop",
            }],
            usage: Usage::new(96),
        };
        serde_json::to_string(&completion).unwrap_or_default()
    };
    let overhead = build("").len();
    Bytes::from(build(&filler(0, COMPLETION_BYTES.saturating_sub(overhead))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn json_of_event(event: &Bytes) -> Value {
        let text = std::str::from_utf8(event).unwrap();
        let json = text
            .strip_prefix("data: ")
            .unwrap()
            .strip_suffix("\n\n")
            .unwrap();
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn completion_is_540_bytes_of_openai_json_with_usage() {
        let payloads = Payloads::new(20);
        assert_eq!(payloads.completion.len(), COMPLETION_BYTES);
        let body: Value = serde_json::from_slice(&payloads.completion).unwrap();
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["model"], MODEL);
        assert_eq!(body["choices"][0]["finish_reason"], "stop");
        assert_eq!(body["usage"]["total_tokens"], 138);
        assert!(
            body["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .len()
                > 100
        );
    }

    #[test]
    fn stream_events_in_order_with_180_byte_deltas() {
        let payloads = Payloads::new(20);
        // role, 20 deltas, finish, [DONE]; with usage one more before [DONE].
        assert_eq!(payloads.stream.len(), 23);
        assert_eq!(payloads.stream_with_usage.len(), 24);
        let role = json_of_event(&payloads.stream[0]);
        assert_eq!(role["choices"][0]["delta"]["role"], "assistant");
        let mut text = String::new();
        for delta in &payloads.stream[1..21] {
            assert_eq!(delta.len(), DELTA_EVENT_BYTES, "{delta:?}");
            let json = json_of_event(delta);
            let content = json["choices"][0]["delta"]["content"].as_str().unwrap();
            assert!(!content.is_empty());
            text.push_str(content);
        }
        assert!(
            FILLER.starts_with(&text[..40]),
            "deltas continue the text: {text}"
        );
        let finish = json_of_event(&payloads.stream[21]);
        assert_eq!(finish["choices"][0]["finish_reason"], "stop");
        let usage = json_of_event(&payloads.stream_with_usage[22]);
        assert_eq!(usage["usage"]["completion_tokens"], 40);
        assert_eq!(payloads.stream[22].as_ref(), b"data: [DONE]\n\n");
    }

    #[test]
    fn pacing_slots() {
        let slots: Vec<u32> = (0..6).map(|k| pace_slot(k, 3)).collect();
        // role, d0, d1, d2, finish, [DONE]
        assert_eq!(slots, [0, 0, 1, 2, 2, 2]);
        assert_eq!(pace_slot(2, 0), 0);
    }

    #[test]
    fn error_body_is_openai_shaped() {
        let body: Value = serde_json::from_slice(&error_body("boom", "server_error")).unwrap();
        assert_eq!(body["error"]["type"], "server_error");
        assert_eq!(body["error"]["message"], "boom");
    }
}
