//! Emitting what a `Model` carries about how it is served: its
//! `Deployment`s (inline, as a promoted `&[..]`), `Endpoints`, `Balance`,
//! `Retry` and fallback id lists. Data only, decided in `lower/`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::emit::ms;
use crate::ir::{Balance, Deployment, Endpoints, ModelId, Retry, Serving};

/// `&[::gateway_runtime::table::Deployment { .. }, ..]`.
pub fn deployments(list: &[Deployment]) -> TokenStream {
    let items = list.iter().map(|d| {
        let (id, up) = (
            Literal::u16_unsuffixed(d.id.0),
            Literal::u16_unsuffixed(d.upstream.0),
        );
        let upstream_model = &d.upstream_model;
        let weight = Literal::u32_unsuffixed(d.weight);
        let priority = Literal::u8_unsuffixed(d.priority);
        let (chat, messages) = (serving(d.chat), serving(d.messages));
        quote! {
            ::gateway_runtime::table::Deployment {
                id: ::gateway_runtime::table::DeploymentId(#id),
                upstream: ::gateway_runtime::table::UpstreamId(#up),
                upstream_model: #upstream_model,
                weight: #weight,
                priority: #priority,
                chat: #chat,
                messages: #messages,
            }
        }
    });
    quote!(&[#(#items),*])
}

/// The runtime's `table::Serving` variant for `s`.
fn serving(s: Serving) -> TokenStream {
    match s {
        Serving::Passthrough => quote!(::gateway_runtime::table::Serving::Passthrough),
        Serving::Translated => quote!(::gateway_runtime::table::Serving::Translated),
    }
}

/// `::gateway_runtime::table::Endpoints { .. }`.
pub fn endpoints(e: Endpoints) -> TokenStream {
    let (chat, messages) = (e.chat, e.messages);
    quote!(::gateway_runtime::table::Endpoints { chat: #chat, messages: #messages })
}

/// The runtime's `table::Balance` variant for `b`.
pub fn balance(b: Balance) -> TokenStream {
    match b {
        Balance::Weighted => quote!(::gateway_runtime::table::Balance::Weighted),
        Balance::P2c => quote!(::gateway_runtime::table::Balance::P2c),
        Balance::P2cEwma => quote!(::gateway_runtime::table::Balance::P2cEwma),
    }
}

/// `::gateway_runtime::table::Retry { .. }`.
pub fn retry(r: &Retry) -> TokenStream {
    let attempts = Literal::u8_unsuffixed(r.attempts);
    let (connect, timeout) = (r.on_connect_error, r.on_timeout);
    let statuses = r.statuses.iter().map(|s| Literal::u16_unsuffixed(*s));
    let (base, max, after) = (
        ms(r.backoff_base_ms),
        ms(r.backoff_max_ms),
        ms(r.retry_after_max_ms),
    );
    quote! {
        ::gateway_runtime::table::Retry {
            attempts: #attempts,
            on_connect_error: #connect,
            on_timeout: #timeout,
            statuses: &[#(#statuses),*],
            backoff_base: #base,
            backoff_max: #max,
            retry_after_max: #after,
        }
    }
}

/// `&[::gateway_runtime::table::ModelId(..), ..]`.
pub fn model_ids(ids: &[ModelId]) -> TokenStream {
    let items = ids.iter().map(|id| {
        let id = Literal::u16_unsuffixed(id.0);
        quote!(::gateway_runtime::table::ModelId(#id))
    });
    quote!(&[#(#items),*])
}
