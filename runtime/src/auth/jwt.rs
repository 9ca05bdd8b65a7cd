//! Verifying a bearer JWT (RFC 7519, JWS compact form) against the keys of
//! a JWKS and the compiled `auth.jwt` settings, into a principal with its
//! team and model access.
//!
//! Signatures are checked with `ring` directly: it is the crypto provider
//! rustls already uses, so the tree keeps one. `jsonwebtoken` would pull
//! aws-lc-rs (a second provider, C and cmake in the build), or with its
//! `rust_crypto` backend the `rsa` crate, open to the Marvin timing attack
//! (RUSTSEC-2023-0071, no fixed release).
//!
//! Order: the header's `alg` must be allowed and fit the key (`kid`), the
//! signature must verify, and only then are the claims read: `exp` (with
//! leeway, required), `nbf`, `iss` (exact), `aud` (one of the compiled
//! audiences), the principal claim, the team claim (a compiled team, else
//! 403) and the scopes (when scopes are compiled, at least one known, else
//! 403). A token's models are the union of its known scopes' models within
//! its team's.

use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::Value;

use super::base64url;
use super::jwk::{Jwk, KeyMaterial};
use crate::error::{GatewayError, TokenProblem};
use crate::table::{Jwt, JwtAlgorithm, ModelAccess, ModelId, Team};

/// What a verified token proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPrincipal {
    /// The principal claim's value (logs show it).
    pub subject: Box<str>,
    /// Index into `Auth::teams`.
    pub team: Option<u16>,
    pub models: TokenAccess,
    /// `exp` plus the leeway, in seconds since the Unix epoch: the token
    /// is refused after this second.
    pub valid_until: u64,
}

/// The models a token may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenAccess {
    All,
    /// Bit `i % 64` of word `i / 64` is `ModelId(i)`.
    Only(Box<[u64]>),
}

impl TokenAccess {
    pub fn allows(&self, model: ModelId) -> bool {
        match self {
            Self::All => true,
            Self::Only(words) => {
                let index = usize::from(model.0);
                words
                    .get(index / 64)
                    .is_some_and(|word| word >> (index % 64) & 1 == 1)
            }
        }
    }
}

/// Longest token accepted (a header line is bounded anyway).
const MAX_TOKEN: usize = 16 * 1024;

/// Whether a bearer value looks like a JWT (three base64url parts, a JSON
/// header): API keys never do.
pub fn looks_like_jwt(token: &[u8]) -> bool {
    token.starts_with(b"eyJ") && token.iter().filter(|b| **b == b'.').count() == 2
}

/// Verifies `token` at `now` (seconds since the Unix epoch).
pub fn verify(
    jwt: &Jwt,
    teams: &[Team],
    keys: &[Jwk],
    token: &[u8],
    now: u64,
) -> Result<TokenPrincipal, GatewayError> {
    if token.len() > MAX_TOKEN {
        return Err(invalid(
            TokenProblem::Malformed,
            "the token is longer than 16 KiB",
        ));
    }
    let mut parts = token.split(|b| *b == b'.');
    let (Some(head), Some(body), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(
            TokenProblem::Malformed,
            "a JWT has three dot-separated parts",
        ));
    };
    let header = json_part(head, "header")?;
    let (alg, key) = choose_key(jwt, keys, &header)?;
    let signature = base64url::decode(sig)
        .ok_or_else(|| invalid(TokenProblem::Malformed, "the signature is not base64url"))?;
    let signed = token.get(..head.len() + 1 + body.len()).unwrap_or_default();
    check_signature(alg, &key.material, signed, &signature)?;
    let claims = json_part(body, "payload")?;
    check_time(jwt, &claims, now)?;
    check_issuer_audience(jwt, &claims)?;
    principal(jwt, teams, &claims)
}

fn invalid(problem: TokenProblem, detail: impl Into<String>) -> GatewayError {
    GatewayError::InvalidToken {
        problem,
        detail: detail.into(),
    }
}

