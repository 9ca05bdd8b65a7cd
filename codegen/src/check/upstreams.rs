//! Checks for upstreams.yaml: model references and names, per-kind settings,
//! URLs, env names, secret references, timeouts and mock values.
//!
//! Reports only; conversion happens in `lower.rs`.

use crate::check::ptr;
use crate::diag::codes;
use crate::diag::suggest;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Upstreams as F};
use crate::parse;
use crate::spec::{MockSpec, Spec, UpstreamKindSpec};

const DURATION_HELP: &str =
    "write an integer followed by `ms`, `s`, `m` or `h`, e.g. `500ms`, `2s`, `1m`";

/// `models` must not be empty.
pub fn check_models_present(spec: &Spec, diags: &mut Diagnostics) {
    if spec.upstreams.models.is_empty() {
        diags.push(
            Diagnostic::error(codes::NO_MODELS, F, "no models are defined")
                .at("/models")
                .label("empty model table")
                .help("add a public model, e.g. `models: { gpt-4o: { upstream: openai } }`"),
        );
    }
}

/// Every model names a defined upstream.
pub fn check_model_upstreams(spec: &Spec, diags: &mut Diagnostics) {
    let names = || spec.upstreams.upstreams.keys().map(String::as_str);
    for (model, m) in &spec.upstreams.models {
        if !spec.upstreams.upstreams.contains_key(&m.upstream) {
            diags.push(
                Diagnostic::error(
                    codes::UNKNOWN_UPSTREAM,
                    F,
                    format!(
                        "model `{model}` references unknown upstream `{}`",
                        m.upstream
                    ),
                )
                .at(ptr(&["models", model, "upstream"]))
                .label("not defined under `upstreams`")
                .help(format!(
                    "{}defined upstreams are {}",
                    suggest::did_you_mean(&m.upstream, names()),
                    suggest::list(names())
                )),
            );
        }
    }
}

/// Public and upstream model names are well-formed.
pub fn check_model_names(spec: &Spec, diags: &mut Diagnostics) {
    for (model, m) in &spec.upstreams.models {
        if let Err(why) = parse::name(model) {
            diags.push(
                Diagnostic::error(codes::BAD_MODEL_NAME, F, format!("public model name {why}"))
                    .at_key(ptr(&["models", model]))
                    .label("invalid model name")
                    .help(
                        "use a non-empty name of at most 256 bytes without spaces, e.g. `gpt-4o`",
                    ),
            );
        }
        if let Some(Err(why)) = m.model.as_deref().map(parse::name) {
            diags.push(
                Diagnostic::error(codes::BAD_MODEL_NAME, F, format!("upstream model name {why}"))
                    .at(ptr(&["models", model, "model"]))
                    .label("invalid upstream model name")
                    .help("give the name the upstream expects, or remove `model:` to send the public name"),
            );
        }
    }
}

/// `base_url` only (and always) for openai; `mock` only for mock.
pub fn check_kind_settings(spec: &Spec, diags: &mut Diagnostics) {
    for (name, u) in &spec.upstreams.upstreams {
        match u.kind {
            UpstreamKindSpec::OpenAi => {
                if u.base_url.is_none() {
                    diags.push(
                        Diagnostic::error(
                            codes::MISSING_BASE_URL,
                            F,
                            format!("openai upstream `{name}` has no `base_url`"),
                        )
                        .at_key(ptr(&["upstreams", name]))
                        .label("`base_url` is required for `kind: openai`")
                        .help("add e.g. `base_url: https://api.openai.com/v1`"),
                    );
                }
                if u.mock != MockSpec::default() {
                    diags.push(
                        Diagnostic::error(
                            codes::MOCK_ONLY_SETTING,
                            F,
                            format!("`mock` settings on non-mock upstream `{name}`"),
                        )
                        .at_key(ptr(&["upstreams", name, "mock"]))
                        .label("only used by `kind: mock`")
                        .help("remove `mock:` or set `kind: mock`"),
                    );
                }
            }
            UpstreamKindSpec::Mock => {
                for (key, set) in [
                    ("base_url", u.base_url.is_some()),
                    ("base_url_env", u.base_url_env.is_some()),
                ] {
                    if set {
                        diags.push(
                            Diagnostic::error(
                                codes::OPENAI_ONLY_SETTING,
                                F,
                                format!("`{key}` on mock upstream `{name}`"),
                            )
                            .at_key(ptr(&["upstreams", name, key]))
                            .label("a mock upstream is served in-process")
                            .help(format!("remove `{key}` or set `kind: openai`")),
                        );
                    }
                }
            }
        }
    }
}

/// `base_url` is an http(s) URL with a host and nothing secret or extra.
pub fn check_base_urls(spec: &Spec, diags: &mut Diagnostics) {
    for (name, u) in &spec.upstreams.upstreams {
        let Some(url) = &u.base_url else { continue };
        if let Err(why) = parse::base_url(url) {
            diags.push(
                Diagnostic::error(codes::BAD_URL, F, format!("invalid `base_url`: {why}"))
                    .at(ptr(&["upstreams", name, "base_url"]))
                    .label("not a valid base URL")
                    .help("write `http(s)://host[:port]/path`, e.g. `https://api.openai.com/v1`; credentials go in `api_key`"),
            );
        }
    }
}

