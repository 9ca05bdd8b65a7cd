//! The per-field policy tables, as data: for every request field of each
//! ingress protocol, whether the translation maps it, drops it (logged and
//! counted by the caller) or rejects it with a 400 naming it, and why.
//!
//! Top-level rows drive the request translators' dispatch (a top-level field
//! with no row is unknown: dropped and reported). Nested rows (`messages[].x`,
//! `tools[].x`) document decisions made deeper in the translators and are
//! the labels they report. `POLICY.md` beside this file is rendered from
//! these tables by [`markdown`]. Not here: the translation itself.

/// What happens to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Carried to the target (possibly reshaped; conditions in the note).
    Mapped,
    /// Not carried: reported in `Translated::dropped`.
    Dropped,
    /// Refused: the request gets a 400 naming the field.
    Rejected,
}

/// One row: a field path, its policy and the reason.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub field: &'static str,
    pub policy: Policy,
    pub note: &'static str,
}

const fn rule(field: &'static str, policy: Policy, note: &'static str) -> Rule {
    Rule {
        field,
        policy,
        note,
    }
}

use Policy::{Dropped, Mapped, Rejected};

/// OpenAI chat completions request -> Anthropic Messages request.
pub static CHAT_REQUEST: &[Rule] = &[
    rule("model", Mapped, "replaced by the route's upstream model"),
    rule(
        "messages",
        Mapped,
        "system/developer -> `system` blocks (hoisted, in order); user, assistant, tool -> `messages` (consecutive same-role turns merged)",
    ),
    rule("max_completion_tokens", Mapped, "-> `max_tokens`"),
    rule(
        "max_tokens",
        Mapped,
        "-> `max_tokens` (`max_completion_tokens` wins); neither: the model's configured default, since Anthropic requires it",
    ),
    rule("stream", Mapped, "-> `stream`"),
    rule(
        "stream_options",
        Mapped,
        "`include_usage` decides the final usage chunk; Anthropic always reports usage",
    ),
    rule(
        "temperature",
        Mapped,
        "-> `temperature`, clamped to Anthropic's 0..1; dropped when thinking is on (Anthropic refuses both)",
    ),
    rule(
        "top_p",
        Mapped,
        "-> `top_p`; dropped when `temperature` is also set (recent Claude models refuse both) or thinking is on and it is below 0.95",
    ),
    rule("stop", Mapped, "string or array -> `stop_sequences`"),
    rule(
        "tools",
        Mapped,
        "function tools -> `{name, description, input_schema}`; other tool types rejected",
    ),
    rule(
        "tool_choice",
        Mapped,
        "none/auto/required/{function} -> none/auto/any/tool; `allowed_tools` and custom choices rejected; dropped without tools",
    ),
    rule(
        "parallel_tool_calls",
        Mapped,
        "false -> `tool_choice.disable_parallel_tool_use`",
    ),
    rule("user", Mapped, "-> `metadata.user_id`"),
    rule(
        "safety_identifier",
        Mapped,
        "-> `metadata.user_id` when `user` is absent",
    ),
    rule(
        "reasoning_effort",
        Mapped,
        "-> `thinking` with budget low 1024, medium 4096, high 16384, xhigh 32768, capped at half of `max_tokens`; dropped when that is under 1024, with a forced `tool_choice`, or when the last assistant tool call carries no thinking block (Anthropic would refuse each); none/minimal -> no thinking",
    ),
    rule(
        "n",
        Mapped,
        "1 accepted; more than 1 rejected: one answer per request upstream",
    ),
    rule(
        "response_format",
        Mapped,
        "`text` accepted; `json_object`/`json_schema` rejected: the answer would silently not be constrained",
    ),
    rule(
        "logprobs",
        Mapped,
        "false accepted; true rejected: Anthropic returns no log probabilities",
    ),
    rule(
        "modalities",
        Mapped,
        "`[\"text\"]` accepted; audio output rejected",
    ),
    rule("top_logprobs", Dropped, "meaningless without `logprobs`"),
    rule("presence_penalty", Dropped, "no Anthropic equivalent"),
    rule("frequency_penalty", Dropped, "no Anthropic equivalent"),
    rule(
        "logit_bias",
        Dropped,
        "no Anthropic equivalent (token ids differ)",
    ),
    rule("seed", Dropped, "no Anthropic equivalent"),
    rule(
        "service_tier",
        Dropped,
        "OpenAI tiers do not name Anthropic's",
    ),
    rule("store", Dropped, "OpenAI stored completions"),
    rule(
        "metadata",
        Dropped,
        "OpenAI stored-completion tags, not Anthropic's `metadata`",
    ),
    rule(
        "prompt_cache_key",
        Dropped,
        "Anthropic caches at `cache_control` breakpoints",
    ),
    rule(
        "prompt_cache_retention",
        Dropped,
        "Anthropic caches at `cache_control` breakpoints",
    ),
    rule("verbosity", Dropped, "no Anthropic equivalent"),
    rule(
        "prediction",
        Dropped,
        "an OpenAI latency optimisation; the answer is the same without it",
    ),
    rule(
        "audio",
        Rejected,
        "audio output: Anthropic answers in text only",
    ),
    rule(
        "web_search_options",
        Rejected,
        "web search is not translated; the client would get an answer without it",
    ),
    rule("functions", Rejected, "deprecated by OpenAI: send `tools`"),
    rule(
        "function_call",
        Rejected,
        "deprecated by OpenAI: send `tool_choice`",
    ),
    rule(
        "messages[].name",
        Dropped,
        "Anthropic messages have no author name",
    ),
    rule(
        "messages[].reasoning_content",
        Dropped,
        "reasoning text without a signature cannot be replayed; send `thinking_blocks`",
    ),
    rule(
        "messages[].thinking_blocks",
        Mapped,
        "assistant thinking/redacted_thinking blocks, passed byte for byte (signatures intact) ahead of the text",
    ),
    rule(
        "messages[].content[].image_url",
        Mapped,
        "data: URL -> base64 image, http(s) -> url image (jpeg, png, gif, webp); others rejected",
    ),
    rule(
        "messages[].content[].image_url.detail",
        Dropped,
        "Anthropic sizes images itself",
    ),
    rule(
        "messages[].content[].file",
        Mapped,
        "a PDF `file_data` data: URL -> base64 document; `file_id` and other types rejected",
    ),
    rule(
        "messages[].content[].input_audio",
        Rejected,
        "Anthropic takes no audio input",
    ),
    rule(
        "messages[].content[].cache_control",
        Mapped,
        "Anthropic's own prompt-caching marker, carried on text parts",
    ),
    rule(
        "messages[].role=function",
        Rejected,
        "deprecated by OpenAI: send tool messages",
    ),
    rule(
        "tools[].function.strict",
        Dropped,
        "strict schemas are an Anthropic beta; the tool is sent without it",
    ),
];

