//! What both directions share: token usage in one neutral form with its
//! readers and writers for each protocol, and the stop reason mapping.
//!
//! Usage: Anthropic's `input_tokens` excludes cached tokens, which it reports
//! beside it (`cache_read_input_tokens`, `cache_creation_input_tokens`);
//! OpenAI's `prompt_tokens` includes them, with the cache hits in
//! `prompt_tokens_details.cached_tokens` and the cache writes in
//! `prompt_tokens_details.cache_write_tokens` (the OpenAI SDK's
//! `PromptTokensDetails`; `cache_creation_input_tokens` beside `usage` is
//! read too, as some compatible servers send it). [`Usage`] keeps
//! Anthropic's split; [`Usage::prompt`] is OpenAI's total.

use serde::Deserialize;

use super::json::push_u64;

/// What a request translation left behind: fields dropped on purpose (each
/// once) and top-level fields no policy table knows.
#[derive(Debug, Default)]
pub struct Notes {
    pub dropped: Vec<&'static str>,
    pub unknown: Vec<String>,
}

impl Notes {
    pub fn drop(&mut self, field: &'static str) {
        if !self.dropped.contains(&field) {
            self.dropped.push(field);
        }
    }
}

/// Token counts, Anthropic's split.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens neither read from nor written to the cache.
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
}

impl Usage {
    /// All prompt tokens (OpenAI's `prompt_tokens`).
    pub fn prompt(&self) -> u64 {
        self.input + self.cache_read + self.cache_write
    }

    /// (prompt, completion, cache read, cache write), prompt as OpenAI counts it.
    pub fn tuple(&self) -> (u64, u64, u64, u64) {
        (
            self.prompt(),
            self.output,
            self.cache_read,
            self.cache_write,
        )
    }

    /// Appends an OpenAI `usage` object.
    pub fn write_openai(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"prompt_tokens\":");
        push_u64(out, self.prompt());
        out.extend_from_slice(b",\"completion_tokens\":");
        push_u64(out, self.output);
        out.extend_from_slice(b",\"total_tokens\":");
        push_u64(out, self.prompt() + self.output);
        out.extend_from_slice(b",\"prompt_tokens_details\":{\"cached_tokens\":");
        push_u64(out, self.cache_read);
        out.extend_from_slice(b",\"cache_write_tokens\":");
        push_u64(out, self.cache_write);
        out.extend_from_slice(b"}}");
    }

    /// Appends an Anthropic `usage` object.
    pub fn write_anthropic(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"input_tokens\":");
        push_u64(out, self.input);
        out.extend_from_slice(b",\"output_tokens\":");
        push_u64(out, self.output);
        out.extend_from_slice(b",\"cache_creation_input_tokens\":");
        push_u64(out, self.cache_write);
        out.extend_from_slice(b",\"cache_read_input_tokens\":");
        push_u64(out, self.cache_read);
        out.push(b'}');
    }
}

/// Anthropic's `usage` (response, `message_start`, `message_delta`): every
/// member optional, since `message_delta` may carry only `output_tokens`.
#[derive(Debug, Default, Deserialize)]
pub struct AnthropicUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
}

impl AnthropicUsage {
    /// Overwrites the counts this object carries.
    pub fn apply(&self, usage: &mut Usage) {
        let slots = [
            (self.input_tokens, &mut usage.input),
            (self.output_tokens, &mut usage.output),
            (self.cache_creation_input_tokens, &mut usage.cache_write),
            (self.cache_read_input_tokens, &mut usage.cache_read),
        ];
        for (value, slot) in slots {
            if let Some(value) = value {
                *slot = value;
            }
        }
    }
}

/// OpenAI's `usage`.
#[derive(Debug, Default, Deserialize)]
pub struct OpenAiUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptDetails>,
    /// Cache writes as some OpenAI-compatible servers report them.
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PromptDetails {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
    #[serde(default)]
    pub cache_write_tokens: Option<u64>,
}

impl OpenAiUsage {
    pub fn to_usage(&self) -> Usage {
        let prompt = self.prompt_tokens.unwrap_or(0);
        let cache_read = self
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .unwrap_or(0);
        let cache_write = self
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cache_write_tokens)
            .or(self.cache_creation_input_tokens)
            .unwrap_or(0);
        Usage {
            input: prompt
                .saturating_sub(cache_read)
                .saturating_sub(cache_write),
            output: self.completion_tokens.unwrap_or(0),
            cache_read: cache_read.min(prompt),
            cache_write: cache_write.min(prompt.saturating_sub(cache_read)),
        }
    }
}

/// Anthropic `stop_reason` -> OpenAI `finish_reason`.
pub fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        // end_turn, stop_sequence, pause_turn and reasons added later.
        _ => "stop",
    }
}

/// OpenAI `finish_reason` -> Anthropic `stop_reason`.
pub fn stop_reason(finish_reason: &str) -> &'static str {
    match finish_reason {
        "length" => "max_tokens",
        "tool_calls" | "function_call" => "tool_use",
        "content_filter" => "refusal",
        // stop (OpenAI does not say whether a stop sequence matched) and the rest.
        _ => "end_turn",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_round_trips_through_both_shapes() {
        let usage = Usage {
            input: 10,
            output: 5,
            cache_read: 100,
            cache_write: 20,
        };
        let mut out = Vec::new();
        usage.write_openai(&mut out);
        let openai: OpenAiUsage = serde_json::from_slice(&out).unwrap();
        assert_eq!(openai.to_usage(), usage);
        out.clear();
        usage.write_anthropic(&mut out);
        let anthropic: AnthropicUsage = serde_json::from_slice(&out).unwrap();
        let mut back = Usage::default();
        anthropic.apply(&mut back);
        assert_eq!(back, usage);
        assert_eq!(usage.tuple(), (130, 5, 100, 20));
    }

    #[test]
    fn stop_reasons_map_both_ways() {
        for (anthropic, openai) in [
            ("end_turn", "stop"),
            ("max_tokens", "length"),
            ("tool_use", "tool_calls"),
            ("refusal", "content_filter"),
        ] {
            assert_eq!(finish_reason(anthropic), openai);
            assert_eq!(stop_reason(openai), anthropic);
        }
        assert_eq!(finish_reason("stop_sequence"), "stop");
        assert_eq!(finish_reason("pause_turn"), "stop");
        assert_eq!(finish_reason("model_context_window_exceeded"), "length");
    }
}
