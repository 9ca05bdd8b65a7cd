//! The `usage` object of an OpenAI chat completion or stream chunk, read
//! without parsing the whole answer: the hot path scans for the last
//! `"usage":` key and reads only its object.

/// Token counts as OpenAI reports them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Of `prompt_tokens`, those read from the provider's prompt cache
    /// (OpenAI `prompt_tokens_details.cached_tokens`, Anthropic
    /// `cache_read_input_tokens`): priced at a model's `cached_input`.
    pub cached_prompt_tokens: u64,
}

/// The `usage` object of a completion or stream chunk, if it has one.
pub fn usage_in(json: &[u8]) -> Option<Usage> {
    usage_object(last_usage_object(json)?, openai_field)
}

/// The `usage` of an Anthropic Messages answer: input tokens (uncached,
/// cache writes and cache reads together) and output tokens, read by the
/// same scanner (a serde pass over the whole answer cost ~6,000
/// instructions per translated request).
pub fn anthropic_usage_in(json: &[u8]) -> Option<Usage> {
    usage_object(last_usage_object(json)?, anthropic_field)
}

/// Which count a `usage` member adds to.
#[derive(Clone, Copy)]
enum Field {
    Prompt,
    Completion,
    /// Read from the cache: counted in the prompt too.
    CachedPrompt,
    /// Read from the cache, already inside `prompt_tokens` (OpenAI).
    CachedOnly,
    /// OpenAI's `prompt_tokens_details` object: read for `cached_tokens`.
    PromptDetails,
}

fn openai_field(key: &[u8]) -> Option<Field> {
    match key {
        b"prompt_tokens" => Some(Field::Prompt),
        b"completion_tokens" => Some(Field::Completion),
        b"prompt_tokens_details" => Some(Field::PromptDetails),
        _ => None,
    }
}

fn openai_details_field(key: &[u8]) -> Option<Field> {
    (key == b"cached_tokens").then_some(Field::CachedOnly)
}

fn anthropic_field(key: &[u8]) -> Option<Field> {
    match key {
        b"input_tokens" | b"cache_creation_input_tokens" => Some(Field::Prompt),
        b"cache_read_input_tokens" => Some(Field::CachedPrompt),
        b"output_tokens" => Some(Field::Completion),
        _ => None,
    }
}

/// The object of the last `"usage":` key.
fn last_usage_object(json: &[u8]) -> Option<&[u8]> {
    // The last `"usage":` key (providers put it at the end); only its object
    // is parsed, not the whole answer, which cost 7,500 instructions per
    // request under callgrind. Inside a JSON string the closing quote of
    // `usage"` would be escaped, so a match followed by `:` is a key.
    let at = memchr::memrchr_iter(b'"', json).find(|&at| json[at..].starts_with(b"\"usage\""))?;
    let after = json.get(at + 7..)?;
    let colon = after.iter().position(|b| !b.is_ascii_whitespace())?;
    if after.get(colon) != Some(&b':') {
        return None;
    }
    let value = after.get(colon + 1..)?;
    let start = value.iter().position(|b| !b.is_ascii_whitespace())?;
    if value.get(start) != Some(&b'{') {
        return None;
    }
    value.get(start..)
}