/// Anthropic Messages request -> OpenAI chat completions request.
pub static MESSAGES_REQUEST: &[Rule] = &[
    rule("model", Mapped, "replaced by the route's upstream model"),
    rule(
        "messages",
        Mapped,
        "user/assistant turns; tool_result blocks -> `tool` messages ahead of the turn's other content",
    ),
    rule(
        "max_tokens",
        Mapped,
        "-> `max_completion_tokens` (or `max_tokens` for servers configured so); a probe with 1 stays 1",
    ),
    rule(
        "system",
        Mapped,
        "string or text blocks -> one leading system message (blocks joined by a blank line)",
    ),
    rule(
        "stop_sequences",
        Mapped,
        "-> `stop`; more than 4 (OpenAI's limit) rejected",
    ),
    rule(
        "stream",
        Mapped,
        "-> `stream` + `stream_options.include_usage`, so the final message_delta carries usage",
    ),
    rule(
        "temperature",
        Mapped,
        "-> `temperature` (Anthropic's 0..1 is inside OpenAI's 0..2)",
    ),
    rule("top_p", Mapped, "-> `top_p`"),
    rule(
        "tools",
        Mapped,
        "custom tools -> function tools; server tools (web_search, bash, text_editor, ...) dropped",
    ),
    rule(
        "tool_choice",
        Mapped,
        "auto/any/tool/none -> auto/required/{function}/none; `disable_parallel_tool_use` -> `parallel_tool_calls: false`",
    ),
    rule(
        "metadata",
        Mapped,
        "`user_id` -> `user` (a SHA-256 prefix when longer than 64 bytes)",
    ),
    rule(
        "thinking",
        Mapped,
        "enabled (budget <= 2048 low, <= 8192 medium, else high) or adaptive (medium) -> `reasoning_effort` when the upstream is declared to reason; otherwise dropped",
    ),
    rule(
        "output_config",
        Mapped,
        "`format` json_schema -> `response_format`; `effort` -> `reasoning_effort` when the upstream reasons; the rest dropped",
    ),
    rule(
        "output_format",
        Mapped,
        "json_schema -> `response_format` (the structured-outputs beta spelling)",
    ),
    rule("top_k", Dropped, "no OpenAI equivalent"),
    rule(
        "context_management",
        Dropped,
        "Anthropic server-side context editing",
    ),
    rule("container", Dropped, "Anthropic code-execution containers"),
    rule(
        "service_tier",
        Dropped,
        "Anthropic tiers do not name OpenAI's",
    ),
    rule("inference_geo", Dropped, "Anthropic data residency"),
    rule(
        "anthropic_version",
        Dropped,
        "a platform body field (Bedrock, Vertex)",
    ),
    rule(
        "anthropic_beta",
        Dropped,
        "a platform body field (Bedrock, Vertex)",
    ),
    rule(
        "mcp_servers",
        Rejected,
        "remote MCP servers are run by Anthropic; the model would answer without their tools",
    ),
    rule(
        "cache_control",
        Dropped,
        "prompt caching is automatic on OpenAI",
    ),
    rule(
        "system[].cache_control",
        Dropped,
        "prompt caching is automatic on OpenAI",
    ),
    rule(
        "messages[].content[].cache_control",
        Dropped,
        "prompt caching is automatic on OpenAI",
    ),
    rule(
        "messages[].content[].thinking",
        Dropped,
        "thinking blocks from earlier turns: chat completions cannot take them back",
    ),
    rule(
        "messages[].content[].citations",
        Dropped,
        "chat completions has no citations",
    ),
    rule(
        "messages[].content[].image",
        Mapped,
        "base64 -> data: URL, url -> url; file ids rejected",
    ),
    rule(
        "messages[].content[].document",
        Mapped,
        "base64 PDF -> file part, plain text -> text; other sources rejected",
    ),
    rule(
        "messages[].content[].tool_result.is_error",
        Dropped,
        "tool messages have no error flag; the content says it",
    ),
    rule(
        "messages[].content[].tool_result.image",
        Dropped,
        "tool messages carry text only",
    ),
    rule(
        "messages[].content[].server_tool",
        Dropped,
        "server tool calls and results (web search, code execution) have no chat form",
    ),
    rule(
        "tools[].strict",
        Dropped,
        "an Anthropic beta flag; OpenAI strict mode needs its own schema rules",
    ),
    rule("tools[].defer_loading", Dropped, "Anthropic tool search"),
    rule(
        "tools[].cache_control",
        Dropped,
        "prompt caching is automatic on OpenAI",
    ),
    rule("tools[].input_examples", Dropped, "an Anthropic beta"),
    rule(
        "tools[].server_tool",
        Dropped,
        "server tools run at Anthropic; the model is offered the rest",
    ),
];

/// The row for a top-level field.
pub fn lookup(table: &'static [Rule], field: &str) -> Option<&'static Rule> {
    table.iter().find(|rule| rule.field == field)
}

#[cfg(test)]
/// The tables as Markdown (`POLICY.md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Translation policy, field by field\n\n\
         Rendered from `runtime/src/translate/policy.rs` (a test keeps this file \
         fresh; `GATEWAY_BLESS=1` rewrites it). Mapped: carried, maybe reshaped. \
         Dropped: not carried, logged and counted. Rejected: 400 naming the field.\n",
    );
    for (title, table) in [
        ("OpenAI chat client -> Anthropic upstream", CHAT_REQUEST),
        (
            "Anthropic client -> OpenAI-compatible upstream",
            MESSAGES_REQUEST,
        ),
    ] {
        out.push_str(&format!(
            "\n## {title}\n\n| field | policy | why |\n| --- | --- | --- |\n"
        ));
        for rule in table {
            let policy = match rule.policy {
                Mapped => "mapped",
                Dropped => "dropped",
                Rejected => "rejected",
            };
            out.push_str(&format!(
                "| `{}` | {policy} | {} |\n",
                rule.field,
                rule.note.replace('|', "\\|")
            ));
        }
    }
    out
}
