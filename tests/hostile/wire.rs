//! Raw exchanges for the hostile corpus: write bytes, half-close (HTTP/1.1)
//! and read until the server closes, or (h2c) read until it closes or goes
//! quiet; then split what came back into HTTP/1.x responses with a real
//! parser (httparse), or say why it is not well-formed.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Without a half-close: once bytes have come, this much silence ends the read.
const QUIET: Duration = Duration::from_secs(1);
/// Upper bound on one whole exchange.
const EXCHANGE: Duration = Duration::from_secs(5);

/// What the server sent back, and how the connection ended.
#[derive(Debug)]
pub struct Exchange {
    pub bytes: Vec<u8>,
    /// The server closed (FIN or reset) within [`EXCHANGE`].
    pub closed: bool,
}

/// Sends `request` in one write, then reads the answer. With `half_close`
/// (HTTP/1.1: the request is all there is) the server must close, so the
/// read waits for that; without (h2c), it also ends after [`QUIET`].
pub async fn exchange(addr: SocketAddr, request: &[u8], half_close: bool) -> Exchange {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // The server may refuse early and close while we still write: not a failure here.
    let _ = stream.write_all(request).await;
    if half_close {
        let _ = stream.shutdown().await;
    }
    read_answer(&mut stream, (!half_close).then_some(QUIET)).await
}

/// Reads until close, [`EXCHANGE`], or `quiet` after the last byte.
async fn read_answer(stream: &mut TcpStream, quiet: Option<Duration>) -> Exchange {
    let deadline = tokio::time::Instant::now() + EXCHANGE;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let until = match quiet {
            Some(quiet) if !bytes.is_empty() => deadline.min(tokio::time::Instant::now() + quiet),
            _ => deadline,
        };
        match tokio::time::timeout_at(until, stream.read(&mut chunk)).await {
            Err(_) => {
                return Exchange {
                    bytes,
                    closed: false,
                };
            }
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Exchange {
                    bytes,
                    closed: true,
                };
            }
            Ok(Ok(n)) => bytes.extend_from_slice(&chunk[..n]),
        }
    }
}

/// One parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// Splits `bytes` into complete responses; `Err` says what is malformed.
/// `head_request`: bodies are not sent (a `HEAD`), whatever the headers say.
pub fn responses(bytes: &[u8], closed: bool, head_request: bool) -> Result<Vec<Response>, String> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (response, used) = one(rest, closed, head_request)
            .map_err(|e| format!("response {}: {e}", out.len() + 1))?;
        out.push(response);
        rest = &rest[used..];
    }
    Ok(out)
}

fn one(bytes: &[u8], closed: bool, head_request: bool) -> Result<(Response, usize), String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut headers);
    let head_len = match parsed.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Err("incomplete head".into()),
        Err(e) => return Err(format!("bad head: {e}")),
    };
    // httparse reads only HTTP/1.0 and HTTP/1.1 status lines; 1.0 answers a 1.0 request.
    parsed.version.ok_or("no version")?;
    let status = parsed.code.ok_or("no status")?;
    let headers: Vec<(String, Vec<u8>)> = parsed
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
        .collect();
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let rest = &bytes[head_len..];
    let bodiless = head_request || status < 200 || status == 204 || status == 304;
    let used = if bodiless {
        0
    } else if response.header("transfer-encoding").is_some() {
        let (body, used) = dechunk(rest)?;
        response.body = body;
        used
    } else if let Some(length) = response.header("content-length") {
        let length: usize = std::str::from_utf8(length)
            .ok()
            .and_then(|l| l.parse().ok())
            .ok_or("bad content-length")?;
        let body = rest
            .get(..length)
            .ok_or("body shorter than content-length")?;
        response.body = body.to_vec();
        length
    } else if closed {
        response.body = rest.to_vec();
        rest.len()
    } else {
        return Err("no framing and no close".into());
    };
    Ok((response, head_len + used))
}

/// A chunked body: the data and the bytes it took, trailers included.
fn dechunk(bytes: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = find_crlf(bytes, at).ok_or("chunk size line not terminated")?;
        let line = std::str::from_utf8(&bytes[at..line_end]).map_err(|_| "chunk size not ASCII")?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| format!("chunk size {size:?}"))?;
        at = line_end + 2;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                let end = find_crlf(bytes, at).ok_or("trailers not terminated")?;
                let empty = end == at;
                at = end + 2;
                if empty {
                    return Ok((body, at));
                }
            }
        }
        let data = bytes
            .get(at..at + size)
            .ok_or("chunk shorter than its size")?;
        body.extend_from_slice(data);
        at += size;
        if bytes.get(at..at + 2) != Some(b"\r\n") {
            return Err("chunk data not followed by CRLF".into());
        }
        at += 2;
    }
}

fn find_crlf(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}
