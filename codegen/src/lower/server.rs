//! Lowering `server`: defaults applied, durations in milliseconds, sizes in
//! bytes, the maintenance file as written (checked absolute).

use crate::diag::FileKind::Security as F;
use crate::ir::Server;
use crate::lower::Cx;
use crate::spec::ServerSpec;
use crate::spec::server::defaults as d;

/// The listener and its limits.
pub(crate) fn lower(s: &ServerSpec, cx: &mut Cx<'_>) -> Option<Server> {
    let mut ms = [0u64; 8];
    for (slot, (key, value, default)) in ms.iter_mut().zip(s.durations()) {
        *slot = cx.value_or(F, &format!("/server/{key}"), value, default)?;
    }
    let [
        header,
        body,
        shutdown,
        drain,
        first_byte,
        idle,
        ka_interval,
        ka_timeout,
    ] = ms;
    let size = |key: &str, value, default, cx: &mut Cx<'_>| {
        cx.value_or(F, &format!("/server/{key}"), value, default)
    };
    Some(Server {
        listen: s.listen.clone().unwrap_or_else(|| d::LISTEN.to_owned()),
        max_request_body: size(
            "max_request_body",
            s.max_request_body.as_ref(),
            d::MAX_REQUEST_BODY,
            cx,
        )?,
        header_read_timeout_ms: header,
        body_read_timeout_ms: body,
        shutdown_delay_ms: shutdown,
        drain_timeout_ms: drain,
        max_connections: s.max_connections.unwrap_or(d::MAX_CONNECTIONS),
        first_byte_timeout_ms: first_byte,
        idle_timeout_ms: idle,
        h2_keepalive_interval_ms: ka_interval,
        h2_keepalive_timeout_ms: ka_timeout,
        max_header_bytes: size(
            "max_header_bytes",
            s.max_header_bytes.as_ref(),
            d::MAX_HEADER_BYTES,
            cx,
        )?,
        maintenance_file: s.maintenance_file.clone(),
    })
}
