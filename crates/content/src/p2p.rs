//! Peer-to-peer distribution with iroh + iroh-blobs.
//!
//! - [`Provider`]: an iroh [`Endpoint`] and [`Router`] accepting [`iroh_blobs::ALPN`] that
//!   serves every file of a [`ContentStore`]. The content node runs one; any client that holds
//!   a film can run one too.
//! - [`ProviderAddr`] / [`ContentTicket`]: what the API hands to clients (serde, string form).
//! - [`Downloader`]: fetches a hash from a provider into the local store. Data is verified
//!   chunk by chunk against the BLAKE3 tree (bao) while it streams; an interrupted download
//!   keeps its verified ranges, and the next [`Downloader::fetch`] only asks for what is
//!   missing. Progress is reported as [`TransferProgress`] (bytes done / total).
//!
//! Endpoints are built from an [`iroh::endpoint::Builder`]: [`endpoint_builder`] is the
//! offline `presets::Minimal` (no relay, no discovery, direct addresses only);
//! production can pass a builder with relays and address lookup enabled instead.

use std::{
    fmt,
    net::{Ipv4Addr, SocketAddr},
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use iroh::{
    Endpoint, EndpointAddr,
    endpoint::{Builder, Connection, presets},
    protocol::{AcceptError, ProtocolHandler, Router},
};
use iroh_blobs::{
    BlobFormat,
    api::{Store, remote::GetProgressItem},
    provider::events::EventSender,
    ticket::BlobTicket,
};
use iroh_tickets::endpoint::EndpointTicket;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tracing::{debug, info, warn};

use crate::{
    error::{ContentError, Result},
    hash::ContentHash,
    store::{ContentStore, LocalState},
};

const TARGET: &str = "tangible::content::p2p";

/// An offline endpoint builder: `presets::Minimal` (no relay servers, no address lookup),
/// binding all interfaces on a random port. Add relays/discovery for production with
/// e.g. `endpoint_builder().relay_mode(iroh::RelayMode::Default)`.
pub fn endpoint_builder() -> Builder {
    Endpoint::builder(presets::Minimal)
}

/// Like [`endpoint_builder`], but bound to `127.0.0.1` only (tests, benchmarks, a provider
/// behind a local reverse tunnel).
pub fn loopback_endpoint_builder() -> Builder {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    match endpoint_builder().clear_ip_transports().bind_addr(addr) {
        Ok(builder) => builder,
        // `SocketAddr` converts infallibly; keep the default transports if that ever changes.
        Err(_) => endpoint_builder(),
    }
}

/// How to reach a provider: its endpoint id and direct (and/or relay) addresses.
///
/// String form: an iroh endpoint ticket (`endpoint…`, base32); serde uses the string form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderAddr(pub EndpointAddr);

impl ProviderAddr {
    /// The provider's endpoint id, as a string (for logs and errors).
    pub fn id_string(&self) -> String {
        self.0.id.to_string()
    }
}

impl fmt::Display for ProviderAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", EndpointTicket::new(self.0.clone()))
    }
}

impl FromStr for ProviderAddr {
    type Err = ContentError;

    fn from_str(s: &str) -> Result<Self> {
        let ticket = EndpointTicket::from_str(s).map_err(|e| ContentError::Parse {
            kind: "provider address",
            detail: e.to_string(),
        })?;
        Ok(Self(ticket.endpoint_addr().clone()))
    }
}

impl Serialize for ProviderAddr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProviderAddr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A provider address plus the hash to fetch from it: everything a client needs to download
/// one film file.
///
/// String form: an iroh-blobs `BlobTicket` (`blob…`, base32), readable by other iroh-blobs
/// tools; serde uses the string form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentTicket {
    /// Where to fetch from.
    pub provider: ProviderAddr,
    /// What to fetch.
    pub hash: ContentHash,
}

impl fmt::Display for ContentTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = BlobTicket::new(self.provider.0.clone(), self.hash.into(), BlobFormat::Raw);
        write!(f, "{t}")
    }
}

impl FromStr for ContentTicket {
    type Err = ContentError;

