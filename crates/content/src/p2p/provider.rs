//! The serving side: a [`Provider`] answers iroh-blobs requests for the files of a
//! [`ContentStore`], with an optional upload cap and an optional set of files it serves
//! ([`ServeSet`]).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use iroh::{
    Endpoint,
    endpoint::{Builder, Connection},
    protocol::{AcceptError, ProtocolHandler, Router},
};
use iroh_blobs::{api::Store, provider::events::EventSender};
use tracing::{debug, info};

use super::{ContentTicket, ProviderAddr, TARGET};
use crate::{
    error::{ContentError, Result},
    hash::ContentHash,
    store::ContentStore,
};

/// The iroh-blobs protocol handler, minus `BlobsProtocol`'s habit of shutting the store down
/// when the router stops: the store outlives the provider (the HTTP fallback still serves it).
#[derive(Debug, Clone)]
struct BlobsHandler {
    store: Store,
    events: EventSender,
}

/// How far ahead of its slot a chunk group may go (the timer's resolution is 1 ms).
const GATE_SLACK: Duration = Duration::from_millis(2);
/// What a request is charged when it arrives: one chunk group.
const CHUNK_GROUP: u64 = 16 * 1024;

/// The provider's event sink when uploads are counted or capped, or only some files served.
///
/// - Cap: iroh-blobs reports each chunk group (usually 16 KiB) as it sends it and waits for the
///   answer before the next; the answer is delayed so that the bytes sent stay at the cap, all
///   requests together (a shared schedule: each chunk group is sent no earlier than the previous
///   one's slot plus its size divided by the rate). A request is charged one chunk group when it
///   arrives, before anything is sent, so that many small requests cannot take their first
///   groups past the cap.
/// - Serving only a set of files: get and observe requests for any other hash are refused
///   (`Permission`), get-many requests are refused.
fn provider_events(options: &ProviderOptions, uploaded: Arc<AtomicU64>) -> EventSender {
    use iroh_blobs::provider::events::{
        AbortReason, EventMask, ObserveMode, ProviderMessage, RequestMode, ThrottleMode,
    };
    let restricted = options.serve_only.clone();
    let rate = options.max_upload_bytes_per_sec.filter(|r| *r > 0);
    let mask = EventMask {
        throttle: ThrottleMode::Intercept,
        get: if restricted.is_some() || rate.is_some() {
            RequestMode::Intercept
        } else {
            RequestMode::None
        },
        get_many: if restricted.is_some() {
            RequestMode::Disabled
        } else {
            RequestMode::None
        },
        observe: if restricted.is_some() {
            ObserveMode::Intercept
        } else {
            ObserveMode::None
        },
        ..EventMask::DEFAULT
    };
    let (sender, mut rx) = EventSender::channel(256, mask);
    let allowed = move |hash: &iroh_blobs::Hash| {
        restricted
            .as_ref()
            .is_none_or(|set| set.contains(ContentHash::from(*hash)))
    };
    tokio::spawn(async move {
        let mut next_slot = tokio::time::Instant::now();
        // When a chunk group of `size` bytes may go: now, or its slot on the shared schedule.
        let mut slot = |size: u64| {
            let now = tokio::time::Instant::now();
            let rate = rate?;
            // No credit is saved up while idle: the schedule restarts from now.
            let start = next_slot.max(now);
            next_slot = start + Duration::from_secs_f64(size as f64 / rate as f64);
            // Within the timer's resolution, answer at once: one stream is not held to one chunk
            // group per timer tick, below the cap.
            (start > now + GATE_SLACK).then_some(start)
        };
        while let Some(msg) = rx.recv().await {
            match msg {
                ProviderMessage::Throttle(msg) => {
                    let size = msg.inner.size;
                    uploaded.fetch_add(size, Ordering::Relaxed);
                    answer_at(slot(size), async move {
                        msg.tx.send(Ok(())).await.ok();
                    })
                    .await;
                }
                ProviderMessage::GetRequestReceived(msg) => {
                    if !allowed(&msg.inner.request.hash) {
                        msg.tx.send(Err(AbortReason::Permission)).await.ok();
                        continue;
                    }
                    answer_at(slot(CHUNK_GROUP), async move {
                        msg.tx.send(Ok(())).await.ok();
                    })
                    .await;
                }
                ProviderMessage::ObserveRequestReceived(msg) => {
                    let answer = if allowed(&msg.inner.request.hash) {
                        Ok(())
                    } else {
                        Err(AbortReason::Permission)
                    };
                    msg.tx.send(answer).await.ok();
                }
                _ => {}
            }
        }
    });
    sender
}

