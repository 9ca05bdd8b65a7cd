//! Inbound authentication: `Authorization: Bearer <key>` or `x-api-key: <key>`
//! checked against the compiled SHA-256 digests and the keys read from key
//! files (`keys.rs`, `key_file.rs`).
//!
//! The presented key is hashed once and compared with every compiled digest
//! in constant time (no early exit), so timing reveals neither which key
//! matched nor how much of a digest did; file keys are then found by binary
//! search on the digest. Keys never reach logs: only the key's configured
//! name does. Not here: which model a caller may use is decided at build
//! time (`ModelAccess`); this module only carries it.

mod base64url;
mod jwk;
mod jwks;
mod jwt;
mod key_file;
mod keys;

use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

pub use jwt::TokenPrincipal;
pub use keys::{AuthState, FileKey};

use crate::error::{GatewayError, TokenProblem};
use crate::table::{AgentId, ApiKey, Auth, JwksSource, ModelId, ToolId};

/// Who the caller proved to be. Cheap to clone: a compiled key is a
/// `&'static` reference, a file key an `Arc`.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No keys are configured: the API is open.
    Anonymous,
    /// A compiled API key and its index in `Auth::api_keys`.
    Key { index: u16, key: &'static ApiKey },
    /// A key read from a key file.
    FileKey(Arc<FileKey>),
    /// A verified bearer token (JWT).
    Token(Arc<TokenPrincipal>),
    /// The admin key.
    Admin,
}

impl PartialEq for Caller {
    /// Keys are the same entry of the compiled table or of one loaded set.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Key { index: a, .. }, Self::Key { index: b, .. }) => a == b,
            (Self::FileKey(a), Self::FileKey(b)) => Arc::ptr_eq(a, b),
            (Self::Token(a), Self::Token(b)) => a == b,
            (Self::Anonymous, Self::Anonymous) | (Self::Admin, Self::Admin) => true,
            _ => false,
        }
    }
}

impl Eq for Caller {}

