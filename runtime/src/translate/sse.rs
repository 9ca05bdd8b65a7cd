//! An incremental server-sent-events parser and the event writers of both
//! protocols.
//!
//! [`SseParser`] takes bytes in any chunking and hands over each complete
//! event (name, data) the moment its blank line arrives, per the WHATWG
//! event-stream rules: `\n`, `\r\n` or `\r` end a line, `:` lines are
//! comments, a single space after the colon is dropped, several `data:`
//! lines join with `\n`, `id:`/`retry:` are ignored, an event without data
//! is not dispatched, an unfinished event at the end is discarded. Buffers
//! are reused: no allocation per event once they have grown. An event over
//! [`MAX_EVENT_BYTES`] is skipped. Not here: what the events mean.

use memchr::{memchr, memchr2};

/// Largest event (or line) kept; a larger one is skipped whole.
pub const MAX_EVENT_BYTES: usize = 16 << 20;

/// Incremental event-stream parser.
#[derive(Debug, Default)]
pub struct SseParser {
    /// An unfinished line carried to the next chunk.
    partial: Vec<u8>,
    /// The current event's name (empty: `message`).
    name: Vec<u8>,
    /// The current event's data lines, joined by `\n`.
    data: Vec<u8>,
    has_data: bool,
    /// The last chunk ended with `\r`: a leading `\n` in the next belongs to it.
    after_cr: bool,
    /// The current line or event outgrew the limit: skip it.
    oversized_line: bool,
    oversized_event: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `chunk`, calling `on_event(name, data)` for each complete event.
    pub fn feed(&mut self, chunk: &[u8], on_event: &mut impl FnMut(&[u8], &[u8])) {
        let mut rest = chunk;
        if std::mem::take(&mut self.after_cr) && rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        while let Some(end) = memchr2(b'\n', b'\r', rest) {
            let line = &rest[..end];
            let mut next = end + 1;
            if rest[end] == b'\r' {
                match rest.get(next) {
                    Some(b'\n') => next += 1,
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            if std::mem::take(&mut self.oversized_line) {
                self.partial.clear();
            } else if self.partial.is_empty() {
                self.line(line, on_event);
            } else {
                let mut joined = std::mem::take(&mut self.partial);
                joined.extend_from_slice(line);
                self.line(&joined, on_event);
                joined.clear();
                self.partial = joined;
            }
            rest = &rest[next..];
        }
        if self.oversized_line || self.partial.len() + rest.len() > MAX_EVENT_BYTES {
            self.partial.clear();
            self.oversized_line = true;
        } else {
            self.partial.extend_from_slice(rest);
        }
    }

    fn line(&mut self, line: &[u8], on_event: &mut impl FnMut(&[u8], &[u8])) {
        if line.is_empty() {
            if std::mem::take(&mut self.oversized_event) {
                // The oversized event ends here, unread.
            } else if self.has_data {
                let name: &[u8] = if self.name.is_empty() {
                    b"message"
                } else {
                    &self.name
                };
                on_event(name, &self.data);
            }
            self.name.clear();
            self.data.clear();
            self.has_data = false;
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"event" => {
                self.name.clear();
                self.name.extend_from_slice(value);
            }
            b"data" => {
                if self.data.len() + value.len() > MAX_EVENT_BYTES {
                    self.oversized_event = true;
                    self.data.clear();
                }
                if self.oversized_event {
                    return;
                }
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            _ => {}
        }
    }
}

/// Appends `data: <json>\n\n` (an OpenAI stream chunk).
pub fn push_data(out: &mut Vec<u8>, json: &[u8]) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(json);
    out.extend_from_slice(b"\n\n");
}

/// Appends `event: <name>\ndata: <json>\n\n` (an Anthropic stream event).
pub fn push_event(out: &mut Vec<u8>, name: &str, json: &[u8]) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(json);
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
/// Every complete event in `bytes`, as (name, data) pairs (tests and tools).
pub fn events(bytes: &[u8]) -> Vec<(String, String)> {
    let mut parser = SseParser::new();
    let mut out = Vec::new();
    parser.feed(bytes, &mut |name, data| {
        out.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(data).into_owned(),
        ));
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_data_comments_and_line_endings() {
        let stream = b": comment\nevent: a\ndata: 1\ndata:2\n\nid: 7\r\ndata: x\r\n\r\nevent: lone\r\rdata: {}\r\r";
        let expected = vec![
            ("a".to_owned(), "1\n2".to_owned()),
            ("message".to_owned(), "x".to_owned()),
            ("message".to_owned(), "{}".to_owned()),
        ];
        assert_eq!(events(stream), expected);
        for split in 0..stream.len() {
            let mut parser = SseParser::new();
            let mut got = Vec::new();
            let mut push = |n: &[u8], d: &[u8]| {
                got.push((
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(d).into_owned(),
                ))
            };
            parser.feed(&stream[..split], &mut push);
            parser.feed(&stream[split..], &mut push);
            assert_eq!(got, expected, "split at {split}");
        }
    }

    #[test]
    fn events_without_data_and_unfinished_events_are_not_dispatched() {
        assert!(events(b"event: ping\n\n").is_empty());
        assert!(events(b"data: half").is_empty());
        assert_eq!(events(b"data\n\n"), vec![("message".into(), "".into())]);
    }
}
