//! Emitting `API_KEYS` (sorted by digest) and the admin digest of `CONFIG.auth`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit::{bytes, len};
use crate::ir::{ApiKey, Ir};

/// `pub static API_KEYS: [ApiKey; K]`, sorted by digest.
pub fn api_keys(ir: &Ir) -> TokenStream {
    let n = len(ir.auth.api_keys.len());
    let items = ir.auth.api_keys.iter().map(|k: &ApiKey| {
        let (name, digest) = (&k.name, bytes(&k.sha256));
        quote!(::gateway_runtime::table::ApiKey { name: #name, sha256: #digest })
    });
    quote! {
        /// Inbound API keys as SHA-256 digests, sorted by digest.
        pub static API_KEYS: [::gateway_runtime::table::ApiKey; #n] = [#(#items),*];
    }
}

/// The `auth` field of `CONFIG`.
pub fn auth(ir: &Ir) -> TokenStream {
    let admin = match &ir.auth.admin_key_sha256 {
        Some(d) => {
            let d = bytes(d);
            quote!(::core::option::Option::Some(#d))
        }
        None => quote!(::core::option::Option::None),
    };
    quote!(::gateway_runtime::table::Auth { api_keys: &API_KEYS, admin_key_sha256: #admin })
}
