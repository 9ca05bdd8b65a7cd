//! Malformed h2c: after a valid client preface and SETTINGS, frames an
//! HTTP/2 server must refuse (RFC 9113), each on its own connection. The
//! answer must be well-formed frames, the server's SETTINGS first, no 5xx
//! status, then the refusal the case expects and a close.
//!
//! Error codes are not pinned: RFC 9113 names FRAME_SIZE_ERROR or
//! COMPRESSION_ERROR for some of these, the HTTP/2 library (h2) answers
//! PROTOCOL_ERROR; either ends the connection, which is what matters here.

use super::Class;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const WINDOW_UPDATE: u8 = 8;

const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

/// How the server must end a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H2Expect {
    /// An answer of this class on stream 1.
    Answered(Class),
    /// A 4xx answer on stream 1, or the stream or connection ended with an error code.
    Refused,
    /// `GOAWAY` with an error code: a connection error.
    GoAway,
}

/// One frame as read back.
#[derive(Debug)]
pub struct Frame {
    kind: u8,
    stream: u32,
    payload: Vec<u8>,
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len().to_be_bytes();
    let mut out = vec![len[5], len[6], len[7], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// HPACK for `GET http://gw/healthz`, static-table indices and literals only.
fn get_healthz() -> Vec<u8> {
    let mut block = vec![0x82, 0x86, 0x44, 8];
    block.extend_from_slice(b"/healthz");
    block.extend_from_slice(&[0x41, 2]);
    block.extend_from_slice(b"gw");
    block
}

/// Every h2c case: name, frames sent after the preface and an empty SETTINGS, expectation.
pub fn cases() -> Vec<(&'static str, Vec<u8>, H2Expect)> {
    let request = frame(HEADERS, END_HEADERS | END_STREAM, 1, &get_healthz());
    let mut oversized = frame(DATA, 0, 1, &[]);
    oversized[..3].copy_from_slice(&[0x10, 0, 0]); // declares 1 MiB, over the 16 KiB default
    oversized.extend_from_slice(&[0; 64]);
    let on_stream = |stream, block: &[u8]| frame(HEADERS, END_HEADERS | END_STREAM, stream, block);
    vec![
        (
            "valid GET /healthz (control)",
            request.clone(),
            H2Expect::Answered(Class::Served),
        ),
        (
            "not a frame",
            b"this is not an HTTP/2 frame at all".to_vec(),
            H2Expect::GoAway,
        ),
        (
            "SETTINGS of 5 bytes",
            frame(SETTINGS, 0, 0, &[0; 5]),
            H2Expect::GoAway,
        ),
        (
            "SETTINGS on a stream",
            frame(SETTINGS, 0, 1, &[]),
            H2Expect::GoAway,
        ),
        (
            "HEADERS on stream 0",
            on_stream(0, &get_healthz()),
            H2Expect::GoAway,
        ),
        (
            "HEADERS on an even stream",
            on_stream(2, &get_healthz()),
            H2Expect::GoAway,
        ),
        ("bad HPACK", on_stream(1, &[0xff; 12]), H2Expect::GoAway),
        (
            "no :path or :authority",
            on_stream(1, &[0x82, 0x86]),
            H2Expect::Refused,
        ),
        (
            "DATA on an idle stream",
            frame(DATA, 0, 3, b"x"),
            H2Expect::GoAway,
        ),
        ("frame over max size", oversized, H2Expect::GoAway),
        (
            "WINDOW_UPDATE of 0",
            frame(WINDOW_UPDATE, 0, 0, &[0; 4]),
            H2Expect::GoAway,
        ),
        (
            "PING of 7 bytes",
            frame(PING, 0, 0, &[0; 7]),
            H2Expect::GoAway,
        ),
        (
            "DATA after END_STREAM",
            [request, frame(DATA, 0, 1, b"late")].concat(),
            H2Expect::GoAway,
        ),
    ]
}

/// The bytes of a case: the preface, an empty SETTINGS, then `frames`.
pub fn connection(frames: &[u8]) -> Vec<u8> {
    [PREFACE, &frame(SETTINGS, 0, 0, &[]), frames].concat()
}

/// Splits the server's bytes into frames; `Err` if they are not well-formed.
pub fn frames(mut bytes: &[u8]) -> Result<Vec<Frame>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let head = bytes.get(..9).ok_or("truncated frame header")?;
        let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let payload = bytes.get(9..9 + len).ok_or("truncated frame payload")?;
        out.push(Frame {
            kind: head[3],
            stream,
            payload: payload.to_vec(),
        });
        bytes = &bytes[9 + len..];
    }
    Ok(out)
}

/// Checks the frames against the expectation.
pub fn judge(frames: &[Frame], expect: H2Expect) -> Result<(), String> {
    if frames.first().map(|f| f.kind) != Some(SETTINGS) {
        return Err("the server's first frame is not SETTINGS".into());
    }
    let statuses: Vec<u16> = frames
        .iter()
        .filter(|f| f.kind == HEADERS && f.stream == 1)
        .filter_map(|f| status(&f.payload))
        .collect();
    if statuses.iter().any(|s| *s >= 500) {
        return Err(format!("5xx answer: {statuses:?}"));
    }
    let error = |kind| {
        frames
            .iter()
            .any(|f| f.kind == kind && error_code(f) != Some(0))
    };
    let met = match expect {
        H2Expect::Answered(class) => statuses.len() == 1 && class.admits(statuses[0]),
        H2Expect::Refused => {
            (statuses.len() == 1 && Class::Refused.admits(statuses[0]))
                || error(RST_STREAM)
                || error(GOAWAY)
        }
        H2Expect::GoAway => error(GOAWAY),
    };
    if !met {
        let seen: Vec<(u8, u32, Option<u32>)> = frames
            .iter()
            .map(|f| (f.kind, f.stream, error_code(f)))
            .collect();
        return Err(format!(
            "expected {expect:?}; statuses {statuses:?}; frames (type, stream, error code): {seen:?}"
        ));
    }
    Ok(())
}

/// The error code of a `GOAWAY` or `RST_STREAM`.
fn error_code(frame: &Frame) -> Option<u32> {
    let at = match frame.kind {
        GOAWAY => 4,
        RST_STREAM => 0,
        _ => return None,
    };
    let code = frame.payload.get(at..at + 4)?;
    Some(u32::from_be_bytes([code[0], code[1], code[2], code[3]]))
}

/// `:status` of a response HEADERS block when it is the block's first field,
/// as h2 encodes it: a static-table index (RFC 7541 Appendix A) or a literal
/// with name index 8.
fn status(block: &[u8]) -> Option<u16> {
    match block.first()? {
        index @ 0x88..=0x8e => [200, 204, 206, 304, 400, 404, 500]
            .get(usize::from(index - 0x88))
            .copied(),
        0x08 | 0x18 | 0x48 => std::str::from_utf8(block.get(2..5)?).ok()?.parse().ok(),
        _ => None,
    }
}
