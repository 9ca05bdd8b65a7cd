//! Checks for the upstream entries of upstreams.yaml: names, which keys
//! belong to which kind, API versions, timeouts, mock values, and the
//! warnings about upstreams nothing uses or `optional` with nothing to miss.
//! Base URLs are `urls.rs`, variable names and secret references `env.rs`.
//!
//! Reports only; conversion happens in `lower/`.

use crate::check::models::check_count;
use crate::check::show_ms;
use crate::diag::codes::{self, Code};
use crate::diag::ptr;
use crate::diag::values;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Upstreams as F};
use crate::parse;
use crate::spec::UpstreamKindSpec::{Anthropic, Mock, OpenAi};
use crate::spec::upstreams::defaults::{
    ANTHROPIC_VERSION, CONNECT, FIRST_BYTE, MOCK_CHUNK_GAP, MOCK_LATENCY, STREAM_IDLE, TOTAL,
};
use crate::spec::{DurationSpec, MockSpec, UpstreamKindSpec, UpstreamSpec, UpstreamsFile};

/// Every check of the `upstreams` table.
pub fn check(file: &UpstreamsFile, diags: &mut Diagnostics) {
    check_names(file, diags);
    check_kind_settings(file, diags);
    check_api_versions(file, diags);
    check_timeouts(file, diags);
    check_mock_values(file, diags);
    check_optional(file, diags);
    check_count("upstreams", file.upstreams.len(), diags);
}

/// Upstream names are well-formed (they name metrics series and log fields).
fn check_names(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for name in file.upstreams.keys() {
        if let Err(why) = parse::name(name) {
            diags.push(
                Diagnostic::new(codes::BAD_UPSTREAM_NAME, F, format!("upstream name {why}"))
                    .at_key(ptr(&["upstreams", name]))
                    .label("invalid upstream name")
                    .help("use a non-empty name of at most 256 bytes without spaces, e.g. `openai-eu`"),
            );
        }
    }
}

/// Warn when `optional: true` has no secret whose absence it could tolerate.
fn check_optional(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (name, u) in &file.upstreams {
        if u.optional && u.api_key.env.is_none() && u.api_key.file.is_none() {
            diags.push(
                Diagnostic::new(
                    codes::OPTIONAL_WITHOUT_SECRET,
                    F,
                    format!("`optional: true` on upstream `{name}` has no effect"),
                )
                .at(ptr(&["upstreams", name, "optional"]))
                .label("this upstream names no secret that could be missing")
                .help("add the `api_key` it needs (e.g. `api_key: { env: NAME }`), or remove `optional`"),
            );
        }
    }
}

/// A key that only some upstream kinds use, and the code for finding it on another.
struct KindKey {
    key: &'static str,
    kinds: &'static [UpstreamKindSpec],
    code: Code,
    set: fn(&UpstreamSpec) -> bool,
}

/// Every kind-specific key (the rest apply to every kind).
const KIND_KEYS: &[KindKey] = &[
    KindKey {
        key: "base_url",
        kinds: &[OpenAi, Anthropic],
        code: codes::OPENAI_ONLY_SETTING,
        set: |u| u.base_url.is_some(),
    },
    KindKey {
        key: "base_url_env",
        kinds: &[OpenAi, Anthropic],
        code: codes::OPENAI_ONLY_SETTING,
        set: |u| u.base_url_env.is_some(),
    },
    KindKey {
        key: "anthropic_version",
        kinds: &[Anthropic],
        code: codes::ANTHROPIC_ONLY_SETTING,
        set: |u| u.anthropic_version.is_some(),
    },
    KindKey {
        key: "mock",
        kinds: &[Mock],
        code: codes::MOCK_ONLY_SETTING,
        set: |u| u.mock != MockSpec::default(),
    },
];

/// The YAML word for a kind.
pub(crate) fn kind_word(kind: UpstreamKindSpec) -> &'static str {
    match kind {
        OpenAi => "openai",
        Anthropic => "anthropic",
        Mock => "mock",
    }
}

/// HTTP kinds have a `base_url`; kind-specific keys appear only on their kinds.
fn check_kind_settings(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (name, u) in &file.upstreams {
        let kind = kind_word(u.kind);
        if matches!(u.kind, OpenAi | Anthropic) && u.base_url.is_none() {
            let example = if u.kind == Anthropic {
                "https://api.anthropic.com/v1"
            } else {
                "https://api.openai.com/v1"
            };
            diags.push(
                Diagnostic::new(
                    codes::MISSING_BASE_URL,
                    F,
                    format!("{kind} upstream `{name}` has no `base_url`"),
                )
                .at_key(ptr(&["upstreams", name]))
                .label(format!("`base_url` is required for `kind: {kind}`"))
                .help(format!("add e.g. `base_url: {example}`")),
            );
        }
        for k in KIND_KEYS
            .iter()
            .filter(|k| !k.kinds.contains(&u.kind) && (k.set)(u))
        {
            let kinds: Vec<String> = k
                .kinds
                .iter()
                .map(|k| format!("`kind: {}`", kind_word(*k)))
                .collect();
            diags.push(
                Diagnostic::new(
                    k.code,
                    F,
                    format!("`{}` on {kind} upstream `{name}`", k.key),
                )
                .at_key(ptr(&["upstreams", name, k.key]))
                .label(format!("only used by {}", kinds.join(" and ")))
                .help(format!("remove `{}`, or set {}", k.key, kinds.join(" or "))),
            );
        }
    }
}

