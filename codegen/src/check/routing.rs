//! Checks for how each model is served: exactly one of `upstream` or a
//! non-empty `deployments` list, weights and priorities in range, no
//! priority whose deployments all weigh 0, no deployment listed twice, a
//! non-empty `endpoints` list, and deployment ids that fit in 16 bits.
//!
//! Reports only. Upstream references are `models.rs`, retries and the
//! deadline `retry.rs`, fallbacks `fallbacks.rs`.

use std::collections::BTreeMap;

use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Upstreams as F, ptr};
use crate::spec::routing::{PRIORITY_RANGE, WEIGHT_RANGE, defaults};
use crate::spec::{ModelSpec, UpstreamsFile, Written};

/// Every deployment-list check.
pub fn check(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (model, m) in &file.models {
        check_form(model, m, diags);
        check_ranges(model, m, diags);
        check_weights(model, m, diags);
        check_duplicates(model, m, diags);
        check_endpoints(model, m, diags);
    }
    check_deployment_count(file, diags);
}

/// The pointer to `key` of a written deployment (`None`: the deployment itself).
pub(crate) fn deployment_ptr(model: &str, w: &Written<'_>, key: Option<&str>) -> String {
    let index = w.index.map(|i| i.to_string());
    let mut segs = vec!["models", model];
    if let Some(i) = &index {
        segs.extend(["deployments", i.as_str()]);
    }
    segs.extend(key.or(index.is_none().then_some("upstream")));
    ptr(&segs)
}

/// Exactly one of `upstream` and `deployments`; `model` only beside `upstream`; a non-empty list.
fn check_form(model: &str, m: &ModelSpec, diags: &mut Diagnostics) {
    const ONE_OF: &str = "a model is served by `upstream` or by `deployments`, exactly one";
    let (message, label, help, at) = match (&m.upstream, &m.deployments) {
        (Some(_), Some(_)) => (
            "sets both `upstream` and `deployments`",
            ONE_OF,
            "keep one: move the `upstream` (and `model`) into the `deployments` list, or remove the list".to_owned(),
            ptr(&["models", model, "deployments"]),
        ),
        (None, None) => (
            "sets neither `upstream` nor `deployments`",
            ONE_OF,
            format!("add `upstream: <name>`, or `deployments: [{{ upstream: <name>, model: {model} }}]`"),
            ptr(&["models", model]),
        ),
        (None, Some(list)) if list.is_empty() => (
            "lists no deployments",
            "an empty list serves nothing",
            "add at least one `{ upstream: <name> }`, or write `upstream: <name>` instead".to_owned(),
            ptr(&["models", model, "deployments"]),
        ),
        (None, Some(_)) if m.model.is_some() => (
            "sets `model` beside `deployments`",
            "`model` here belongs to the short form (`upstream:`)",
            "move `model:` into each deployment (`{ upstream: <name>, model: ... }`)".to_owned(),
            ptr(&["models", model, "model"]),
        ),
        _ => return,
    };
    diags.push(
        Diagnostic::new(codes::MODEL_TARGET, F, format!("model `{model}` {message}"))
            .at_key(at)
            .label(label)
            .help(help),
    );
}

/// `weight` in 0..=1000000, `priority` in 0..=255.
fn check_ranges(model: &str, m: &ModelSpec, diags: &mut Diagnostics) {
    for w in m.written() {
        let values = [
            (
                "weight",
                w.weight,
                &WEIGHT_RANGE,
                "weights are relative: scale them all down together",
            ),
            (
                "priority",
                w.priority,
                &PRIORITY_RANGE,
                "only the order of priorities matters: renumber them from 0",
            ),
        ];
        for (key, value, range, why) in values {
            let Some(n) = value.filter(|n| !range.contains(n)) else {
                continue;
            };
            let (low, high) = (range.start(), range.end());
            diags.push(
                Diagnostic::new(
                    codes::DEPLOYMENT_RANGE,
                    F,
                    format!(
                        "`{key}` of a deployment of model `{model}` is {n}, outside {low}..={high}"
                    ),
                )
                .at(deployment_ptr(model, &w, Some(key)))
                .label("out of range")
                .help(format!("use an integer in {low}..={high}; {why}")),
            );
        }
    }
}

