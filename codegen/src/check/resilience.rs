//! Checks for an upstream's `breaker` and `health_check`: a breaker that
//! could never trip (both triggers off, a ratio above 1) or would always
//! trip (a ratio judged on an empty window), out-of-range breaker values; a
//! health check with both or neither probe, a relative path, zero timings
//! or thresholds, or a timeout longer than its interval. Warning: a health
//! check on a `mock` upstream, which is always healthy.
//!
//! Reports only; conversion happens in `lower/`.

use crate::check::{duration, show_ms};
use crate::diag::codes::{self, Code};
use crate::diag::{Diagnostic, Diagnostics, FileKind::Upstreams as F, ptr};
use crate::parse::{self, RatioError};
use crate::spec::UpstreamKindSpec::Mock;
use crate::spec::resilience::defaults as d;
use crate::spec::{BreakerSpec, HealthCheckSpec, UpstreamsFile};

/// Every breaker and health-check check.
pub fn check(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (name, u) in &file.upstreams {
        check_breaker(name, &u.breaker, diags);
        if let Some(h) = &u.health_check {
            check_probe(name, h, diags);
            check_health_timings(name, h, diags);
            check_thresholds(name, h, diags);
            if u.kind == Mock {
                diags.push(
                    Diagnostic::new(
                        codes::HEALTH_CHECK_ON_MOCK,
                        F,
                        format!("`health_check` on mock upstream `{name}` has no effect"),
                    )
                    .at_key(ptr(&["upstreams", name, "health_check"]))
                    .label("the built-in mock is always healthy")
                    .help("remove `health_check`"),
                );
            }
        }
    }
}

/// One breaker diagnostic at `upstreams.<name>.breaker.<key>`.
fn breaker_diag(code: Code, name: &str, key: &str, message: String) -> Diagnostic {
    Diagnostic::new(code, F, message).at(ptr(&["upstreams", name, "breaker", key]))
}

/// The breaker can trip, does not always trip, and its values are in range.
fn check_breaker(name: &str, b: &BreakerSpec, diags: &mut Diagnostics) {
    let ratio = b.error_ratio.unwrap_or(d::ERROR_RATIO);
    let permille = match parse::permille(ratio) {
        Ok(p) => Some(p),
        Err(err) => {
            diags.push(ratio_error(name, ratio, err));
            None
        }
    };
    breaker_values(name, b, diags);
    if !b.enabled.unwrap_or(d::ENABLED) {
        return;
    }
    let failures = b.consecutive_failures.unwrap_or(d::CONSECUTIVE_FAILURES);
    if failures == 0 && permille == Some(0) {
        diags.push(
            Diagnostic::new(
                codes::BREAKER_NEVER_TRIPS,
                F,
                format!("the breaker of upstream `{name}` can never trip"),
            )
            .at_key(ptr(&["upstreams", name, "breaker"]))
            .label("`consecutive_failures: 0` and `error_ratio: 0` turn off both triggers")
            .help("set `consecutive_failures` (e.g. 5) or `error_ratio` (e.g. 0.5), or write `enabled: false` to say the breaker is off"),
        );
    }
    let min_requests = b.min_requests.unwrap_or(d::MIN_REQUESTS);
    if permille.is_some_and(|p| p > 0) && min_requests == 0 {
        diags.push(
            breaker_diag(
                codes::BREAKER_ALWAYS_TRIPS,
                name,
                "min_requests",
                format!("the breaker of upstream `{name}` judges its error ratio on an empty window"),
            )
            .label("with no request seen, one fault is a ratio of 1 and opens it")
            .help(format!("require some requests first, e.g. `min_requests: {}` (the default), or turn the ratio trigger off with `error_ratio: 0`", d::MIN_REQUESTS)),
        );
    }
}

/// The error for an `error_ratio` that is not a usable ratio.
fn ratio_error(name: &str, ratio: f64, err: RatioError) -> Diagnostic {
    let (code, label, help) = match err {
        RatioError::AboveOne => (
            codes::BREAKER_NEVER_TRIPS,
            "no window can have more faults than requests",
            "write a fraction in 0..=1, e.g. `0.5` for half of the requests failing",
        ),
        RatioError::Negative => (
            codes::BREAKER_VALUE,
            "a ratio is not negative",
            "write a fraction in 0..=1, e.g. `0.5`, or `0` to turn the ratio trigger off",
        ),
        RatioError::TooFine => (
            codes::BREAKER_VALUE,
            "rounds to 0 per mille, which would turn the trigger off",
            "use at least `0.001`, or `0` to turn the ratio trigger off",
        ),
    };
    breaker_diag(
        code,
        name,
        "error_ratio",
        format!("`breaker.error_ratio` of upstream `{name}` is {ratio}, outside 0..=1"),
    )
    .label(label)
    .help(help)
}

/// `window` and `open_for` parse and are not zero; `half_open_probes` is at least 1.
fn breaker_values(name: &str, b: &BreakerSpec, diags: &mut Diagnostics) {
    let at = |key: &str| ptr(&["upstreams", name, "breaker", key]);
    let durations = [
        (
            "window",
            &b.window,
            d::WINDOW,
            "an empty window holds no requests to judge",
        ),
        (
            "open_for",
            &b.open_for,
            d::OPEN_FOR,
            "an open breaker would close again at once",
        ),
    ];
    for (key, value, default, why) in durations {
        if duration(F, at(key), value.as_ref(), default, diags) == Some(0) {
            let message = format!("`breaker.{key}` of upstream `{name}` is zero");
            diags.push(
                breaker_diag(codes::BREAKER_VALUE, name, key, message)
                    .label(why)
                    .help(format!(
                        "use a positive duration such as `{default}` (the default)"
                    )),
            );
        }
    }
    if b.half_open_probes == Some(0) {
        let message = format!("`breaker.half_open_probes` of upstream `{name}` is 0");
        let default = d::HALF_OPEN_PROBES;
        diags.push(
            breaker_diag(codes::BREAKER_VALUE, name, "half_open_probes", message)
                .label("a half-open breaker that admits no probe never closes")
                .help(format!("admit at least 1 probe (the default is {default})")),
        );
    }
}

