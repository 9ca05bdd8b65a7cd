//! Checks for a model's `retry` and `deadline`: attempts in 1..=10, backoff
//! durations, every `retry.on` item a retryable condition (never a client
//! error), and the deadline rule: with retries, `deadline` must fit
//! `retry.attempts` x `timeout.total` of every deployment's upstream.
//! Warnings: a deadline shorter than one try's `timeout.total` (it cuts the
//! try first), and a `retry.on` list with nothing to retry.
//!
//! Reports only; the derived default deadline is computed in `lower/`.

use crate::check::routing::deployment_ptr;
use crate::check::{duration, show_ms};
use crate::diag::codes;
use crate::diag::suggest;
use crate::diag::values;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Upstreams as F, ptr};
use crate::parse::{self, RetryCondition, RetryConditionError};
use crate::spec::routing::{ATTEMPTS_RANGE, defaults as d};
use crate::spec::upstreams::defaults::TOTAL;
use crate::spec::{ModelSpec, UpstreamsFile};

/// Every `retry` and `deadline` check.
pub fn check(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (model, m) in &file.models {
        let attempts = check_attempts(model, m, diags);
        check_backoff(model, m, diags);
        check_on(model, m, attempts, diags);
        let Some(deadline) = check_deadline_value(model, m, diags) else {
            continue;
        };
        if let Some(attempts) = attempts {
            check_deadline(file, model, m, attempts, deadline, diags);
        }
    }
}

