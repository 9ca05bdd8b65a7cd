//! Emitting the `server` field of `CONFIG`: listener, limits and drain timings.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::emit::ms;
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
    quote! {
        ::gateway_runtime::table::Server {
            listen: #listen,
            max_request_body: #body,
            header_read_timeout: #header,
            body_read_timeout: #read,
            shutdown_delay: #delay,
            drain_timeout: #drain,
        }
    }
}
