//! Checks for the `server` section of security.yaml: the listen address
//! parses, sizes and durations parse and are in range, timeouts that guard a
//! connection are not zero, and the connection cap is positive.
//!
//! Reports only; conversion happens in `lower/`.

use crate::diag::codes;
use crate::diag::values;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Security as F, ptr};
use crate::parse;
use crate::spec::server::defaults as d;
use crate::spec::{DurationSpec, ServerSpec, SizeSpec};

const LISTEN_HELP: &str = "write an IP and port, e.g. `127.0.0.1:8080`, `0.0.0.0:8080` or `[::1]:8080` (port 0 picks a free port)";

/// Every `server` check.
pub fn check(server: &ServerSpec, diags: &mut Diagnostics) {
    check_listen(server, diags);
    check_sizes(server, diags);
    check_durations(server, diags);
    check_max_connections(server, diags);
}

/// `listen` is an `ip:port` socket address.
fn check_listen(s: &ServerSpec, diags: &mut Diagnostics) {
    if let Some(listen) = s
        .listen
        .as_ref()
        .filter(|l| l.parse::<std::net::SocketAddr>().is_err())
    {
        diags.push(
            Diagnostic::new(
                codes::BAD_LISTEN,
                F,
                format!("invalid listen address `{listen}`"),
            )
            .at("/server/listen")
            .label("not an `ip:port` socket address")
            .help(LISTEN_HELP),
        );
    }
}

/// `max_request_body` is a size in 1B..=1GiB, `max_header_bytes` in 1B..=1MiB.
fn check_sizes(s: &ServerSpec, diags: &mut Diagnostics) {
    let sizes: [(&str, &Option<SizeSpec>, u64, &str, &str); 2] = [
        (
            "max_request_body",
            &s.max_request_body,
            parse::MAX_BODY,
            "1GiB",
            "4MiB",
        ),
        (
            "max_header_bytes",
            &s.max_header_bytes,
            parse::MAX_HEAD,
            "1MiB",
            "64KiB",
        ),
    ];
    for (key, size, max, max_text, example) in sizes {
        let Some(size) = size else { continue };
        let at = ptr(&["server", key]);
        match size.value() {
            Err(err) => diags.push(values::malformed(
                F,
                at,
                &parse::SIZE,
                size.raw(),
                err,
                Some(example),
            )),
            Ok(&n) if n == 0 || n > max => diags.push(
                Diagnostic::new(
                    codes::SIZE_RANGE,
                    F,
                    format!("`{key}` of {n} bytes is out of range"),
                )
                .at(at)
                .label(format!("must be more than 0 and at most {max_text}"))
                .help(format!(
                    "use a size between `1B` and `{max_text}`, e.g. `{example}`"
                )),
            ),
            Ok(_) => {}
        }
    }
}

/// The server durations parse; those that bound a live connection are not zero.
fn check_durations(s: &ServerSpec, diags: &mut Diagnostics) {
    let durations: [(&str, &Option<DurationSpec>, &str, bool); 8] = [
        (
            "header_read_timeout",
            &s.header_read_timeout,
            d::HEADER_READ_TIMEOUT,
            false,
        ),
        (
            "body_read_timeout",
            &s.body_read_timeout,
            d::BODY_READ_TIMEOUT,
            false,
        ),
        (
            "shutdown_delay",
            &s.shutdown_delay,
            d::SHUTDOWN_DELAY,
            false,
        ),
        ("drain_timeout", &s.drain_timeout, d::DRAIN_TIMEOUT, false),
        (
            "first_byte_timeout",
            &s.first_byte_timeout,
            d::FIRST_BYTE_TIMEOUT,
            true,
        ),
        ("idle_timeout", &s.idle_timeout, d::IDLE_TIMEOUT, true),
        (
            "h2_keepalive_interval",
            &s.h2_keepalive_interval,
            d::H2_KEEPALIVE_INTERVAL,
            true,
        ),
        (
            "h2_keepalive_timeout",
            &s.h2_keepalive_timeout,
            d::H2_KEEPALIVE_TIMEOUT,
            true,
        ),
    ];
    for (key, value, default, positive) in durations {
        let Some(value) = value else { continue };
        let at = ptr(&["server", key]);
        match value.value() {
            Err(err) => diags.push(values::malformed(
                F,
                at,
                &parse::DURATION,
                value.raw(),
                err,
                Some(default),
            )),
            Ok(0) if positive => diags.push(
                Diagnostic::new(codes::BAD_TIMEOUT, F, format!("`{key}` is zero"))
                    .at(at)
                    .label("must be greater than zero")
                    .help(
                        "use a positive duration such as `10s` (or remove the key for the default)",
                    ),
            ),
            Ok(_) => {}
        }
    }
}

/// `max_connections` is positive.
fn check_max_connections(s: &ServerSpec, diags: &mut Diagnostics) {
    if s.max_connections == Some(0) {
        diags.push(
            Diagnostic::new(codes::COUNT_RANGE, F, "`max_connections` is zero")
                .at("/server/max_connections")
                .label("no connection could ever be accepted")
                .help("use a positive number such as `10000` (the default), or remove the key"),
        );
    }
}
