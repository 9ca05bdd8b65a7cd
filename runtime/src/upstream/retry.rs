//! The retry planner, pure functions over a model's [`Retry`] table: which
//! faults are retried, which ones count against the breaker, how long to
//! wait before the next try (full-jitter backoff, or the upstream's
//! `Retry-After`), and when to move on at once instead.
//!
//! Not here: the failover loop that calls these, tries at other
//! deployments and the fallbacks, or the model's deadline (the caller caps
//! every wait by what is left of it).

use core::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderMap;

use super::rng::Rng;
use crate::table::Retry;

/// Why a try at one deployment failed, as far as retrying cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The upstream could not be reached (connect error, reset before an answer).
    Connect,
    /// The try timed out before its first byte.
    Timeout,
    /// The upstream answered with this status.
    Status(u16),
    /// A streamed answer died before its first event reached the client.
    StreamCut,
}

/// What to do before the next try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delay {
    /// Sleep this long, then try again.
    Wait(Duration),
    /// The upstream asked for a longer pause than `retry_after_max`: move to
    /// another deployment or the fallbacks now rather than wait.
    SwitchNow,
}

/// Whether `retry` allows another try after `fault`. A stream cut before
/// its first event follows `on_connect_error`: the client has received
/// nothing, so like a connection reset before an answer it is safe to
/// replay and says the upstream dropped us.
pub fn retryable(retry: &Retry, fault: Fault) -> bool {
    match fault {
        Fault::Connect | Fault::StreamCut => retry.on_connect_error,
        Fault::Timeout => retry.on_timeout,
        Fault::Status(status) => retry.statuses.binary_search(&status).is_ok(),
    }
}

/// Whether `fault` says something about the upstream's health and so feeds
/// its breaker: unreachable, slow, cut, rate limited (429) or broken (5xx).
/// Other 4xx are the client's doing and never count.
pub fn counts_against_breaker(fault: Fault) -> bool {
    matches!(
        fault,
        Fault::Connect | Fault::Timeout | Fault::StreamCut | Fault::Status(429 | 500..=599)
    )
}

/// The wait before retry `retry_number` (1-based; 0 is read as 1): uniform
/// in `[0, min(backoff_max, backoff_base x 2^(retry_number - 1))]` ("full
/// jitter", so that clients failed together do not retry together).
/// Saturating: no retry number overflows.
pub fn backoff(retry: &Retry, retry_number: u32, rng: &mut Rng) -> Duration {
    let doublings = retry_number.saturating_sub(1);
    let bound = 1u32
        .checked_shl(doublings)
        .and_then(|factor| retry.backoff_base.checked_mul(factor))
        .map_or(retry.backoff_max, |grown| grown.min(retry.backoff_max));
    let bound_nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.below(bound_nanos.saturating_add(1)))
}

/// The wait before retry `retry_number`. An upstream `Retry-After` within
/// `retry_after_max` is honoured: the wait is the larger of it and the
/// jittered backoff, so never shorter than asked and still spread out when
/// the upstream said 0. A longer one is [`Delay::SwitchNow`].
pub fn delay(
    retry: &Retry,
    retry_number: u32,
    retry_after: Option<Duration>,
    rng: &mut Rng,
) -> Delay {
    match retry_after {
        Some(asked) if asked > retry.retry_after_max => Delay::SwitchNow,
        Some(asked) => Delay::Wait(asked.max(backoff(retry, retry_number, rng))),
        None => Delay::Wait(backoff(retry, retry_number, rng)),
    }
}

/// The pause an upstream asked for: `retry-after-ms` (milliseconds,
/// fractions allowed; OpenAI sends it) when it parses, else `retry-after`
/// as delta-seconds or an IMF-fixdate (RFC 9110 §5.6.7, e.g. `Sun, 06 Nov
/// 1994 08:49:37 GMT`; a date in the past is zero). Anything else, the
/// obsolete RFC 850 and asctime date forms included, is `None`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
    text("retry-after-ms").and_then(milliseconds).or_else(|| {
        let value = text("retry-after")?;
        seconds(value).or_else(|| until(imf_fixdate(value)?, now))
    })
}

/// `1500` or `250.5` (digits and at most one dot, at least one digit).
fn milliseconds(text: &str) -> Option<Duration> {
    let well_formed = text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().filter(|&b| b == b'.').count() <= 1
        && text.bytes().any(|b| b.is_ascii_digit());
    let millis: f64 = text.parse().ok().filter(|_| well_formed)?;
    Duration::try_from_secs_f64(millis / 1000.0).ok()
}

