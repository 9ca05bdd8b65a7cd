//! Emitting `MODELS` (with each model's output-limit default and how chat
//! completions and Anthropic Messages reach it, decided in `lower/`) and
//! `resolve_model`: a `match` for small tables, a binary search over the
//! sorted `MODELS` for large ones.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::emit::len;
use crate::ir::{Ir, Model, Serving};

/// Above this many models, `resolve_model` binary-searches `MODELS` instead of matching.
pub const MATCH_LIMIT: usize = 64;

/// `pub static MODELS: [Model; M]`.
pub fn models(ir: &Ir) -> TokenStream {
    let n = len(ir.models.len());
    let items = ir.models.iter().map(model);
    quote! {
        /// Public models sorted by name; `ModelId(i)` is `MODELS[i]`.
        pub static MODELS: [::gateway_runtime::table::Model; #n] = [#(#items),*];
    }
}

fn model(m: &Model) -> TokenStream {
    let (id, up) = (
        Literal::u16_unsuffixed(m.id.0),
        Literal::u16_unsuffixed(m.upstream.0),
    );
    let (name, upstream_model) = (&m.name, &m.upstream_model);
    let max_tokens = Literal::u32_unsuffixed(m.default_max_tokens);
    let (chat, messages) = (serving(m.chat), serving(m.messages));
    quote! {
        ::gateway_runtime::table::Model {
            id: ::gateway_runtime::table::ModelId(#id),
            name: #name,
            upstream: ::gateway_runtime::table::UpstreamId(#up),
            upstream_model: #upstream_model,
            default_max_tokens: #max_tokens,
            chat: #chat,
            messages: #messages,
        }
    }
}

/// The runtime's `table::Serving` variant for `s`.
fn serving(s: Serving) -> TokenStream {
    match s {
        Serving::Passthrough => quote!(::gateway_runtime::table::Serving::Passthrough),
        Serving::Translated => quote!(::gateway_runtime::table::Serving::Translated),
    }
}

/// `pub fn resolve_model`: a `match` for small tables, binary search for large ones.
pub fn resolve_model(ir: &Ir) -> TokenStream {
    let body = if ir.models.len() <= MATCH_LIMIT {
        let arms = ir.models.iter().map(|m| {
            let (name, id) = (&m.name, Literal::u16_unsuffixed(m.id.0));
            quote!(#name => ::core::option::Option::Some(::gateway_runtime::table::ModelId(#id)),)
        });
        quote!(match name { #(#arms)* _ => ::core::option::Option::None })
    } else {
        quote!(::gateway_runtime::table::find_model_sorted(&MODELS, name))
    };
    quote! {
        /// Public model name -> model id.
        pub fn resolve_model(name: &str) -> ::core::option::Option<::gateway_runtime::table::ModelId> {
            #body
        }
    }
}
