//! Value parsers shared by every phase: durations and sizes (one
//! number-plus-unit parser over two unit tables), base URLs, names,
//! environment variable names, digests and API versions; `routing.rs`:
//! retry conditions and breaker ratios; `glob.rs`: the model and tool
//! patterns of access lists; `tool_schema.rs`: a tool's argument schema (the
//! supported JSON Schema subset) as a typed tree.
//!
//! Pure functions returning our own error values. They do not know where a
//! value came from, how to report it (`diag/values.rs`, `check/`) or what its
//! default is (`spec/`), and they never fall back to anything.

pub mod glob;
pub mod mcp;
pub mod routing;
pub mod tool_schema;
pub mod url_template;

use std::fmt;

pub use routing::{
    RETRY_WORDS, RatioError, RetryCondition, RetryConditionError, permille, retry_condition,
};

/// Largest accepted `max_request_body`: 1 GiB.
pub const MAX_BODY: u64 = 1 << 30;

/// Largest accepted `max_header_bytes`: 1 MiB.
pub const MAX_HEAD: u64 = 1 << 20;

/// Which quantity a [`Units`] table measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// Milliseconds.
    Duration,
    /// Bytes.
    Size,
}

/// The units one quantity may be written in: suffix -> factor to the base unit.
#[derive(Debug)]
pub struct Units {
    /// What the table measures.
    pub quantity: Quantity,
    /// Accepted suffixes, largest factor first within each family.
    pub units: &'static [(&'static str, u64)],
    /// Spelled-out words operators write, and the suffix they mean.
    pub words: &'static [(&'static str, &'static str)],
}

/// `500ms`, `2s`, `1m`, `1h` (base unit: milliseconds).
pub const DURATION: Units = Units {
    quantity: Quantity::Duration,
    units: &[("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)],
    words: &[
        ("hours", "h"),
        ("hour", "h"),
        ("hr", "h"),
        ("minutes", "m"),
        ("minute", "m"),
        ("min", "m"),
        ("mins", "m"),
        ("seconds", "s"),
        ("second", "s"),
        ("sec", "s"),
        ("secs", "s"),
        ("milliseconds", "ms"),
        ("millisecond", "ms"),
        ("millis", "ms"),
    ],
};

/// `4MiB`, `64KiB`, `512B`, `10MB` (base unit: bytes; KiB/MiB/GiB 1024-based, KB/MB/GB 1000-based).
pub const SIZE: Units = Units {
    quantity: Quantity::Size,
    units: &[
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("GB", 1_000_000_000),
        ("MB", 1_000_000),
        ("KB", 1_000),
        ("B", 1),
    ],
    words: &[
        ("bytes", "B"),
        ("byte", "B"),
        ("kilobytes", "KB"),
        ("megabytes", "MB"),
        ("gigabytes", "GB"),
        ("kibibytes", "KiB"),
        ("mebibytes", "MiB"),
        ("gibibytes", "GiB"),
    ],
};

/// Why a duration or size did not parse; [`QuantityError::fix`] guesses the intended value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuantityError {
    /// No leading digits (`forever`, `s`, empty).
    NoNumber,
    /// Digits and nothing else (`5`).
    MissingUnit,
    /// A suffix not in the table (`3x`, ` seconds`, `mb`); `fix` when the intent is clear.
    UnknownUnit {
        /// The suffix as written.
        unit: String,
        /// The value rewritten with the intended unit, if one is clear.
        fix: Option<String>,
    },
    /// A decimal number (`1.5s`); `fix` is the same amount in a smaller unit, if whole.
    Fraction {
        /// The same amount as a whole number of a smaller unit.
        fix: Option<String>,
    },
    /// The amount does not fit in 64 bits of the base unit.
    TooLarge,
}

impl QuantityError {
    /// The value the operator most likely meant, when it can be told.
    pub fn fix(&self) -> Option<&str> {
        match self {
            Self::UnknownUnit { fix, .. } | Self::Fraction { fix } => fix.as_deref(),
            Self::NoNumber | Self::MissingUnit | Self::TooLarge => None,
        }
    }
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoNumber => f.write_str("expected an integer followed by a unit"),
            Self::MissingUnit => f.write_str("missing unit"),
            Self::UnknownUnit { unit, .. } => write!(f, "unknown unit `{unit}`"),
            Self::Fraction { .. } => f.write_str("not a whole number"),
            Self::TooLarge => f.write_str("number too large"),
        }
    }
}

/// Parse `<digits><unit>` against `table` into the base unit.
pub fn quantity(table: &Units, s: &str) -> Result<u64, QuantityError> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = s.split_at(digits);
    if num.is_empty() {
        return Err(QuantityError::NoNumber);
    }
    if let Some(rest) = unit.strip_prefix('.') {
        return Err(QuantityError::Fraction {
            fix: fraction_fix(table, num, rest),
        });
    }
    if unit.is_empty() {
        return Err(QuantityError::MissingUnit);
    }
    let Some(factor) = factor(table, unit) else {
        return Err(QuantityError::UnknownUnit {
            unit: unit.to_owned(),
            fix: intended_unit(table, unit).map(|u| format!("{num}{u}")),
        });
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or(QuantityError::TooLarge)
}

/// A duration in milliseconds.
pub fn duration_ms(s: &str) -> Result<u64, QuantityError> {
    quantity(&DURATION, s)
}

/// A size in bytes.
pub fn size_bytes(s: &str) -> Result<u64, QuantityError> {
    quantity(&SIZE, s)
}