    fn from_str(s: &str) -> Result<Self> {
        let t = BlobTicket::from_str(s).map_err(|e| ContentError::Parse {
            kind: "ticket",
            detail: e.to_string(),
        })?;
        if t.format() != BlobFormat::Raw {
            return Err(ContentError::Parse {
                kind: "ticket",
                detail: "only raw blob tickets are supported".into(),
            });
        }
        Ok(Self {
            provider: ProviderAddr(t.addr().clone()),
            hash: t.hash().into(),
        })
    }
}

impl Serialize for ContentTicket {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ContentTicket {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

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

/// Progress of a transfer, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferProgress {
    /// Bytes held and verified so far (including bytes resumed from an earlier attempt).
    pub done: u64,
    /// Size of the file.
    pub total: u64,
}

/// Result of a successful download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchOutcome {
    /// The file fetched.
    pub hash: ContentHash,
    /// Its size.
    pub size: u64,
    /// Verified bytes already held locally before this download started.
    pub resumed_from: u64,
    /// Payload bytes received in this download.
    pub transferred: u64,
    /// The provider that delivered it (its endpoint id).
    pub provider: iroh::EndpointId,
    /// Wall time of this download.
    pub elapsed: Duration,
}

/// Downloads files by hash from providers into a local [`ContentStore`].
#[derive(Debug)]
pub struct Downloader {
    endpoint: Endpoint,
    store: ContentStore,
    connect_timeout: Duration,
}

impl Downloader {
    /// Binds a client endpoint from `builder`, downloading into `store`.
    pub async fn bind(store: ContentStore, builder: Builder) -> Result<Self> {
        let endpoint = builder.bind().await.map_err(|e| ContentError::Bind {
            source: Box::new(e),
        })?;
        Ok(Self {
            endpoint,
            store,
            connect_timeout: Duration::from_secs(15),
        })
    }

    /// Sets how long to wait for a connection to a provider (default 15 s).
    pub const fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The underlying endpoint.
    pub const fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The store downloads go into.
    pub const fn store(&self) -> &ContentStore {
        &self.store
    }

    /// Fetches the file named by `ticket`. See [`Downloader::fetch`].
    pub async fn fetch_ticket(
        &self,
        ticket: &ContentTicket,
        on_progress: impl FnMut(TransferProgress),
    ) -> Result<FetchOutcome> {
        self.fetch(ticket.hash, &ticket.provider, on_progress).await
    }

    /// Tries the providers in order until one delivers the file; each attempt resumes from
    /// what earlier attempts left verified in the store.
    pub async fn fetch_from_any(
        &self,
        hash: ContentHash,
        providers: &[ProviderAddr],
        mut on_progress: impl FnMut(TransferProgress),
    ) -> Result<FetchOutcome> {
        let mut last = None;
        for provider in providers {
            match self.fetch(hash, provider, &mut on_progress).await {
                Ok(outcome) => return Ok(outcome),
                Err(e) => {
                    warn!(target: TARGET, %hash, provider = %provider.id_string(), error = %e, "provider failed, trying the next one");
                    last = Some(e);
                }
            }
        }
        Err(ContentError::NoProvider {
            hash,
            attempts: providers.len(),
            last: Box::new(last.unwrap_or(ContentError::Parse {
                kind: "provider list",
                detail: "empty".into(),
            })),
        })
    }

