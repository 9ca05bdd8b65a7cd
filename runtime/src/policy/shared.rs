//! The shared quota store: rate limits (GCRA) and budgets kept in Redis so
//! that several gateway replicas share them exactly.
//!
//! One call is one round trip: `EVALSHA` of `shared/quota.lua` (`EVAL` when
//! Redis does not know the script yet), checked against Redis' own clock and
//! all-or-nothing over the ops. This is not the quota logic: the caller (the
//! quota module) builds the keys, picks the store and decides fail-open or
//! fail-closed when this returns an error. Connecting happens in the
//! background (`shared/connect.rs`): startup never waits on Redis.

mod connect;
#[cfg(test)]
mod proxy;
/// The launcher the black-box tests use too (one copy, in tests/support).
#[cfg(test)]
#[path = "../../../tests/support/redis.rs"]
mod server;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use redis::Script;

use connect::Inner;

/// The Redis store. Cheap to share behind an `Arc`; every call is bounded by
/// the timeout given to [`SharedStore::new`].
pub struct SharedStore {
    inner: Arc<Inner>,
    script: Script,
}

/// One quota checked by [`SharedStore::check`].
#[derive(Clone, Copy, Debug)]
pub enum Op<'a> {
    /// GCRA over `capacity` units refilled at one unit per `emission_ns`
    /// nanoseconds; `cost` units now (cost may be 0: a read).
    Gcra {
        key: &'a str,
        capacity: u64,
        emission_ns: u64,
        cost: u64,
    },
    /// A budget in micro-USD for one period: admitted while spent < limit
    /// (the request that crosses the limit is admitted, so overspend is at
    /// most one request); then spent += cost. The key expires after `ttl_s`.
    Budget {
        key: &'a str,
        limit: u64,
        cost: u64,
        ttl_s: u64,
    },
}

/// The answer for one [`Op`], in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub allowed: bool,
    /// Gcra: whole units left after this op (0 when denied); Budget: limit -
    /// spent after this op, saturating at 0.
    pub remaining: u64,
    /// Gcra: ns until the bucket is full again; Budget: 0.
    pub reset_ns: u64,
    /// When denied (Gcra): ns until `cost` units would be admitted; Budget
    /// denied: 0 (the caller knows the period end). 0 when allowed.
    pub retry_after_ns: u64,
}

/// A correction applied by [`SharedStore::settle`] once the real cost is known.
#[derive(Clone, Copy, Debug)]
pub enum Adjust<'a> {
    /// Positive delta charges more units, negative refunds (a refund never
    /// moves the state below "now": no credit beyond a full bucket). An
    /// absent key (a full bucket) is left alone.
    Gcra {
        key: &'a str,
        emission_ns: u64,
        delta: i64,
    },
    /// spent += delta; spent never goes below 0, and an absent key is created
    /// (expiring after `ttl_s`) only by a charge.
    Budget {
        key: &'a str,
        delta: i64,
        ttl_s: u64,
    },
}

/// Why a call failed; the text never holds the URL's password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// Not connected (yet), connection lost or refused, or a bad URL.
    Unreachable(String),
    /// No answer within the store's timeout (the ops may still have been
    /// committed: Redis may have run the script).
    Timeout,
    /// Redis answered with an error (the script failed, a key holds
    /// something else, Redis is busy or read-only).
    Script(String),
}

/// What `/health` and the metrics show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreStatus {
    /// Whether the last operation (or connection attempt) succeeded; an
    /// error reply from Redis (read-only replica, out of memory, a key of
    /// another type) counts as a failure too.
    pub up: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<SystemTime>,
    /// Failed operations and connection attempts since start.
    pub errors: u64,
}

impl SharedStore {
    /// Never blocks and never waits on Redis: connects in a background task
    /// (retrying with capped backoff) and reconnects after failures, so it
    /// must be called inside a tokio runtime (it spawns). `url` is
    /// `redis://[[user]:password@]host[:port][/db]`. Errs (as
    /// `Unreachable`, saying what is wrong, without the password) only when
    /// the URL does not parse or there is no tokio runtime.
    pub fn new(url: &str, timeout: Duration) -> Result<SharedStore, StoreError> {
        let inner = Inner::start(url, timeout)?;
        let script = Script::new(include_str!("shared/quota.lua"));
        Ok(SharedStore { inner, script })
    }

    /// Checks every op in one round trip; either all are admitted and
    /// committed, or none is committed (each outcome then reports the state
    /// as it is). Bounded by the timeout.
    pub async fn check(&self, ops: &[Op<'_>]) -> Result<Vec<Outcome>, StoreError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let mut call = self.script.prepare_invoke();
        call.arg("check");
        for op in ops {
            let (key, args) = match *op {
                Op::Gcra {
                    key,
                    capacity,
                    emission_ns,
                    cost,
                } => (key, [1, capacity, emission_ns, cost]),
                Op::Budget {
                    key,
                    limit,
                    cost,
                    ttl_s,
                } => (key, [2, limit, cost, ttl_s]),
            };
            call.key(key).arg(&args);
        }
        let values: Vec<i64> = self.inner.run(&call).await?;
        outcomes(&values, ops.len()).ok_or_else(|| {
            let text = format!(
                "quota.lua returned {} values for {} ops",
                values.len(),
                ops.len()
            );
            self.inner.failed(StoreError::Script(text))
        })
    }

    /// Applies real-minus-reserved adjustments in one round trip. Bounded by
    /// the timeout.
    pub async fn settle(&self, adjustments: &[Adjust<'_>]) -> Result<(), StoreError> {
        if adjustments.is_empty() {
            return Ok(());
        }
        let mut call = self.script.prepare_invoke();
        call.arg("settle");
        for adjustment in adjustments {
            let (key, args) = match *adjustment {
                Adjust::Gcra {
                    key,
                    emission_ns,
                    delta,
                } => (key, [1, clamp(emission_ns), delta, 0]),
                Adjust::Budget { key, delta, ttl_s } => (key, [2, delta, clamp(ttl_s), 0]),
            };
            call.key(key).arg(&args);
        }
        self.inner.run::<()>(&call).await
    }

    /// Up or down, the last error and when, the error count.
    pub fn status(&self) -> StoreStatus {
        self.inner.status()
    }

    /// `host:port` of the Redis server (never the password).
    pub fn address(&self) -> &str {
        self.inner.address()
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unreachable(what) => f.write_str(what),
            StoreError::Timeout => f.write_str("shared quota store: Redis did not answer in time"),
            StoreError::Script(what) => write!(f, "shared quota store: Redis error: {what}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedStore")
            .field("address", &self.address())
            .finish()
    }
}

/// Four integers per op, as quota.lua returns them; None when the count is off.
fn outcomes(values: &[i64], ops: usize) -> Option<Vec<Outcome>> {
    if values.len() != ops * 4 {
        return None;
    }
    let unsigned = |v: i64| u64::try_from(v).unwrap_or(0);
    let outcomes = values.chunks_exact(4).map(|v| Outcome {
        allowed: v[0] == 1,
        remaining: unsigned(v[1]),
        reset_ns: unsigned(v[2]),
        retry_after_ns: unsigned(v[3]),
    });
    Some(outcomes.collect())
}

/// u64 arguments beside an i64 delta (Lua numbers are doubles: both are far
/// beyond what a quota uses).
fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
