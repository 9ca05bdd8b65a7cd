//! Corpus cases on message framing: pipelining, line endings, HTTP/0.9 and
//! the HTTP/2 preface on an HTTP/1 connection, partial requests, bad chunk
//! sizes and `Content-Length` values, and request-smuggling shapes (a body
//! whose length two parsers could read differently).

use super::Class::{Either, Refused, Served};
use super::corpus::{Case, Expect, VALID, case, chat_framed, incomplete};

pub fn framing() -> Vec<Case> {
    let ok = "GET /healthz HTTP/1.1\r\nhost: gw\r\n\r\n";
    let mut out = vec![
        case(
            "framing/three pipelined",
            ok.repeat(3),
            &[Served, Served, Served],
        ),
        case(
            "framing/valid then garbage",
            format!("{ok}GARBAGE\r\n\r\n"),
            &[Served, Refused],
        ),
        Case {
            expect: Expect::ThenIncomplete(&[Served]),
            ..case(
                "framing/valid then h2 preface",
                format!("{ok}PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
                &[],
            )
        },
        case(
            "framing/bare LF",
            &b"GET /healthz HTTP/1.1\nhost: gw\n\n"[..],
            &[Either],
        ),
        case(
            "framing/mixed LF and CRLF",
            &b"GET /healthz HTTP/1.1\r\nhost: gw\n\r\n"[..],
            &[Either],
        ),
        case(
            "framing/leading empty lines",
            format!("\r\n\r\n{ok}"),
            &[Either],
        ),
        case(
            "framing/bad h2 preface",
            &b"PRI * HTTP/2.0\r\n\r\nSX\r\n\r\n"[..],
            &[Refused],
        ),
        case("framing/HTTP/0.9", &b"GET /healthz\r\n\r\n"[..], &[Refused]),
        case(
            "framing/binary garbage",
            (0u8..=255).rev().collect::<Vec<u8>>(),
            &[Refused],
        ),
        incomplete("framing/nothing", &b""[..]),
        incomplete("framing/CRLF only", &b"\r\n"[..]),
        incomplete("framing/half a request line", &b"GET /heal"[..]),
        incomplete("framing/HTTP/0.9 one line", &b"GET /healthz\r\n"[..]),
        incomplete(
            "framing/head not terminated",
            &b"GET /healthz HTTP/1.1\r\nhost: gw\r\n"[..],
        ),
        incomplete("framing/half the h2 preface", &b"PRI * HTTP/2.0\r\n"[..]),
    ];
    let chunked = "transfer-encoding: chunked\r\n";
    let bad_chunks: [(&str, &str); 7] = [
        ("chunk size not hex", "zz\r\nabc\r\n0\r\n\r\n"),
        (
            "chunk size overflows",
            "ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
        ),
        ("negative chunk size", "-1\r\nabc\r\n0\r\n\r\n"),
        ("chunk shorter than size", "5\r\nabc\r\n0\r\n\r\n"),
        ("chunk without CRLF", "3\r\nabcX0\r\n\r\n"),
        ("no last chunk", "3\r\nabc\r\n"),
        (
            "huge chunk extension",
            &format!("3;{}\r\nabc\r\n0\r\n\r\n", "e".repeat(70_000)),
        ),
    ];
    for (name, body) in bad_chunks {
        out.push(case(
            format!("framing/{name}"),
            chat_framed(chunked, body),
            &[Refused],
        ));
    }
    let valid_chunked = format!("{:x}\r\n{VALID}\r\n0\r\n\r\n", VALID.len());
    out.push(case(
        "framing/valid chunked control",
        chat_framed(chunked, &valid_chunked),
        &[Served],
    ));
    let lengths: [(&str, &str); 8] = [
        (
            "two different Content-Length",
            "content-length: 5\r\ncontent-length: 6\r\n",
        ),
        ("Content-Length list", "content-length: 5, 6\r\n"),
        ("Content-Length not a number", "content-length: abc\r\n"),
        ("Content-Length with plus", "content-length: +5\r\n"),
        ("Content-Length negative", "content-length: -1\r\n"),
        ("Content-Length hex", "content-length: 0x10\r\n"),
        (
            "Content-Length overflows",
            "content-length: 99999999999999999999999\r\n",
        ),
        ("Content-Length empty", "content-length: \r\n"),
    ];
    for (name, framing) in lengths {
        out.push(case(
            format!("framing/{name}"),
            chat_framed(framing, "{\"a\":1}"),
            &[Refused],
        ));
    }
    out
}

/// Request-smuggling shapes: a body whose length two parsers could read differently.
pub fn smuggling() -> Vec<Case> {
    let inner = "GET /healthz HTTP/1.1\r\nhost: gw\r\n\r\n";
    let te_cl = format!("{:x}\r\n{inner}\r\n0\r\n\r\n", inner.len());
    let shapes: [(&str, String, String); 9] = [
        (
            "CL.TE",
            "content-length: 6\r\ntransfer-encoding: chunked\r\n".into(),
            "0\r\n\r\nG".into(),
        ),
        (
            "TE.CL",
            "content-length: 4\r\ntransfer-encoding: chunked\r\n".into(),
            te_cl.clone(),
        ),
        (
            "TE.TE duplicate",
            "transfer-encoding: chunked\r\ntransfer-encoding: cow\r\n".into(),
            te_cl.clone(),
        ),
        (
            "TE chunked, identity",
            "transfer-encoding: chunked, identity\r\n".into(),
            te_cl.clone(),
        ),
        (
            "TE identity",
            "transfer-encoding: identity\r\n".into(),
            inner.into(),
        ),
        (
            "TE gzip",
            "transfer-encoding: gzip\r\n".into(),
            inner.into(),
        ),
        (
            "TE xchunked",
            "transfer-encoding: xchunked\r\n".into(),
            te_cl.clone(),
        ),
        (
            "TE tab before value",
            "transfer-encoding:\tchunked\r\ncontent-length: 3\r\n".into(),
            te_cl.clone(),
        ),
        (
            "TE space before colon",
            "transfer-encoding : chunked\r\n".into(),
            te_cl,
        ),
    ];
    // Whatever the gateway decides, the request inside the body is never answered.
    let mut out: Vec<Case> = shapes
        .into_iter()
        .map(|(name, framing, body)| {
            case(
                format!("smuggling/{name}"),
                chat_framed(&framing, &body),
                &[Refused],
            )
        })
        .collect();
    // Content-Length and Transfer-Encoding together: the connection closes after
    // the answer (RFC 9112 §6.1), so a request pipelined behind is never read.
    let both = "content-length: 3\r\ntransfer-encoding: chunked\r\n";
    let valid_chunked = format!("{:x}\r\n{VALID}\r\n0\r\n\r\n{inner}", VALID.len());
    out.push(case(
        "smuggling/CL+TE, then a pipelined request",
        chat_framed(both, &valid_chunked),
        &[Served],
    ));
    let leftover = format!("0\r\n\r\nG{inner}");
    out.push(case(
        "smuggling/CL.TE prefix, then a pipelined request",
        chat_framed(
            "content-length: 6\r\ntransfer-encoding: chunked\r\n",
            &leftover,
        ),
        &[Refused],
    ));
    out
}
