//! Rate-limit state as response headers, in each protocol's names: OpenAI's
//! `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (`reset` a
//! duration such as `1.5s`) and Anthropic's
//! `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}` (`reset`
//! an RFC 3339 instant). Written on every answer a limit applied to, so
//! the names are constants and the values are formatted without the
//! `format!` machinery.

use http::{HeaderMap, HeaderName, HeaderValue};

use super::Shape;

/// A refused rate limit: which, and the bucket's state for the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: &'static str,
    pub line: RateLine,
    pub retry_after_ms: u64,
}

/// One bucket's state as response headers show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLine {
    /// Tokens (else requests).
    pub tokens: bool,
    pub capacity: u64,
    pub remaining: u64,
    /// ms until the bucket is full again.
    pub reset_ms: u64,
}

/// [OpenAI, Anthropic] x [requests, tokens] x [limit, remaining, reset].
const NAMES: [[[HeaderName; 3]; 2]; 2] = [
    [
        [
            HeaderName::from_static("x-ratelimit-limit-requests"),
            HeaderName::from_static("x-ratelimit-remaining-requests"),
            HeaderName::from_static("x-ratelimit-reset-requests"),
        ],
        [
            HeaderName::from_static("x-ratelimit-limit-tokens"),
            HeaderName::from_static("x-ratelimit-remaining-tokens"),
            HeaderName::from_static("x-ratelimit-reset-tokens"),
        ],
    ],
    [
        [
            HeaderName::from_static("anthropic-ratelimit-requests-limit"),
            HeaderName::from_static("anthropic-ratelimit-requests-remaining"),
            HeaderName::from_static("anthropic-ratelimit-requests-reset"),
        ],
        [
            HeaderName::from_static("anthropic-ratelimit-tokens-limit"),
            HeaderName::from_static("anthropic-ratelimit-tokens-remaining"),
            HeaderName::from_static("anthropic-ratelimit-tokens-reset"),
        ],
    ],
];

impl RateLine {
    /// Writes the three headers of this bucket in the caller's protocol.
    pub fn write(self, headers: &mut HeaderMap, shape: Shape) {
        let [limit, remaining, reset] =
            &NAMES[usize::from(shape == Shape::Anthropic)][usize::from(self.tokens)];
        headers.insert(limit.clone(), HeaderValue::from(self.capacity));
        headers.insert(remaining.clone(), HeaderValue::from(self.remaining));
        let reset_value = match shape {
            Shape::OpenAi => go_duration(self.reset_ms),
            Shape::Anthropic => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                let at = now + std::time::Duration::from_millis(self.reset_ms);
                let text =
                    crate::calendar::rfc3339(at.as_secs() + u64::from(at.subsec_nanos() > 0));
                HeaderValue::try_from(text).ok()
            }
        };
        if let Some(value) = reset_value {
            headers.insert(reset.clone(), value);
        }
    }
}

/// `20ms`, `1s`, `1.5s`, `6m0s`: the duration format of OpenAI's reset headers.
fn go_duration(ms: u64) -> Option<HeaderValue> {
    let mut text = Text::default();
    if ms < 1000 {
        text.number(ms);
        text.push(b"ms");
    } else {
        let (minutes, rest) = (ms / 60_000, ms % 60_000);
        if minutes > 0 {
            text.number(minutes);
            text.push(b"m");
        }
        text.number(rest / 1000);
        let millis = rest % 1000;
        if millis > 0 {
            // Three digits, trailing zeros dropped: 500 -> ".5", 25 -> ".025".
            let digits = [millis / 100, millis / 10 % 10, millis % 10];
            let used = if millis % 100 == 0 {
                1
            } else if millis % 10 == 0 {
                2
            } else {
                3
            };
            text.push(b".");
            for digit in &digits[..used] {
                text.push(&[b'0' + *digit as u8]);
            }
        }
        text.push(b"s");
    }
    HeaderValue::from_bytes(text.as_bytes()).ok()
}

/// A short ASCII buffer on the stack.
#[derive(Default)]
struct Text {
    bytes: [u8; 32],
    len: usize,
}

impl Text {
    fn push(&mut self, part: &[u8]) {
        let end = (self.len + part.len()).min(self.bytes.len());
        if let Some(slot) = self.bytes.get_mut(self.len..end) {
            slot.copy_from_slice(&part[..end - self.len]);
        }
        self.len = end;
    }

    fn number(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[at..]);
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_openai_s() {
        let text = |ms| go_duration(ms).unwrap().to_str().unwrap().to_owned();
        assert_eq!(text(20), "20ms");
        assert_eq!(text(1000), "1s");
        assert_eq!(text(1500), "1.5s");
        assert_eq!(text(1025), "1.025s");
        assert_eq!(text(360_000), "6m0s");
        assert_eq!(text(61_250), "1m1.25s");
    }

    #[test]
    fn each_protocol_gets_its_own_names() {
        let line = RateLine {
            tokens: true,
            capacity: 1000,
            remaining: 7,
            reset_ms: 1500,
        };
        let mut headers = HeaderMap::new();
        line.write(&mut headers, Shape::OpenAi);
        assert_eq!(headers["x-ratelimit-limit-tokens"], "1000");
        assert_eq!(headers["x-ratelimit-remaining-tokens"], "7");
        assert_eq!(headers["x-ratelimit-reset-tokens"], "1.5s");
        let mut headers = HeaderMap::new();
        line.write(&mut headers, Shape::Anthropic);
        assert_eq!(headers["anthropic-ratelimit-tokens-remaining"], "7");
        assert!(
            headers["anthropic-ratelimit-tokens-reset"]
                .to_str()
                .unwrap()
                .ends_with('Z')
        );
    }
}
