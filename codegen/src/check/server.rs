//! Checks for the `server` section of security.yaml: the listen address, the
//! body size limit and the server durations parse and are in range.
//!
//! Reports only; conversion happens in `lower/`.

use crate::diag::codes;
use crate::diag::ptr;
use crate::diag::values;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Security as F};
use crate::parse;
use crate::spec::{DurationSpec, ServerSpec};

const LISTEN_HELP: &str = "write an IP and port, e.g. `127.0.0.1:8080`, `0.0.0.0:8080` or `[::1]:8080` (port 0 picks a free port)";

/// Every `server` check.
pub fn check(server: &ServerSpec, diags: &mut Diagnostics) {
    check_listen(server, diags);
    check_body_size(server, diags);
    check_durations(server, diags);
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

/// `max_request_body` is a size in 1B..=1GiB.
fn check_body_size(s: &ServerSpec, diags: &mut Diagnostics) {
    let Some(size) = &s.max_request_body else {
        return;
    };
    let at = "/server/max_request_body";
    match size.value() {
        Err(err) => diags.push(values::malformed(
            F,
            at.to_owned(),
            &parse::SIZE,
            size.raw(),
            err,
        )),
        Ok(&n) if n == 0 || n > parse::MAX_BODY => diags.push(
            Diagnostic::new(
                codes::SIZE_RANGE,
                F,
                format!("`max_request_body` of {n} bytes is out of range"),
            )
            .at(at)
            .label("must be more than 0 and at most 1GiB")
            .help("use a size between `1B` and `1GiB`, e.g. `4MiB`"),
        ),
        Ok(_) => {}
    }
}

/// The server durations parse.
fn check_durations(s: &ServerSpec, diags: &mut Diagnostics) {
    let durations: [(&str, &Option<DurationSpec>); 4] = [
        ("header_read_timeout", &s.header_read_timeout),
        ("body_read_timeout", &s.body_read_timeout),
        ("shutdown_delay", &s.shutdown_delay),
        ("drain_timeout", &s.drain_timeout),
    ];
    for (key, value) in durations {
        let Some((value, err)) = value.as_ref().and_then(|v| Some((v, v.error()?))) else {
            continue;
        };
        diags.push(values::malformed(
            F,
            ptr(&["server", key]),
            &parse::DURATION,
            value.raw(),
            err,
        ));
    }
}
