//! SSE frames cut into complete lines, whatever the frame boundaries: an
//! incomplete last line is carried to the next frame, and a line longer than
//! [`MAX_LINE`] is skipped (still forwarded by the relay, never inspected)
//! whether it arrives in one frame or in many, so frame boundaries never
//! change what an observer concludes.

/// Longest line inspected.
pub const MAX_LINE: usize = 1 << 20;

/// The line-splitting state of one stream.
#[derive(Default)]
pub struct Lines {
    /// Bytes of an incomplete last line carried to the next frame.
    partial: Vec<u8>,
    /// The incomplete last line outgrew [`MAX_LINE`]: skip it when it ends.
    overlong: bool,
}

impl Lines {
    /// Calls `line` with each complete line of `frame` (without its `\n`).
    pub fn feed(&mut self, frame: &[u8], mut line: impl FnMut(&[u8])) {
        let mut rest = frame;
        while let Some(newline) = memchr::memchr(b'\n', rest) {
            let (complete, tail) = rest.split_at(newline);
            rest = tail.get(1..).unwrap_or_default();
            if std::mem::take(&mut self.overlong) {
                self.partial.clear();
            } else if self.partial.is_empty() {
                if complete.len() <= MAX_LINE {
                    line(complete);
                }
            } else {
                let mut joined = std::mem::take(&mut self.partial);
                joined.extend_from_slice(complete);
                if joined.len() <= MAX_LINE {
                    line(&joined);
                }
            }
        }
        if self.overlong || self.partial.len() + rest.len() > MAX_LINE {
            self.partial.clear();
            self.overlong = true;
        } else {
            self.partial.extend_from_slice(rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(frames: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut state = Lines::default();
        let mut out = Vec::new();
        for frame in frames {
            state.feed(frame, |line| out.push(line.to_vec()));
        }
        out
    }

    #[test]
    fn the_same_lines_whatever_the_cuts() {
        let text = b"a: 1\n\nb: 22\nc: 333\n";
        let whole = lines(&[text]);
        assert_eq!(whole.len(), 4);
        for at in 0..text.len() {
            let (x, y) = text.split_at(at);
            assert_eq!(lines(&[x, y]), whole, "cut at {at}");
        }
    }

    #[test]
    fn overlong_lines_are_skipped_in_one_frame_or_many() {
        let long = vec![b'x'; MAX_LINE + 1];
        let mut frame = long.clone();
        frame.extend_from_slice(b"\nok\n");
        assert_eq!(lines(&[&frame]), vec![b"ok".to_vec()]);
        let (a, b) = frame.split_at(MAX_LINE / 2);
        assert_eq!(lines(&[a, b]), vec![b"ok".to_vec()]);
    }
}
