//! Lowering `server`: defaults applied, durations in milliseconds, sizes in bytes.

use crate::diag::FileKind::Security as F;
use crate::ir::Server;
use crate::lower::Cx;
use crate::spec::ServerSpec;
use crate::spec::server::defaults as d;

/// The listener and its limits.
pub(crate) fn lower(s: &ServerSpec, cx: &mut Cx<'_>) -> Option<Server> {
    let mut ms = |key: &str, v, default| cx.value_or(F, &format!("/server/{key}"), v, default);
    let header_read_timeout_ms = ms(
        "header_read_timeout",
        s.header_read_timeout.as_ref(),
        d::HEADER_READ_TIMEOUT,
    );
    let body_read_timeout_ms = ms(
        "body_read_timeout",
        s.body_read_timeout.as_ref(),
        d::BODY_READ_TIMEOUT,
    );
    let shutdown_delay_ms = ms(
        "shutdown_delay",
        s.shutdown_delay.as_ref(),
        d::SHUTDOWN_DELAY,
    );
    let drain_timeout_ms = ms("drain_timeout", s.drain_timeout.as_ref(), d::DRAIN_TIMEOUT);
    let first_byte_timeout_ms = ms(
        "first_byte_timeout",
        s.first_byte_timeout.as_ref(),
        d::FIRST_BYTE_TIMEOUT,
    );
    let idle_timeout_ms = ms("idle_timeout", s.idle_timeout.as_ref(), d::IDLE_TIMEOUT);
    let h2_keepalive_interval_ms = ms(
        "h2_keepalive_interval",
        s.h2_keepalive_interval.as_ref(),
        d::H2_KEEPALIVE_INTERVAL,
    );
    let h2_keepalive_timeout_ms = ms(
        "h2_keepalive_timeout",
        s.h2_keepalive_timeout.as_ref(),
        d::H2_KEEPALIVE_TIMEOUT,
    );
    Some(Server {
        listen: s.listen.clone().unwrap_or_else(|| d::LISTEN.to_owned()),
        max_request_body: cx.value_or(
            F,
            "/server/max_request_body",
            s.max_request_body.as_ref(),
            d::MAX_REQUEST_BODY,
        )?,
        header_read_timeout_ms: header_read_timeout_ms?,
        body_read_timeout_ms: body_read_timeout_ms?,
        shutdown_delay_ms: shutdown_delay_ms?,
        drain_timeout_ms: drain_timeout_ms?,
        max_connections: s.max_connections.unwrap_or(d::MAX_CONNECTIONS),
        first_byte_timeout_ms: first_byte_timeout_ms?,
        idle_timeout_ms: idle_timeout_ms?,
        h2_keepalive_interval_ms: h2_keepalive_interval_ms?,
        h2_keepalive_timeout_ms: h2_keepalive_timeout_ms?,
        max_header_bytes: cx.value_or(
            F,
            "/server/max_header_bytes",
            s.max_header_bytes.as_ref(),
            d::MAX_HEADER_BYTES,
        )?,
    })
}
