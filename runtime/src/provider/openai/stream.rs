//! The OpenAI SSE stream as the relay passes it through (`provider/relay.rs`):
//! each frame forwarded unchanged while complete `data:` lines are scanned
//! (memchr, no copy in the common case where events arrive whole) for
//! `[DONE]` and for a `usage` object, which is parsed for the token metrics;
//! and the explicit `event: error` a broken stream ends with.
//! Not here: the relay itself, the usage scanner (`usage.rs`) and the mock's
//! own stream (`provider/mock.rs`).

use bytes::Bytes;

use super::usage::{Usage, usage_in};
use crate::provider::lines::Lines;
use crate::provider::relay::Wire;

/// Line scanner state: finds `[DONE]` and usage in `data:` lines.
#[derive(Default)]
pub struct SseObserver {
    lines: Lines,
    pub done: bool,
    pub usage: Option<Usage>,
}

impl SseObserver {
    pub fn observe(&mut self, frame: &[u8]) {
        let Self { lines, done, usage } = self;
        lines.feed(frame, |line| {
            let Some(data) = line.strip_prefix(b"data:") else {
                return;
            };
            let data = data.trim_ascii();
            if data == b"[DONE]" {
                *done = true;
            } else if let Some(found) = usage_in(data) {
                *usage = Some(found);
            }
        });
    }
}

/// The final SSE event sent when a stream breaks; OpenAI-shaped error payload.
pub fn error_event(code: &str, message: &str) -> Bytes {
    let payload = serde_json::json!({
        "error": { "message": message, "type": "api_error", "param": null, "code": code }
    });
    Bytes::from(format!("event: error\ndata: {payload}\n\n"))
}

impl Wire for SseObserver {
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

    fn error_event(&mut self, code: &str, message: &str) -> Bytes {
        error_event(code, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_done_and_usage_across_split_frames() {
        let stream = "data: {\"choices\":[],\"usage\":null}\n\ndata: {\"choices\":[],\"usage\": {\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}\n\ndata: [DONE]\n\n";
        for split in 0..stream.len() {
            let mut observer = SseObserver::default();
            let (a, b) = stream.as_bytes().split_at(split);
            observer.observe(a);
            observer.observe(b);
            assert!(observer.done, "split at {split}");
            assert_eq!(
                observer.usage,
                Some(Usage {
                    prompt_tokens: 5,
                    completion_tokens: 7,
                    cached_prompt_tokens: 0,
                }),
                "split at {split}"
            );
        }
    }

    #[test]
    fn no_done_without_the_marker() {
        let mut observer = SseObserver::default();
        observer.observe(b"data: {\"content\":\"[DONE] is text here\"}\n\n");
        assert!(!observer.done);
        assert_eq!(observer.usage, None);
    }

    #[test]
    fn error_event_is_sse_with_openai_error() {
        let event = error_event("c", "m");
        let text = std::str::from_utf8(&event).unwrap();
        assert!(text.starts_with("event: error\ndata: {"));
        assert!(text.ends_with("\n\n"));
        let json: serde_json::Value =
            serde_json::from_str(text.trim_start_matches("event: error\ndata: ").trim()).unwrap();
        assert_eq!(json["error"]["code"], "c");
    }
}
