//! The client socket as the HTTP library sees it.
//!
//! Three jobs on the byte stream, none of which costs more than a prefix
//! compare on the hot path:
//!
//! - replay the bytes read while detecting the protocol (HTTP/1 or the
//!   HTTP/2 preface), so the library parses them as if it had read them;
//! - turn the HTTP/1 library's own bodyless error answers (400 malformed
//!   head, 414 URI too long, 431 head too large) into the gateway's
//!   OpenAI-shaped JSON errors: they are recognised as a 4xx head with
//!   `content-length: 0` and no `x-request-id` (every answer the gateway
//!   makes carries one);
//! - keep a half-closed HTTP/1.1 client's request alive ([`HeldEof`]).
//!
//! Not here: protocol detection and the connection's lifetime (`conn.rs`).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::conn_state::{ConnState, Probe};
use super::eof::HeldEof;
use crate::error::GatewayError;
use crate::request_id::RequestIds;

/// Length of the HTTP/2 connection preface, the most detection reads.
pub const PREFACE_LEN: usize = 24;

/// The client connection's socket, wrapped.
pub struct ConnIo {
    stream: TcpStream,
    replay: [u8; PREFACE_LEN],
    replay_at: usize,
    replay_len: usize,
    /// HTTP/1: rewrite library answers and hold a half-close.
    http1: bool,
    state: Arc<ConnState>,
    ids: &'static RequestIds,
    /// A rewritten answer (or a probe) still being written, and how much is out.
    pending: Option<(Bytes, usize)>,
    eof: HeldEof,
}

impl ConnIo {
    pub fn new(
        stream: TcpStream,
        detected: ([u8; PREFACE_LEN], usize),
        http1: bool,
        state: Arc<ConnState>,
        ids: &'static RequestIds,
    ) -> Self {
        Self {
            stream,
            replay: detected.0,
            replay_at: 0,
            replay_len: detected.1,
            http1,
            state,
            ids,
            pending: None,
            eof: HeldEof::default(),
        }
    }