    /// Fetches `hash` from `provider` into the store, verified, resuming from any partial data
    /// already held. Returns when the whole file is stored; `on_progress` is called as verified
    /// bytes arrive.
    ///
    /// On failure the verified part stays in the store and the error says how much is held;
    /// calling `fetch` again (with this or another provider) resumes from there.
    pub async fn fetch(
        &self,
        hash: ContentHash,
        provider: &ProviderAddr,
        mut on_progress: impl FnMut(TransferProgress),
    ) -> Result<FetchOutcome> {
        let started = Instant::now();
        let provider_id = provider.id_string();
        let (have, known_size) = match self.store.local_state(hash).await? {
            LocalState::Complete { size } => {
                self.store.commit(hash).await?;
                on_progress(TransferProgress {
                    done: size,
                    total: size,
                });
                return Ok(FetchOutcome {
                    hash,
                    size,
                    resumed_from: size,
                    transferred: 0,
                    provider: provider.0.id,
                    elapsed: started.elapsed(),
                });
            }
            LocalState::Partial { have, size } => (have, size),
            LocalState::Absent => (0, None),
        };

        let conn = self.connect(provider).await?;

        let result = self
            .transfer(
                hash,
                &conn,
                &provider_id,
                have,
                known_size,
                &mut on_progress,
            )
            .await;
        conn.close(0u32.into(), b"done");
        let (total, transferred) = match result {
            Ok(v) => v,
            Err(e) => {
                warn!(target: TARGET, %hash, provider = %provider_id, error = %e, "download failed");
                return Err(e);
            }
        };
        let info = self.store.commit(hash).await?;
        debug_assert_eq!(info.size, total);
        on_progress(TransferProgress {
            done: info.size,
            total: info.size,
        });
        let elapsed = started.elapsed();
        info!(
            target: TARGET,
            %hash,
            provider = %provider_id,
            size = info.size,
            resumed_from = have,
            transferred,
            elapsed_ms = elapsed.as_millis() as u64,
            "download complete"
        );
        Ok(FetchOutcome {
            hash,
            size: info.size,
            resumed_from: have,
            transferred,
            provider: provider.0.id,
            elapsed,
        })
    }

    /// Opens a blobs connection to `provider`, within the connect timeout.
    pub(crate) async fn connect(&self, provider: &ProviderAddr) -> Result<Connection> {
        let provider_id = provider.id_string();
        tokio::time::timeout(
            self.connect_timeout,
            self.endpoint.connect(provider.0.clone(), iroh_blobs::ALPN),
        )
        .await
        .map_err(|_| ContentError::Connect {
            provider: provider_id.clone(),
            source: format!("timed out after {:?}", self.connect_timeout).into(),
        })?
        .map_err(|e| ContentError::Connect {
            provider: provider_id,
            source: Box::new(e),
        })
    }

    /// Runs the verified transfer over an open connection; returns (size, bytes received).
    async fn transfer(
        &self,
        hash: ContentHash,
        conn: &Connection,
        provider_id: &str,
        have: u64,
        known_size: Option<u64>,
        on_progress: &mut impl FnMut(TransferProgress),
    ) -> Result<(u64, u64)> {
        let transfer_err =
            |have: u64, total: u64, source: crate::error::BoxError| ContentError::Transfer {
                hash,
                provider: provider_id.to_owned(),
                have,
                total,
                source,
            };
        let total = match known_size {
            Some(size) => size,
            None => {
                iroh_blobs::get::request::get_verified_size(conn, &hash.into())
                    .await
                    .map_err(|e| transfer_err(have, 0, Box::new(e)))?
                    .0
            }
        };
        self.store.pin_partial(hash).await?;
        on_progress(TransferProgress { done: have, total });
        info!(target: TARGET, %hash, provider = %provider_id, total, resume_from = have, "download started");

        let mut items = self
            .store
            .blobs_store()
            .remote()
            .fetch(conn.clone(), iroh_blobs::Hash::from(hash))
            .stream();
        let mut received = 0u64;
        loop {
            match items.next().await {
                Some(GetProgressItem::Progress(n)) => {
                    received = n;
                    on_progress(TransferProgress {
                        done: (have + n).min(total),
                        total,
                    });
                }
                Some(GetProgressItem::Done(_stats)) => break,
                Some(GetProgressItem::Error(e)) => {
                    let held = match self.store.local_state(hash).await {
                        Ok(LocalState::Partial { have, .. }) => have,
                        Ok(LocalState::Complete { size }) => size,
                        _ => have,
                    };
                    return Err(transfer_err(held, total, Box::new(e)));
                }
                None => {
                    return Err(transfer_err(
                        have + received,
                        total,
                        "the transfer ended without a result".into(),
                    ));
                }
            }
        }
        Ok((total, received))
    }

    /// Closes the client endpoint.
    pub async fn close(&self) {
        self.endpoint.close().await;
    }
}