/// Reads `prompt_tokens` and `completion_tokens` from the JSON object that
/// `object` starts with, skipping every other member (nested objects, strings
/// with escapes, arrays). A hand scanner: serde's derive spent 2,000
/// instructions per request on this three-number object. `None` when the
/// object is malformed or ends early.
fn usage_object(object: &[u8], field: fn(&[u8]) -> Option<Field>) -> Option<Usage> {
    let mut usage = Usage::default();
    let mut at = 1; // past `{`
    loop {
        at = skip_whitespace(object, at);
        match object.get(at)? {
            b'}' => return Some(usage),
            b',' => at = skip_whitespace(object, at + 1),
            _ => {}
        }
        let key_end = string_end(object, at)?;
        let key = object.get(at + 1..key_end - 1)?;
        at = skip_whitespace(object, key_end);
        if object.get(at) != Some(&b':') {
            return None;
        }
        at = skip_whitespace(object, at + 1);
        let value_end = value_end(object, at)?;
        let value = object.get(at..value_end)?;
        match field(key).filter(|_| value != b"null") {
            Some(Field::PromptDetails) if value.first() == Some(&b'{') => {
                let details = usage_object(value, openai_details_field)?;
                usage.cached_prompt_tokens = details.cached_prompt_tokens;
            }
            Some(Field::PromptDetails) => {}
            Some(field) => {
                let count: u64 = std::str::from_utf8(value).ok()?.parse().ok()?;
                let add = |slot: &mut u64| *slot = slot.saturating_add(count);
                match field {
                    Field::Prompt => add(&mut usage.prompt_tokens),
                    Field::Completion => add(&mut usage.completion_tokens),
                    Field::CachedPrompt => {
                        add(&mut usage.prompt_tokens);
                        add(&mut usage.cached_prompt_tokens);
                    }
                    Field::CachedOnly => add(&mut usage.cached_prompt_tokens),
                    // Read above, as an object.
                    Field::PromptDetails => {}
                }
            }
            None => {}
        }
        at = value_end;
    }
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// One past the closing quote of the string starting at `at`.
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// One past the end of the JSON value starting at `at`.
fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => string_end(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = string_end(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let len = bytes[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())?;
            Some(at + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_usage_adds_cache_reads_and_writes_to_input() {
        let body = br#"{"id":"msg","content":[{"type":"tool_use","input":{"usage":{"input_tokens":99}}}],"usage":{"input_tokens":3,"cache_creation_input_tokens":2,"cache_read_input_tokens":null,"cache_creation":{"ephemeral_5m_input_tokens":2},"output_tokens":9,"service_tier":"standard"}}"#;
        assert_eq!(
            anthropic_usage_in(body),
            Some(Usage {
                prompt_tokens: 5,
                completion_tokens: 9,
                ..Usage::default()
            })
        );
    }

    #[test]
    fn usage_in_ignores_null_and_reads_objects() {
        assert_eq!(usage_in(br#"{"usage":null}"#), None);
        assert_eq!(
            usage_in(br#"{"id":"x","usage":{"prompt_tokens":1,"completion_tokens":2}}"#),
            Some(Usage {
                prompt_tokens: 1,
                completion_tokens: 2,
                ..Usage::default()
            })
        );
        assert_eq!(usage_in(br#"{"id":"x"}"#), None);
        // `usage` inside a string is not the key.
        assert_eq!(
            usage_in(br#"{"content":"the \"usage\": {\"prompt_tokens\": 9}"}"#),
            None
        );
        assert_eq!(
            usage_in(
                br#"{"usage":{"prompt_tokens":3,"d":{"a":[1,{"b":"}\""}]},"completion_tokens":4,"total_tokens":7}}"#
            ),
            Some(Usage {
                prompt_tokens: 3,
                completion_tokens: 4,
                ..Usage::default()
            })
        );
        assert_eq!(usage_in(br#"{"usage":{"prompt_tokens":3"#), None);
        assert_eq!(usage_in(br#"{"usage":{"prompt_tokens":-1}}"#), None);
        assert_eq!(
            usage_in(br#"{"c":"usage","usage" : {"completion_tokens":5,"x":[1]} ,"z":1}"#),
            Some(Usage {
                prompt_tokens: 0,
                completion_tokens: 5,
                ..Usage::default()
            })
        );
    }

    #[test]
    fn cached_prompt_tokens_from_either_provider() {
        let openai = br#"{"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}"#;
        assert_eq!(
            usage_in(openai),
            Some(Usage {
                prompt_tokens: 2006,
                completion_tokens: 300,
                cached_prompt_tokens: 1920,
            })
        );
        let none =
            br#"{"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":null}}"#;
        assert_eq!(usage_in(none).map(|u| u.cached_prompt_tokens), Some(0));
        let anthropic = br#"{"usage":{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":300,"output_tokens":7}}"#;
        assert_eq!(
            anthropic_usage_in(anthropic),
            Some(Usage {
                prompt_tokens: 330,
                completion_tokens: 7,
                cached_prompt_tokens: 300,
            })
        );
    }
}
