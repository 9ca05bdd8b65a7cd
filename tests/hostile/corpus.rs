//! The malformed-request corpus, generated deterministically (no RNG): chat
//! bodies and header lines here, message framing and smuggling shapes in
//! `framing.rs`, request lines (methods, versions, targets) in
//! `request_line.rs`. Each case says which answers it must get.
//!
//! A case is sent in one write followed by a half-close, so "incomplete"
//! means the bytes end before a request head (or its body) is complete.

use super::Class::{self, Either, Refused, Served};

pub const VALID: &str = r#"{"model":"demo","messages":[{"role":"user","content":"hi"}]}"#;
const AUTH: &str = "authorization: Bearer gw-test-key-1\r\n";

/// One malformed exchange and what the gateway must answer.
pub struct Case {
    pub name: String,
    pub bytes: Vec<u8>,
    pub expect: Expect,
    /// A `HEAD`: answers carry no body whatever their headers say.
    pub head_request: bool,
}

/// The final (non-1xx) answers a case must get.
pub enum Expect {
    /// Exactly these, in order.
    Answers(&'static [Class]),
    /// These, then for the rest of the bytes (no complete request) nothing or one 4xx.
    ThenIncomplete(&'static [Class]),
}

pub fn case(name: impl Into<String>, bytes: impl Into<Vec<u8>>, expect: &'static [Class]) -> Case {
    Case {
        name: name.into(),
        bytes: bytes.into(),
        expect: Expect::Answers(expect),
        head_request: false,
    }
}

pub fn incomplete(name: &str, bytes: impl Into<Vec<u8>>) -> Case {
    Case {
        expect: Expect::ThenIncomplete(&[]),
        ..case(name, bytes, &[])
    }
}

/// `POST /v1/chat/completions` with a correct key and `Content-Length`.
pub fn chat(body: &[u8], extra_headers: &str) -> Vec<u8> {
    let mut out = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\n{AUTH}content-type: application/json\r\ncontent-length: {}\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// `POST /v1/chat/completions` with these framing headers and raw body bytes.
pub fn chat_framed(framing: &str, body: &str) -> Vec<u8> {
    format!("POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\n{AUTH}{framing}\r\n{body}")
        .into_bytes()
}

/// `GET /healthz` with extra header lines (each ending in CRLF).
pub fn healthz(extra_headers: &str) -> Vec<u8> {
    format!("GET /healthz HTTP/1.1\r\nhost: gw\r\n{extra_headers}\r\n").into_bytes()
}

/// A request line (without CRLF) with a Host header.
pub fn line(request_line: &str) -> Vec<u8> {
    format!("{request_line}\r\nhost: gw\r\n\r\n").into_bytes()
}

/// Every case, in a fixed order.
pub fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(bodies());
    all.extend(headers());
    all.extend(super::framing::framing());
    all.extend(super::framing::smuggling());
    all.extend(super::request_line::methods_and_versions());
    all.extend(super::request_line::targets());
    all
}

fn bodies() -> Vec<Case> {
    let mut out = vec![case(
        "body/valid control",
        chat(VALID.as_bytes(), ""),
        &[Served],
    )];
    for cut in [0, 1, 9, 17, 30, VALID.len() - 1] {
        let body = &VALID.as_bytes()[..cut];
        out.push(case(
            format!("body/truncated at {cut}"),
            chat(body, ""),
            &[Refused],
        ));
    }
    let wrong: [(&str, &str); 16] = [
        ("model number", r#"{"model":3,"messages":[]}"#),
        ("model array", r#"{"model":["demo"],"messages":[]}"#),
        ("model object", r#"{"model":{"a":1},"messages":[]}"#),
        (
            "model lone surrogate",
            r#"{"model":"\ud800","messages":[]}"#,
        ),
        (
            "model with NUL escape",
            r#"{"model":"de\u0000mo","messages":[]}"#,
        ),
        ("messages string", r#"{"model":"demo","messages":"hi"}"#),
        ("messages number", r#"{"model":"demo","messages":1e3}"#),
        (
            "stream string",
            r#"{"model":"demo","messages":[],"stream":"yes"}"#,
        ),
        (
            "stream number",
            r#"{"model":"demo","messages":[],"stream":1}"#,
        ),
        (
            "duplicate model",
            r#"{"model":"demo","model":"demo","messages":[]}"#,
        ),
        ("leading zero", r#"{"model":"demo","messages":[],"n":01}"#),
        ("trailing comma", r#"{"model":"demo","messages":[],}"#),
        ("trailing garbage", r#"{"model":"demo","messages":[]} x"#),
        ("top-level array", r#"[{"model":"demo","messages":[]}]"#),
        ("top-level null", "null"),
        ("whitespace only", " \t\r\n "),
    ];
    for (name, body) in wrong {
        out.push(case(
            format!("body/{name}"),
            chat(body.as_bytes(), ""),
            &[Refused],
        ));
    }
    let huge_numbers = [
        r#"{"model":"demo","messages":[],"max_tokens":1e999999}"#.to_string(),
        format!(
            r#"{{"model":"demo","messages":[],"seed":{}}}"#,
            "9".repeat(4000)
        ),
        r#"{"model":"demo","messages":[],"temperature":-0.0e-999999}"#.to_string(),
    ];
    for (i, body) in huge_numbers.iter().enumerate() {
        out.push(case(
            format!("body/huge number {i}"),
            chat(body.as_bytes(), ""),
            &[Either],
        ));
    }
    // Depth is the upstream's business: the gateway reads `model`, `messages`
    // and `stream` and skips the rest without recursing, so deep is not 5xx.
    let nest = |depth: usize| {
        format!(
            r#"{{"model":"demo","messages":[],"x":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    out.push(case(
        "body/nesting 127",
        chat(nest(126).as_bytes(), ""),
        &[Served],
    ));
    out.push(case(
        "body/nesting 20000",
        chat(nest(20_000).as_bytes(), ""),
        &[Either],
    ));
    let deep_messages = format!(
        r#"{{"model":"demo","messages":{}{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    out.push(case(
        "body/nested messages",
        chat(deep_messages.as_bytes(), ""),
        &[Either],
    ));
    let raw: [(&str, &[u8]); 6] = [
        (
            "invalid UTF-8",
            b"{\"model\":\"demo\",\"messages\":[{\"content\":\"\xff\xfe\"}]}",
        ),
        (
            "overlong UTF-8",
            b"{\"model\":\"\xc0\xafdemo\",\"messages\":[]}",
        ),
        (
            "raw NUL in string",
            b"{\"model\":\"de\0mo\",\"messages\":[]}",
        ),
        (
            "NUL after object",
            b"{\"model\":\"demo\",\"messages\":[]}\0",
        ),
        ("BOM", b"\xef\xbb\xbf{\"model\":\"demo\",\"messages\":[]}"),
        ("UTF-16", b"\xff\xfe{\0\"\0m\0\"\0:\0\x31\0}\0"),
    ];
    for (name, body) in raw {
        out.push(case(format!("body/{name}"), chat(body, ""), &[Refused]));
    }
    let long_model = format!(r#"{{"model":"{}","messages":[]}}"#, "m".repeat(60_000));
    out.push(case(
        "body/60 KB model name",
        chat(long_model.as_bytes(), ""),
        &[Refused],
    ));
    let over = format!(
        r#"{{"model":"demo","messages":[],"pad":"{}"}}"#,
        "x".repeat(70_000)
    );
    out.push(case(
        "body/over max_request_body",
        chat(over.as_bytes(), ""),
        &[Refused],
    ));
    out.push(case(
        "body/text/plain content type",
        chat(VALID.as_bytes(), "content-type: text/plain\r\n"),
        &[Either],
    ));
    out.push(case(
        "body/declared 100, sent 10",
        chat_framed("content-length: 100\r\n", r#"{"model":"#),
        &[Refused],
    ));
    out
}

fn headers() -> Vec<Case> {
    let bad_lines: [(&str, &str); 12] = [
        ("space in name", "x y: z\r\n"),
        ("control byte in name", "x\x01y: z\r\n"),
        ("NUL in value", "x: a\0b\r\n"),
        ("bare CR in value", "x: a\rb\r\n"),
        ("DEL in value", "x: a\x7fb\r\n"),
        ("obs-fold", "x: a\r\n  folded\r\n"),
        ("missing colon", "x-no-colon\r\n"),
        ("empty name", ": v\r\n"),
        ("space before colon", "x : v\r\n"),
        ("name is a separator", "(x): v\r\n"),
        ("two Host headers", "host: other\r\n"),
        ("empty Host and another", "host:\r\n"),
    ];
    let mut out: Vec<Case> = bad_lines
        .iter()
        .map(|(name, extra)| case(format!("header/{name}"), healthz(extra), &[Refused]))
        .collect();
    out.push(case(
        "header/no Host",
        &b"GET /healthz HTTP/1.1\r\n\r\n"[..],
        &[Refused],
    ));
    out.push(case(
        "header/Host with space",
        &b"GET /healthz HTTP/1.1\r\nhost: a b\r\n\r\n"[..],
        &[Refused],
    ));
    out.push(case(
        "header/folded first line",
        &b"GET /healthz HTTP/1.1\r\n host: gw\r\n\r\n"[..],
        &[Refused],
    ));
    let mut obs_text = b"GET /healthz HTTP/1.1\r\nhost: gw\r\nx: caf\xe9\r\n\r\n".to_vec();
    out.push(case(
        "header/obs-text in value",
        obs_text.clone(),
        &[Served],
    ));
    obs_text =
        b"GET /v1/models HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer \xff\xfe\r\n\r\n".to_vec();
    out.push(case("header/obs-text API key", obs_text, &[Refused]));
    let huge = format!("x-big: {}\r\n", "a".repeat(70 * 1024));
    out.push(case("header/70 KiB value", healthz(&huge), &[Refused]));
    let many: String = (0..200).map(|i| format!("x-h{i}: v\r\n")).collect();
    out.push(case("header/200 headers", healthz(&many), &[Refused]));
    let long_name = format!("{}: v\r\n", "n".repeat(16 * 1024));
    out.push(case("header/16 KiB name", healthz(&long_name), &[Either]));
    out.push(case(
        "header/upgrade to h2c",
        healthz("connection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"),
        &[Served],
    ));
    out.push(case(
        "header/upgrade websocket",
        healthz("connection: upgrade\r\nupgrade: websocket\r\n"),
        &[Served],
    ));
    out.push(case(
        "header/expect unknown",
        healthz("expect: the-unexpected\r\n"),
        &[Either],
    ));
    out.push(case(
        "header/expect 100-continue",
        chat(VALID.as_bytes(), "expect: 100-continue\r\n"),
        &[Served],
    ));
    out
}
