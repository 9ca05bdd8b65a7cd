//! Checking one SSE stream as its events arrive: the OpenAI chunk fields the
//! client reads, the timings it keeps (TTFT, gaps between content deltas),
//! and the verdict at the end (`[DONE]` seen, delta count, no error event).
//!
//! Only content deltas are timed: the role chunk, the finish chunk and the
//! usage chunk carry no text a user would see.

use std::borrow::Cow;

use gateway_bench::client;
use gateway_bench::sse::Event;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

/// What one good stream measured.
pub struct Measured {
    pub ttft_us: u64,
    pub gaps_us: Vec<u64>,
    pub digest: [u8; 32],
    /// When the request was sent, and each content delta arrived (for `--timeline`).
    pub sent: Instant,
    pub arrivals: Vec<Instant>,
}

/// The slice of an OpenAI chunk this client reads.
#[derive(Deserialize)]
struct ChunkView<'a> {
    #[serde(default, borrow)]
    choices: Vec<ChoiceView<'a>>,
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct ChoiceView<'a> {
    #[serde(default, borrow)]
    delta: Option<DeltaView<'a>>,
}

#[derive(Deserialize)]
struct DeltaView<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
}

/// What a stream has shown so far.
pub struct StreamState {
    sent: Instant,
    ttft_us: Option<u64>,
    last: Instant,
    gaps_us: Vec<u64>,
    arrivals: Vec<Instant>,
    pub deltas: usize,
    done: bool,
    hasher: Sha256,
    failure: Option<String>,
}

impl StreamState {
    pub fn new(sent: Instant, expect: usize) -> Self {
        StreamState {
            sent,
            ttft_us: None,
            last: sent,
            gaps_us: Vec::with_capacity(expect.saturating_sub(1)),
            arrivals: Vec::with_capacity(expect),
            deltas: 0,
            done: false,
            hasher: Sha256::new(),
            failure: None,
        }
    }

    /// Keeps the first failure: later ones are usually its consequences.
    pub fn fail(&mut self, reason: String) {
        self.failure.get_or_insert(reason);
    }

    pub fn on_event(&mut self, event: Event<'_>, now: Instant) {
        if event.name == "error" {
            return self.fail(format!(
                "event: error: {}",
                client::excerpt(event.data.as_bytes(), 200)
            ));
        }
        if event.data == "[DONE]" {
            self.done = true;
            return;
        }
        if self.done {
            return self.fail("data after [DONE]".to_string());
        }
        let chunk: ChunkView<'_> = match serde_json::from_str(event.data) {
            Ok(chunk) => chunk,
            Err(e) => return self.fail(format!("event data is not a JSON chunk ({e})")),
        };
        if chunk.error.is_some() {
            return self.fail(format!(
                "error in stream: {}",
                client::excerpt(event.data.as_bytes(), 200)
            ));
        }
        let content = chunk
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.delta)
            .and_then(|d| d.content);
        let Some(content) = content.filter(|c| !c.is_empty()) else {
            return;
        };
        self.deltas += 1;
        self.hasher.update(content.as_bytes());
        let since =
            |t: Instant| u64::try_from(now.duration_since(t).as_micros()).unwrap_or(u64::MAX);
        match self.ttft_us {
            None => self.ttft_us = Some(since(self.sent)),
            Some(_) => self.gaps_us.push(since(self.last)),
        }
        self.last = now;
        self.arrivals.push(now);
    }

    pub fn finish(self, expect: usize) -> Result<Measured, String> {
        if let Some(failure) = self.failure {
            return Err(failure);
        }
        if !self.done {
            return Err(format!(
                "no data: [DONE] (ended after {} deltas)",
                self.deltas
            ));
        }
        if self.deltas != expect {
            return Err(format!("{} content deltas, expected {expect}", self.deltas));
        }
        Ok(Measured {
            ttft_us: self.ttft_us.unwrap_or_default(),
            gaps_us: self.gaps_us,
            digest: self.hasher.finalize().into(),
            sent: self.sent,
            arrivals: self.arrivals,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const DELTA: &str = r#"{"choices":[{"index":0,"delta":{"content":"ab"}}]}"#;

    /// Feeds (data, ms after sending) events; returns the stream's outcome.
    fn check_stream(events: &[(&str, &str, u64)]) -> Result<Measured, String> {
        let sent = Instant::now();
        let mut state = StreamState::new(sent, 2);
        for (name, data, at_ms) in events {
            state.on_event(Event { name, data }, sent + Duration::from_millis(*at_ms));
        }
        state.finish(2)
    }

    #[test]
    fn measures_ttft_and_gaps_of_content_deltas_only() {
        let role = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
        let ok = check_stream(&[
            ("message", role, 1),
            ("message", DELTA, 2),
            ("message", DELTA, 12),
            ("message", "[DONE]", 13),
        ])
        .unwrap();
        assert_eq!((ok.ttft_us, ok.gaps_us.clone()), (2000, vec![10_000]));
        let no_done = check_stream(&[("message", DELTA, 1), ("message", DELTA, 2)]);
        assert_eq!(
            no_done.err().unwrap(),
            "no data: [DONE] (ended after 2 deltas)"
        );
        let error = check_stream(&[("error", "{}", 1), ("message", "[DONE]", 2)]);
        assert_eq!(error.err().unwrap(), "event: error: {}");
    }
}