/// Delta-seconds: digits only; a number too large for a u64 saturates
/// (it is far beyond any `retry_after_max` either way).
fn seconds(text: &str) -> Option<Duration> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits_only.then(|| Duration::from_secs(text.parse().unwrap_or(u64::MAX)))
}

/// From `now` until `unix_seconds`; zero when that is past.
fn until(unix_seconds: i64, now: SystemTime) -> Option<Duration> {
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let then = Duration::from_secs(u64::try_from(unix_seconds).unwrap_or(0));
    Some(then.saturating_sub(now))
}

const DAY_NAMES: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
const MONTH_NAMES: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Unix seconds of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`),
/// fields range-checked; the day name is checked to be one, not to match
/// the date.
fn imf_fixdate(text: &str) -> Option<i64> {
    let b: &[u8; 29] = text.as_bytes().try_into().ok()?;
    let layout_ok = b[3..5] == *b", "
        && b[7] == b' '
        && b[11] == b' '
        && b[16] == b' '
        && b[19] == b':'
        && b[22] == b':'
        && b[25..] == *b" GMT";
    if !layout_ok || !DAY_NAMES.iter().any(|name| b[0..3] == **name) {
        return None;
    }
    let month = MONTH_NAMES.iter().position(|name| b[8..11] == **name)? + 1;
    let (day, year) = (number(&b[5..7])?, number(&b[12..16])?);
    let (hour, minute, second) = (
        number(&b[17..19])?,
        number(&b[20..22])?,
        number(&b[23..25])?,
    );
    // Second 60 is a leap second (RFC 5322 allows it).
    let time_ok = hour < 24 && minute < 60 && second <= 60;
    let month = i64::try_from(month).ok()?;
    if !time_ok || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// ASCII digits as a number.
fn number(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0i64, |value, &b| {
        b.is_ascii_digit().then(|| value * 10 + i64::from(b - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn table() -> Retry {
        Retry {
            attempts: 3,
            on_connect_error: true,
            on_timeout: true,
            statuses: &[408, 429, 500, 502, 503, 504],
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            retry_after_max: Duration::from_secs(10),
        }
    }

    #[test]
    fn classification() {
        let quiet = Retry {
            on_connect_error: false,
            on_timeout: false,
            ..table()
        };
        // (fault, retryable with `table()`, retryable with `quiet`, counts against the breaker)
        let cases = [
            (Fault::Connect, true, false, true),
            (Fault::StreamCut, true, false, true),
            (Fault::Timeout, true, false, true),
            (Fault::Status(400), false, false, false),
            (Fault::Status(401), false, false, false),
            (Fault::Status(403), false, false, false),
            (Fault::Status(404), false, false, false),
            (Fault::Status(408), true, true, false),
            (Fault::Status(422), false, false, false),
            (Fault::Status(429), true, true, true),
            (Fault::Status(500), true, true, true),
            (Fault::Status(501), false, false, true),
            (Fault::Status(502), true, true, true),
            (Fault::Status(503), true, true, true),
            (Fault::Status(504), true, true, true),
            (Fault::Status(200), false, false, false),
        ];
        for (fault, loud, silent, breaker) in cases {
            assert_eq!(retryable(&table(), fault), loud, "{fault:?}");
            assert_eq!(retryable(&quiet, fault), silent, "{fault:?} (quiet)");
            assert_eq!(
                counts_against_breaker(fault),
                breaker,
                "{fault:?} (breaker)"
            );
        }
    }

    #[test]
    fn backoff_is_full_jitter_under_the_doubling_cap() {
        let retry = table();
        let mut rng = Rng::seeded(11);
        for retry_number in 1..=12u32 {
            let bound = (retry.backoff_base * 2u32.pow(retry_number - 1)).min(retry.backoff_max);
            let draws = 20_000;
            let mut sum = Duration::ZERO;
            for _ in 0..draws {
                let wait = backoff(&retry, retry_number, &mut rng);
                assert!(wait <= bound, "retry {retry_number}: {wait:?} > {bound:?}");
                sum += wait;
            }
            let mean_share = (sum / draws).as_secs_f64() / bound.as_secs_f64();
            assert!(
                (0.48..=0.52).contains(&mean_share),
                "retry {retry_number}: mean {mean_share:.3} of the bound"
            );
        }
    }

    #[test]
    fn backoff_saturates_and_handles_edges() {
        let mut rng = Rng::seeded(3);
        for retry_number in [0, 1, 33, 64, u32::MAX] {
            let wait = backoff(&table(), retry_number, &mut rng);
            let cap = if retry_number <= 1 {
                table().backoff_base
            } else {
                table().backoff_max
            };
            assert!(wait <= cap, "retry {retry_number}: {wait:?}");
        }
        let never = Retry {
            backoff_base: Duration::ZERO,
            ..table()
        };
        assert_eq!(backoff(&never, 5, &mut rng), Duration::ZERO);
        let huge = Retry {
            backoff_base: Duration::MAX,
            backoff_max: Duration::MAX,
            ..table()
        };
        let _ = backoff(&huge, u32::MAX, &mut rng);
    }

    /// 1994-11-06 08:49:37 UTC.
    const RFC_EXAMPLE: u64 = 784_111_777;

    fn check_retry_after(headers: &[(&str, &str)], expect: Option<Duration>) {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let now = UNIX_EPOCH + Duration::from_secs(RFC_EXAMPLE - 30);
        assert_eq!(retry_after(&map, now), expect, "{headers:?}");
    }

    #[test]
    fn retry_after_forms() {
        let ms = Duration::from_millis;
        check_retry_after(&[], None);
        check_retry_after(&[("retry-after", "2")], Some(2 * SECOND));
        check_retry_after(&[("retry-after", " 0 ")], Some(Duration::ZERO));
        check_retry_after(&[("retry-after-ms", "1500")], Some(ms(1500)));
        check_retry_after(
            &[("retry-after-ms", "250.5")],
            Some(Duration::from_micros(250_500)),
        );
        check_retry_after(
            &[("retry-after-ms", "20"), ("retry-after", "9")],
            Some(ms(20)),
        );
        check_retry_after(
            &[("retry-after-ms", "soon"), ("retry-after", "9")],
            Some(9 * SECOND),
        );
        check_retry_after(
            &[("retry-after", "99999999999999999999999")],
            Some(Duration::from_secs(u64::MAX)),
        );
        check_retry_after(
            &[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")],
            Some(30 * SECOND),
        );
        check_retry_after(
            &[("retry-after", "Sun, 06 Nov 1994 08:50:07 GMT")],
            Some(60 * SECOND),
        );
        check_retry_after(
            &[("retry-after", "Sun, 06 Nov 1994 08:48:37 GMT")],
            Some(Duration::ZERO),
        );
        check_retry_after(
            &[("retry-after", "Thu, 01 Jan 1970 00:00:00 GMT")],
            Some(Duration::ZERO),
        );
        for garbage in [
            "soon",
            "-5",
            "1.5",
            "+5",
            "",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nox 1994 08:49:37 GMT",
            "Sun, 06 Nov 19a4 08:49:37 GMT",
        ] {
            check_retry_after(&[("retry-after", garbage)], None);
        }
        for garbage in ["", ".", "1.2.3", "-1", "inf", "NaN", "1e3"] {
            check_retry_after(&[("retry-after-ms", garbage)], None);
        }
    }

    #[test]
    fn calendar_arithmetic() {
        let date = |text: &str| imf_fixdate(text);
        assert_eq!(date("Tue, 29 Feb 2000 00:00:00 GMT"), Some(951_782_400));
        assert_eq!(date("Mon, 01 Mar 2100 23:59:59 GMT"), Some(4_107_628_799));
        assert_eq!(date("Wed, 31 Dec 1969 23:59:59 GMT"), Some(-1));
        assert_eq!(date("Mon, 29 Feb 2100 00:00:00 GMT"), None);
    }

    #[test]
    fn delay_honours_retry_after_up_to_its_cap() {
        let retry = table();
        let mut rng = Rng::seeded(5);
        for _ in 0..1_000 {
            let Delay::Wait(wait) = delay(&retry, 1, None, &mut rng) else {
                panic!("no Retry-After waits")
            };
            assert!(wait <= retry.backoff_base);
            let Delay::Wait(wait) = delay(&retry, 1, Some(2 * SECOND), &mut rng) else {
                panic!("2s is under the cap")
            };
            assert_eq!(wait, 2 * SECOND, "the backoff (<= 100ms) is shorter");
            let Delay::Wait(wait) = delay(&retry, 12, Some(Duration::ZERO), &mut rng) else {
                panic!("0 is under the cap")
            };
            assert!(
                wait <= retry.backoff_max,
                "a zero Retry-After still gets the jitter"
            );
        }
        assert_eq!(
            delay(&retry, 1, Some(10 * SECOND), &mut rng),
            Delay::Wait(10 * SECOND)
        );
        assert_eq!(
            delay(&retry, 1, Some(11 * SECOND), &mut rng),
            Delay::SwitchNow
        );
    }
}
