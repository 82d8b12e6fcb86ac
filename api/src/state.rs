//! The state shared by the handlers and the workers: configuration, database pool, chain and
//! Stripe clients, token signer, key custody, the content node and the receipts' mailer. `startup` builds it;
//! everything above the clients (extractors, jobs, masters, routes) reads it through
//! [`AppState`]'s accessors.

use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tangible_crypto::envelope::Kek;

use crate::auth::TokenSigner;
use crate::chain::ChainClient;
use crate::config::Config;
use crate::content::ContentNode;
use crate::keys::{ReleaseLog, SealedKeyCache};
use crate::receipts::Mailer;
use crate::stripe::StripeGateway;
use crate::throttle::Budgets;

/// Shared state of the handlers and workers.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    parts: StateParts,
    /// The pool of the signed orders' locks (`routes::order_lock`), apart from `parts.db`.
    order_locks: PgPool,
    /// The tasks sending signed orders, each owning its account's lock: shutdown waits for
    /// them within its grace period.
    order_tasks: tokio_util::task::TaskTracker,
    job_wakeup: tokio::sync::Notify,
    sealed_keys: SealedKeyCache,
    budgets: Arc<Budgets>,
}

/// Signed orders sent at once, across accounts (each holds a connection of its own pool until
/// its transaction is mined; the operator's sender sends one transaction at a time anyway).
const ORDER_LOCK_CONNECTIONS: u32 = 8;

/// What [`AppState::new`] is built from (the rest starts empty).
#[derive(Debug)]
pub(crate) struct StateParts {
    pub(crate) config: Config,
    pub(crate) db: PgPool,
    pub(crate) chain: ChainClient,
    pub(crate) stripe: StripeGateway,
    pub(crate) tokens: TokenSigner,
    pub(crate) metrics: PrometheusHandle,
    pub(crate) kek: Option<Kek>,
    pub(crate) attestation: Option<PrivateKeySigner>,
    pub(crate) content: Option<Arc<ContentNode>>,
    pub(crate) releases: ReleaseLog,
    pub(crate) mailer: Option<Mailer>,
}

impl AppState {
    /// The state of `parts`, with an empty sealed-key cache, no worker waiting, and the full
    /// budgets of its configuration.
    pub(crate) fn new(parts: StateParts) -> Self {
        // Lazy: no connection until an order comes; the main pool's options (same database).
        let order_locks = sqlx::postgres::PgPoolOptions::new()
            .max_connections(ORDER_LOCK_CONNECTIONS)
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect_lazy_with((*parts.db.connect_options()).clone());
        Self {
            inner: Arc::new(Inner {
                order_locks,
                order_tasks: tokio_util::task::TaskTracker::new(),
                budgets: Arc::new(Budgets::new(&parts.config)),
                parts,
                sealed_keys: SealedKeyCache::default(),
                job_wakeup: tokio::sync::Notify::new(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.parts.config
    }
    /// The database pool.
    pub fn db(&self) -> &PgPool {
        &self.inner.parts.db
    }
    /// The pool holding the signed orders' locks, one connection per order being sent.
    pub(crate) fn order_locks(&self) -> &PgPool {
        &self.inner.order_locks
    }
    /// The tasks sending signed orders (see `Inner::order_tasks`).
    pub(crate) fn order_tasks(&self) -> &tokio_util::task::TaskTracker {
        &self.inner.order_tasks
    }
    /// The chain client.
    pub fn chain(&self) -> &ChainClient {
        &self.inner.parts.chain
    }
    /// The Stripe client.
    pub fn stripe(&self) -> &StripeGateway {
        &self.inner.parts.stripe
    }
    /// The token signer.
    pub fn tokens(&self) -> &TokenSigner {
        &self.inner.parts.tokens
    }
    /// The key-encryption key of edition keys, when configured.
    pub fn kek(&self) -> Option<&Kek> {
        self.inner.parts.kek.as_ref()
    }
    /// The attestation key signing certificates, when configured.
    pub fn attestation(&self) -> Option<&PrivateKeySigner> {
        self.inner.parts.attestation.as_ref()
    }
    /// The content node (store, P2P provider), when `content_dir` is configured.
    pub fn content(&self) -> Option<&Arc<ContentNode>> {
        self.inner.parts.content.as_ref()
    }
    /// Wakes an idle local worker (a job was queued); other instances find it at their next poll.
    pub fn wake_workers(&self) {
        self.inner.job_wakeup.notify_one();
    }
    /// Resolves when [`AppState::wake_workers`] is called.
    pub fn job_wakeup(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.job_wakeup.notified()
    }
    /// Sealed edition keys read so far (see [`SealedKeyCache`]).
    pub fn sealed_keys(&self) -> &SealedKeyCache {
        &self.inner.sealed_keys
    }
    /// The key-release recorder (batched, durable before a key is returned).
    pub fn releases(&self) -> &ReleaseLog {
        &self.inner.parts.releases
    }
    /// The budgets of what costs the platform money (PaymentIntents, card attempts, operator
    /// transactions, Stripe reads), shared by every client of this instance.
    pub fn budgets(&self) -> &Arc<Budgets> {
        &self.inner.budgets
    }
    /// The SMTP mailer of the purchase receipts, when `smtp_url` is configured.
    pub fn mailer(&self) -> Option<&Mailer> {
        self.inner.parts.mailer.as_ref()
    }
    /// The Prometheus handle.
    pub fn metrics(&self) -> &PrometheusHandle {
        &self.inner.parts.metrics
    }
}