/// A pointer under `upstreams.<name>.health_check` (`None`: the mapping itself).
fn check_ptr(name: &str, key: Option<&str>) -> String {
    let mut segs = vec!["upstreams", name, "health_check"];
    segs.extend(key);
    ptr(&segs)
}

/// Exactly one of `path` and `model`; the one set is well-formed.
fn check_probe(name: &str, h: &HealthCheckSpec, diags: &mut Diagnostics) {
    let (label, at) = match (&h.path, &h.model) {
        (Some(_), Some(_)) => (
            "sets both `path` and `model`",
            check_ptr(name, Some("model")),
        ),
        (None, None) => ("sets neither `path` nor `model`", check_ptr(name, None)),
        (Some(path), None) => {
            bad_path(name, path).into_iter().for_each(|d| diags.push(d));
            return;
        }
        (None, Some(model)) => {
            bad_probe_model(name, model)
                .into_iter()
                .for_each(|d| diags.push(d));
            return;
        }
    };
    diags.push(
        Diagnostic::new(
            codes::HEALTH_PROBE,
            F,
            format!("the health check of upstream `{name}` {label}"),
        )
        .at_key(at)
        .label("a check is either a `GET` of `path` or a one-token generation for `model`")
        .help("keep exactly one: `path: /models` (cheap, any 2xx passes) or `model: <upstream model>` (exercises generation)"),
    );
}

/// The error for a `path` that does not start with `/` or holds spaces.
fn bad_path(name: &str, path: &str) -> Option<Diagnostic> {
    if path.starts_with('/') && !path.chars().any(char::is_whitespace) {
        return None;
    }
    let fixed = format!("/{}", path.trim().trim_start_matches('/'));
    let message = format!("health check path `{path}` of upstream `{name}` is not a path");
    Some(
        Diagnostic::new(codes::HEALTH_PROBE, F, message)
            .at(check_ptr(name, Some("path")))
            .label("must start with `/` and hold no spaces")
            .help(format!(
                "write it after the base URL, e.g. `{fixed}` for `GET <base_url>{fixed}`"
            )),
    )
}

/// The error for a probe `model` that is not a well-formed model name.
fn bad_probe_model(name: &str, model: &str) -> Option<Diagnostic> {
    let why = parse::name(model).err()?;
    Some(
        Diagnostic::new(
            codes::BAD_MODEL_NAME,
            F,
            format!("health check model name {why}"),
        )
        .at(check_ptr(name, Some("model")))
        .label("invalid upstream model name")
        .help("give the model name the upstream expects, e.g. `gpt-4o-mini`"),
    )
}

/// `interval` and `timeout` parse and are positive, and a check ends before the next starts.
fn check_health_timings(name: &str, h: &HealthCheckSpec, diags: &mut Diagnostics) {
    let at = |key: &str| check_ptr(name, Some(key));
    let interval = duration(F, at("interval"), h.interval.as_ref(), d::INTERVAL, diags);
    let timeout = h.timeout.as_ref();
    let timeout = duration(F, at("timeout"), timeout, d::CHECK_TIMEOUT, diags);
    let timings = [
        ("interval", interval, d::INTERVAL),
        ("timeout", timeout, d::CHECK_TIMEOUT),
    ];
    for (key, ms, default) in timings {
        if ms == Some(0) {
            let message = format!("`health_check.{key}` of upstream `{name}` is zero");
            diags.push(
                Diagnostic::new(codes::HEALTH_CHECK_VALUE, F, message)
                    .at(at(key))
                    .label("must be greater than zero")
                    .help(format!(
                        "use a positive duration such as `{default}` (the default)"
                    )),
            );
        }
    }
    if let (Some(interval), Some(timeout)) = (interval, timeout)
        && interval > 0
        && timeout > interval
    {
        let message = format!("`health_check.timeout` of upstream `{name}` exceeds its `interval`");
        diags.push(
            Diagnostic::new(codes::HEALTH_CHECK_VALUE, F, message)
                .at(at("timeout"))
                .label(format!("{} > {}", show_ms(timeout), show_ms(interval)))
                .help(
                    "make `timeout` at most `interval`, so one check ends before the next begins",
                ),
        );
    }
}

/// Both thresholds are at least 1.
fn check_thresholds(name: &str, h: &HealthCheckSpec, diags: &mut Diagnostics) {
    let thresholds = [
        (
            "healthy_threshold",
            h.healthy_threshold,
            d::HEALTHY_THRESHOLD,
        ),
        (
            "unhealthy_threshold",
            h.unhealthy_threshold,
            d::UNHEALTHY_THRESHOLD,
        ),
    ];
    for (key, n, default) in thresholds {
        if n == Some(0) {
            let message = format!("`health_check.{key}` of upstream `{name}` is 0");
            diags.push(
                Diagnostic::new(codes::HEALTH_CHECK_VALUE, F, message)
                    .at(check_ptr(name, Some(key)))
                    .label("a state change needs at least one check")
                    .help(format!("use at least 1 (the default is {default})")),
            );
        }
    }
}
