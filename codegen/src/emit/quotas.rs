//! Emitting quotas: `LIMITS` and `BUDGETS` (sorted by name) with the
//! `quotas` field of `CONFIG`, and each model's price and per-request
//! limits. Filters are bit sets of `u64` words in hex, like model access.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::emit::{auth::access, len, ms};
use crate::ir::{Applies, Budget, Ir, Limit, Model, Per, Period, Price, Rate, Store};

/// `pub static LIMITS: [Limit; L]` and `pub static BUDGETS: [Budget; B]`.
pub fn tables(ir: &Ir) -> TokenStream {
    let q = &ir.quotas;
    let (l, b) = (len(q.limits.len()), len(q.budgets.len()));
    let limits = q.limits.iter().map(limit);
    let budgets = q.budgets.iter().map(budget);
    quote! {
        /// Rate limits, sorted by name.
        pub static LIMITS: [::gateway_runtime::table::Limit; #l] = [#(#limits),*];
        /// Budgets, sorted by name.
        pub static BUDGETS: [::gateway_runtime::table::Budget; #b] = [#(#budgets),*];
    }
}

/// The `quotas` field of `CONFIG`.
pub fn quotas(ir: &Ir) -> TokenStream {
    let q = &ir.quotas;
    let replicas = Literal::u16_unsuffixed(q.replicas);
    let redis = match &q.redis {
        Some(r) => {
            let (env, timeout) = (&r.url_env, ms(r.timeout_ms));
            quote!(::core::option::Option::Some(::gateway_runtime::table::RedisStore {
                url_env: #env, timeout: #timeout
            }))
        }
        None => quote!(::core::option::Option::None),
    };
    quote!(::gateway_runtime::table::Quotas {
        replicas: #replicas, redis: #redis, limits: &LIMITS, budgets: &BUDGETS
    })
}

/// A model's `price`, `max_messages` and `max_tokens` fields.
pub fn model_fields(m: &Model) -> TokenStream {
    let price = match m.price {
        Some(Price {
            input_nanos,
            cached_input_nanos,
            output_nanos,
        }) => {
            let (i, c, o) = (u64(input_nanos), u64(cached_input_nanos), u64(output_nanos));
            quote!(::core::option::Option::Some(::gateway_runtime::table::Price {
                input_nanos: #i, cached_input_nanos: #c, output_nanos: #o
            }))
        }
        None => quote!(::core::option::Option::None),
    };
    let (messages, tokens) = (opt_u32(m.max_messages), opt_u32(m.max_tokens));
    quote!(price: #price, max_messages: #messages, max_tokens: #tokens,)
}

fn limit(l: &Limit) -> TokenStream {
    let (name, per, applies) = (&l.name, per(l.per), applies(&l.applies));
    let (requests, tokens, store) = (rate(l.requests), rate(l.tokens), store(l.store));
    let success_headers = l.success_headers;
    quote!(::gateway_runtime::table::Limit {
        name: #name, per: #per, applies: #applies,
        requests: #requests, tokens: #tokens, store: #store,
        success_headers: #success_headers
    })
}

fn budget(b: &Budget) -> TokenStream {
    let (name, per, applies) = (&b.name, per(b.per), applies(&b.applies));
    let (limit, store) = (u64(b.limit_micros), store(b.store));
    let period = match b.period {
        Period::Day => quote!(::gateway_runtime::table::Period::Day),
        Period::Month => quote!(::gateway_runtime::table::Period::Month),
    };
    quote!(::gateway_runtime::table::Budget {
        name: #name, per: #per, applies: #applies,
        limit_micros: #limit, period: #period, store: #store
    })
}

fn per(p: Per) -> TokenStream {
    match p {
        Per::Key => quote!(::gateway_runtime::table::Per::Key),
        Per::Team => quote!(::gateway_runtime::table::Per::Team),
        Per::Model => quote!(::gateway_runtime::table::Per::Model),
        Per::Global => quote!(::gateway_runtime::table::Per::Global),
    }
}

fn store(s: Store) -> TokenStream {
    match s {
        Store::Local => quote!(::gateway_runtime::table::Store::Local),
        Store::Redis { fail_open } => {
            quote!(::gateway_runtime::table::Store::Redis { fail_open: #fail_open })
        }
    }
}

fn rate(r: Option<Rate>) -> TokenStream {
    match r {
        Some(Rate {
            capacity,
            emission_ns,
        }) => {
            let (c, e) = (u64(capacity), u64(emission_ns));
            quote!(::core::option::Option::Some(::gateway_runtime::table::Rate {
                capacity: #c, emission_ns: #e
            }))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn applies(a: &Applies) -> TokenStream {
    let models = access(&a.models);
    let (teams, keys) = (words(a.teams.as_deref()), words(a.keys.as_deref()));
    quote!(::gateway_runtime::table::Applies { models: #models, teams: #teams, keys: #keys })
}

fn words(set: Option<&[u64]>) -> TokenStream {
    match set {
        Some(words) => {
            let words = words.iter().map(|w| hex(*w));
            quote!(::core::option::Option::Some(&[#(#words),*]))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// A `u64` word in hex.
pub(crate) fn hex(w: u64) -> Literal {
    format!("0x{w:x}")
        .parse::<Literal>()
        .unwrap_or_else(|_| Literal::u64_unsuffixed(w))
}

fn u64(n: u64) -> Literal {
    Literal::u64_unsuffixed(n)
}

fn opt_u32(n: Option<u32>) -> TokenStream {
    match n {
        Some(n) => {
            let n = Literal::u32_unsuffixed(n);
            quote!(::core::option::Option::Some(#n))
        }
        None => quote!(::core::option::Option::None),
    }
}
