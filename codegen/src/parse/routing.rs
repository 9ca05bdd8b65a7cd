//! Value parsers for routing and resilience: a `retry.on` condition (a word
//! or an HTTP status) and a breaker's `error_ratio` as per mille.
//!
//! Pure functions like the rest of `parse`: which conditions may be retried
//! (never client errors) is `check/`'s call, defaults live in `spec/`.

use std::fmt;

/// The words `retry.on` accepts besides a status, in the order help lines list them.
pub const RETRY_WORDS: &[&str] = &["connect_error", "timeout", "5xx"];

/// One `retry.on` item, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryCondition {
    /// `connect_error`: the upstream could not be reached.
    ConnectError,
    /// `timeout`: a try timed out before its first byte.
    Timeout,
    /// `5xx`: every status in 500..=599.
    ServerErrors,
    /// One status in 100..=599 (whether it may be retried is checked elsewhere).
    Status(u16),
}

impl RetryCondition {
    /// The statuses this condition retries (none for the two words).
    pub fn statuses(self) -> Vec<u16> {
        match self {
            Self::ServerErrors => (500..=599).collect(),
            Self::Status(s) => vec![s],
            Self::ConnectError | Self::Timeout => Vec::new(),
        }
    }
}

/// Why a `retry.on` item is not a condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryConditionError {
    /// Neither a known word nor a number.
    Unknown,
    /// `4xx`: every client error.
    ClientErrors,
    /// A number outside 100..=599.
    OutOfRange,
}

impl fmt::Display for RetryConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unknown => "not a retry condition",
            Self::ClientErrors => "every client error",
            Self::OutOfRange => "not an HTTP status (100..=599)",
        })
    }
}

/// `connect_error`, `timeout`, `5xx` or a status such as `429` (as written,
/// so a quoted `"429"` is a status too).
pub fn retry_condition(s: &str) -> Result<RetryCondition, RetryConditionError> {
    match s {
        "connect_error" => return Ok(RetryCondition::ConnectError),
        "timeout" => return Ok(RetryCondition::Timeout),
        "5xx" => return Ok(RetryCondition::ServerErrors),
        _ if s.eq_ignore_ascii_case("4xx") => return Err(RetryConditionError::ClientErrors),
        _ => {}
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RetryConditionError::Unknown);
    }
    s.parse::<u16>()
        .ok()
        .filter(|n| (100..=599).contains(n))
        .map(RetryCondition::Status)
        .ok_or(RetryConditionError::OutOfRange)
}

/// Why an `error_ratio` is not a ratio the breaker can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatioError {
    /// Below 0 (or not a finite number).
    Negative,
    /// Above 1: no window can reach it.
    AboveOne,
    /// Above 0 but below half a per mille: it would round to 0, which turns the trigger off.
    TooFine,
}

/// A ratio in 0..=1 as per mille, rounded to the nearest.
pub fn permille(ratio: f64) -> Result<u16, RatioError> {
    if !ratio.is_finite() || ratio < 0.0 {
        return Err(RatioError::Negative);
    }
    if ratio > 1.0 {
        return Err(RatioError::AboveOne);
    }
    // In 0.0..=1000.0 and whole, so the cast is exact.
    let n = (ratio * 1000.0).round() as u16;
    if n == 0 && ratio > 0.0 {
        return Err(RatioError::TooFine);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::retry_condition;
    use super::{RatioError, RetryCondition as C, RetryConditionError as E, permille};

    #[test]
    fn retry_conditions() {
        for (input, expect) in [
            ("connect_error", Ok(C::ConnectError)),
            ("timeout", Ok(C::Timeout)),
            ("5xx", Ok(C::ServerErrors)),
            ("429", Ok(C::Status(429))),
            ("100", Ok(C::Status(100))),
            ("599", Ok(C::Status(599))),
            ("600", Err(E::OutOfRange)),
            ("99", Err(E::OutOfRange)),
            ("-1", Err(E::OutOfRange)),
            ("99999999", Err(E::OutOfRange)),
            ("4xx", Err(E::ClientErrors)),
            ("4XX", Err(E::ClientErrors)),
            ("5XX", Err(E::Unknown)),
            ("timeouts", Err(E::Unknown)),
            ("", Err(E::Unknown)),
            ("-", Err(E::Unknown)),
        ] {
            assert_eq!(retry_condition(input), expect, "{input:?}");
        }
        assert_eq!(C::ServerErrors.statuses().len(), 100);
        assert!(C::Timeout.statuses().is_empty());
    }

    #[test]
    fn ratios() {
        for (input, expect) in [
            (0.0, Ok(0)),
            (0.5, Ok(500)),
            (1.0, Ok(1000)),
            (0.001, Ok(1)),
            (0.0334, Ok(33)),
            (0.0004, Err(RatioError::TooFine)),
            (1.01, Err(RatioError::AboveOne)),
            (-0.1, Err(RatioError::Negative)),
            (f64::NAN, Err(RatioError::Negative)),
        ] {
            assert_eq!(permille(input), expect, "{input}");
        }
    }
}
