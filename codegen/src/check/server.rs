//! Checks for the `server` section of security.yaml: the listen address
//! parses, sizes and durations parse and are in range, timeouts that guard a
//! connection are not zero, the connection cap is positive, and the
//! maintenance file is an absolute path.
//!
//! Reports only; conversion happens in `lower/`.

use crate::diag::codes;
use crate::diag::values;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Security as F, ptr};
use crate::parse;
use crate::spec::server::defaults as d;
use crate::spec::{ServerSpec, SizeSpec};

const LISTEN_HELP: &str = "write an IP and port, e.g. `127.0.0.1:8080`, `0.0.0.0:8080` or `[::1]:8080` (port 0 picks a free port)";

/// Every `server` check.
pub fn check(server: &ServerSpec, diags: &mut Diagnostics) {
    check_listen(server, diags);
    check_sizes(server, diags);
    check_durations(server, diags);
    check_max_connections(server, diags);
    check_maintenance_file(server, diags);
}

/// `maintenance_file` is an absolute path.
fn check_maintenance_file(s: &ServerSpec, diags: &mut Diagnostics) {
    let Some(path) = s.maintenance_file.as_ref().filter(|p| !p.starts_with('/')) else {
        return;
    };
    diags.push(
        Diagnostic::new(
            codes::RELATIVE_MAINTENANCE_FILE,
            F,
            format!("maintenance file path `{path}` is not absolute"),
        )
        .at("/server/maintenance_file")
        .label("relative path")
        .help("use an absolute path such as `/var/lib/gateway/maintenance` (the working directory is not fixed at run time)"),
    );
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
            d::MAX_REQUEST_BODY,
        ),
        (
            "max_header_bytes",
            &s.max_header_bytes,
            parse::MAX_HEAD,
            "1MiB",
            d::MAX_HEADER_BYTES,
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

/// Durations that bound a live connection: zero would close every one at once.
const POSITIVE: &[&str] = &[
    "first_byte_timeout",
    "idle_timeout",
    "h2_keepalive_interval",
    "h2_keepalive_timeout",
];

/// The server durations parse; those that bound a live connection are not zero.
fn check_durations(s: &ServerSpec, diags: &mut Diagnostics) {
    for (key, value, default) in s.durations() {
        let Some(value) = value else { continue };
        let at = ptr(&["server", key]);
        let d = match value.value() {
            Err(err) => values::malformed(F, at, &parse::DURATION, value.raw(), err, Some(default)),
            Ok(0) if POSITIVE.contains(&key) => {
                Diagnostic::new(codes::BAD_TIMEOUT, F, format!("`{key}` is zero"))
                    .at(at)
                    .label("must be greater than zero")
                    .help(
                        "use a positive duration such as `10s` (or remove the key for the default)",
                    )
            }
            Ok(_) => continue,
        };
        diags.push(d);
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
