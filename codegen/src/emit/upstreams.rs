//! Emitting `UPSTREAMS`: one `::gateway_runtime::table::Upstream` per upstream, in id order.
//!
//! The one kind the runtime's table cannot hold yet, `anthropic`, is refused
//! here (GW0017) in a single marked place until `table::UpstreamKind` has
//! its variant.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::diag::codes;
use crate::diag::{Diagnostic, FileKind, ptr};
use crate::emit::{len, ms, opt_str};
use crate::ir::{Ir, SecretRef, Upstream, UpstreamKind};

/// `pub static UPSTREAMS: [Upstream; N]`, or why the linked runtime cannot hold them.
pub fn upstreams(ir: &Ir) -> Result<TokenStream, Vec<Diagnostic>> {
    let n = len(ir.upstreams.len());
    let (items, refused): (Vec<_>, Vec<_>) =
        ir.upstreams.iter().map(upstream).partition(Result::is_ok);
    if !refused.is_empty() {
        return Err(refused
            .into_iter()
            .filter_map(Result::err)
            .map(|d| *d)
            .collect());
    }
    let items = items.into_iter().filter_map(Result::ok);
    Ok(quote! {
        /// Upstreams sorted by name; `UpstreamId(i)` is `UPSTREAMS[i]`.
        pub static UPSTREAMS: [::gateway_runtime::table::Upstream; #n] = [#(#items),*];
    })
}

fn upstream(u: &Upstream) -> Result<TokenStream, Box<Diagnostic>> {
    let id = Literal::u16_unsuffixed(u.id.0);
    let name = &u.name;
    let kind = match &u.kind {
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
        // NOT SERVED YET: `table::UpstreamKind` has no `Anthropic` variant.
        // /tmp/anthropic-emit.patch replaces this arm with the emission.
        UpstreamKind::Anthropic { .. } => return Err(Box::new(not_served(name))),
    };
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
    let stream_idle = ms(u.stream_idle_ms);
    Ok(quote! {
        ::gateway_runtime::table::Upstream {
            id: ::gateway_runtime::table::UpstreamId(#id),
            name: #name,
            kind: #kind,
            api_key: #api_key,
            optional: #optional,
            timeouts: ::gateway_runtime::table::Timeouts {
                connect: #connect,
                total: #total,
                stream_idle: #stream_idle,
            },
        }
    })
}

/// `kind: anthropic` is checked and lowered, but this runtime cannot serve it.
fn not_served(name: &str) -> Diagnostic {
    Diagnostic::new(
        codes::NOT_SERVED,
        FileKind::Upstreams,
        format!("upstream `{name}`: `kind: anthropic` is not served by this runtime yet"),
    )
    .at(ptr(&["upstreams", name, "kind"]))
    .label("the runtime's table has no Anthropic upstream yet")
    .help("use `kind: openai` with an OpenAI-compatible endpoint for now, or build with a runtime that serves `anthropic`")
}