    /// Writes what is pending; `Ready(Ok)` once nothing is.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, at)) = self.pending.as_mut() {
            let rest = bytes.get(*at..).unwrap_or_default();
            if rest.is_empty() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.stream).poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *at += n;
        }
        Poll::Ready(Ok(()))
    }

    /// If `buf` is the library's own error head, queue the JSON answer instead.
    fn take_library_answer(&mut self, buf: &[u8]) -> bool {
        if !self.http1 {
            return false;
        }
        let Some((status, rewritten)) = library_answer(buf, self.ids) else {
            return false;
        };
        self.state.set_rejected(status);
        self.pending = Some((rewritten, 0));
        true
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.replay_at < this.replay_len {
            let rest = this
                .replay
                .get(this.replay_at..this.replay_len)
                .unwrap_or_default();
            let n = rest.len().min(buf.remaining());
            buf.put_slice(rest.get(..n).unwrap_or_default());
            this.replay_at += n;
            return Poll::Ready(Ok(()));
        }
        if this.http1 {
            return this.poll_read_http1(cx, buf);
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl ConnIo {
    /// An end of input while a request is being answered is held back (see [`HeldEof`]).
    fn poll_read_http1(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.eof.is_held() {
            return self.poll_held(cx);
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.stream).poll_read(cx, buf))?;
        if buf.filled().len() > before || !self.state.is_answering() {
            return Poll::Ready(Ok(()));
        }
        self.eof.hold();
        self.state.eof_held();
        self.poll_held(cx)
    }

    fn poll_held(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.state.is_answering() {
            // The answer is out: now the library may see the end of input.
            return Poll::Ready(Ok(()));
        }
        let probe = match self.state.probe() {
            Probe::Allowed if self.pending.is_some() => Probe::NotYet,
            probe => probe,
        };
        match ready!(self.eof.poll(cx, probe)) {
            super::eof::Step::SendProbe => {
                self.pending = Some((Bytes::from_static(super::eof::PROBE), 0));
                // Written now if the socket takes it; errors surface on the next check.
                let _ = self.poll_pending(cx);
                self.eof.probe_sent(cx);
                Poll::Pending
            }
            super::eof::Step::Check => match self.stream.take_error() {
                // The peer's kernel answered the probe with a reset (Linux
                // reports it as EPIPE after a FIN): the client is gone.
                Ok(Some(error)) => Poll::Ready(Err(error)),
                Err(error) => Poll::Ready(Err(error)),
                Ok(None) => {
                    self.eof.checked(cx);
                    Poll::Pending
                }
            },
        }
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.state.response_writing();
        ready!(this.poll_pending(cx))?;
        if this.take_library_answer(buf) {
            let _ = this.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.state.response_writing();
        ready!(this.poll_pending(cx))?;
        if this.http1 {
            // The library's answer, if any, is written on its own: the slices
            // before it go first, it is replaced when it comes first.
            let found = bufs.iter().position(|slice| looks_like_library_head(slice));
            match found {
                Some(0) => {
                    let first = bufs.first().map_or(&[][..], |s| &s[..]);
                    if this.take_library_answer(first) {
                        let _ = this.poll_pending(cx)?;
                        return Poll::Ready(Ok(first.len()));
                    }
                }
                Some(at) => {
                    let before = bufs.get(..at).unwrap_or_default();
                    return Pin::new(&mut this.stream).poll_write_vectored(cx, before);
                }
                None => {}
            }
        }
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}

/// Cheap first test: a 4xx status line (every answer's head starts this way).
fn looks_like_library_head(buf: &[u8]) -> bool {
    buf.starts_with(b"HTTP/1.1 4") || buf.starts_with(b"HTTP/1.0 4")
}

/// The library's automatic error head, rewritten: `(status, bytes to send)`.
fn library_answer(buf: &[u8], ids: &RequestIds) -> Option<(u16, Bytes)> {
    if !looks_like_library_head(buf) {
        return None;
    }
    let head_end = memchr::memmem::find(buf, b"\r\n\r\n")?;
    let head = buf.get(..head_end + 2)?;
    if memchr::memmem::find(head, b"\r\nx-request-id:").is_some()
        || memchr::memmem::find(head, b"\r\ncontent-length: 0\r\n").is_none()
    {
        return None;
    }
    let status: u16 = std::str::from_utf8(buf.get(9..12)?).ok()?.parse().ok()?;
    let error = match status {
        400 => GatewayError::MalformedHead,
        414 => GatewayError::UriTooLong,
        431 => GatewayError::HeadTooLarge,
        _ => return None,
    };
    let json = error.to_json();
    let request_id = ids.generate();
    let mut out = Vec::with_capacity(head.len() + json.len() + 128);
    out.extend_from_slice(head.get(..head.iter().position(|&b| b == b'\r')?)?);
    out.extend_from_slice(b"\r\n");
    // Keep the library's other headers (`date`), replace the length, close.
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let lower = line.to_ascii_lowercase();
        if line.is_empty()
            || lower.starts_with(b"content-length:")
            || lower.starts_with(b"connection:")
        {
            continue;
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"content-type: application/json\r\nconnection: close\r\n");
    out.extend_from_slice(format!("content-length: {}\r\n", json.len()).as_bytes());
    out.extend_from_slice(b"x-request-id: ");
    out.extend_from_slice(request_id.as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(&json);
    Some((status, Bytes::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_heads_become_json_answers() {
        let ids = RequestIds::default();
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 00:00:00 GMT\r\n\r\n";
        let (status, out) = library_answer(head, &ids).unwrap();
        assert_eq!(status, 431);
        let text = std::str::from_utf8(&out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("\r\ndate: Mon, 30 Nov 2026"));
        assert!(head.contains("\r\nconnection: close"));
        assert!(head.contains(&format!("\r\ncontent-length: {}", body.len())));
        assert!(head.contains("\r\nx-request-id: "));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "request_header_fields_too_large");
    }

    #[test]
    fn gateway_answers_and_bodies_pass_untouched() {
        let ids = RequestIds::default();
        for buf in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-request-id: abc\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            b"{\"id\":1}",
        ] {
            assert!(library_answer(buf, &ids).is_none());
        }
    }
}
