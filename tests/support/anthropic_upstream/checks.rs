//! What the Anthropic mock refuses with 400 `invalid_request_error`, as the
//! real API does: a missing `anthropic-version` header, top-level fields the
//! API does not know (an OpenAI field forwarded by a translator), missing or
//! mistyped required fields, roles other than user/assistant/system (SDK
//! 2.14 `SystemMessageParam`; Claude Code sends mid-conversation system
//! messages to newer and unknown models), content block types the API does
//! not have (text only in system messages), tool results without their tool
//! use (and tool uses left unanswered), thinking blocks whose signature is
//! not the one the mock gave, and a thinking budget outside 1024..max_tokens.
//! Not a full schema check: fields inside blocks are looked at only where a
//! translator is likely to get them wrong.

use serde_json::Value;

use super::replies::signature;

/// The top-level fields of `POST /v1/messages` (SDK 2.14 params, beta ones
/// included, plus the sampling fields).
const MESSAGE_FIELDS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "system",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_k",
    "top_p",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
    "container",
    "context_management",
    "mcp_servers",
    "output_config",
    "output_format",
    "inference_geo",
    "speed",
    "diagnostics",
    "cache_control",
    "compaction",
    "fallbacks",
    "fallback_credit_token",
    "billing_policy",
    "thread",
];

/// The top-level fields of `POST /v1/messages/count_tokens`.
const COUNT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
    "mcp_servers",
    "context_management",
    "output_config",
    "output_format",
    "speed",
    "cache_control",
    "compaction",
    "billing_policy",
];

/// Content block types a request may carry.
const BLOCK_TYPES: &[&str] = &[
    "text",
    "image",
    "document",
    "search_result",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "tool_reference",
    "mcp_tool_use",
    "mcp_tool_result",
    "container_upload",
    "compaction",
];

/// Checks a request body; `count` for `count_tokens`. The error message is
/// the real API's wording where known.
pub fn check_body(body: &Value, count: bool) -> Result<(), String> {
    let fields = body
        .as_object()
        .ok_or("request body must be a JSON object")?;
    let known = if count { COUNT_FIELDS } else { MESSAGE_FIELDS };
    if let Some(extra) = fields.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!("{extra}: Extra inputs are not permitted"));
    }
    if body["model"].as_str().is_none_or(str::is_empty) {
        return Err("model: Field required".into());
    }
    if !count {
        match body["max_tokens"].as_u64() {
            Some(n) if n >= 1 => {}
            _ => return Err("max_tokens: Field required (an integer >= 1)".into()),
        }
        if !matches!(body.get("stream"), None | Some(Value::Bool(_))) {
            return Err("stream: Input should be a valid boolean".into());
        }
    }
    check_system(&body["system"])?;
    check_tools(&body["tools"])?;
    check_thinking(body, count)?;
    let messages = body["messages"]
        .as_array()
        .ok_or("messages: Field required")?;
    if messages.is_empty() {
        return Err("messages: at least one message is required".into());
    }
    for (index, message) in messages.iter().enumerate() {
        check_message(
            index,
            message,
            messages.get(index.wrapping_sub(1)),
            messages.get(index + 1),
        )?;
    }
    Ok(())
}

fn check_system(system: &Value) -> Result<(), String> {
    match system {
        Value::Null | Value::String(_) => Ok(()),
        Value::Array(blocks) => blocks.iter().enumerate().try_for_each(|(i, block)| {
            if block["type"] == "text" && block["text"].is_string() {
                Ok(())
            } else {
                Err(format!("system.{i}: system blocks must be text blocks"))
            }
        }),
        _ => Err("system: Input should be a valid string or list".into()),
    }
}

fn check_tools(tools: &Value) -> Result<(), String> {
    let Some(tools) = tools.as_array() else {
        return if tools.is_null() {
            Ok(())
        } else {
            Err("tools: Input should be a valid list".into())
        };
    };
    for (i, tool) in tools.iter().enumerate() {
        let custom =
            matches!(tool.get("type"), None | Some(Value::Null)) || tool["type"] == "custom";
        if !tool["name"].is_string() {
            return Err(format!("tools.{i}.name: Field required"));
        }
        if custom && tool["input_schema"]["type"] != "object" {
            return Err(format!(
                "tools.{i}.custom.input_schema: Field required (a JSON schema of type object)"
            ));
        }
    }
    Ok(())
}

fn check_thinking(body: &Value, count: bool) -> Result<(), String> {
    let thinking = &body["thinking"];
    if thinking["type"] != "enabled" {
        return Ok(());
    }
    let budget = thinking["budget_tokens"].as_u64().unwrap_or(0);
    if budget < 1024 {
        return Err(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024".into(),
        );
    }
    if !count && budget >= body["max_tokens"].as_u64().unwrap_or(0) {
        return Err("`max_tokens` must be greater than `thinking.budget_tokens`".into());
    }
    Ok(())
}

