//! The shared store's connection and health: parsing the URL, the background
//! task that makes the first connection (retrying with capped backoff), the
//! wrapper that bounds every round trip with the timeout and turns redis
//! errors into `StoreError`s without secrets, and replacing a connection that
//! keeps failing without noticing it is dead (a peer that vanished without a
//! reset). Not the script or the quota arithmetic (`quota.lua`).
//!
//! After the first connection, `redis::aio::ConnectionManager` reconnects by
//! itself when a call finds the connection dropped.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwapOption;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ErrorKind, FromRedisValue, RedisError, ScriptInvocation};

use super::{StoreError, StoreStatus};

/// First delay between connection attempts; doubles up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Retries inside one (re)connection of the manager (jittered, capped at 1 s).
const MANAGER_RETRIES: usize = 3;
/// Consecutive failed calls after which the connection is replaced by a new
/// one, at most once per `REPLACE_EVERY`.
const REPLACE_AFTER: u32 = 3;
const REPLACE_EVERY: Duration = Duration::from_secs(1);
const URL_FORM: &str = "expected redis://[[user]:password@]host[:port][/db]";

pub(super) struct Inner {
    address: Box<str>,
    timeout: Duration,
    client: Client,
    config: ConnectionManagerConfig,
    connection: ArcSwapOption<ConnectionManager>,
    health: Health,
    born: Instant,
    /// Milliseconds after `born` of the last replacement; 0: none yet.
    replaced_ms: AtomicU64,
}

/// Shared by every call: atomics plus the last error, written on failures only.
#[derive(Default)]
struct Health {
    up: AtomicBool,
    errors: AtomicU64,
    consecutive: AtomicU32,
    last: ArcSwapOption<(String, SystemTime)>,
}

impl Inner {
    /// Parses `url` and spawns the connecting task on the current tokio runtime.
    pub(super) fn start(url: &str, timeout: Duration) -> Result<Arc<Inner>, StoreError> {
        let client = parse(url)?;
        let address: Box<str> = client.get_connection_info().addr().to_string().into();
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            StoreError::Unreachable(format!(
                "shared quota store {address}: SharedStore::new must be called inside a tokio runtime"
            ))
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout.max(Duration::from_secs(1))))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(MANAGER_RETRIES)
            .set_min_delay(FIRST_BACKOFF)
            .set_max_delay(Duration::from_secs(1));
        let inner = Arc::new(Inner {
            address,
            timeout,
            client,
            config,
            connection: ArcSwapOption::empty(),
            health: Health::default(),
            born: Instant::now(),
            replaced_ms: AtomicU64::new(0),
        });
        runtime.spawn(connect(Arc::downgrade(&inner)));
        Ok(inner)
    }

    pub(super) fn address(&self) -> &str {
        &self.address
    }

    pub(super) fn status(&self) -> StoreStatus {
        let last = self.health.last.load_full();
        StoreStatus {
            up: self.health.up.load(Relaxed),
            last_error: last.as_ref().map(|last| last.0.clone()),
            last_error_at: last.as_ref().map(|last| last.1),
            errors: self.health.errors.load(Relaxed),
        }
    }

    /// One round trip of `call`, bounded by the timeout.
    pub(super) async fn run<T: FromRedisValue>(
        &self,
        call: &ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        let Some(mut connection) = self.connection.load().as_deref().cloned() else {
            self.health.errors.fetch_add(1, Relaxed);
            let last = self.health.last.load();
            let why = last.as_deref().map_or("no attempt finished yet", |last| {
                // The address is said once: "Redis at <address>: " comes off.
                let tail = last.0.strip_prefix("Redis at ");
                let tail = tail.and_then(|t| t.strip_prefix(&*self.address));
                tail.and_then(|t| t.strip_prefix(": ")).unwrap_or(&last.0)
            });
            let text = format!("not connected yet: {}: {why}", self.address);
            return Err(StoreError::Unreachable(text));
        };
        match tokio::time::timeout(self.timeout, call.invoke_async(&mut connection)).await {
            Ok(Ok(value)) => {
                self.health.succeeded(&self.address);
                Ok(value)
            }
            Ok(Err(error)) => Err(self.failed(self.classify(&error))),
            Err(_) => Err(self.failed(StoreError::Timeout)),
        }
    }

    /// Records a failed call (replacing the connection when they keep failing).
    pub(super) fn failed(&self, error: StoreError) -> StoreError {
        let text = match &error {
            StoreError::Timeout => format!(
                "Redis at {}: no answer within {} ms",
                self.address,
                self.timeout.as_millis()
            ),
            other => other.to_string(),
        };
        let consecutive = self.health.failed(text, &self.address);
        if !matches!(error, StoreError::Script(_)) && consecutive >= REPLACE_AFTER {
            self.replace();
        }
        error
    }

    /// Server-side errors are `Script`, the response timeout is `Timeout`;
    /// everything else means no usable connection.
    fn classify(&self, error: &RedisError) -> StoreError {
        if error.is_timeout() {
            return StoreError::Timeout;
        }
        let text = self.scrub(error.to_string());
        match error.kind() {
            ErrorKind::Server(_) | ErrorKind::UnexpectedReturnType | ErrorKind::Extension => {
                StoreError::Script(text)
            }
            _ => StoreError::Unreachable(format!("Redis at {}: {text}", self.address)),
        }
    }

    /// Belt and braces: redis errors do not quote the password, but if one did
    /// it would not get further.
    fn scrub(&self, text: String) -> String {
        match self
            .client
            .get_connection_info()
            .redis_settings()
            .password()
        {
            Some(password) if !password.is_empty() && text.contains(password) => {
                text.replace(password, "***")
            }
            _ => text,
        }
    }

    /// A new, lazily connecting manager in place of the current one, at most
    /// once per `REPLACE_EVERY`: the manager only reconnects on errors it
    /// sees, and a connection to a host that vanished only ever times out.
    fn replace(&self) {
        let now = u64::try_from(self.born.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let last = self.replaced_ms.load(Relaxed);
        let every = u64::try_from(REPLACE_EVERY.as_millis()).unwrap_or(u64::MAX);
        if last != 0 && now.saturating_sub(last) < every {
            return;
        }
        if self
            .replaced_ms
            .compare_exchange(last, now, Relaxed, Relaxed)
            .is_err()
        {
            return;
        }
        match ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone()) {
            Ok(manager) => {
                self.connection.store(Some(Arc::new(manager)));
                self.health.consecutive.store(0, Relaxed);
                tracing::debug!(event = "quota_store.reconnect", address = &*self.address);
            }
            Err(error) => tracing::debug!(
                event = "quota_store.reconnect",
                address = &*self.address,
                error = self.scrub(error.to_string()),
            ),
        }
    }
}

