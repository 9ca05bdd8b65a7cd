//! Checks for the `models` table of upstreams.yaml: it is not empty, every
//! deployment names a defined upstream, names are well-formed, ids fit in 16
//! bits, `default_max_tokens` is in range; warnings for an upstream no
//! deployment uses and for a `default_max_tokens` no upstream of the model
//! ever receives. Deployment lists, retries and fallbacks are `routing.rs`,
//! `retry.rs` and `fallbacks.rs`.
//!
//! Reports only; conversion happens in `lower/`.

use crate::check::routing::deployment_ptr;
use crate::check::upstreams::kind_word;
use crate::diag::codes;
use crate::diag::ptr;
use crate::diag::suggest::{self, Reference};
use crate::diag::{Diagnostic, Diagnostics, FileKind::Upstreams as F};
use crate::parse;
use crate::spec::UpstreamKindSpec::Anthropic;
use crate::spec::UpstreamsFile;
use crate::spec::models::DEFAULT_MAX_TOKENS_RANGE as RANGE;
use crate::spec::models::defaults::DEFAULT_MAX_TOKENS;

/// Every `models` check.
pub fn check(file: &UpstreamsFile, diags: &mut Diagnostics) {
    check_present(file, diags);
    check_upstreams(file, diags);
    check_names(file, diags);
    check_used(file, diags);
    check_max_tokens(file, diags);
    check_count("models", file.models.len(), diags);
}

/// `models` must not be empty.
fn check_present(file: &UpstreamsFile, diags: &mut Diagnostics) {
    if file.models.is_empty() {
        diags.push(
            Diagnostic::new(codes::NO_MODELS, F, "no models are defined")
                .at("/models")
                .label("empty model table")
                .help("add a public model, e.g. `models: { gpt-4o: { upstream: openai } }`"),
        );
    }
}

/// Every deployment names a defined upstream.
fn check_upstreams(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (model, m) in &file.models {
        for w in m.written() {
            if file.upstreams.contains_key(w.upstream) {
                continue;
            }
            let from = format!("model `{model}`");
            let reference = Reference {
                code: codes::UNKNOWN_UPSTREAM,
                file: F,
                from: &from,
                kind: "upstream",
                defined: "defined under `upstreams`",
                known: "defined upstreams",
            };
            diags.push(suggest::unknown_reference(
                &reference,
                deployment_ptr(model, &w, Some("upstream")),
                w.upstream,
                file.upstreams.keys().map(String::as_str),
            ));
        }
    }
}

/// Public and upstream model names are well-formed.
fn check_names(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (model, m) in &file.models {
        if let Err(why) = parse::name(model) {
            diags.push(
                Diagnostic::new(codes::BAD_MODEL_NAME, F, format!("public model name {why}"))
                    .at_key(ptr(&["models", model]))
                    .label("invalid model name")
                    .help(
                        "use a non-empty name of at most 256 bytes without spaces, e.g. `gpt-4o`",
                    ),
            );
        }
        for w in m.written() {
            if let Some(Err(why)) = w.model.map(parse::name) {
                diags.push(
                    Diagnostic::new(codes::BAD_MODEL_NAME, F, format!("upstream model name {why}"))
                        .at(deployment_ptr(model, &w, Some("model")))
                        .label("invalid upstream model name")
                        .help("give the name the upstream expects, or remove `model:` to send the public name"),
                );
            }
        }
    }
}

/// Warn about an upstream no deployment routes to (unless the table is
/// empty or names an unknown upstream: those errors already say what is wrong).
fn check_used(file: &UpstreamsFile, diags: &mut Diagnostics) {
    let used: Vec<&str> = file
        .models
        .values()
        .flat_map(|m| m.written().into_iter().map(|w| w.upstream))
        .collect();
    let unknown = used.iter().any(|u| !file.upstreams.contains_key(*u));
    if file.models.is_empty() || unknown {
        return;
    }
    for (name, u) in &file.upstreams {
        if used.contains(&name.as_str()) {
            continue;
        }
        let secret = match (&u.api_key.env, &u.api_key.file, u.optional) {
            (Some(env), _, false) => format!("; `{env}` is still required at startup"),
            (None, Some(path), false) => format!("; `{path}` is still required at startup"),
            _ => String::new(),
        };
        diags.push(
            Diagnostic::new(codes::UNUSED_UPSTREAM, F, format!("upstream `{name}` is not used by any model"))
                .at_key(ptr(&["upstreams", name]))
                .label(format!("no model or deployment has `upstream: {name}`{secret}"))
                .help(format!("route a model to it, e.g. `models: {{ <name>: {{ upstream: {name} }} }}`, or remove it")),
        );
    }
}

/// `default_max_tokens` is in 1..=1000000, and set only where it is sent
/// (a model with a deployment on an `anthropic` upstream; elsewhere a warning).
fn check_max_tokens(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (model, m) in &file.models {
        let Some(n) = m.default_max_tokens else {
            continue;
        };
        let at = ptr(&["models", model, "default_max_tokens"]);
        if !RANGE.contains(&n) {
            diags.push(max_tokens_range(model, n, at.clone()));
        }
        let written = m.written();
        let kinds: Option<Vec<_>> = written
            .iter()
            .map(|w| file.upstreams.get(w.upstream).map(|u| (w.upstream, u.kind)))
            .collect();
        let Some(kinds) = kinds.filter(|k| !k.is_empty()) else {
            continue;
        };
        if kinds.iter().all(|(_, kind)| *kind != Anthropic) {
            let label = match kinds.as_slice() {
                [(name, kind)] => format!("upstream `{name}` is `kind: {}`", kind_word(*kind)),
                _ => "none of its upstreams is `kind: anthropic`".to_owned(),
            };
            diags.push(
                Diagnostic::new(
                    codes::MAX_TOKENS_UNUSED,
                    F,
                    format!("`default_max_tokens` on model `{model}` has no effect"),
                )
                .at_key(at)
                .label(format!(
                    "{label}: chat requests pass through with their own `max_tokens`"
                ))
                .help(
                    "remove `default_max_tokens`; it is only sent to `kind: anthropic` upstreams",
                ),
            );
        }
    }
}

/// The error for a `default_max_tokens` of `n` outside [`RANGE`], at `at`.
fn max_tokens_range(model: &str, n: u64, at: String) -> Diagnostic {
    let (label, help) = if n == 0 {
        let help = format!(
            "Anthropic rejects `max_tokens: 0`; give a positive limit such as {DEFAULT_MAX_TOKENS} (the default), or remove the key"
        );
        ("must be at least 1", help)
    } else {
        let help = format!(
            "use at most {} (e.g. the model's documented output limit); without the key the gateway sends {DEFAULT_MAX_TOKENS}",
            RANGE.end()
        );
        ("too large", help)
    };
    let (low, high) = (RANGE.start(), RANGE.end());
    Diagnostic::new(
        codes::MAX_TOKENS_RANGE,
        F,
        format!("`default_max_tokens` of model `{model}` is {n}, outside {low}..={high}"),
    )
    .at(at)
    .label(label)
    .help(help)
}

/// Ids are u16: at most 65535 entries in `key` (`upstreams` or `models`).
pub(crate) fn check_count(key: &str, n: usize, diags: &mut Diagnostics) {
    let limit = usize::from(u16::MAX);
    if n > limit {
        diags.push(
            Diagnostic::new(
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
