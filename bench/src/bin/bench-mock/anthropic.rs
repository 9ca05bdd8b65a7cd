//! The mock's Anthropic Messages payloads (`POST /v1/messages`), built once
//! at startup from the OpenAI ones so that both wire formats carry the same
//! text: the message's one text block is the OpenAI completion's content, and
//! stream delta *i* carries the text of the OpenAI stream's delta *i*. A
//! gateway translating this upstream for an OpenAI client must therefore hand
//! back exactly the content the OpenAI mode sends directly (same digest in
//! `bench-sse` and in the harness's checks), which is the correctness guard
//! of the translation figure.
//!
//! Shapes follow docs.anthropic.com/en/api/messages and
//! docs.anthropic.com/en/docs/build-with-claude/streaming: a stream is
//! `message_start`, `content_block_start`, `ping`, the text deltas,
//! `content_block_stop`, `message_delta` (stop reason, output usage),
//! `message_stop`, each as `event: NAME\ndata: {…}\n\n`, one body frame each.
//! Errors use Anthropic's `{"type":"error","error":{"type","message"}}`.

use bytes::Bytes;
use gateway_bench::openai::Payloads as OpenAi;
use serde::Serialize;
use serde_json::Value;

/// The upstream model name the Anthropic mode reports.
pub const MODEL: &str = "mock-claude";
const ID: &str = "msg_bench0001";
const INPUT_TOKENS: u64 = 42;
/// Frames before the first content delta: `message_start`,
/// `content_block_start`, `ping`. They go at once, with the first delta.
pub const LEAD_FRAMES: usize = 3;

/// Everything the Anthropic mode sends, for a given `--chunks`.
#[derive(Debug)]
pub struct Payloads {
    /// The non-streaming `message` body.
    pub message: Bytes,
    /// SSE frames in order, one per event, ending with `message_stop`.
    pub stream: Vec<Bytes>,
}

#[derive(Serialize)]
struct Usage {
    input_tokens: u64,
    output_tokens: u64,
}

#[derive(Serialize)]
struct TextBlock<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct Message<'a> {
    id: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'static str,
    content: Vec<TextBlock<'a>>,
    stop_reason: Option<&'static str>,
    stop_sequence: Option<()>,
    usage: Usage,
}

/// An event's `type`, which is also its SSE event name.
trait Typed {
    fn kind(&self) -> &'static str;
}

macro_rules! typed {
    ($($t:ty),*) => {$(
        impl Typed for $t {
            fn kind(&self) -> &'static str {
                self.kind
            }
        }
    )*};
}
typed!(
    MessageStart<'_>,
    BlockStart<'_>,
    BlockDelta<'_>,
    BlockStop,
    MessageDelta,
    Bare
);

#[derive(Serialize)]
struct MessageStart<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: Message<'a>,
}

#[derive(Serialize)]
struct BlockStart<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    index: u32,
    content_block: TextBlock<'a>,
}

#[derive(Serialize)]
struct TextDelta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct BlockDelta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    index: u32,
    delta: TextDelta<'a>,
}

#[derive(Serialize)]
struct BlockStop {
    #[serde(rename = "type")]
    kind: &'static str,
    index: u32,
}

#[derive(Serialize)]
struct StopDelta {
    stop_reason: &'static str,
    stop_sequence: Option<()>,
}

#[derive(Serialize)]
struct OutputUsage {
    output_tokens: u64,
}

#[derive(Serialize)]
struct MessageDelta {
    #[serde(rename = "type")]
    kind: &'static str,
    delta: StopDelta,
    usage: OutputUsage,
}

/// `ping`, `message_stop`: the type alone.
#[derive(Serialize)]
struct Bare {
    #[serde(rename = "type")]
    kind: &'static str,
}

fn message<'a>(
    content: Vec<TextBlock<'a>>,
    stop: Option<&'static str>,
    output: u64,
) -> Message<'a> {
    Message {
        id: ID,
        kind: "message",
        role: "assistant",
        model: MODEL,
        content,
        stop_reason: stop,
        stop_sequence: None,
        usage: Usage {
            input_tokens: INPUT_TOKENS,
            output_tokens: output,
        },
    }
}

impl Payloads {
    /// Builds the Anthropic payloads carrying `openai`'s texts (`chunks`
    /// deltas). Fails only if the OpenAI payloads are not what `openai.rs`
    /// builds (a programming error, reported at startup).
    pub fn new(openai: &OpenAi, chunks: u32) -> Result<Payloads, String> {
        let completion: Value = serde_json::from_slice(&openai.completion)
            .map_err(|e| format!("OpenAI completion is not JSON: {e}"))?;
        let text = completion["choices"][0]["message"]["content"]
            .as_str()
            .ok_or("OpenAI completion has no content")?;
        let completion_tokens = completion["usage"]["completion_tokens"]
            .as_u64()
            .ok_or("OpenAI completion has no usage")?;
        let body = message(
            vec![TextBlock { kind: "text", text }],
            Some("end_turn"),
            completion_tokens,
        );
        let message_bytes = Bytes::from(serde_json::to_vec(&body).map_err(|e| e.to_string())?);

        let deltas = openai_delta_texts(&openai.stream, chunks)?;
        let mut stream = vec![
            event(&MessageStart {
                kind: "message_start",
                message: message(Vec::new(), None, 1),
            })?,
            event(&BlockStart {
                kind: "content_block_start",
                index: 0,
                content_block: TextBlock {
                    kind: "text",
                    text: "",
                },
            })?,
            event(&Bare { kind: "ping" })?,
        ];
        for text in &deltas {
            stream.push(event(&BlockDelta {
                kind: "content_block_delta",
                index: 0,
                delta: TextDelta {
                    kind: "text_delta",
                    text,
                },
            })?);
        }
        stream.push(event(&BlockStop {
            kind: "content_block_stop",
            index: 0,
        })?);
        stream.push(event(&MessageDelta {
            kind: "message_delta",
            delta: StopDelta {
                stop_reason: "end_turn",
                stop_sequence: None,
            },
            usage: OutputUsage {
                output_tokens: u64::from(chunks) * 2,
            },
        })?);
        stream.push(event(&Bare {
            kind: "message_stop",
        })?);
        Ok(Payloads {
            message: message_bytes,
            stream,
        })
    }
}