fn json_part(part: &[u8], what: &str) -> Result<Value, GatewayError> {
    let bytes = base64url::decode(part).ok_or_else(|| {
        invalid(
            TokenProblem::Malformed,
            format!("the {what} is not base64url"),
        )
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(invalid(
            TokenProblem::Malformed,
            format!("the {what} is not a JSON object"),
        )),
    }
}

/// The allowed algorithm the header names and the key it points at.
fn choose_key<'k>(
    jwt: &Jwt,
    keys: &'k [Jwk],
    header: &Value,
) -> Result<(JwtAlgorithm, &'k Jwk), GatewayError> {
    let name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let Some(alg) = jwt.algorithms.iter().copied().find(|a| a.name() == name) else {
        let allowed: Vec<&str> = jwt.algorithms.iter().map(|a| a.name()).collect();
        return Err(invalid(
            TokenProblem::AlgorithmNotAllowed,
            format!(
                "`alg` `{}` is not accepted here (accepted: {})",
                shown(name),
                allowed.join(", ")
            ),
        ));
    };
    if header.get("crit").is_some() {
        return Err(invalid(
            TokenProblem::Malformed,
            "critical header extensions (`crit`) are not supported",
        ));
    }
    match header.get("kid").and_then(Value::as_str) {
        Some(kid) => {
            let key = keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or_else(|| {
                    invalid(
                        TokenProblem::UnknownKey,
                        format!("no key `{}` in the identity provider's key set", shown(kid)),
                    )
                })?;
            if !key.fits(alg) {
                return Err(invalid(
                    TokenProblem::AlgorithmNotAllowed,
                    format!("key `{}` is not a key for `{}`", shown(kid), alg.name()),
                ));
            }
            Ok((alg, key))
        }
        None => {
            let mut fitting = keys.iter().filter(|k| k.fits(alg));
            match (fitting.next(), fitting.next()) {
                (Some(key), None) => Ok((alg, key)),
                _ => Err(invalid(
                    TokenProblem::UnknownKey,
                    format!(
                        "the token names no `kid` and the key set does not hold exactly one `{}` key",
                        alg.name()
                    ),
                )),
            }
        }
    }
}

fn check_signature(
    alg: JwtAlgorithm,
    material: &KeyMaterial,
    signed: &[u8],
    sig: &[u8],
) -> Result<(), GatewayError> {
    use JwtAlgorithm as A;
    let verified = match (alg, material) {
        (
            A::Rs256 | A::Rs384 | A::Rs512 | A::Ps256 | A::Ps384 | A::Ps512,
            KeyMaterial::Rsa { n, e },
        ) => {
            let params = match alg {
                A::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                A::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                A::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                A::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
                A::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
                _ => &signature::RSA_PSS_2048_8192_SHA512,
            };
            RsaPublicKeyComponents { n, e }.verify(params, signed, sig)
        }
        (A::Es256, KeyMaterial::P256(point)) => {
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).verify(signed, sig)
        }
        (A::Es384, KeyMaterial::P384(point)) => {
            UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point).verify(signed, sig)
        }
        (A::EdDsa, KeyMaterial::Ed25519(x)) => {
            UnparsedPublicKey::new(&signature::ED25519, x).verify(signed, sig)
        }
        _ => {
            return Err(invalid(
                TokenProblem::AlgorithmNotAllowed,
                "the key does not fit the algorithm",
            ));
        }
    };
    verified.map_err(|_| {
        invalid(
            TokenProblem::BadSignature,
            "the signature does not verify with the identity provider's key",
        )
    })
}

fn check_time(jwt: &Jwt, claims: &Value, now: u64) -> Result<(), GatewayError> {
    let leeway = jwt.leeway.as_secs();
    let seconds = |name: &str| {
        claims.get(name).map(|v| {
            v.as_u64()
                .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        })
    };
    let exp = match seconds("exp") {
        Some(Some(exp)) => exp,
        _ => {
            return Err(invalid(
                TokenProblem::Malformed,
                "the token has no numeric `exp` claim",
            ));
        }
    };
    if now > exp.saturating_add(leeway) {
        return Err(invalid(
            TokenProblem::Expired,
            format!("the token expired {} s ago", now - exp),
        ));
    }
    match seconds("nbf") {
        None => Ok(()),
        Some(Some(nbf)) if now.saturating_add(leeway) >= nbf => Ok(()),
        Some(Some(nbf)) => Err(invalid(
            TokenProblem::NotYetValid,
            format!("the token is valid only in {} s", nbf - now),
        )),
        Some(None) => Err(invalid(TokenProblem::Malformed, "`nbf` is not a number")),
    }
}