fn check_message(
    index: usize,
    message: &Value,
    previous: Option<&Value>,
    next: Option<&Value>,
) -> Result<(), String> {
    let role = message["role"].as_str().unwrap_or("");
    if !matches!(role, "user" | "assistant" | "system") {
        return Err(format!(
            "messages.{index}.role: Input should be 'user', 'assistant' or 'system'"
        ));
    }
    if role == "system"
        && let Some(blocks) = message["content"].as_array()
        && let Some(at) = blocks.iter().position(|b| b["type"] != "text")
    {
        return Err(format!(
            "messages.{index}.content.{at}: system messages take text blocks only"
        ));
    }
    let blocks = match &message["content"] {
        Value::String(_) => return Ok(()),
        Value::Array(blocks) => blocks,
        _ => {
            return Err(format!(
                "messages.{index}.content: Input should be a valid string or list"
            ));
        }
    };
    for (position, block) in blocks.iter().enumerate() {
        let at = format!("messages.{index}.content.{position}");
        let kind = block["type"].as_str().unwrap_or("");
        if !BLOCK_TYPES.contains(&kind) {
            return Err(format!(
                "{at}.type: Input tag '{kind}' does not match any of the expected tags"
            ));
        }
        match kind {
            "text" if !block["text"].is_string() => {
                return Err(format!("{at}.text: Field required"));
            }
            "tool_use"
                if !(block["id"].is_string()
                    && block["name"].is_string()
                    && block["input"].is_object()) =>
            {
                return Err(format!(
                    "{at}: tool_use blocks need `id`, `name` and an object `input`"
                ));
            }
            "tool_result"
                if role != "user" || !tool_use_ids(previous).contains(&block["tool_use_id"]) =>
            {
                return Err(format!(
                    "{at}: unexpected `tool_use_id` found in `tool_result` blocks: {}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.",
                    block["tool_use_id"]
                ));
            }
            "thinking"
                if block["signature"].as_str()
                    != block["thinking"].as_str().map(signature).as_deref() =>
            {
                return Err(format!("{at}: Invalid `signature` in `thinking` block"));
            }
            _ => {}
        }
    }
    if role == "assistant" {
        let answered: Vec<Value> = next
            .and_then(|n| n["content"].as_array())
            .into_iter()
            .flatten()
            .filter(|b| b["type"] == "tool_result")
            .map(|b| b["tool_use_id"].clone())
            .collect();
        if next.is_some()
            && let Some(missing) = tool_use_ids(Some(message))
                .into_iter()
                .find(|id| !answered.contains(id))
        {
            return Err(format!(
                "messages.{}: `tool_use` ids were found without `tool_result` blocks immediately after: {missing}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                index + 1
            ));
        }
    }
    Ok(())
}

fn tool_use_ids(message: Option<&Value>) -> Vec<Value> {
    message
        .filter(|m| m["role"] == "assistant")
        .and_then(|m| m["content"].as_array())
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "tool_use")
        .map(|b| b["id"].clone())
        .collect()
}

#[test]
fn requests_the_real_api_would_refuse() {
    use serde_json::json;
    let ok =
        json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(check_body(&ok, false), Ok(()));
    let bad = |patch: Value| {
        let mut body = ok.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        check_body(&body, false).unwrap_err()
    };
    assert!(bad(json!({"stream_options": {}})).starts_with("stream_options: Extra inputs"));
    assert!(bad(json!({"max_tokens": 0})).starts_with("max_tokens"));
    assert!(bad(json!({"messages": [{"role": "developer", "content": "x"}]})).contains("role"));
    let system = json!([{"role": "user", "content": "q"}, {"role": "system", "content": [{"type": "text", "text": "s"}]}]);
    assert_eq!(
        check_body(
            &json!({"model": "m", "max_tokens": 5, "messages": system}),
            false
        ),
        Ok(())
    );
    let system_tool = json!([{"role": "system", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]}]);
    assert!(bad(json!({"messages": system_tool})).contains("text blocks only"));
    assert!(
        bad(json!({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}))
            .contains("image_url")
    );
    let orphan = json!([{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x"}]}]);
    assert!(bad(json!({"messages": orphan})).contains("unexpected `tool_use_id`"));
    let unanswered = json!([
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
        {"role": "user", "content": "no result"}
    ]);
    assert!(bad(json!({"messages": unanswered})).contains("without `tool_result`"));
    let forged = json!([{"role": "assistant", "content": [{"type": "thinking", "thinking": "x", "signature": "sig"}]}]);
    assert!(bad(json!({"messages": forged})).contains("signature"));
    assert!(
        bad(json!({"thinking": {"type": "enabled", "budget_tokens": 2000}})).contains("max_tokens")
    );
    assert_eq!(
        check_body(
            &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
            true
        ),
        Ok(())
    );
    assert!(
        check_body(&ok, true)
            .unwrap_err()
            .starts_with("max_tokens: Extra inputs")
    );
}
