//! Emitting `API_KEYS` (sorted by digest), `TEAMS` (sorted by name) and the
//! `auth` field of `CONFIG`; a model set is `ModelAccess::All` or a bit set
//! of `u64` words written in hex.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::emit::{bytes, len, opt_str};
use crate::ir::{ApiKey, Ir, JwksSource, Jwt, ModelAccess, Scope, Team};

/// `pub static API_KEYS: [ApiKey; K]`, sorted by digest, and `pub static TEAMS: [Team; T]`, sorted by name.
pub fn api_keys(ir: &Ir) -> TokenStream {
    let n = len(ir.auth.api_keys.len());
    let items = ir.auth.api_keys.iter().map(|k: &ApiKey| {
        let (name, digest) = (&k.name, bytes(&k.sha256));
        let (team, models) = (opt_str(k.team.as_deref()), access(&k.models));
        let team_index = match k.team_index {
            Some(index) => quote!(::core::option::Option::Some(#index)),
            None => quote!(::core::option::Option::None),
        };
        let (metadata, tools, agents) = (&k.metadata, access(&k.tools), access(&k.agents));
        quote!(::gateway_runtime::table::ApiKey {
            name: #name, sha256: #digest, team: #team, team_index: #team_index, models: #models,
            tools: #tools, agents: #agents, metadata: #metadata
        })
    });
    let t = len(ir.auth.teams.len());
    let teams = ir.auth.teams.iter().map(|team: &Team| {
        let (name, models, tools) = (&team.name, access(&team.models), access(&team.tools));
        let agents = access(&team.agents);
        quote!(::gateway_runtime::table::Team {
            name: #name, models: #models, tools: #tools, agents: #agents
        })
    });
    quote! {
        /// Inbound API keys as SHA-256 digests, sorted by digest.
        pub static API_KEYS: [::gateway_runtime::table::ApiKey; #n] = [#(#items),*];
        /// Teams of API keys, sorted by name.
        pub static TEAMS: [::gateway_runtime::table::Team; #t] = [#(#teams),*];
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
    let key_files = ir.auth.key_files.iter().map(|f| {
        let (path, optional) = (&f.path, f.optional);
        quote!(::gateway_runtime::table::KeyFile { path: #path, optional: #optional })
    });
    let jwt = match &ir.auth.jwt {
        Some(jwt) => {
            let jwt = self::jwt(jwt);
            quote!(::core::option::Option::Some(#jwt))
        }
        None => quote!(::core::option::Option::None),
    };
    quote!(::gateway_runtime::table::Auth {
        api_keys: &API_KEYS, admin_key_sha256: #admin, teams: &TEAMS,
        key_files: &[#(#key_files),*], jwt: #jwt
    })
}

/// A `table::Jwt` literal.
fn jwt(j: &Jwt) -> TokenStream {
    let (issuer, audiences) = (&j.issuer, &j.audiences);
    let jwks = match &j.jwks {
        JwksSource::File(path) => quote!(::gateway_runtime::table::JwksSource::File(#path)),
        JwksSource::Url {
            url,
            refresh_ms,
            timeout_ms,
            ca_file,
        } => {
            let ca_file = opt_str(ca_file.as_deref());
            quote!(::gateway_runtime::table::JwksSource::Url {
                url: #url,
                refresh: ::core::time::Duration::from_millis(#refresh_ms),
                timeout: ::core::time::Duration::from_millis(#timeout_ms),
                ca_file: #ca_file
            })
        }
    };
    let algorithms = j.algorithms.iter().map(|name| {
        let variant = match name.as_str() {
            "RS256" => quote!(Rs256),
            "RS384" => quote!(Rs384),
            "RS512" => quote!(Rs512),
            "PS256" => quote!(Ps256),
            "PS384" => quote!(Ps384),
            "PS512" => quote!(Ps512),
            "ES256" => quote!(Es256),
            "ES384" => quote!(Es384),
            _ => quote!(EdDsa),
        };
        quote!(::gateway_runtime::table::JwtAlgorithm::#variant)
    });
    let (leeway, principal, scope_claim) = (j.leeway_ms, &j.principal_claim, &j.scope_claim);
    let team_claim = opt_str(j.team_claim.as_deref());
    let scopes = j.scopes.iter().map(|s: &Scope| {
        let (name, models) = (&s.name, access(&s.models));
        quote!(::gateway_runtime::table::Scope { name: #name, models: #models })
    });
    quote!(::gateway_runtime::table::Jwt {
        issuer: #issuer,
        audiences: &[#(#audiences),*],
        jwks: #jwks,
        algorithms: &[#(#algorithms),*],
        leeway: ::core::time::Duration::from_millis(#leeway),
        principal_claim: #principal,
        team_claim: #team_claim,
        scope_claim: #scope_claim,
        scopes: &[#(#scopes),*]
    })
}

/// `ModelAccess::All` or `ModelAccess::Only(&[0x..])`, bit `i % 64` of word `i / 64` = `ModelId(i)`.
pub(crate) fn access(models: &ModelAccess) -> TokenStream {
    match models {
        ModelAccess::All => quote!(::gateway_runtime::table::ModelAccess::All),
        ModelAccess::Only(words) => {
            let words = words.iter().map(|w| {
                format!("0x{w:x}")
                    .parse::<Literal>()
                    .unwrap_or_else(|_| Literal::u64_unsuffixed(*w))
            });
            quote!(::gateway_runtime::table::ModelAccess::Only(&[#(#words),*]))
        }
    }
}
