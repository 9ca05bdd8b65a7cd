//! Corpus cases on the request line: methods (case, unknown, CONNECT,
//! TRACE, HEAD), versions (HTTP/0.9 to 9.9) and request targets (`*`,
//! absolute and authority form, `..`, percent-encoding, very long).

use super::Class::{self, Either, Refused, Served};
use super::corpus::{Case, case, line};

pub fn methods_and_versions() -> Vec<Case> {
    let lines: [(&str, &str, &'static [Class]); 17] = [
        ("lowercase method", "get /healthz HTTP/1.1", &[Refused]),
        ("unknown method", "FOO /healthz HTTP/1.1", &[Refused]),
        ("CONNECT", "CONNECT gw:443 HTTP/1.1", &[Refused]),
        ("TRACE", "TRACE /healthz HTTP/1.1", &[Refused]),
        ("OPTIONS *", "OPTIONS * HTTP/1.1", &[Refused]),
        (
            "DELETE chat",
            "DELETE /v1/chat/completions HTTP/1.1",
            &[Refused],
        ),
        ("method with NUL", "G\0T /healthz HTTP/1.1", &[Refused]),
        ("method with slash", "GE/T /healthz HTTP/1.1", &[Refused]),
        ("no method", " /healthz HTTP/1.1", &[Refused]),
        ("double spaces", "GET  /healthz  HTTP/1.1", &[Refused]),
        ("tab separators", "GET\t/healthz\tHTTP/1.1", &[Refused]),
        ("lowercase version", "GET /healthz http/1.1", &[Refused]),
        ("HTTP/1.2", "GET /healthz HTTP/1.2", &[Refused]),
        ("HTTP/2.0 on HTTP/1", "GET /healthz HTTP/2.0", &[Refused]),
        ("HTTP/9.9", "GET /healthz HTTP/9.9", &[Refused]),
        ("trailing token", "GET /healthz HTTP/1.1 extra", &[Refused]),
        ("HTTP/1.0", "GET /healthz HTTP/1.0", &[Served]),
    ];
    let mut out: Vec<Case> = lines
        .into_iter()
        .map(|(name, request_line, expect)| {
            case(format!("method/{name}"), line(request_line), expect)
        })
        .collect();
    out.push(case(
        "method/HTTP/1.0 without Host",
        &b"GET /healthz HTTP/1.0\r\n\r\n"[..],
        &[Served],
    ));
    out.push(case(
        "method/8 KiB method",
        line(&format!("{} /healthz HTTP/1.1", "A".repeat(8192))),
        &[Refused],
    ));
    out.push(Case {
        head_request: true,
        ..case("method/HEAD", line("HEAD /healthz HTTP/1.1"), &[Served])
    });
    out.push(case(
        "method/POST to healthz",
        &b"POST /healthz HTTP/1.1\r\nhost: gw\r\ncontent-length: 2\r\n\r\n{}"[..],
        &[Refused],
    ));
    out
}

pub fn targets() -> Vec<Case> {
    let lines: [(&str, String, &'static [Class]); 16] = [
        ("asterisk", "GET * HTTP/1.1".into(), &[Refused]),
        (
            "absolute-form",
            "GET http://gw/healthz HTTP/1.1".into(),
            &[Either],
        ),
        (
            "absolute-form https",
            "GET https://elsewhere:443/healthz HTTP/1.1".into(),
            &[Either],
        ),
        ("authority-form", "GET gw:80 HTTP/1.1".into(), &[Refused]),
        ("dot-dot", "GET /../healthz HTTP/1.1".into(), &[Refused]),
        (
            "encoded dot-dot",
            "GET /%2e%2e/healthz HTTP/1.1".into(),
            &[Refused],
        ),
        (
            "encoded slash",
            "GET /v1%2Fmodels HTTP/1.1".into(),
            &[Refused],
        ),
        ("encoded NUL", "GET /healthz%00 HTTP/1.1".into(), &[Refused]),
        ("bad percent escape", "GET /%zz HTTP/1.1".into(), &[Refused]),
        ("double slash", "GET //healthz HTTP/1.1".into(), &[Refused]),
        ("query", "GET /healthz?x=1&y=%ff HTTP/1.1".into(), &[Served]),
        ("fragment", "GET /healthz#frag HTTP/1.1".into(), &[Either]),
        (
            "raw non-ASCII",
            "GET /h\u{e9}althz HTTP/1.1".into(),
            &[Refused],
        ),
        ("space in path", "GET /a b HTTP/1.1".into(), &[Refused]),
        ("empty target", "GET  HTTP/1.1".into(), &[Refused]),
        (
            "8 KiB model id",
            format!("GET /v1/models/{} HTTP/1.1", "m".repeat(8192)),
            &[Refused],
        ),
    ];
    let mut out: Vec<Case> = lines
        .into_iter()
        .map(|(name, request_line, expect)| {
            case(format!("target/{name}"), line(&request_line), expect)
        })
        .collect();
    let long = format!("GET /{} HTTP/1.1", "p".repeat(70 * 1024));
    out.push(case("target/70 KiB path", line(&long), &[Refused]));
    out
}
