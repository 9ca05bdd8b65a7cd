//! A narrow surface for the fuzz targets (`fuzz/`) and the property tests
//! (`fuzzing/properties.rs`): the chat request-head parser, the model splice
//! and the SSE observer, each with its invariant written once as a checker
//! that says what broke.
//!
//! Hidden from the docs and not an API: only this repository's fuzz and test
//! code calls it, and it changes with them. Not here: the parsers themselves
//! (`provider/openai/`).

use std::ops::Range;

use bytes::Bytes;

use crate::provider::openai;

/// What the SSE observer concluded: `[DONE]` seen, and the last usage
/// (prompt, completion tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    pub done: bool,
    pub usage: Option<(u64, u64)>,
}

/// The head parser: the public model and the byte span of its JSON value,
/// or `None` when the gateway would answer 400.
pub fn chat_head(body: &[u8]) -> Option<(String, Range<usize>)> {
    let head = openai::parse(body).ok()?;
    Some((head.model.into_owned(), head.model_span))
}

/// The model splice: `body` with the bytes at `span` replaced by
/// `model_json` (an already JSON-encoded string).
pub fn splice(body: &[u8], span: Range<usize>, model_json: &[u8]) -> Vec<u8> {
    openai::rewrite_model(Bytes::copy_from_slice(body), span, model_json).to_vec()
}

/// One observer fed `chunks` in order, as upstream frames arrive.
pub fn observe<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Observed {
    let mut observer = openai::SseObserver::default();
    for chunk in chunks {
        observer.observe(chunk);
    }
    Observed {
        done: observer.done,
        usage: observer.usage.map(tokens),
    }
}

/// The usage scanner on one `data:` payload: (prompt, completion tokens).
pub fn usage(json: &[u8]) -> Option<(u64, u64)> {
    openai::usage_in(json).map(tokens)
}

/// Head-parser invariant: never panics, and when it accepts a body the span
/// lies inside it and holds a JSON string that decodes to the model.
pub fn check_chat_head(body: &[u8]) -> Result<(), String> {
    let Some((model, span)) = chat_head(body) else {
        return Ok(());
    };
    let value = body
        .get(span.clone())
        .ok_or_else(|| format!("span {span:?} outside a body of {} bytes", body.len()))?;
    let decoded: String = serde_json::from_slice(value)
        .map_err(|e| format!("span {span:?} is not a JSON string ({e})"))?;
    if decoded != model {
        return Err(format!(
            "span decodes to {decoded:?}, parser said {model:?}"
        ));
    }
    Ok(())
}

/// Splice invariant for a body the parser accepts (others pass trivially):
/// every byte outside the model span is kept, the span holds exactly the new
/// JSON string, and the result parses with `new_model` at the new span.
pub fn check_splice(body: &[u8], new_model: &str) -> Result<(), String> {
    let Some((_, span)) = chat_head(body) else {
        return Ok(());
    };
    let json = serde_json::to_vec(new_model).map_err(|e| e.to_string())?;
    let out = splice(body, span.clone(), &json);
    let new_span = span.start..span.start + json.len();
    let kept_before = out.get(..span.start) == body.get(..span.start);
    let kept_after = out.get(new_span.end..) == body.get(span.end..);
    if !kept_before || !kept_after || out.get(new_span.clone()) != Some(&json[..]) {
        return Err(format!(
            "splice of {new_model:?} at {span:?} changed other bytes: {:?}",
            String::from_utf8_lossy(&out)
        ));
    }
    match chat_head(&out) {
        Some((model, at)) if model == new_model && at == new_span => Ok(()),
        other => Err(format!(
            "spliced body re-parses as {other:?}, expected {new_model:?} at {new_span:?}"
        )),
    }
}

/// Splice robustness: any span, even one outside the body or reversed,
/// neither panics nor loses the body when the span is unusable.
pub fn check_splice_any_span(
    body: &[u8],
    span: Range<usize>,
    model_json: &[u8],
) -> Result<(), String> {
    let out = splice(body, span.clone(), model_json);
    let usable = span.start <= span.end && span.end <= body.len();
    if !usable && out != body {
        return Err(format!("unusable span {span:?} changed the body"));
    }
    Ok(())
}

/// Observer invariant: the stream cut at `cuts` (any positions; sorted,
/// clamped and deduplicated here) and the stream fed byte by byte give the
/// same `[DONE]` and usage as the stream in one frame.
pub fn check_sse_chunking(stream: &[u8], cuts: &[usize]) -> Result<(), String> {
    let whole = observe([stream]);
    let chunked = observe(chunks(stream, cuts));
    if chunked != whole {
        return Err(format!(
            "cut at {cuts:?}: {chunked:?}, in one frame: {whole:?}"
        ));
    }
    let bytewise = observe(stream.chunks(1));
    if bytewise != whole {
        return Err(format!(
            "byte by byte: {bytewise:?}, in one frame: {whole:?}"
        ));
    }
    Ok(())
}

/// `stream` cut at `cuts` (clamped to its length, in order, duplicates dropped).
pub fn chunks<'a>(stream: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|&c| c.min(stream.len())).collect();
    at.sort_unstable();
    at.dedup();
    let mut out = Vec::with_capacity(at.len() + 1);
    let mut start = 0;
    for cut in at {
        out.push(stream.get(start..cut).unwrap_or_default());
        start = cut;
    }
    out.push(stream.get(start..).unwrap_or_default());
    out
}

fn tokens(usage: openai::Usage) -> (u64, u64) {
    (usage.prompt_tokens, usage.completion_tokens)
}

#[cfg(test)]
mod properties;
