//! An incremental Server-Sent Events parser for the load client: feed it
//! body frames as they arrive, get back whole events (`event:` name and
//! joined `data:` lines), however the bytes were split across frames.
//!
//! Follows the WHATWG field rules that matter for OpenAI streams (`\n` or
//! `\r\n` line ends, one optional space after the colon, `:` comments,
//! multi-line data joined with `\n`); ignores `id:` and `retry:`.

/// One dispatched event; `name` is `message` when no `event:` line was given.
#[derive(Debug, PartialEq, Eq)]
pub struct Event<'a> {
    pub name: &'a str,
    pub data: &'a str,
}

/// Parser state carried across frames.
#[derive(Debug, Default)]
pub struct Parser {
    /// Bytes of a line not yet terminated.
    partial: Vec<u8>,
    name: String,
    data: String,
    has_data: bool,
}

impl Parser {
    /// Consumes `bytes`, calling `on_event` for each event completed by them.
    pub fn feed(&mut self, bytes: &[u8], mut on_event: impl FnMut(Event<'_>)) {
        self.partial.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(offset) = self
            .partial
            .get(start..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            let end = start + offset;
            let mut line = self.partial.get(start..end).unwrap_or_default();
            start = end + 1;
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            if line.is_empty() {
                if self.has_data || !self.name.is_empty() {
                    let name = if self.name.is_empty() {
                        "message"
                    } else {
                        &self.name
                    };
                    on_event(Event {
                        name,
                        data: &self.data,
                    });
                }
                self.name.clear();
                self.data.clear();
                self.has_data = false;
                continue;
            }
            let line = String::from_utf8_lossy(line);
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line.as_ref(), ""),
            };
            match field {
                "" => {} // a `:` comment line
                "data" => {
                    if self.has_data {
                        self.data.push('\n');
                    }
                    self.data.push_str(value);
                    self.has_data = true;
                }
                "event" => value.clone_into(&mut self.name),
                _ => {}
            }
        }
        self.partial.drain(..start);
    }

    /// True when bytes of an unfinished event are pending (a stream that
    /// ends here was cut off mid-event).
    pub fn has_pending(&self) -> bool {
        !self.partial.is_empty() || self.has_data || !self.name.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pieces` in order; returns the events as (name, data).
    fn events(pieces: &[&str]) -> (Vec<(String, String)>, bool) {
        let mut parser = Parser::default();
        let mut out = Vec::new();
        for piece in pieces {
            parser.feed(piece.as_bytes(), |e| {
                out.push((e.name.to_string(), e.data.to_string()))
            });
        }
        (out, parser.has_pending())
    }

    fn check(pieces: &[&str], expect: &[(&str, &str)], pending: bool) {
        let (got, has_pending) = events(pieces);
        let expect: Vec<(String, String)> = expect
            .iter()
            .map(|(n, d)| (n.to_string(), d.to_string()))
            .collect();
        assert_eq!(got, expect, "{pieces:?}");
        assert_eq!(has_pending, pending, "{pieces:?}");
    }

    #[test]
    fn events_across_frame_splits() {
        check(
            &["data: {\"a\":1}\n\ndata: [DONE]\n\n"],
            &[("message", "{\"a\":1}"), ("message", "[DONE]")],
            false,
        );
        check(&["da", "ta: x", "\n", "\n"], &[("message", "x")], false);
        check(&["data: x\r\n\r\n"], &[("message", "x")], false);
        check(&["data:x\ndata: y\n\n"], &[("message", "x\ny")], false);
    }

    #[test]
    fn named_events_comments_and_cut_offs() {
        check(
            &["event: error\ndata: {\"error\":1}\n\n"],
            &[("error", "{\"error\":1}")],
            false,
        );
        check(&[": keep-alive\n\n"], &[], false);
        check(&["data: half"], &[], true);
        check(&["data: x\n"], &[], true);
    }
}
