//! The value parsers of `parse.rs`, case by case: what parses, what does
//! not, and the fix a failed duration or size suggests.

use gateway_codegen::parse::*;

fn check<T: std::fmt::Debug + PartialEq, E>(
    f: fn(&str) -> Result<T, E>,
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
fn quantity_errors_name_the_intended_value() {
    for (input, fix) in [
        ("2 seconds", Some("2s")),
        ("2 s", Some("2s")),
        ("100MS", Some("100ms")),
        ("5 min", Some("5m")),
        ("1.5s", Some("1500ms")),
        ("0.5m", Some("30s")),
        ("1.0001ms", None),
        ("3x", None),
        ("5", None),
    ] {
        let err = duration_ms(input).expect_err(input);
        assert_eq!(err.fix(), fix, "{input}");
    }
    for (input, fix) in [
        ("4 megabytes", Some("4MB")),
        ("4mib", Some("4MiB")),
        ("1.5MiB", Some("1536KiB")),
        ("0.5GB", Some("500MB")),
    ] {
        let err = size_bytes(input).expect_err(input);
        assert_eq!(err.fix(), fix, "{input}");
    }
    assert_eq!(duration_ms("5"), Err(QuantityError::MissingUnit));
    assert_eq!(duration_ms("x"), Err(QuantityError::NoNumber));
}

#[test]
fn rendering_picks_the_largest_whole_unit() {
    assert_eq!(render(&DURATION, 90_000, "s"), "90s");
    assert_eq!(render(&DURATION, 7_200_000, "s"), "2h");
    assert_eq!(render(&DURATION, 0, "s"), "0ms");
    assert_eq!(render(&SIZE, 1 << 20, "B"), "1MiB");
    assert_eq!(render(&SIZE, 2_000_000, "MB"), "2MB");
    assert_eq!(render(&SIZE, 1000, "KiB"), "1000B");
    assert_eq!(unit_of("300s"), "s");
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
    assert_eq!(url_host("http://[::1]:8080/v1"), "::1");
    assert_eq!(url_host("https://api.openai.com:443/v1"), "api.openai.com");
    assert_eq!(url_segments("https://h/v1//chat/"), ["v1", "chat"]);
    assert!(url_segments("https://h").is_empty());
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