impl Health {
    /// Cheap when already up: reads, no writes.
    fn succeeded(&self, address: &str) {
        if self.consecutive.load(Relaxed) != 0 {
            self.consecutive.store(0, Relaxed);
        }
        if !self.up.load(Relaxed) && !self.up.swap(true, Relaxed) {
            tracing::info!(event = "quota_store.up", address);
        }
    }

    /// Returns the number of consecutive failures, this one included.
    fn failed(&self, text: String, address: &str) -> u32 {
        self.errors.fetch_add(1, Relaxed);
        if self.up.swap(false, Relaxed) {
            tracing::warn!(event = "quota_store.down", address, error = text.as_str());
        }
        self.last.store(Some(Arc::new((text, SystemTime::now()))));
        self.consecutive.fetch_add(1, Relaxed).saturating_add(1)
    }
}

/// The first connection: attempts with doubling delays (capped) until one
/// succeeds or the store is dropped.
async fn connect(inner: Weak<Inner>) {
    let mut delay = FIRST_BACKOFF;
    for attempt in 1u64.. {
        let Some(store) = inner.upgrade() else { return };
        let manager =
            ConnectionManager::new_with_config(store.client.clone(), store.config.clone());
        let text = match tokio::time::timeout(MAX_BACKOFF * 2, manager).await {
            Ok(Ok(manager)) => {
                store.connection.store(Some(Arc::new(manager)));
                store.health.succeeded(&store.address);
                return;
            }
            Ok(Err(error)) => store.scrub(error.to_string()),
            Err(_) => format!("no connection within {} s", (MAX_BACKOFF * 2).as_secs()),
        };
        let text = format!("Redis at {}: {text}", store.address);
        if attempt == 1 {
            tracing::warn!(
                event = "quota_store.connect",
                address = &*store.address,
                error = text.as_str()
            );
        }
        store.health.failed(text, &store.address);
        drop(store);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_BACKOFF);
    }
}

/// A `redis://` (or `valkey://`) URL; errors say what is wrong, never the password.
fn parse(url: &str) -> Result<Client, StoreError> {
    let invalid =
        |what: &str| StoreError::Unreachable(format!("invalid Redis URL: {what}; {URL_FORM}"));
    let Some((scheme, _)) = url.split_once("://") else {
        return Err(invalid("no scheme"));
    };
    match scheme {
        "redis" | "valkey" => {}
        "rediss" | "valkeys" => {
            return Err(invalid("TLS (rediss://) is not supported by this build"));
        }
        // Named only when it cannot be a misplaced credential.
        other if other.len() <= 10 && other.bytes().all(|b| b.is_ascii_lowercase()) => {
            return Err(invalid(&format!("scheme `{other}` is not redis")));
        }
        _ => return Err(invalid("the scheme is not redis")),
    }
    if redis::parse_redis_url(url).is_none() {
        return Err(invalid(
            "not a valid URL (a password with reserved characters must be percent-encoded)",
        ));
    }
    Client::open(url).map_err(|error| {
        let what = error.to_string();
        invalid(what.split(" - ").next().unwrap_or(&what))
    })
}