/// `anthropic_version` is a date such as `2023-06-01`.
fn check_api_versions(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (name, u) in &file.upstreams {
        let Some(version) = &u.anthropic_version else {
            continue;
        };
        let Some(why) = version.error() else { continue };
        diags.push(
            Diagnostic::new(
                codes::BAD_API_VERSION,
                F,
                format!("invalid `anthropic_version` `{}`: {why}", version.raw()),
            )
            .at(ptr(&["upstreams", name, "anthropic_version"]))
            .label("not an API version date")
            .help(format!(
                "write the date of an Anthropic API version, e.g. `{}` (the default)",
                ANTHROPIC_VERSION
            )),
        );
    }
}

/// Timeouts parse, are non-zero, and connect <= total, a written first_byte
/// <= total (absent, it is capped at `total` by `lower/`).
fn check_timeouts(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (name, u) in &file.upstreams {
        let t = &u.timeout;
        let connect = timeout(name, "connect", t.connect.as_ref(), CONNECT, diags);
        let first_byte = timeout(name, "first_byte", t.first_byte.as_ref(), FIRST_BYTE, diags);
        let total = timeout(name, "total", t.total.as_ref(), TOTAL, diags);
        let _ = timeout(
            name,
            "stream_idle",
            t.stream_idle.as_ref(),
            STREAM_IDLE,
            diags,
        );
        let Some(total) = total else {
            continue;
        };
        if let Some(connect) = connect.filter(|c| *c > total) {
            diags.push(
                Diagnostic::new(
                    codes::BAD_TIMEOUT,
                    F,
                    "`timeout.connect` exceeds `timeout.total`",
                )
                .at(ptr(&["upstreams", name, "timeout", "connect"]))
                .label(format!("{connect}ms > {total}ms"))
                .help("make `connect` at most `total` (defaults: connect 5s, total 300s)"),
            );
        }
        let written = first_byte.filter(|_| t.first_byte.is_some());
        if let Some(first_byte) = written.filter(|f| *f > total) {
            diags.push(
                Diagnostic::new(
                    codes::BAD_TIMEOUT,
                    F,
                    format!("`timeout.first_byte` of upstream `{name}` exceeds `timeout.total`"),
                )
                .at(ptr(&["upstreams", name, "timeout", "first_byte"]))
                .label(format!("time to first token {} > whole exchange {}", show_ms(first_byte), show_ms(total)))
                .help(format!("make `first_byte` at most `total`, e.g. `first_byte: {}` (defaults: first_byte 60s, total 300s)", show_ms(total))),
            );
        }
    }
}

/// One upstream timeout, reported when malformed or zero; its value (or the
/// default's, when absent) when usable.
fn timeout(
    name: &str,
    key: &str,
    value: Option<&DurationSpec>,
    default: &str,
    diags: &mut Diagnostics,
) -> Option<u64> {
    let Some(value) = value else {
        return parse::duration_ms(default).ok();
    };
    let at = ptr(&["upstreams", name, "timeout", key]);
    match value.value() {
        Err(err) => {
            let fix = values::malformed(F, at, &parse::DURATION, value.raw(), err, Some(default));
            diags.push(fix);
            None
        }
        Ok(0) => {
            diags.push(
                Diagnostic::new(codes::BAD_TIMEOUT, F, format!("`timeout.{key}` is zero"))
                    .at(at)
                    .label("must be greater than zero")
                    .help("use a positive duration such as `2s`"),
            );
            None
        }
        Ok(&ms) => Some(ms),
    }
}

/// Mock durations parse and `chunks` is in 1..=10000.
fn check_mock_values(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (name, u) in &file.upstreams {
        for (key, value, default) in [
            ("latency", &u.mock.latency, MOCK_LATENCY),
            ("chunk_gap", &u.mock.chunk_gap, MOCK_CHUNK_GAP),
        ] {
            let Some((value, err)) = value.as_ref().and_then(|v| Some((v, v.error()?))) else {
                continue;
            };
            let at = ptr(&["upstreams", name, "mock", key]);
            let fix = values::malformed(F, at, &parse::DURATION, value.raw(), err, Some(default));
            diags.push(fix);
        }
        if let Some(chunks) = u.mock.chunks.filter(|c| !(1..=10_000).contains(c)) {
            diags.push(
                Diagnostic::new(
                    codes::MOCK_CHUNKS,
                    F,
                    format!("`mock.chunks` is {chunks}, outside 1..=10000"),
                )
                .at(ptr(&["upstreams", name, "mock", "chunks"]))
                .label("out of range")
                .help("use between 1 and 10000 chunks (default 8)"),
            );
        }
    }
}