/// The rule itself: with `attempts` of at least 2, `attempts` x the largest
/// `total` must fit `deadline`; `Err` holds the (total, upstream) that does
/// not fit. All in milliseconds; `totals` in deployment order.
pub(crate) fn deadline_fits<'a>(
    attempts: u64,
    deadline: u64,
    totals: &[(u64, &'a str)],
) -> Result<(), (u64, &'a str)> {
    let worst = totals
        .iter()
        .fold(None, |worst: Option<(u64, &str)>, &(t, u)| match worst {
            Some((w, _)) if w >= t => worst,
            _ => Some((t, u)),
        });
    match worst {
        Some((total, upstream)) if attempts >= 2 && attempts.saturating_mul(total) > deadline => {
            Err((total, upstream))
        }
        _ => Ok(()),
    }
}

/// `retry.attempts` in 1..=10; the effective value when valid.
fn check_attempts(model: &str, m: &ModelSpec, diags: &mut Diagnostics) -> Option<u64> {
    let Some(n) = m.retry.attempts else {
        return Some(d::ATTEMPTS);
    };
    if ATTEMPTS_RANGE.contains(&n) {
        return Some(n);
    }
    let (low, high) = (ATTEMPTS_RANGE.start(), ATTEMPTS_RANGE.end());
    let label = if n == 0 {
        "no try at all"
    } else {
        "too many tries"
    };
    diags.push(
        Diagnostic::new(
            codes::RETRY_RANGE,
            F,
            format!("`retry.attempts` of model `{model}` is {n}, outside {low}..={high}"),
        )
        .at(ptr(&["models", model, "retry", "attempts"]))
        .label(label)
        .help(format!("count the first try too: 1 means no retry, {} (the default) one retry, at most {high}; add `fallbacks` to go further", d::ATTEMPTS)),
    );
    None
}

/// The backoff durations parse, and `backoff` is at most `backoff_max`.
fn check_backoff(model: &str, m: &ModelSpec, diags: &mut Diagnostics) {
    let r = &m.retry;
    let at = |key: &str| ptr(&["models", model, "retry", key]);
    let base = duration(F, at("backoff"), r.backoff.as_ref(), d::BACKOFF, diags);
    let max = duration(
        F,
        at("backoff_max"),
        r.backoff_max.as_ref(),
        d::BACKOFF_MAX,
        diags,
    );
    let after = r.retry_after_max.as_ref();
    let _ = duration(F, at("retry_after_max"), after, d::RETRY_AFTER_MAX, diags);
    let (Some(base), Some(max)) = (base, max) else {
        return;
    };
    if base > max {
        diags.push(
            Diagnostic::new(
                codes::RETRY_RANGE,
                F,
                format!("`retry.backoff` of model `{model}` exceeds `retry.backoff_max`"),
            )
            .at(at(if r.backoff.is_some() { "backoff" } else { "backoff_max" }))
            .label(format!("{} > {}", show_ms(base), show_ms(max)))
            .help("`backoff` is the first wait's cap and `backoff_max` the cap of every wait: make `backoff` at most `backoff_max`"),
        );
    }
}

/// Every `retry.on` item is a retryable condition; warn when nothing is retried.
fn check_on(model: &str, m: &ModelSpec, attempts: Option<u64>, diags: &mut Diagnostics) {
    let Some(on) = &m.retry.on else { return };
    for (i, item) in on.iter().enumerate() {
        let at = ptr(&["models", model, "retry", "on", &i.to_string()]);
        if let Some(d) = bad_condition(model, item.raw(), item.value()) {
            diags.push(d.at(at));
        }
    }
    let written: Option<Vec<RetryCondition>> = on.iter().map(|c| c.value().ok().copied()).collect();
    let default: Option<Vec<RetryCondition>> = d::RETRY_ON
        .iter()
        .map(|c| parse::retry_condition(c).ok())
        .collect();
    let differs = written
        .zip(default)
        .is_some_and(|(w, d)| normal(&w) != normal(&d));
    if attempts == Some(1) && differs {
        diags.push(
            Diagnostic::new(
                codes::RETRY_ON_WITHOUT_RETRIES,
                F,
                format!("`retry.on` of model `{model}` has no effect"),
            )
            .at_key(ptr(&["models", model, "retry", "on"]))
            .label("`retry.attempts: 1` makes one try only")
            .help("raise `retry.attempts` to 2 or more to retry these, or remove `on`"),
        );
    }
}

/// A comparable form of a condition list: (connect error, timeout, sorted statuses).
fn normal(conditions: &[RetryCondition]) -> (bool, bool, Vec<u16>) {
    let mut statuses: Vec<u16> = conditions.iter().flat_map(|c| c.statuses()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    let has = |x: RetryCondition| conditions.contains(&x);
    (
        has(RetryCondition::ConnectError),
        has(RetryCondition::Timeout),
        statuses,
    )
}

/// The diagnostic (still to be located) for a `retry.on` item that may not be retried.
fn bad_condition(
    model: &str,
    raw: &str,
    value: Result<&RetryCondition, &RetryConditionError>,
) -> Option<Diagnostic> {
    let client = |what: String| {
        Diagnostic::new(
            codes::RETRY_CLIENT_ERROR,
            F,
            format!("`retry.on` of model `{model}` retries {what}"),
        )
        .label("never retry client errors: the same request fails the same way again")
        .help(format!(
            "remove `{raw}`; retry 408, 429 or server errors (`5xx`)"
        ))
    };
    let bad = |label: &str, help: String| {
        Diagnostic::new(
            codes::BAD_RETRY_CONDITION,
            F,
            format!("`{raw}` in `retry.on` of model `{model}` is not a retry condition"),
        )
        .label(label.to_owned())
        .help(help)
    };
    let words = suggest::list(parse::RETRY_WORDS.iter().copied());
    Some(match value {
        Ok(RetryCondition::Status(s)) if *s == 408 || *s == 429 || *s >= 500 => return None,
        Ok(RetryCondition::Status(s)) if *s >= 400 => client(format!("the client error {s}")),
        Ok(RetryCondition::Status(s)) => bad(
            &format!("{s} is not an error status"),
            "remove it; retry 408, 429 or server errors (`5xx`)".to_owned(),
        ),
        Ok(_) => return None,
        Err(RetryConditionError::ClientErrors) => client("every client error".to_owned()),
        Err(RetryConditionError::OutOfRange) => bad(
            "not an HTTP status (100..=599)",
            "write 408, 429, a status in 500..=599, or `5xx` for all of them".to_owned(),
        ),
        Err(RetryConditionError::Unknown) => bad(
            "not a retry condition",
            format!(
                "{}use {words} or a status such as `429`",
                suggest::did_you_mean(raw, parse::RETRY_WORDS.iter().copied())
            ),
        ),
    })
}

/// The explicit `deadline`, parsed and non-zero.
fn check_deadline_value(model: &str, m: &ModelSpec, diags: &mut Diagnostics) -> Option<u64> {
    let value = m.deadline.as_ref()?;
    let at = ptr(&["models", model, "deadline"]);
    let ms = match value.value() {
        Ok(&ms) => ms,
        Err(err) => {
            let raw = value.raw();
            diags.push(values::malformed(F, at, &parse::DURATION, raw, err, None));
            return None;
        }
    };
    if ms == 0 {
        diags.push(
            Diagnostic::new(codes::BAD_TIMEOUT, F, format!("`deadline` of model `{model}` is zero"))
                .at(at)
                .label("no request could ever finish")
                .help("use a positive duration such as `120s`, or remove `deadline` for the derived default"),
        );
        return None;
    }
    Some(ms)
}

/// With retries, `deadline` fits every try; without, warn where it cuts one.
fn check_deadline(
    file: &UpstreamsFile,
    model: &str,
    m: &ModelSpec,
    attempts: u64,
    deadline: u64,
    diags: &mut Diagnostics,
) {
    let written = m.written();
    let totals: Vec<(u64, &str)> = written
        .iter()
        .filter_map(|w| Some((upstream_total(file, w.upstream)?, w.upstream)))
        .collect();
    if let Err((total, upstream)) = deadline_fits(attempts, deadline, &totals) {
        diags.push(too_short(model, attempts, deadline, total, upstream));
        return;
    }
    let mut warned: Vec<&str> = Vec::new();
    for w in &written {
        let Some(total) = upstream_total(file, w.upstream).filter(|t| *t > deadline) else {
            continue;
        };
        if warned.contains(&w.upstream) {
            continue;
        }
        warned.push(w.upstream);
        diags.push(
            Diagnostic::new(
                codes::DEADLINE_CUTS_TIMEOUT,
                F,
                format!("`deadline` of model `{model}` ends a try before upstream `{}`'s `timeout.total`", w.upstream),
            )
            .at(deployment_ptr(model, w, Some("upstream")))
            .label(format!("`timeout.total` {} > `deadline` {}", show_ms(total), show_ms(deadline)))
            .help(format!("lower `timeout.total` of upstream `{}` to at most {}, or raise the model's `deadline`", w.upstream, show_ms(deadline))),
        );
    }
}

/// The error for retries that cannot fit the deadline.
fn too_short(model: &str, attempts: u64, deadline: u64, total: u64, upstream: &str) -> Diagnostic {
    let product = attempts.saturating_mul(total);
    let fit = (deadline / total).max(1);
    Diagnostic::new(
        codes::DEADLINE_TOO_SHORT,
        F,
        format!(
            "retries of model `{model}` cannot fit its deadline: {attempts} tries x total {} = {} > deadline {}",
            show_ms(total),
            show_ms(product),
            show_ms(deadline)
        ),
    )
    .at(ptr(&["models", model, "deadline"]))
    .label(format!("upstream `{upstream}` allows each try `timeout.total: {}`", show_ms(total)))
    .help(format!(
        "lower `timeout.total` of upstream `{upstream}` to at most {}, lower `retry.attempts` to {fit}, or raise `deadline` to at least {}",
        show_ms(deadline / attempts),
        show_ms(product)
    ))
}

/// An upstream's `timeout.total` in ms (its default when absent); `None`
/// when the upstream is unknown or the value malformed (reported elsewhere).
fn upstream_total(file: &UpstreamsFile, upstream: &str) -> Option<u64> {
    let u = file.upstreams.get(upstream)?;
    match &u.timeout.total {
        Some(total) => total.value().ok().copied(),
        None => parse::duration_ms(TOTAL).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::deadline_fits;

    #[test]
    fn the_deadline_rule() {
        let one = [(300_000, "east")];
        let two = [(3_000, "a"), (300_000, "b"), (300_000, "c")];
        for (attempts, deadline, totals, expect) in [
            (2, 120_000, &one[..], Err((300_000, "east"))),
            (2, 600_000, &one[..], Ok(())),
            (2, 599_999, &one[..], Err((300_000, "east"))),
            (1, 120_000, &one[..], Ok(())),
            (3, 9_000, &[(3_000, "flaky-a")][..], Ok(())),
            (3, 8_999, &[(3_000, "flaky-a")][..], Err((3_000, "flaky-a"))),
            (2, 10_000, &two[..], Err((300_000, "b"))),
            (
                10,
                u64::MAX - 1,
                &[(u64::MAX, "huge")][..],
                Err((u64::MAX, "huge")),
            ),
            (2, 1, &[][..], Ok(())),
        ] {
            assert_eq!(
                deadline_fits(attempts, deadline, totals),
                expect,
                "{attempts} {deadline}"
            );
        }
    }
}
