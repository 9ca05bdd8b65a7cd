//! Checks for security.yaml: listen address, size and durations of `server`,
//! and the inbound key digests and names of `auth`.
//!
//! Reports only; conversion happens in `lower.rs`.

use std::collections::BTreeMap;

use crate::check::ptr;
use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Security as F};
use crate::parse;
use crate::spec::Spec;

/// SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const LISTEN_HELP: &str = "write an IP and port, e.g. `127.0.0.1:8080`, `0.0.0.0:8080` or `[::1]:8080` (port 0 picks a free port)";

/// `listen`, `max_request_body` and the server durations parse and are in range.
pub fn check_server(spec: &Spec, diags: &mut Diagnostics) {
    let s = &spec.security.server;
    if let Some(listen) = s
        .listen
        .as_ref()
        .filter(|l| l.parse::<std::net::SocketAddr>().is_err())
    {
        diags.push(
            Diagnostic::error(
                codes::BAD_LISTEN,
                F,
                format!("invalid listen address `{listen}`"),
            )
            .at("/server/listen")
            .label("not an `ip:port` socket address")
            .help(LISTEN_HELP),
        );
    }
    if let Some(size) = &s.max_request_body {
        check_size(size, diags);
    }
    let durations = [
        ("header_read_timeout", &s.header_read_timeout),
        ("body_read_timeout", &s.body_read_timeout),
        ("shutdown_delay", &s.shutdown_delay),
        ("drain_timeout", &s.drain_timeout),
    ];
    for (key, value) in durations {
        let Some(value) = value else { continue };
        if let Err(why) = parse::duration_ms(value) {
            diags.push(
                Diagnostic::error(
                    codes::BAD_DURATION,
                    F,
                    format!("invalid duration `{value}`: {why}"),
                )
                .at(ptr(&["server", key]))
                .label("not a duration")
                .help(
                    "write an integer followed by `ms`, `s`, `m` or `h`, e.g. `500ms`, `2s`, `1m`",
                ),
            );
        }
    }
}

fn check_size(size: &str, diags: &mut Diagnostics) {
    let at = "/server/max_request_body";
    match parse::size_bytes(size) {
        Err(why) => diags.push(
            Diagnostic::error(codes::BAD_SIZE, F, format!("invalid size `{size}`: {why}"))
                .at(at)
                .label("not a size")
                .help("write an integer followed by `B`, `KB`, `MB`, `GB`, `KiB`, `MiB` or `GiB`, e.g. `4MiB`, `64KiB`"),
        ),
        Ok(n) if n == 0 || n > parse::MAX_BODY => diags.push(
            Diagnostic::error(codes::SIZE_RANGE, F, format!("`max_request_body` of {n} bytes is out of range"))
                .at(at)
                .label("must be more than 0 and at most 1GiB")
                .help("use a size between `1B` and `1GiB`, e.g. `4MiB`"),
        ),
        Ok(_) => {}
    }
}

/// Digests are 64 hex chars, unique (API keys and admin key), and not of the empty key.
pub fn check_digests(spec: &Spec, diags: &mut Diagnostics) {
    let auth = &spec.security.auth;
    let mut all: Vec<(String, &str)> = auth
        .api_keys
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("/auth/api_keys/{i}/sha256"), k.sha256.as_str()))
        .collect();
    if let Some(admin) = &auth.admin_key_sha256 {
        all.push(("/auth/admin_key_sha256".to_owned(), admin));
    }
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (at, digest) in all {
        if let Err(why) = parse::digest(digest) {
            diags.push(
                Diagnostic::error(
                    codes::BAD_DIGEST,
                    F,
                    format!("invalid SHA-256 digest: {why}"),
                )
                .at(at)
                .label("not 64 hexadecimal characters")
                .help("store the key's digest, not the key: `printf %s \"$KEY\" | sha256sum`")
                .redacted(),
            );
            continue;
        }
        let lower = digest.to_ascii_lowercase();
        if lower == EMPTY_SHA256 {
            diags.push(
                Diagnostic::error(codes::EMPTY_KEY_DIGEST, F, "digest of an empty key")
                    .at(at)
                    .label("SHA-256 of the empty string")
                    .help("this is the digest of an empty key; hash the real key with `printf %s \"$KEY\" | sha256sum`"),
            );
        } else if let Some(first) = seen.get(&lower) {
            diags.push(
                Diagnostic::error(codes::DUPLICATE_DIGEST, F, "duplicate key digest")
                    .at(at)
                    .label(format!("same digest as `{}`", crate::diag::yaml_path(first)))
                    .help("each key (API keys and the admin key) must be distinct; remove the duplicate or rotate one key"),
            );
        } else {
            seen.insert(lower, at);
        }
    }
}

/// API key names are unique and well-formed.
pub fn check_key_names(spec: &Spec, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, key) in spec.security.auth.api_keys.iter().enumerate() {
        let at = format!("/auth/api_keys/{i}/name");
        if let Err(why) = parse::name(&key.name) {
            diags.push(
                Diagnostic::error(codes::BAD_KEY_NAME, F, format!("API key name {why}"))
                    .at(at)
                    .label("invalid key name")
                    .help("use a short identifier such as `prod-app`"),
            );
        } else if let Some(first) = seen.get(key.name.as_str()) {
            diags.push(
                Diagnostic::error(
                    codes::DUPLICATE_KEY_NAME,
                    F,
                    format!("duplicate API key name `{}`", key.name),
                )
                .at(at)
                .label(format!("also used by `auth.api_keys[{first}]`"))
                .help("give every API key a distinct name; logs identify keys by name"),
            );
        } else {
            seen.insert(&key.name, i);
        }
    }
}
