//! Emitting the `server` field of `CONFIG`: listener, connection and request
//! limits, client timeouts, drain timings and the maintenance file.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::emit::{ms, opt_str};
use crate::ir::Ir;

/// `::gateway_runtime::table::Server { .. }`.
pub fn server(ir: &Ir) -> TokenStream {
    let s = &ir.server;
    let listen = &s.listen;
    let body = Literal::u64_unsuffixed(s.max_request_body);
    let (header, read, delay, drain) = (
        ms(s.header_read_timeout_ms),
        ms(s.body_read_timeout_ms),
        ms(s.shutdown_delay_ms),
        ms(s.drain_timeout_ms),
    );
    let max_connections = Literal::u32_unsuffixed(s.max_connections);
    let (first_byte, idle, ka_interval, ka_timeout) = (
        ms(s.first_byte_timeout_ms),
        ms(s.idle_timeout_ms),
        ms(s.h2_keepalive_interval_ms),
        ms(s.h2_keepalive_timeout_ms),
    );
    let max_header_bytes = Literal::u64_unsuffixed(s.max_header_bytes);
    let maintenance_file = opt_str(s.maintenance_file.as_deref());
    quote! {
        ::gateway_runtime::table::Server {
            listen: #listen,
            max_request_body: #body,
            header_read_timeout: #header,
            body_read_timeout: #read,
            shutdown_delay: #delay,
            drain_timeout: #drain,
            max_connections: #max_connections,
            first_byte_timeout: #first_byte,
            idle_timeout: #idle,
            h2_keepalive_interval: #ka_interval,
            h2_keepalive_timeout: #ka_timeout,
            max_header_bytes: #max_header_bytes,
            maintenance_file: #maintenance_file,
        }
    }
}