/// The content texts of the OpenAI stream's deltas, in order.
fn openai_delta_texts(frames: &[Bytes], chunks: u32) -> Result<Vec<String>, String> {
    let mut texts = Vec::new();
    for frame in frames {
        let Some(json) = frame
            .strip_prefix(b"data: ")
            .and_then(|f| f.strip_suffix(b"\n\n"))
        else {
            continue;
        };
        let Ok(chunk) = serde_json::from_slice::<Value>(json) else {
            continue; // [DONE]
        };
        if let Some(text) = chunk["choices"][0]["delta"]["content"].as_str()
            && !text.is_empty()
        {
            texts.push(text.to_owned());
        }
    }
    if texts.len() != chunks as usize {
        return Err(format!(
            "OpenAI stream has {} content deltas, expected {chunks}",
            texts.len()
        ));
    }
    Ok(texts)
}

/// `event: TYPE\ndata: JSON\n\n`, the event named by the data's `type`
/// (serialised first, as Anthropic does).
fn event<T: Serialize + Typed>(data: &T) -> Result<Bytes, String> {
    let json = serde_json::to_string(data).map_err(|e| e.to_string())?;
    Ok(Bytes::from(format!(
        "event: {}\ndata: {json}\n\n",
        data.kind()
    )))
}

/// An Anthropic-shaped error body.
pub fn error_body(message: &str, kind: &str) -> Bytes {
    #[derive(Serialize)]
    struct Detail<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        message: &'a str,
    }
    #[derive(Serialize)]
    struct Error<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        error: Detail<'a>,
    }
    let body = Error {
        kind: "error",
        error: Detail { kind, message },
    };
    Bytes::from(serde_json::to_string(&body).unwrap_or_default())
}

/// Anthropic's error type for an HTTP status.
pub fn error_kind(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        500.. => "api_error",
        _ => "invalid_request_error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(frame: &Bytes) -> (String, Value) {
        let text = std::str::from_utf8(frame).unwrap();
        let rest = text.strip_prefix("event: ").unwrap();
        let (name, data) = rest.split_once("\ndata: ").unwrap();
        let data = data.strip_suffix("\n\n").unwrap();
        (name.to_owned(), serde_json::from_str(data).unwrap())
    }

    #[test]
    fn message_carries_the_openai_completion_text() {
        let openai = OpenAi::new(20);
        let payloads = Payloads::new(&openai, 20).unwrap();
        let message: Value = serde_json::from_slice(&payloads.message).unwrap();
        let completion: Value = serde_json::from_slice(&openai.completion).unwrap();
        assert_eq!(message["type"], "message");
        assert_eq!(message["role"], "assistant");
        assert_eq!(message["model"], MODEL);
        assert_eq!(message["stop_reason"], "end_turn");
        assert_eq!(message["usage"]["input_tokens"], 42);
        assert_eq!(
            message["content"][0]["text"],
            completion["choices"][0]["message"]["content"]
        );
    }

    #[test]
    fn stream_events_in_order_with_the_openai_delta_texts() {
        let openai = OpenAi::new(5);
        let payloads = Payloads::new(&openai, 5).unwrap();
        let names: Vec<String> = payloads.stream.iter().map(|f| parse(f).0).collect();
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "ping",
                "content_block_delta",
                "content_block_delta",
                "content_block_delta",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        for (name, data) in payloads.stream.iter().map(parse) {
            assert_eq!(
                data["type"],
                name.as_str(),
                "the data's type names the event"
            );
        }
        let anthropic: String = payloads.stream[LEAD_FRAMES..LEAD_FRAMES + 5]
            .iter()
            .map(|f| parse(f).1["delta"]["text"].as_str().unwrap().to_owned())
            .collect();
        let expected: String = openai_delta_texts(&openai.stream, 5).unwrap().concat();
        assert_eq!(anthropic, expected);
        assert_eq!(parse(&payloads.stream[9]).1["usage"]["output_tokens"], 10);
    }

    #[test]
    fn errors_are_anthropic_shaped() {
        let body: Value = serde_json::from_slice(&error_body("boom", error_kind(529))).unwrap();
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "overloaded_error");
        assert_eq!(body["error"]["message"], "boom");
        assert_eq!(error_kind(500), "api_error");
        assert_eq!(error_kind(429), "rate_limit_error");
    }
}
