//! The identity provider's signing keys (a JWKS document) in force, read
//! from a file (at startup, on SIGHUP and `POST /security/refresh`, with
//! the key files: `keys.rs`) or fetched from an `https` URL in the
//! background (at startup, every `refresh`, and at most once per
//! [`FORCED_REFRESH_EVERY`] when a token names an unknown `kid`).
//!
//! Until the first document is in force, tokens are answered 503
//! `jwks_unavailable` (after a wait of at most the source's `timeout` for
//! a URL source); a failed fetch later keeps the keys in force. The keys
//! are swapped whole, lock-free; readers take one `ArcSwap` load.

use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::{ArcSwap, ArcSwapOption};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{Notify, watch};

use super::jwk::{self, Jwk};

/// Largest JWKS document read.
const MAX_DOCUMENT: usize = 1 << 20;

/// An unknown `kid` forces a fetch at most this often.
pub const FORCED_REFRESH_EVERY: Duration = Duration::from_secs(30);

/// After a failed fetch with no keys in force yet, the next try comes this soon.
const RETRY_FIRST_FETCH: Duration = Duration::from_secs(5);

/// The keys in force and how they got there.
pub struct JwksState {
    keys: ArcSwapOption<Vec<Jwk>>,
    /// Why no keys are in force, or what the last load said.
    status: ArcSwap<String>,
    /// Successful loads so far (waiters watch it).
    loads: watch::Sender<u64>,
    /// Unix ms of the last forced fetch.
    last_forced: AtomicU64,
    force: Notify,
}

impl Default for JwksState {
    fn default() -> Self {
        Self {
            keys: ArcSwapOption::empty(),
            status: ArcSwap::from_pointee("not loaded yet".to_owned()),
            loads: watch::channel(0).0,
            last_forced: AtomicU64::new(0),
            force: Notify::new(),
        }
    }
}

impl JwksState {
    /// The keys in force, if any document was loaded.
    pub fn keys(&self) -> Option<Arc<Vec<Jwk>>> {
        self.keys.load_full()
    }

    /// Why no keys are in force (or the last load's outcome).
    pub fn status(&self) -> String {
        self.status.load().as_ref().clone()
    }

    /// Puts `keys` in force.
    pub fn install(&self, keys: Vec<Jwk>, from: &str) {
        let count = keys.len();
        self.keys.store(Some(Arc::new(keys)));
        self.status
            .store(Arc::new(format!("{count} keys from {from}")));
        self.loads.send_modify(|n| *n += 1);
    }

    /// Records a failed load (the keys in force, if any, stay).
    pub fn failed(&self, why: String) {
        self.status.store(Arc::new(why));
    }

    /// Waits at most `limit` for a first document.
    pub async fn wait_loaded(&self, limit: Duration) {
        let mut loads = self.loads.subscribe();
        if self.keys.load().is_some() {
            return;
        }
        let _ = tokio::time::timeout(limit, loads.changed()).await;
    }

    /// Asks the fetcher for a new document and waits at most `limit` for
    /// it, unless one was forced within [`FORCED_REFRESH_EVERY`]: whether a
    /// new document came.
    pub async fn force_refresh(&self, limit: Duration) -> bool {
        let now = unix_ms();
        let last = self.last_forced.load(Ordering::Acquire);
        let every = u64::try_from(FORCED_REFRESH_EVERY.as_millis()).unwrap_or(u64::MAX);
        if now.saturating_sub(last) < every
            || self
                .last_forced
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return false;
        }
        let mut loads = self.loads.subscribe();
        loads.mark_unchanged();
        self.force.notify_one();
        matches!(
            tokio::time::timeout(limit, loads.changed()).await,
            Ok(Ok(()))
        )
    }
}

/// Reads and parses a JWKS file; a document with no usable signing key is an error.
pub fn read_file(path: &str) -> Result<Vec<Jwk>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: cannot be opened ({e})"))?;
    let mut text = Vec::new();
    file.take(MAX_DOCUMENT as u64 + 1)
        .read_to_end(&mut text)
        .map_err(|e| format!("{path}: cannot be read ({e})"))?;
    parse(&text).map_err(|why| format!("{path}: {why}"))
}

fn parse(text: &[u8]) -> Result<Vec<Jwk>, String> {
    if text.len() > MAX_DOCUMENT {
        return Err("larger than 1 MiB".to_owned());
    }
    let keys = jwk::parse_set(text)?;
    if keys.is_empty() {
        return Err(
            "holds no signing key the gateway can use (RSA, EC P-256/P-384, Ed25519)".to_owned(),
        );
    }
    Ok(keys)
}

/// Fetches from `url` now and then every `refresh` (sooner while no keys
/// are in force, and when a forced refresh is asked); `on_load` runs after
/// each document put in force.
pub fn spawn_fetcher(
    state: &'static JwksState,
    url: &'static str,
    (refresh, timeout): (Duration, Duration),
    ca_file: Option<&'static str>,
    on_load: impl Fn() + Send + 'static,
) {
    let client = match client(ca_file, timeout) {
        Ok(client) => client,
        Err(why) => {
            tracing::error!(event = "startup.jwks_client_failed", %why, "tokens cannot be verified");
            state.failed(why);
            return;
        }
    };
    tokio::spawn(async move {
        loop {
            match tokio::time::timeout(timeout, fetch(&client, url)).await {
                Ok(Ok(keys)) => {
                    let count = keys.len();
                    state.install(keys, url);
                    on_load();
                    tracing::info!(event = "security.jwks_fetched", url, keys = count);
                }
                Ok(Err(why)) => fetch_failed(state, url, why),
                Err(_) => fetch_failed(
                    state,
                    url,
                    format!("no answer within {} ms", timeout.as_millis()),
                ),
            }
            let wait = if state.keys().is_some() {
                refresh
            } else {
                refresh.min(RETRY_FIRST_FETCH)
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = state.force.notified() => {}
            }
        }
    });
}

fn fetch_failed(state: &JwksState, url: &str, why: String) {
    let keeping = state.keys().is_some();
    tracing::error!(event = "security.jwks_fetch_failed", url, %why, keeping_keys_in_force = keeping);
    if !keeping {
        state.failed(format!("fetching {url} failed: {why}"));
    }
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

async fn fetch(client: &HttpsClient, url: &str) -> Result<Vec<Jwk>, String> {
    let request = http::Request::get(url)
        .header(http::header::ACCEPT, "application/json")
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("{e:?}"))?;
    if response.status() != http::StatusCode::OK {
        return Err(format!("status {}", response.status()));
    }
    let body = Limited::new(response.into_body(), MAX_DOCUMENT)
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?
        .to_bytes();
    parse(&body)
}

/// An https-only client trusting `ca_file`'s CAs, or the web PKI roots.
fn client(ca_file: Option<&str>, timeout: Duration) -> Result<HttpsClient, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match ca_file {
        None => builder
            .with_provider_and_webpki_roots(provider)
            .map_err(|e| format!("TLS setup failed: {e}"))?,
        Some(path) => {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject as _;
            let mut roots = rustls::RootCertStore::empty();
            let certs =
                CertificateDer::pem_file_iter(path).map_err(|e| format!("CA file {path}: {e}"))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("CA file {path}: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("CA file {path}: {e}"))?;
            }
            if roots.is_empty() {
                return Err(format!("CA file {path} holds no certificate"));
            }
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS setup failed: {e}"))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            builder.with_tls_config(config)
        }
    };
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(timeout));
    let https = builder.https_only().enable_http1().wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// Milliseconds since the Unix epoch.
fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
#[path = "jwks_tests.rs"]
mod tests;
