//! Parsers for the string-typed values of the spec: durations, sizes, URLs,
//! names and digests. Pure functions returning our own error text.
//!
//! Used by `check/` (to report) and `lower.rs` (to convert); they do not know
//! where a value came from.

/// Largest accepted `max_request_body`: 1 GiB.
pub const MAX_BODY: u64 = 1 << 30;

/// `500ms`, `2s`, `1m`, `1h` -> milliseconds.
pub fn duration_ms(s: &str) -> Result<u64, String> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = s.split_at(digits);
    let factor: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "" if !num.is_empty() => return Err("missing unit".to_owned()),
        _ if num.is_empty() => return Err("expected an integer followed by a unit".to_owned()),
        other => return Err(format!("unknown unit `{other}`")),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| "number too large".to_owned())
}

/// `4MiB`, `64KiB`, `512B`, `10MB` -> bytes (KiB/MiB/GiB 1024-based, KB/MB/GB 1000-based).
pub fn size_bytes(s: &str) -> Result<u64, String> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = s.split_at(digits);
    let factor: u64 = match unit {
        "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "" if !num.is_empty() => return Err("missing unit".to_owned()),
        _ if num.is_empty() => return Err("expected an integer followed by a unit".to_owned()),
        other => return Err(format!("unknown unit `{other}`")),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| "number too large".to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: std::fmt::Debug + PartialEq>(
        f: fn(&str) -> Result<T, String>,
        cases: &[(&str, Option<T>)],
    ) {
        for (input, expect) in cases {
            assert_eq!(f(input).ok().as_ref(), expect.as_ref(), "input {input:?}");
        }
    }

    #[test]
    fn durations() {
        check(
            duration_ms,
            &[
                ("500ms", Some(500)),
                ("2s", Some(2000)),
                ("1m", Some(60_000)),
                ("1h", Some(3_600_000)),
                ("0s", Some(0)),
                ("2", None),
                ("s", None),
                ("1.5s", None),
                ("2 s", None),
                ("-1s", None),
                ("1d", None),
                ("99999999999999999999s", None),
                ("", None),
            ],
        );
    }

    #[test]
    fn sizes() {
        check(
            size_bytes,
            &[
                ("4MiB", Some(4 << 20)),
                ("64KiB", Some(65536)),
                ("512B", Some(512)),
                ("10MB", Some(10_000_000)),
                ("1GiB", Some(1 << 30)),
                ("1GB", Some(1_000_000_000)),
                ("4mb", None),
                ("4", None),
                ("MiB", None),
            ],
        );
    }

    #[test]
    fn urls() {
        let ok = |s: &str| Some(s.to_owned());
        check(
            base_url,
            &[
                ("https://api.openai.com/v1", ok("https://api.openai.com/v1")),
                (
                    "http://127.0.0.1:11434/v1/",
                    ok("http://127.0.0.1:11434/v1"),
                ),
                ("http://[::1]:8080/", ok("http://[::1]:8080")),
                ("https://host", ok("https://host")),
                ("ftp://host", None),
                ("host/v1", None),
                ("https://", None),
                ("https://u@h/", None),
                ("https://h/?q=1", None),
                ("https://h/#f", None),
                ("https://h:99999/", None),
                ("https://h o/", None),
            ],
        );
    }

    #[test]
    fn names_and_digests() {
        for (s, ok) in [
            ("OPENAI_API_KEY", true),
            ("_X1", true),
            ("1X", false),
            ("openai", false),
            ("", false),
        ] {
            assert_eq!(is_env_name(s), ok, "{s}");
        }
        assert!(name("gpt-4o").is_ok() && name("a b").is_err() && name("").is_err());
        assert!(name(&"x".repeat(257)).is_err());
        let d = "81BE374E38D1F04FD2A7F3E337AF1F42916964D3843F191A26A99D4BCF1BA5E4";
        assert_eq!(digest(d).ok().map(|b| b[0]), Some(0x81));
        assert!(digest(&d[1..]).is_err() && digest(&format!("{}g", &d[1..])).is_err());
        assert!(digest(&"é".repeat(32)).is_err());
    }
}