/// Environment variable names match `[A-Z_][A-Z0-9_]*`.
pub fn check_env_names(spec: &Spec, diags: &mut Diagnostics) {
    for (name, u) in &spec.upstreams.upstreams {
        let vars = [
            (vec!["api_key", "env"], &u.api_key.env),
            (vec!["base_url_env"], &u.base_url_env),
        ];
        for (path, var) in vars {
            let Some(var) = var.as_deref().filter(|v| !parse::is_env_name(v)) else {
                continue;
            };
            let mut segs = vec!["upstreams", name.as_str()];
            segs.extend(path);
            diags.push(
                Diagnostic::error(
                    codes::BAD_ENV_NAME,
                    F,
                    format!("invalid environment variable name `{var}`"),
                )
                .at(ptr(&segs))
                .label("must match `[A-Z_][A-Z0-9_]*`")
                .help(format!(
                    "use an upper-case name such as `{}`",
                    suggest_env(var)
                )),
            );
        }
    }
}

fn suggest_env(var: &str) -> String {
    let s: String = var
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        format!("_{s}")
    } else {
        s
    }
}

/// `api_key` does not set both `env` and `file` (the schema's `maxProperties` also
/// catches this; `minProperties` catches neither); secret files are absolute.
pub fn check_secret_refs(spec: &Spec, diags: &mut Diagnostics) {
    for (name, u) in &spec.upstreams.upstreams {
        let at = ptr(&["upstreams", name, "api_key"]);
        match (&u.api_key.env, &u.api_key.file) {
            (Some(_), Some(_)) => diags.push(
                Diagnostic::error(codes::SECRET_REF_SHAPE, F, "`api_key` sets both `env` and `file`")
                    .at_key(at)
                    .label("ambiguous secret source")
                    .help("keep exactly one of `env:` or `file:`"),
            ),
            (None, Some(file)) if !file.starts_with('/') => diags.push(
                Diagnostic::error(codes::RELATIVE_SECRET_FILE, F, format!("secret file path `{file}` is not absolute"))
                    .at(ptr(&["upstreams", name, "api_key", "file"]))
                    .label("relative path")
                    .help("use an absolute path such as `/run/secrets/openai` (the working directory is not fixed at run time)"),
            ),
            _ => {}
        }
    }
}

/// Timeouts parse, are non-zero, and connect <= total.
pub fn check_timeouts(spec: &Spec, diags: &mut Diagnostics) {
    for (name, u) in &spec.upstreams.upstreams {
        let mut parsed = [5_000, 300_000];
        for (i, (key, value)) in [("connect", &u.timeout.connect), ("total", &u.timeout.total)]
            .into_iter()
            .enumerate()
        {
            let Some(value) = value else { continue };
            let at = ptr(&["upstreams", name, "timeout", key]);
            match parse::duration_ms(value) {
                Err(why) => {
                    parsed[i] = 0;
                    diags.push(duration_error(value, &why, at));
                }
                Ok(0) => diags.push(
                    Diagnostic::error(codes::BAD_TIMEOUT, F, format!("`timeout.{key}` is zero"))
                        .at(at)
                        .label("must be greater than zero")
                        .help("use a positive duration such as `2s`"),
                ),
                Ok(ms) => parsed[i] = ms,
            }
        }
        if parsed[0] > 0 && parsed[1] > 0 && parsed[0] > parsed[1] {
            diags.push(
                Diagnostic::error(
                    codes::BAD_TIMEOUT,
                    F,
                    "`timeout.connect` exceeds `timeout.total`",
                )
                .at(ptr(&["upstreams", name, "timeout", "connect"]))
                .label(format!("{}ms > {}ms", parsed[0], parsed[1]))
                .help("make `connect` at most `total` (defaults: connect 5s, total 300s)"),
            );
        }
    }
}

fn duration_error(value: &str, why: &str, at: String) -> Diagnostic {
    Diagnostic::error(
        codes::BAD_DURATION,
        F,
        format!("invalid duration `{value}`: {why}"),
    )
    .at(at)
    .label("not a duration")
    .help(DURATION_HELP)
}

/// Mock durations parse and `chunks` is in 1..=10000.
pub fn check_mock_values(spec: &Spec, diags: &mut Diagnostics) {
    for (name, u) in &spec.upstreams.upstreams {
        for (key, value) in [
            ("latency", &u.mock.latency),
            ("chunk_gap", &u.mock.chunk_gap),
        ] {
            let Some(value) = value else { continue };
            if let Err(why) = parse::duration_ms(value) {
                diags.push(duration_error(
                    value,
                    &why,
                    ptr(&["upstreams", name, "mock", key]),
                ));
            }
        }
        if let Some(chunks) = u.mock.chunks.filter(|c| !(1..=10_000).contains(c)) {
            diags.push(
                Diagnostic::error(
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

/// Ids are u16: at most 65535 upstreams and models.
pub fn check_counts(spec: &Spec, diags: &mut Diagnostics) {
    let limit = usize::from(u16::MAX);
    for (key, n) in [
        ("upstreams", spec.upstreams.upstreams.len()),
        ("models", spec.upstreams.models.len()),
    ] {
        if n > limit {
            diags.push(
                Diagnostic::error(
                    codes::TOO_MANY,
                    F,
                    format!("{n} {key} exceed the limit of {limit}"),
                )
                .at_key(ptr(&[key]))
                .label("too many entries")
                .help("split the configuration or remove unused entries"),
            );
        }
    }
}
