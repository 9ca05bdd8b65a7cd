//! The drain deadline as long-lived response bodies see it.
//!
//! When `server.drain_timeout` runs out with streams still open, the listener
//! calls [`DrainSignal::expire`]; every stream that registered with
//! [`DrainSignal::watch`] wakes, ends with an explicit SSE error event and logs
//! `reason=drain_timeout`, instead of being cut silently when the process
//! exits. A leaf: it names nothing above it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// Set once, when the drain timeout expires.
#[derive(Default)]
pub struct DrainSignal {
    expired: AtomicBool,
    notify: Notify,
}

impl DrainSignal {
    /// Wakes every registered watcher; later watchers see it at once.
    pub fn expire(&self) {
        self.expired.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    pub fn is_expired(&self) -> bool {
        self.expired.load(Ordering::Acquire)
    }

    /// A registration to poll from a body; created before any `expire` it must see.
    pub fn watch(&'static self) -> DrainWatch {
        DrainWatch {
            signal: self,
            notified: Box::pin(self.notify.notified()),
        }
    }
}

/// One body's registration with the [`DrainSignal`].
pub struct DrainWatch {
    signal: &'static DrainSignal,
    notified: Pin<Box<Notified<'static>>>,
}

impl DrainWatch {
    /// Ready once the drain deadline has passed.
    pub fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.is_expired() {
            return Poll::Ready(());
        }
        self.notified.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn watchers_created_before_expiry_wake() {
        let signal: &'static DrainSignal = Box::leak(Box::default());
        let mut watch = signal.watch();
        let waiter =
            tokio::spawn(async move { std::future::poll_fn(|cx| watch.poll_expired(cx)).await });
        tokio::task::yield_now().await;
        signal.expire();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
        let mut late = signal.watch();
        assert!(
            std::future::poll_fn(|cx| Poll::Ready(late.poll_expired(cx)))
                .await
                .is_ready()
        );
    }
}