/// At every priority, some deployment weighs more than 0.
fn check_weights(model: &str, m: &ModelSpec, diags: &mut Diagnostics) {
    let mut by_priority: BTreeMap<u64, Vec<Written<'_>>> = BTreeMap::new();
    for w in m.written() {
        let priority = w.priority.unwrap_or(defaults::PRIORITY);
        by_priority.entry(priority).or_default().push(w);
    }
    for (priority, ws) in by_priority {
        if ws.iter().any(|w| w.weight.unwrap_or(defaults::WEIGHT) > 0) {
            continue;
        }
        let Some(first) = ws.first() else { continue };
        let count = match ws.len() {
            1 => format!("its one deployment at priority {priority} weighs 0"),
            n => format!("all {n} deployments at priority {priority} weigh 0"),
        };
        diags.push(
            Diagnostic::new(
                codes::ZERO_WEIGHT_PRIORITY,
                F,
                format!("priority {priority} of model `{model}` could never be chosen"),
            )
            .at(deployment_ptr(model, first, Some("weight")))
            .label(count)
            .help("give at least one deployment of this priority a weight above 0 (the default is 1), or remove the priority's deployments"),
        );
    }
}

/// No two deployments of one model share upstream and upstream model.
fn check_duplicates(model: &str, m: &ModelSpec, diags: &mut Diagnostics) {
    let written = m.written();
    for (i, w) in written.iter().enumerate() {
        let name = w.model.unwrap_or(model);
        let same = |o: &&Written<'_>| o.upstream == w.upstream && o.model.unwrap_or(model) == name;
        let Some(first) = written[..i].iter().find(same) else {
            continue;
        };
        let first_at = first
            .index
            .map_or("`upstream`".to_owned(), |i| format!("`deployments[{i}]`"));
        diags.push(
            Diagnostic::new(
                codes::DUPLICATE_DEPLOYMENT,
                F,
                format!(
                    "model `{model}` lists upstream `{}` with model `{name}` twice",
                    w.upstream
                ),
            )
            .at_key(deployment_ptr(model, w, None))
            .label(format!("same upstream and model as {first_at}"))
            .help("remove the repetition; to send it more traffic, raise the first one's `weight`"),
        );
    }
}

/// `endpoints`, when written, lists at least one endpoint.
fn check_endpoints(model: &str, m: &ModelSpec, diags: &mut Diagnostics) {
    if m.endpoints.as_ref().is_some_and(Vec::is_empty) {
        diags.push(
            Diagnostic::new(
                codes::EMPTY_ENDPOINTS,
                F,
                format!("model `{model}` is served on no endpoint"),
            )
            .at(ptr(&["models", model, "endpoints"]))
            .label("empty list")
            .help(
                "list `chat_completions`, `messages` or both, or remove `endpoints` to serve both",
            ),
        );
    }
}

/// Deployment ids are u16: at most 65535 deployments over all models (not
/// repeated when the models alone are too many: `models.rs` says so).
fn check_deployment_count(file: &UpstreamsFile, diags: &mut Diagnostics) {
    let n: usize = file.models.values().map(|m| m.written().len()).sum();
    let limit = usize::from(u16::MAX);
    if n > limit && file.models.len() <= limit {
        diags.push(
            Diagnostic::new(
                codes::TOO_MANY,
                F,
                format!("{n} deployments exceed the limit of {limit}"),
            )
            .at_key(ptr(&["models"]))
            .label("too many deployments over all models")
            .help("split the configuration or remove unused deployments"),
        );
    }
}