impl Caller {
    /// The name logs use: the key's configured name, `admin` or `anonymous`.
    pub fn name(&self) -> &str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Admin => "admin",
            Self::Key { key, .. } => key.name,
            Self::FileKey(key) => &key.name,
            Self::Token(token) => &token.subject,
        }
    }

    /// Whether this caller may use `model` (compiled access: a bit test).
    pub fn may_use(&self, model: ModelId) -> bool {
        match self {
            Self::Anonymous | Self::Admin => true,
            Self::Key { key, .. } => key.models.allows(model),
            Self::FileKey(key) => key.models.allows(model),
            Self::Token(token) => token.models.allows(model),
        }
    }

    /// Whether this caller may use `tool`: a compiled key by its own set
    /// (its patterns within its team's, resolved at build time); a file key
    /// or a token by its team's (no team: every tool).
    pub fn may_use_tool(&self, auth: &Auth, tool: ToolId) -> bool {
        let by_team = |team: Option<u16>| {
            team.and_then(|t| auth.teams.get(usize::from(t)))
                .is_none_or(|team| team.tools.allows_tool(tool))
        };
        match self {
            Self::Anonymous | Self::Admin => true,
            Self::Key { key, .. } => key.tools.allows_tool(tool),
            Self::FileKey(key) => by_team(key.team),
            Self::Token(token) => by_team(token.team),
        }
    }

    /// Whether this caller may use `agent` by the `agents` lists (its model
    /// is checked apart): the same rule as [`Caller::may_use_tool`].
    pub fn may_use_agent(&self, auth: &Auth, agent: AgentId) -> bool {
        let by_team = |team: Option<u16>| {
            team.and_then(|t| auth.teams.get(usize::from(t)))
                .is_none_or(|team| team.agents.allows_agent(agent))
        };
        match self {
            Self::Anonymous | Self::Admin => true,
            Self::Key { key, .. } => key.agents.allows_agent(agent),
            Self::FileKey(key) => by_team(key.team),
            Self::Token(token) => by_team(token.team),
        }
    }

    /// The compiled key's metadata labels (`name=value,...`; empty for any
    /// other caller), logged with each request.
    pub fn metadata(&self) -> &'static str {
        match self {
            Self::Key { key, .. } => key.metadata,
            _ => "",
        }
    }

    /// The caller's team as an index into `Auth::teams`.
    #[allow(
        dead_code,
        reason = "for the quota code (policy/), written in parallel"
    )]
    pub fn team_index(&self) -> Option<u16> {
        match self {
            Self::Key { key, .. } => key.team_index,
            Self::FileKey(key) => key.team,
            Self::Token(token) => token.team,
            Self::Anonymous | Self::Admin => None,
        }
    }

    /// The index of a compiled key in `Auth::api_keys` (`None` for any other caller).
    #[allow(
        dead_code,
        reason = "for the quota code (policy/), written in parallel"
    )]
    pub fn key_index(&self) -> Option<u16> {
        match self {
            Self::Key { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// Whether the answer can go stale: file keys and tokens can, when a
    /// reload removes them or their signing key.
    fn reloadable(&self) -> bool {
        matches!(self, Self::FileKey(_) | Self::Token(_))
    }

    /// Whether a memo of this caller still holds at `now` (a token expires).
    fn holds_at(&self, now: impl Fn() -> u64) -> bool {
        match self {
            Self::Token(token) => now() <= token.valid_until,
            _ => true,
        }
    }
}

/// Checks the request's key against the admin key, the compiled API keys
/// and the file keys in force.
pub fn authenticate(state: &AuthState, headers: &HeaderMap) -> Result<Caller, GatewayError> {
    if state.is_open() {
        return Ok(Caller::Anonymous);
    }
    let auth = state.config;
    if let Some(jwt) = &auth.jwt
        && let Some(token) = bearer(headers).filter(|t| jwt::looks_like_jwt(t))
    {
        let keys = state
            .jwks
            .keys()
            .ok_or_else(|| GatewayError::JwksUnavailable(state.jwks.status()))?;
        let principal = jwt::verify(jwt, auth.teams, &keys, token, unix_now())?;
        return Ok(Caller::Token(Arc::new(principal)));
    }
    let digest = presented_digest(headers).ok_or(GatewayError::MissingApiKey)?;
    if auth
        .admin_key_sha256
        .is_some_and(|admin| bool::from(admin.ct_eq(&digest)))
    {
        return Ok(Caller::Admin);
    }
    let mut matched: Option<(u16, &'static ApiKey)> = None;
    for (index, key) in (0..=u16::MAX).zip(auth.api_keys) {
        let equal: Choice = key.sha256.ct_eq(&digest);
        if bool::from(equal) {
            matched = Some((index, key));
        }
    }
    if let Some((index, key)) = matched {
        return Ok(Caller::Key { index, key });
    }
    state
        .find(&digest)
        .map(Caller::FileKey)
        .ok_or(GatewayError::InvalidApiKey)
}

/// The caller that first authenticated on one connection. Later requests on
/// that keep-alive connection presenting the same `Authorization` header
/// skip the SHA-256 and the scan (3,700 instructions of a 59,000-instruction
/// request under callgrind); the comparison is constant-time like the
/// digest check. A compiled key or the admin key cannot go stale; a file
/// key's answer holds while the key set's generation is the one it was
/// given under (one atomic load). After a reload the connection checks in
/// full on every request (the memo is written once): a removed key fails
/// at once, a kept one costs the digest again (about 1 µs).
#[derive(Debug, Default)]
pub struct ConnectionAuth {
    memo: OnceLock<Memo>,
}

#[derive(Debug)]
struct Memo {
    header: HeaderValue,
    caller: Caller,
    generation: u64,
}

impl ConnectionAuth {
    pub fn authenticate(
        &self,
        state: &AuthState,
        headers: &HeaderMap,
    ) -> Result<Caller, GatewayError> {
        let presented = credential_header(headers);
        if let (Some(memo), Some(presented)) = (self.memo.get(), presented)
            && bool::from(memo.header.as_bytes().ct_eq(presented.as_bytes()))
            && (!memo.caller.reloadable() || memo.generation == state.generation())
            && memo.caller.holds_at(unix_now)
        {
            return Ok(memo.caller.clone());
        }
        // Read before the set: a reload between the two leaves the memo stale, never wrong.
        let generation = state.generation();
        let caller = authenticate(state, headers)?;
        if let Some(presented) = presented {
            let _ = self.memo.set(Memo {
                header: presented.clone(),
                caller: caller.clone(),
                generation,
            });
        }
        Ok(caller)
    }
}

impl ConnectionAuth {
    /// [`ConnectionAuth::authenticate`], and for a token checked against keys
    /// fetched from a URL: a wait of at most the source's `timeout` for the
    /// first document, or one forced fetch (rate-limited) for an unknown `kid`.
    pub async fn authenticate_waiting(
        &self,
        state: &AuthState,
        headers: &HeaderMap,
    ) -> Result<Caller, GatewayError> {
        let result = self.authenticate(state, headers);
        let Some(JwksSource::Url { timeout, .. }) = state.config.jwt.as_ref().map(|j| j.jwks)
        else {
            return result;
        };
        let retry = match &result {
            Err(GatewayError::JwksUnavailable(_)) => {
                state.jwks.wait_loaded(timeout).await;
                true
            }
            Err(GatewayError::InvalidToken {
                problem: TokenProblem::UnknownKey,
                ..
            }) => state.jwks.force_refresh(timeout).await,
            _ => false,
        };
        if retry {
            self.authenticate(state, headers)
        } else {
            result
        }
    }
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The background work of authentication, started before the listener
/// binds: key files (and a JWKS file) reloaded on every SIGHUP, logged like
/// `POST /security/refresh`, so a SIGHUP never ends the process; and the
/// JWKS fetcher for a URL source.
pub fn start_background(state: &'static AuthState) {
    if let Some(jwt) = &state.config.jwt
        && let JwksSource::Url {
            url,
            refresh,
            timeout,
            ca_file,
        } = jwt.jwks
    {
        jwks::spawn_fetcher(&state.jwks, url, (refresh, timeout), ca_file, || {
            state.bump()
        });
    }
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(mut hangups) => {
            tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    let _ = state.reload_logged("sighup");
                }
            });
        }
        Err(error) => tracing::error!(
            event = "startup.sighup_unavailable",
            %error,
            "cannot listen for SIGHUP; reload key files with POST /security/refresh"
        ),
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

/// The token of `Authorization: Bearer <token>`, if that is the header.
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    strip_bearer(headers.get(http::header::AUTHORIZATION)?.as_bytes())
}

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
mod tests;