fn check_issuer_audience(jwt: &Jwt, claims: &Value) -> Result<(), GatewayError> {
    let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if issuer != jwt.issuer {
        return Err(invalid(
            TokenProblem::WrongIssuer,
            format!("`iss` `{}` is not `{}`", shown(issuer), jwt.issuer),
        ));
    }
    let accepted = |aud: &Value| aud.as_str().is_some_and(|a| jwt.audiences.contains(&a));
    let ok = match claims.get("aud") {
        Some(Value::Array(list)) => list.iter().any(accepted),
        Some(one) => accepted(one),
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            TokenProblem::WrongAudience,
            format!(
                "`aud` does not name this gateway (accepted: {})",
                jwt.audiences.join(", ")
            ),
        ))
    }
}

/// The principal, its team and its models.
fn principal(jwt: &Jwt, teams: &[Team], claims: &Value) -> Result<TokenPrincipal, GatewayError> {
    let subject = match claims.get(jwt.principal_claim) {
        Some(Value::String(s)) if !s.is_empty() => s.as_str().into(),
        Some(Value::Number(n)) => n.to_string().into(),
        _ => {
            return Err(invalid(
                TokenProblem::Malformed,
                format!(
                    "the token has no `{}` claim naming the caller",
                    jwt.principal_claim
                ),
            ));
        }
    };
    let team = match jwt.team_claim.and_then(|claim| claims.get(claim)) {
        None => None,
        Some(value) => {
            let name = value.as_str().unwrap_or("");
            let index = teams.binary_search_by(|t| t.name.cmp(name)).ok();
            match index.and_then(|i| u16::try_from(i).ok()) {
                Some(index) => Some(index),
                None => {
                    return Err(GatewayError::TokenTeamNotAllowed(
                        shown(&value.to_string()).to_owned(),
                    ));
                }
            }
        }
    };
    let team_models = team
        .and_then(|t| teams.get(usize::from(t)))
        .map_or(ModelAccess::All, |t| t.models);
    let models = scope_access(jwt, claims)?;
    let exp = claims
        .get("exp")
        .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f as u64)));
    Ok(TokenPrincipal {
        subject,
        team,
        models: intersect(models, team_models),
        valid_until: exp.unwrap_or(0).saturating_add(jwt.leeway.as_secs()),
    })
}

/// The union of the token's known scopes' models; `All` when no scope is compiled.
fn scope_access(jwt: &Jwt, claims: &Value) -> Result<TokenAccess, GatewayError> {
    if jwt.scopes.is_empty() {
        return Ok(TokenAccess::All);
    }
    let held: Vec<&str> = match claims.get(jwt.scope_claim) {
        Some(Value::String(s)) => s.split_ascii_whitespace().collect(),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut union: Option<Vec<u64>> = Some(Vec::new());
    let mut known = false;
    for scope in jwt.scopes.iter().filter(|s| held.contains(&s.name)) {
        known = true;
        match (scope.models, union.as_mut()) {
            (ModelAccess::All, _) => union = None,
            (ModelAccess::Only(words), Some(bits)) => {
                bits.resize(bits.len().max(words.len()), 0);
                bits.iter_mut().zip(words).for_each(|(b, w)| *b |= w);
            }
            (ModelAccess::Only(_), None) => {}
        }
    }
    if !known {
        let names: Vec<&str> = jwt.scopes.iter().map(|s| s.name).collect();
        return Err(GatewayError::InsufficientScope(names.join(" ")));
    }
    Ok(union.map_or(TokenAccess::All, |bits| TokenAccess::Only(bits.into())))
}

fn intersect(token: TokenAccess, team: ModelAccess) -> TokenAccess {
    match (token, team) {
        (token, ModelAccess::All) => token,
        (TokenAccess::All, ModelAccess::Only(words)) => TokenAccess::Only(words.into()),
        (TokenAccess::Only(mut bits), ModelAccess::Only(words)) => {
            for (i, bit) in bits.iter_mut().enumerate() {
                *bit &= words.get(i).copied().unwrap_or(0);
            }
            TokenAccess::Only(bits)
        }
    }
}

/// At most 64 bytes of a token-chosen string, for messages.
fn shown(text: &str) -> &str {
    let mut end = text.len().min(64);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