/// The suffix of a valid value such as a default (`5s` -> `s`).
pub fn unit_of(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_ascii_digit())
}

/// `amount` of the base unit written in the largest unit of the table that
/// divides it (for sizes: within the family of `family_of`, `KiB` or `KB`;
/// binary first when `family_of` is plain bytes).
pub fn render(table: &Units, amount: u64, family_of: &str) -> String {
    let binary = family_of.contains('i');
    let any = table.quantity == Quantity::Duration || family_of == "B";
    table
        .units
        .iter()
        .filter(|(u, _)| any || *u == "B" || u.contains('i') == binary)
        .find(|(_, f)| amount >= *f && amount.is_multiple_of(*f))
        .map_or_else(
            || format!("{amount}{}", table.units.last().map_or("", |u| u.0)),
            |(u, f)| format!("{}{u}", amount / f),
        )
}

fn factor(table: &Units, unit: &str) -> Option<u64> {
    table
        .units
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, f)| *f)
}

/// The unit meant by a misspelt suffix: spacing, case, or a spelled-out word.
fn intended_unit(table: &Units, unit: &str) -> Option<&'static str> {
    let trimmed = unit.trim();
    let exact = table.units.iter().map(|(u, _)| *u).find(|u| *u == trimmed);
    let word = table
        .words
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(trimmed))
        .map(|(_, u)| *u);
    let mut folded = table
        .units
        .iter()
        .map(|(u, _)| *u)
        .filter(|u| u.eq_ignore_ascii_case(trimmed));
    let caseless = match (folded.next(), folded.next()) {
        (Some(u), None) => Some(u),
        _ => None,
    };
    exact.or(word).or(caseless)
}

/// `1.5s` -> `1500ms`: the amount in the largest unit that keeps it whole.
fn fraction_fix(table: &Units, whole: &str, rest: &str) -> Option<String> {
    let frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (frac, unit) = rest.split_at(frac_len);
    let unit = intended_unit(table, unit)?;
    let scale = 10u64.checked_pow(u32::try_from(frac_len).ok()?)?;
    let numer = format!("{whole}{frac}").parse::<u64>().ok()?;
    let base = numer.checked_mul(factor(table, unit)?)?;
    base.is_multiple_of(scale)
        .then(|| render(table, base / scale, unit))
}

/// Validate an http(s) base URL; returns it without trailing slashes.
pub fn base_url(s: &str) -> Result<String, String> {
    let (scheme, rest) = s
        .split_once("://")
        .ok_or("missing `http://` or `https://` scheme")?;
    if scheme != "http" && scheme != "https" {
        return Err(format!("scheme `{scheme}` is not `http` or `https`"));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace".to_owned());
    }
    if s.contains('?') {
        return Err("has a query string".to_owned());
    }
    if s.contains('#') {
        return Err("has a fragment".to_owned());
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err("has userinfo (`user@`)".to_owned());
    }
    host_port(authority)?;
    Ok(s.trim_end_matches('/').to_owned())
}

/// The host of a URL accepted by [`base_url`] (`[::1]` keeps its brackets).
pub fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or(authority, |(ip, _)| ip),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    }
}

/// The non-empty path segments of a URL accepted by [`base_url`].
pub fn url_segments(url: &str) -> Vec<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').skip(1).filter(|s| !s.is_empty()).collect()
}

fn host_port(authority: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or("unterminated `[` in host")?;
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{ip}` is not an IPv6 address"));
        }
        (ip, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".to_owned());
    }
    let host_ok = authority.starts_with('[')
        || host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !host_ok {
        return Err(format!("host `{host}` has invalid characters"));
    }
    match port {
        Some(p) if p.parse::<u16>().is_err() => {
            Err(format!("port `{p}` is not a number in 0..=65535"))
        }
        _ => Ok(()),
    }
}

/// A dated API version such as `2023-06-01` (`YYYY-MM-DD`, month 01-12, day 01-31).
pub fn api_version(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.split('-').collect();
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    let [year, month, day] = parts.as_slice() else {
        return Err("expected a date `YYYY-MM-DD`".to_owned());
    };
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return Err("expected a date `YYYY-MM-DD`".to_owned());
    }
    let in_range = |p: &str, max: u8| p.parse::<u8>().is_ok_and(|n| (1..=max).contains(&n));
    if !in_range(month, 12) || !in_range(day, 31) {
        return Err("month or day out of range".to_owned());
    }
    Ok(s.to_owned())
}

/// `[A-Z_][A-Z0-9_]*`
pub fn is_env_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_uppercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Non-empty, at most 256 bytes, no whitespace or control characters.
pub fn name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".to_owned());
    }
    if s.len() > 256 {
        return Err(format!("is {} bytes long (at most 256)", s.len()));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace or control characters".to_owned());
    }
    Ok(())
}

/// 64 hex characters (either case) -> bytes.
pub fn digest(s: &str) -> Result<[u8; 32], String> {
    if s.len() != 64 {
        return Err(format!("has {} characters, expected 64", s.chars().count()));
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.as_bytes().chunks(2).enumerate() {
        let hex = std::str::from_utf8(pair)
            .ok()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (hex, out.get_mut(i)) {
            (Some(b), Some(slot)) if pair.iter().all(u8::is_ascii_hexdigit) => *slot = b,
            _ => return Err("contains a non-hexadecimal character".to_owned()),
        }
    }
    Ok(out)
}
