//! An Anthropic Messages SSE stream relayed unchanged (`provider/relay.rs`)
//! while its events are observed: `message_start` carries the input tokens
//! (plus cache reads and writes), the last `message_delta` the output
//! tokens, `message_stop` ends it cleanly; an upstream `error` event ends it
//! too (the client already has it: nothing is added). A stream cut before
//! either ends with Anthropic's own `event: error`.

use bytes::Bytes;
use serde::Deserialize;

use crate::provider::lines::Lines;
use crate::provider::openai::Usage;
use crate::provider::relay::Wire;

/// Line scanner over an Anthropic event stream.
#[derive(Default)]
pub struct AnthropicObserver {
    lines: Lines,
    /// The `event:` name of the event being read.
    event: Vec<u8>,
    done: bool,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct StartData {
    message: MessageUsage,
}

#[derive(Deserialize)]
struct MessageUsage {
    usage: Option<TokenCounts>,
}

#[derive(Deserialize, Default, Clone, Copy)]
struct TokenCounts {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

impl TokenCounts {
    /// All input tokens the request used, cached or not.
    fn input(&self) -> Option<u64> {
        let parts = [
            self.input_tokens,
            self.cache_creation_input_tokens,
            self.cache_read_input_tokens,
        ];
        parts
            .iter()
            .any(Option::is_some)
            .then(|| parts.iter().flatten().sum())
    }
}

/// Usage of a whole (non-streamed) Messages answer, by the hand scanner.
pub fn usage_in_message(body: &[u8]) -> Option<Usage> {
    crate::provider::openai::anthropic_usage_in(body)
}

/// Anthropic's explicit stream error event.
pub fn error_event(message: &str) -> Bytes {
    // Written by hand to keep Anthropic's member order (`type` first).
    let message = serde_json::Value::from(message);
    Bytes::from(format!(
        "event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"api_error\",\"message\":{message}}}}}\n\n"
    ))
}

impl AnthropicObserver {
    fn observe(&mut self, frame: &[u8]) {
        let mut lines = std::mem::take(&mut self.lines);
        lines.feed(frame, |line| self.line(line));
        self.lines = lines;
    }

    fn line(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(name) = line.strip_prefix(b"event:") {
            self.event.clear();
            self.event.extend_from_slice(name.trim_ascii());
            return;
        }
        let Some(data) = line.strip_prefix(b"data:") else {
            return;
        };
        match self.event.as_slice() {
            b"message_start" => {
                if let Ok(start) = serde_json::from_slice::<StartData>(data.trim_ascii())
                    && let Some(counts) = start.message.usage
                {
                    let usage = self.usage.get_or_insert_with(Usage::default);
                    usage.prompt_tokens = counts.input().unwrap_or(0);
                    usage.completion_tokens = counts.output_tokens.unwrap_or(0);
                    usage.cached_prompt_tokens = counts.cache_read_input_tokens.unwrap_or(0);
                }
            }
            b"message_delta" => {
                if let Ok(delta) = serde_json::from_slice::<MessageUsage>(data.trim_ascii())
                    && let Some(counts) = delta.usage
                {
                    let usage = self.usage.get_or_insert_with(Usage::default);
                    if let Some(input) = counts.input() {
                        usage.prompt_tokens = input;
                    }
                    if let Some(cached) = counts.cache_read_input_tokens {
                        usage.cached_prompt_tokens = cached;
                    }
                    if let Some(output) = counts.output_tokens {
                        usage.completion_tokens = output;
                    }
                }
            }
            b"message_stop" | b"error" => self.done = true,
            _ => {}
        }
    }
}

impl Wire for AnthropicObserver {
    fn frame(&mut self, frame: Bytes) -> Option<Bytes> {
        self.observe(&frame);
        Some(frame)
    }

    fn done(&self) -> bool {
        self.done
    }

    fn usage(&self) -> Option<Usage> {
        self.usage
    }

    fn error_event(&mut self, _code: &str, message: &str) -> Bytes {
        error_event(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"m\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    #[test]
    fn usage_and_end_whatever_the_frame_boundaries() {
        for split in 0..STREAM.len() {
            let mut observer = AnthropicObserver::default();
            let (a, b) = STREAM.as_bytes().split_at(split);
            observer.observe(a);
            assert!(!observer.done || split > STREAM.len() - 5, "split {split}");
            observer.observe(b);
            assert!(observer.done, "split {split}");
            assert_eq!(
                observer.usage,
                Some(Usage {
                    prompt_tokens: 30,
                    completion_tokens: 15,
                    cached_prompt_tokens: 5,
                }),
                "split {split}"
            );
        }
    }

    #[test]
    fn a_stream_without_message_stop_is_not_done() {
        let mut observer = AnthropicObserver::default();
        observer.observe(&STREAM.as_bytes()[..STREAM.len() - 50]);
        assert!(!observer.done);
        let event = error_event("cut");
        let text = std::str::from_utf8(&event).unwrap();
        assert!(text.starts_with("event: error\ndata: {"));
        assert!(text.starts_with("event: error\ndata: {\"type\":\"error\",\"error\":{"));
        let json: serde_json::Value =
            serde_json::from_str(text.trim_start_matches("event: error\ndata: ").trim()).unwrap();
        assert_eq!(json["error"]["message"], "cut");
    }

    #[test]
    fn whole_message_usage() {
        let body = br#"{"id":"msg","type":"message","content":[],"usage":{"input_tokens":3,"cache_creation_input_tokens":2,"output_tokens":9}}"#;
        assert_eq!(
            usage_in_message(body),
            Some(Usage {
                prompt_tokens: 5,
                completion_tokens: 9,
                cached_prompt_tokens: 0,
            })
        );
    }
}
