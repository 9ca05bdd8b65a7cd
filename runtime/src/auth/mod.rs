//! Inbound authentication: `Authorization: Bearer <key>` or `x-api-key: <key>`
//! checked against the compiled SHA-256 digests.
//!
//! The presented key is hashed once and compared with every digest in
//! constant time (no early exit), so timing reveals neither which key matched
//! nor how much of a digest did. Keys never reach logs: only the key's
//! configured name does.

use std::sync::OnceLock;

use http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::error::GatewayError;
use crate::table::{ApiKey, Auth, ModelId};

/// Who the caller proved to be.
#[derive(Debug, Clone, Copy)]
pub enum Caller {
    /// No keys are configured: the API is open.
    Anonymous,
    /// A configured API key (its name, team and model access).
    Key(&'static ApiKey),
    /// The admin key.
    Admin,
}

impl PartialEq for Caller {
    /// Keys are the same entry of the compiled table.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Key(a), Self::Key(b)) => std::ptr::eq(*a, *b),
            (Self::Anonymous, Self::Anonymous) | (Self::Admin, Self::Admin) => true,
            _ => false,
        }
    }
}

impl Eq for Caller {}

impl Caller {
    /// The name logs use: the key's configured name, `admin` or `anonymous`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Admin => "admin",
            Self::Key(key) => key.name,
        }
    }

    /// Whether this caller may use `model` (compiled access: a bit test).
    pub fn may_use(self, model: ModelId) -> bool {
        match self {
            Self::Anonymous | Self::Admin => true,
            Self::Key(key) => key.models.allows(model),
        }
    }
}

/// Checks the request's bearer token against the API keys (and the admin key).
pub fn authenticate(auth: &Auth, headers: &HeaderMap) -> Result<Caller, GatewayError> {
    if auth.api_keys.is_empty() && auth.admin_key_sha256.is_none() {
        return Ok(Caller::Anonymous);
    }
    let digest = presented_digest(headers).ok_or(GatewayError::MissingApiKey)?;
    if auth
        .admin_key_sha256
        .is_some_and(|admin| bool::from(admin.ct_eq(&digest)))
    {
        return Ok(Caller::Admin);
    }
    let mut matched: Option<&'static ApiKey> = None;
    for key in auth.api_keys {
        let equal: Choice = key.sha256.ct_eq(&digest);
        if bool::from(equal) {
            matched = Some(key);
        }
    }
    matched.map(Caller::Key).ok_or(GatewayError::InvalidApiKey)
}

/// The key that first authenticated on one connection. Later requests on that
/// keep-alive connection presenting the same `Authorization` header skip the
/// SHA-256 and the scan (3,700 instructions of a 59,000-instruction request
/// under callgrind). The key table is compiled in, so the answer cannot go
/// stale; the comparison is constant-time like the digest check.
#[derive(Debug, Default)]
pub struct ConnectionAuth {
    memo: OnceLock<(HeaderValue, Caller)>,
}

impl ConnectionAuth {
    pub fn authenticate(&self, auth: &Auth, headers: &HeaderMap) -> Result<Caller, GatewayError> {
        let presented = credential_header(headers);
        if let (Some((value, caller)), Some(presented)) = (self.memo.get(), presented)
            && bool::from(value.as_bytes().ct_eq(presented.as_bytes()))
        {
            return Ok(*caller);
        }
        let caller = authenticate(auth, headers)?;
        if let Some(presented) = presented {
            let _ = self.memo.set((presented.clone(), caller));
        }
        Ok(caller)
    }
}

/// Requires the admin key when one is configured (for `/metrics`).
pub fn authenticate_admin(auth: &Auth, headers: &HeaderMap) -> Result<(), GatewayError> {
    let Some(admin) = auth.admin_key_sha256 else {
        return Ok(());
    };
    match presented_digest(headers) {
        Some(digest) if bool::from(admin.ct_eq(&digest)) => Ok(()),
        _ => Err(GatewayError::AdminKeyRequired),
    }
}

/// Requires the admin key, for endpoints that change state (maintenance,
/// refresh): without a configured admin key they are off, not open.
pub fn require_admin(auth: &Auth, headers: &HeaderMap) -> Result<(), GatewayError> {
    if auth.admin_key_sha256.is_none() {
        return Err(GatewayError::AdminDisabled);
    }
    authenticate_admin(auth, headers)
}

