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
    net::{Ipv4Addr, SocketAddr},
    time::{Duration, Instant},
};

use futures::StreamExt;
use iroh::{
    Endpoint,
    endpoint::{Builder, Connection, presets},
};
use iroh_blobs::api::remote::GetProgressItem;
use tracing::{info, warn};

use crate::{
    error::{ContentError, Result},
    hash::ContentHash,
    store::{ContentStore, LocalState},
};

mod addr;
mod provider;

pub use addr::{ContentTicket, ProviderAddr};
pub use provider::{Provider, ProviderOptions, ServeSet};

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