/// Runs `answer` now, or at `at` (without holding up the other events meanwhile).
async fn answer_at(
    at: Option<tokio::time::Instant>,
    answer: impl std::future::Future<Output = ()> + Send + 'static,
) {
    match at {
        None => answer.await,
        Some(at) => {
            tokio::spawn(async move {
                tokio::time::sleep_until(at).await;
                answer.await;
            });
        }
    }
}

/// The files a [`Provider`] may serve, when it serves only some of its store's (shared: add and
/// remove while it runs).
#[derive(Debug, Clone, Default)]
pub struct ServeSet(Arc<std::sync::RwLock<std::collections::HashSet<ContentHash>>>);

impl ServeSet {
    /// Serve `hash` from now on.
    pub fn insert(&self, hash: ContentHash) {
        if let Ok(mut set) = self.0.write() {
            set.insert(hash);
        }
    }

    /// Stop serving `hash` (requests already answered finish).
    pub fn remove(&self, hash: ContentHash) {
        if let Ok(mut set) = self.0.write() {
            set.remove(&hash);
        }
    }

    /// Whether `hash` is served.
    pub fn contains(&self, hash: ContentHash) -> bool {
        self.0.read().is_ok_and(|set| set.contains(&hash))
    }
}

impl ProtocolHandler for BlobsHandler {
    async fn accept(&self, connection: Connection) -> std::result::Result<(), AcceptError> {
        let remote = connection.remote_id();
        debug!(target: TARGET, %remote, "blobs connection accepted");
        iroh_blobs::provider::handle_connection(
            connection,
            self.store.clone(),
            self.events.clone(),
        )
        .await;
        Ok(())
    }
}

/// How a [`Provider`] serves.
#[derive(Debug, Clone, Default)]
pub struct ProviderOptions {
    /// Upload cap in bytes per second, all connections together (`None`: unlimited).
    pub max_upload_bytes_per_sec: Option<u64>,
    /// Count the bytes uploaded ([`Provider::uploaded`]) even without a cap.
    pub count_upload: bool,
    /// Serve only these files (`None`: every file of the store). A client serves the films it
    /// holds a licence for, not what its store keeps until garbage collection.
    pub serve_only: Option<ServeSet>,
}

/// Serves the files of a [`ContentStore`] over iroh.
#[derive(Debug)]
pub struct Provider {
    router: Router,
    uploaded: Arc<AtomicU64>,
}

impl Provider {
    /// Binds an endpoint from `builder` and starts serving `store`, without an upload cap.
    pub async fn spawn(store: &ContentStore, builder: Builder) -> Result<Self> {
        Self::spawn_with(store, builder, ProviderOptions::default()).await
    }

    /// Binds an endpoint from `builder` and starts serving `store` as `options` say.
    pub async fn spawn_with(
        store: &ContentStore,
        builder: Builder,
        options: ProviderOptions,
    ) -> Result<Self> {
        let endpoint = builder
            .alpns(vec![iroh_blobs::ALPN.to_vec()])
            .bind()
            .await
            .map_err(|e| ContentError::Bind {
                source: Box::new(e),
            })?;
        let uploaded = Arc::new(AtomicU64::new(0));
        let events = if options.max_upload_bytes_per_sec.is_some()
            || options.count_upload
            || options.serve_only.is_some()
        {
            provider_events(&options, uploaded.clone())
        } else {
            EventSender::DEFAULT
        };
        let handler = BlobsHandler {
            store: store.blobs_store().clone(),
            events,
        };
        let router = Router::builder(endpoint)
            .accept(iroh_blobs::ALPN, handler)
            .spawn();
        let provider = Self { router, uploaded };
        info!(
            target: TARGET,
            addr = %provider.addr(),
            max_upload_bytes_per_sec = ?options.max_upload_bytes_per_sec,
            restricted = options.serve_only.is_some(),
            "provider started"
        );
        Ok(provider)
    }

    /// Payload bytes sent so far, when counting or capping (0 otherwise).
    pub fn uploaded(&self) -> u64 {
        self.uploaded.load(Ordering::Relaxed)
    }

    /// The provider's address, to hand to clients.
    pub fn addr(&self) -> ProviderAddr {
        ProviderAddr(self.router.endpoint().addr())
    }

    /// A ticket for one hash served by this provider.
    pub fn ticket(&self, hash: ContentHash) -> ContentTicket {
        ContentTicket {
            provider: self.addr(),
            hash,
        }
    }

    /// The underlying endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        self.router.endpoint()
    }

    /// Stops serving and closes the endpoint (open transfers are cut off). The store stays open.
    pub async fn shutdown(&self) -> Result<()> {
        self.router
            .shutdown()
            .await
            .map_err(|e| ContentError::Store {
                context: "shutting down the provider",
                source: Box::new(e),
            })?;
        info!(target: TARGET, "provider stopped");
        Ok(())
    }
}