/// The header carrying the caller's key: `Authorization` (OpenAI clients,
/// Claude Code with `ANTHROPIC_AUTH_TOKEN`), else `x-api-key` (Anthropic
/// clients).
fn credential_header(headers: &HeaderMap) -> Option<&HeaderValue> {
    headers
        .get(http::header::AUTHORIZATION)
        .or_else(|| headers.get(X_API_KEY))
}

/// `x-api-key`, the Anthropic API's key header.
pub const X_API_KEY: http::HeaderName = http::HeaderName::from_static("x-api-key");

fn presented_digest(headers: &HeaderMap) -> Option<[u8; 32]> {
    let token = match headers.get(http::header::AUTHORIZATION) {
        Some(value) => strip_bearer(value.as_bytes())?,
        None => headers.get(X_API_KEY)?.as_bytes().trim_ascii(),
    };
    if token.is_empty() {
        return None;
    }
    Some(Sha256::digest(token).into())
}

fn strip_bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    Some(rest.trim_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_remembers_only_the_key_that_authenticated() {
        let connection = ConnectionAuth::default();
        let good = headers(Some("Bearer unit-key"));
        let first = connection.authenticate(&CONFIG.auth, &good).unwrap();
        assert_eq!(connection.authenticate(&CONFIG.auth, &good).unwrap(), first);
        // A different (wrong) key on the same connection is checked in full.
        assert!(matches!(
            connection.authenticate(&CONFIG.auth, &headers(Some("Bearer nope"))),
            Err(GatewayError::InvalidApiKey)
        ));
        assert!(matches!(
            connection.authenticate(&CONFIG.auth, &headers(None)),
            Err(GatewayError::MissingApiKey)
        ));
        assert_eq!(connection.authenticate(&CONFIG.auth, &good).unwrap(), first);
    }
    use crate::table::ApiKey;
    use crate::testing::{API_KEYS, CONFIG};

    fn headers(authorization: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn accepts_configured_key_and_rejects_others() {
        let auth = &CONFIG.auth;
        let check = |value: Option<&str>| authenticate(auth, &headers(value));
        assert_eq!(
            check(Some("Bearer unit-key")),
            Ok(Caller::Key(&API_KEYS[0]))
        );
        assert_eq!(
            check(Some("bearer unit-key")),
            Ok(Caller::Key(&API_KEYS[0]))
        );
        assert_eq!(
            check(Some("Bearer wrong")),
            Err(GatewayError::InvalidApiKey)
        );
        assert_eq!(
            check(Some("Basic dW5pdC1rZXk=")),
            Err(GatewayError::MissingApiKey)
        );
        assert_eq!(check(Some("Bearer ")), Err(GatewayError::MissingApiKey));
        assert_eq!(check(None), Err(GatewayError::MissingApiKey));
        let mut anthropic = HeaderMap::new();
        anthropic.insert(X_API_KEY, "unit-key".parse().unwrap());
        assert_eq!(
            authenticate(auth, &anthropic),
            Ok(Caller::Key(&API_KEYS[0]))
        );
        anthropic.insert(X_API_KEY, "wrong".parse().unwrap());
        assert_eq!(
            authenticate(auth, &anthropic),
            Err(GatewayError::InvalidApiKey)
        );
    }

    #[test]
    fn open_when_no_keys_configured() {
        let auth = Auth {
            api_keys: &[],
            admin_key_sha256: None,
            teams: &[],
        };
        assert_eq!(authenticate(&auth, &headers(None)), Ok(Caller::Anonymous));
    }

    #[test]
    fn admin_key_works_on_api_and_guards_metrics() {
        static KEYS: [ApiKey; 0] = [];
        let admin: [u8; 32] = Sha256::digest(b"admin").into();
        let auth = Auth {
            api_keys: &KEYS,
            admin_key_sha256: Some(admin),
            teams: &[],
        };
        assert_eq!(
            authenticate(&auth, &headers(Some("Bearer admin"))),
            Ok(Caller::Admin)
        );
        assert_eq!(
            authenticate_admin(&auth, &headers(Some("Bearer admin"))),
            Ok(())
        );
        assert_eq!(
            authenticate_admin(&auth, &headers(Some("Bearer other"))),
            Err(GatewayError::AdminKeyRequired)
        );
        assert_eq!(authenticate_admin(&CONFIG.auth, &headers(None)), Ok(()));
    }
}
