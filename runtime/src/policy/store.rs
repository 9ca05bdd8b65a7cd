//! The shared (Redis) side of admission: every shared quota of a request in
//! one script call, the store's answers judged (a refusal gives back what
//! was taken), the compiled fail-open/closed choice when Redis cannot
//! answer, corrections sent after the answer, and the store's state for
//! `/health`.

use std::time::UNIX_EPOCH;

use super::shared::{self, SharedStore};
use super::ticket::{self, Taken, Ticket};
use super::{Quotas, exhausted, gcra, limited};
use crate::error::GatewayError;
use crate::table::Store;

impl Quotas {
    /// Every shared limit and budget in one script call; on a store error,
    /// each one's compiled choice (open admits uncounted, closed refuses).
    pub(super) async fn check_shared(
        &'static self,
        ticket: &mut Ticket,
    ) -> Result<(), GatewayError> {
        let Some(store) = &self.shared else {
            return self.store_failed(ticket, "no Redis URL was configured at startup".into());
        };
        let ops: Vec<shared::Op<'_>> = ticket.shared().filter_map(Taken::op).collect();
        let outcomes = store.check(&ops).await;
        drop(ops);
        match outcomes {
            Ok(outcomes) => self.judge_shared(ticket, &outcomes),
            Err(error) => self.store_failed(ticket, error.to_string()),
        }
    }

    /// The store's answers: all admitted, or the first refusal (nothing
    /// was committed there; the local takes are undone).
    fn judge_shared(
        &self,
        ticket: &mut Ticket,
        outcomes: &[shared::Outcome],
    ) -> Result<(), GatewayError> {
        ticket.record_shared(outcomes);
        let quotas = &self.config.quotas;
        let refused = ticket
            .shared()
            .zip(outcomes)
            .find(|(_, outcome)| !outcome.allowed);
        let Some((taken, outcome)) = refused else {
            return Ok(());
        };
        let error = match taken {
            Taken::SharedBucket {
                limit, unit, rate, ..
            } => {
                self.counters.limited(*limit, *unit);
                let name = quotas.limits.get(*limit).map_or("", |l| l.name);
                let verdict = gcra::Verdict {
                    allowed: false,
                    remaining: outcome.remaining,
                    reset_ns: outcome.reset_ns,
                    retry_after_ns: outcome.retry_after_ns,
                };
                limited(name, *unit, *rate, verdict)
            }
            Taken::SharedSpend { budget, ttl, .. } => {
                self.counters.exhausted(*budget);
                match quotas.budgets.get(*budget) {
                    Some(b) => exhausted(b, *ttl),
                    None => GatewayError::QuotaStoreUnavailable("budget table mismatch".into()),
                }
            }
            _ => return Ok(()),
        };
        ticket.drop_shared();
        Err(error)
    }

    /// Redis could not answer: refuse if any shared quota of this request
    /// is fail-closed, else admit it uncounted there.
    fn store_failed(&self, ticket: &mut Ticket, detail: String) -> Result<(), GatewayError> {
        let closed = ticket.shared().any(|taken| !self.fails_open(taken));
        self.counters.store_error(closed);
        tracing::warn!(event = "quota.store_error", detail = %detail, refused = closed);
        ticket.drop_shared();
        if closed {
            return Err(GatewayError::QuotaStoreUnavailable(detail));
        }
        Ok(())
    }

    fn fails_open(&self, taken: &Taken) -> bool {
        let quotas = &self.config.quotas;
        let store = match taken {
            Taken::SharedBucket { limit, .. } => quotas.limits.get(*limit).map(|l| l.store),
            Taken::SharedSpend { budget, .. } => quotas.budgets.get(*budget).map(|b| b.store),
            _ => None,
        };
        matches!(store, Some(Store::Redis { fail_open: true }))
    }

    /// Sends shared corrections in one script call, off the request path.
    pub(super) fn settle_shared(&'static self, corrections: Vec<ticket::SharedCorrection>) {
        let Some(store) = &self.shared else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let adjustments: Vec<shared::Adjust<'_>> =
                corrections.iter().map(ticket::adjustment).collect();
            if let Err(error) = store.settle(&adjustments).await {
                tracing::warn!(event = "quota.settle_failed", detail = %error);
            }
        });
    }

    /// The shared store for `/health`: where, up or down, the last error,
    /// and what each shared limit and budget does when it is unreachable
    /// (`null` without a Redis store).
    pub fn health(&self) -> serde_json::Value {
        let Some(redis) = &self.config.quotas.redis else {
            return serde_json::Value::Null;
        };
        let choice = |store: Store| match store {
            Store::Redis { fail_open: true } => Some("open"),
            Store::Redis { fail_open: false } => Some("closed"),
            Store::Local => None,
        };
        let quotas = &self.config.quotas;
        let limits: serde_json::Map<String, serde_json::Value> = quotas
            .limits
            .iter()
            .filter_map(|l| Some((l.name.to_owned(), choice(l.store)?.into())))
            .collect();
        let budgets: serde_json::Map<String, serde_json::Value> = quotas
            .budgets
            .iter()
            .filter_map(|b| Some((b.name.to_owned(), choice(b.store)?.into())))
            .collect();
        let status = self.shared.as_ref().map(SharedStore::status);
        let since = |at: std::time::SystemTime| {
            crate::calendar::rfc3339(at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
        };
        serde_json::json!({
            "kind": "redis",
            "url_env": redis.url_env,
            "address": self.shared.as_ref().map(SharedStore::address),
            "up": status.as_ref().is_some_and(|s| s.up),
            "errors": status.as_ref().map_or(0, |s| s.errors),
            "last_error": status.as_ref().and_then(|s| s.last_error.clone()),
            "last_error_at": status.as_ref().and_then(|s| s.last_error_at).map(since),
            "on_store_error": { "limits": limits, "budgets": budgets },
        })
    }
}
