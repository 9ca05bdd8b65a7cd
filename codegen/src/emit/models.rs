//! Emitting `MODELS` (each model with its deployments, endpoints, balance,
//! retry, fallbacks and deadline through `routing.rs`, and its output-limit
//! default, all decided in `lower/`) and `resolve_model`: a `match` for
//! small tables, a binary search over the sorted `MODELS` for large ones.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::emit::{len, ms, quotas, routing};
use crate::ir::{Ir, Model};

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
    let id = Literal::u16_unsuffixed(m.id.0);
    let name = &m.name;
    let deployments = routing::deployments(&m.deployments);
    let max_tokens = Literal::u32_unsuffixed(m.default_max_tokens);
    let (endpoints, balance) = (routing::endpoints(m.endpoints), routing::balance(m.balance));
    let retry = routing::retry(&m.retry);
    let fallbacks = routing::model_ids(&m.fallbacks);
    let window = routing::model_ids(&m.context_window_fallbacks);
    let deadline = ms(m.deadline_ms);
    let quotas = quotas::model_fields(m);
    quote! {
        ::gateway_runtime::table::Model {
            id: ::gateway_runtime::table::ModelId(#id),
            name: #name,
            deployments: #deployments,
            default_max_tokens: #max_tokens,
            endpoints: #endpoints,
            balance: #balance,
            retry: #retry,
            fallbacks: #fallbacks,
            context_window_fallbacks: #window,
            deadline: #deadline,
            #quotas
        }
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
