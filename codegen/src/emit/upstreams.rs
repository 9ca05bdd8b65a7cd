//! Emitting `UPSTREAMS`: one `::gateway_runtime::table::Upstream` per
//! upstream, in id order, with its timeouts; breaker and health check are
//! `resilience.rs`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::emit::{len, ms, opt_str, resilience};
use crate::ir::{Ir, SecretRef, Upstream, UpstreamKind};

/// `pub static UPSTREAMS: [Upstream; N]`.
pub fn upstreams(ir: &Ir) -> TokenStream {
    let n = len(ir.upstreams.len());
    let items = ir.upstreams.iter().map(upstream);
    quote! {
        /// Upstreams sorted by name; `UpstreamId(i)` is `UPSTREAMS[i]`.
        pub static UPSTREAMS: [::gateway_runtime::table::Upstream; #n] = [#(#items),*];
    }
}

fn upstream(u: &Upstream) -> TokenStream {
    let id = Literal::u16_unsuffixed(u.id.0);
    let name = &u.name;
    let kind = kind(&u.kind);
    let api_key = match &u.api_key {
        Some(SecretRef::Env(v)) => {
            quote!(::core::option::Option::Some(::gateway_runtime::table::SecretRef::Env(#v)))
        }
        Some(SecretRef::File(f)) => {
            quote!(::core::option::Option::Some(::gateway_runtime::table::SecretRef::File(#f)))
        }
        None => quote!(::core::option::Option::None),
    };
    let (optional, connect, total) = (u.optional, ms(u.connect_ms), ms(u.total_ms));
    let (first_byte, stream_idle) = (ms(u.first_byte_ms), ms(u.stream_idle_ms));
    let breaker = resilience::breaker(&u.breaker);
    let health_check = resilience::health_check(u.health_check.as_ref());
    quote! {
        ::gateway_runtime::table::Upstream {
            id: ::gateway_runtime::table::UpstreamId(#id),
            name: #name,
            kind: #kind,
            api_key: #api_key,
            optional: #optional,
            timeouts: ::gateway_runtime::table::Timeouts {
                connect: #connect,
                first_byte: #first_byte,
                total: #total,
                stream_idle: #stream_idle,
            },
            breaker: #breaker,
            health_check: #health_check,
        }
    }
}

/// The runtime's `table::UpstreamKind` with its settings.
fn kind(kind: &UpstreamKind) -> TokenStream {
    match kind {
        UpstreamKind::OpenAi {
            base_url,
            base_url_env,
        } => {
            let env = opt_str(base_url_env.as_deref());
            quote!(::gateway_runtime::table::UpstreamKind::OpenAi { base_url: #base_url, base_url_env: #env })
        }
        UpstreamKind::Mock(m) => {
            let (latency, gap) = (ms(m.latency_ms), ms(m.chunk_gap_ms));
            let (chunks, usage, reply) = (Literal::u32_unsuffixed(m.chunks), m.usage, &m.reply);
            quote!(::gateway_runtime::table::UpstreamKind::Mock(::gateway_runtime::table::MockBehavior {
                latency: #latency, chunks: #chunks, chunk_gap: #gap, usage: #usage, reply: #reply,
            }))
        }
        UpstreamKind::Anthropic {
            base_url,
            base_url_env,
            version,
        } => {
            let env = opt_str(base_url_env.as_deref());
            quote!(::gateway_runtime::table::UpstreamKind::Anthropic {
                base_url: #base_url, base_url_env: #env, version: #version,
            })
        }
    }
}
