//! Downloading one file from several providers at once.
//!
//! iroh-blobs splits a download across providers only per blob of a hash sequence; a film is one
//! raw blob, so this module splits it into pieces of chunk ranges itself. Every provider that
//! connects gets a worker on its own connection; workers take the next missing piece from a
//! shared queue and fetch it with a verified `GetRequest` for those chunk ranges into the store
//! (BLAKE3 tree checked as it streams, as for a single-provider fetch). A provider that sends
//! data that does not verify, fails, or sends nothing for [`SwarmOptions::stall_timeout`] is
//! dropped: its piece goes back to the queue for the others, and the report says why. Pieces the
//! store already holds (an earlier, interrupted download) are not asked for again.
//!
//! The result names, per provider, the bytes and pieces it delivered ([`ProviderReport`]).

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use iroh::{EndpointId, endpoint::Connection};
use iroh_blobs::protocol::{ChunkRanges, ChunkRangesExt};
use serde::Serialize;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::{
    error::{ContentError, Result},
    hash::ContentHash,
    p2p::{Downloader, ProviderAddr, TransferProgress},
    store::LocalState,
};

mod worker;

use worker::{Job, worker};

const TARGET: &str = "tangible::content::swarm";
/// BLAKE3 chunk size (bao).
const CHUNK: u64 = 1024;
/// Requests in flight per provider.
const PER_PROVIDER: usize = 2;

/// Tuning of a multi-provider download.
#[derive(Debug, Clone)]
pub struct SwarmOptions {
    /// Size of a piece handed to one provider at a time (rounded to whole 16 KiB chunk groups).
    pub piece_bytes: u64,
    /// A provider that sends nothing for this long is dropped.
    pub stall_timeout: Duration,
    /// Providers asked only for pieces that no other provider holds (the API's nodes: owners'
    /// clients carry the load first, the platform's upload stays near one copy per swarm).
    pub last_resort: Vec<EndpointId>,
    /// Take the pieces in a random order, so that clients downloading at the same time fetch
    /// different pieces first and can trade them.
    pub shuffle: bool,
}

impl Default for SwarmOptions {
    fn default() -> Self {
        Self {
            piece_bytes: 1 << 20,
            stall_timeout: Duration::from_secs(10),
            last_resort: Vec::new(),
            shuffle: false,
        }
    }
}

/// What one provider did for a download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderReport {
    /// The provider's endpoint id.
    #[serde(serialize_with = "serialize_id")]
    pub provider: EndpointId,
    /// Verified payload bytes it delivered.
    pub bytes: u64,
    /// Pieces it delivered whole.
    pub pieces: u32,
    /// Why it was dropped (connection failed, bad data, stalled), if it was.
    pub dropped: Option<String>,
}

fn serialize_id<S: serde::Serializer>(
    id: &EndpointId,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// Result of a complete multi-provider download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmOutcome {
    /// The file fetched.
    pub hash: ContentHash,
    /// Its size.
    pub size: u64,
    /// Verified bytes already held before this download started.
    pub resumed_from: u64,
    /// Each provider tried, in the order given.
    pub providers: Vec<ProviderReport>,
    /// Wall time.
    pub elapsed: Duration,
}

impl SwarmOutcome {
    /// Payload bytes received in this download, all providers together.
    pub fn transferred(&self) -> u64 {
        self.providers.iter().map(|p| p.bytes).sum()
    }
}

/// A worker's news for the coordinating loop.
enum Event {
    /// Verified bytes arrived (delta).
    Bytes(u64),
}

/// The pieces still to fetch, shared by the workers.
struct Queue {
    pieces: Mutex<VecDeque<ChunkRanges>>,
    /// Pieces taken and not yet delivered or given back.
    in_flight: AtomicUsize,
}

impl Queue {
    /// The first queued piece provider `me` may serve (see [`Holdings::may_serve`]).
    fn take_for(&self, me: usize, holdings: &Holdings) -> Option<ChunkRanges> {
        let mut q = self.pieces.lock().ok()?;
        let at = q.iter().position(|p| holdings.may_serve(me, p))?;
        let piece = q.remove(at)?;
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Some(piece)
    }

    fn done(&self) {
        if let Ok(_q) = self.pieces.lock() {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn give_back(&self, piece: ChunkRanges) {
        if let Ok(mut q) = self.pieces.lock() {
            if !piece.is_empty() {
                q.push_front(piece);
            }
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Nothing queued and nothing in flight: the work is over (done, or nobody left to give
    /// a piece back). Read under the queue's lock, which every take and give-back holds while it
    /// changes `in_flight`.
    fn finished(&self) -> bool {
        self.pieces
            .lock()
            .map(|q| q.is_empty() && self.in_flight.load(Ordering::SeqCst) == 0)
            .unwrap_or(true)
    }
}

/// What each provider holds, from the bitfield it streams (iroh-blobs observe requests): a
/// provider that is itself still downloading serves the pieces it has verified.
struct Holdings {
    /// Per provider: the chunk ranges it holds; `None` until it said.
    ranges: Vec<RwLock<Option<ChunkRanges>>>,
    last_resort: Vec<bool>,
    alive: Vec<AtomicBool>,
    /// Per provider: its workers still running (at 0 it is no longer alive: a last resort
    /// then takes what only it held).
    workers: Vec<AtomicUsize>,
}

impl Holdings {
    fn holds(&self, i: usize, piece: &ChunkRanges, unknown: bool) -> bool {
        if !self.alive[i].load(Ordering::SeqCst) {
            return false;
        }
        match self.ranges[i].read().ok().as_deref() {
            Some(Some(held)) => {
                let lacking: ChunkRanges = piece.difference(held);
                lacking.is_empty()
            }
            _ => unknown,
        }
    }

    /// Whether provider `me` holds `piece` and, if it is a last resort, no other live provider
    /// holds it or may hold it (one that has not said what it holds yet).
    fn may_serve(&self, me: usize, piece: &ChunkRanges) -> bool {
        // Until a provider said what it holds, it is asked nothing (it may be a downloader
        // itself; one that does not answer is assumed whole after a few seconds).
        if !self.holds(me, piece, false) {
            return false;
        }
        // A last resort also waits for the other providers' first word: taking a piece before a
        // peer's bitfield arrived would load the API with what the peer holds.
        !self.last_resort[me]
            || !(0..self.ranges.len())
                .any(|j| j != me && !self.last_resort[j] && self.holds(j, piece, true))
    }

    fn set(&self, i: usize, ranges: ChunkRanges) {
        if let Ok(mut slot) = self.ranges[i].write() {
            *slot = Some(ranges);
        }
    }

    fn drop_provider(&self, i: usize) {
        self.alive[i].store(false, Ordering::SeqCst);
    }

    /// A worker of provider `i` ends.
    fn worker_left(&self, i: usize) {
        if self.workers[i].fetch_sub(1, Ordering::SeqCst) == 1 {
            self.drop_provider(i);
        }
    }
}

/// Keeps `holdings[at]` up to date from the provider's bitfield stream. A provider that does not
/// answer within a few seconds is assumed to hold the whole file.
async fn observe(
    blobs: iroh_blobs::api::Store,
    conn: Connection,
    hash: ContentHash,
    holdings: Arc<Holdings>,
    (at, total): (usize, u64),
) {
    let mut stream = Box::pin(blobs.remote().observe(
        conn,
        iroh_blobs::protocol::ObserveRequest::new(iroh_blobs::Hash::from(hash)),
    ));
    let within = ChunkRanges::chunks(0..total.div_ceil(CHUNK).max(1));
    // A peer's ranges are kept within the file and to a bounded number of pieces' worth of
    // fragments: a peer streaming ever more scattered ranges is dropped, not followed.
    let max_bounds = 4 * usize::try_from(total.div_ceil(1 << 20)).unwrap_or(usize::MAX) + 64;
    let first = tokio::time::timeout(Duration::from_secs(3), stream.next()).await;
    let Ok(Some(Ok(first))) = first else {
        holdings.set(at, within);
        return;
    };
    let mut held: ChunkRanges = first.ranges.intersection(&within);
    holdings.set(at, held.clone());
    while let Some(Ok(update)) = stream.next().await {
        let added: ChunkRanges = update.ranges.intersection(&within);
        held |= added;
        if held.boundaries().len() > max_bounds {
            tracing::warn!(target: TARGET, %hash, "a provider's bitfield is too fragmented; dropped");
            holdings.drop_provider(at);
            return;
        }
        holdings.set(at, held.clone());
    }
}

impl Downloader {
    /// Fetches `hash` from all `providers` at once, piece by piece, into the store; see the
    /// module documentation. Returns when the whole file is stored and verified.
    ///
    /// On failure (every provider dropped before the end) the verified pieces stay in the store
    /// and [`ContentError::Swarm`] carries the per-provider reports; a later call resumes.
    pub async fn fetch_swarm(
        &self,
        hash: ContentHash,
        providers: &[ProviderAddr],
        options: SwarmOptions,
        mut on_progress: impl FnMut(TransferProgress),
    ) -> Result<SwarmOutcome> {
        let started = Instant::now();
        let store = self.store().clone();
        let local = store.local_state(hash).await?;
        if let LocalState::Complete { size } = local {
            store.commit(hash).await?;
            on_progress(TransferProgress {
                done: size,
                total: size,
            });
            return Ok(SwarmOutcome {
                hash,
                size,
                resumed_from: size,
                providers: Vec::new(),
                elapsed: started.elapsed(),
            });
        }
        let (have, known_size) = match local {
            LocalState::Partial { have, size } => (have, size),
            _ => (0, None),
        };

        // Connect to every provider at once.
        let mut reports: Vec<ProviderReport> = providers
            .iter()
            .map(|p| ProviderReport {
                provider: p.0.id,
                bytes: 0,
                pieces: 0,
                dropped: None,
            })
            .collect();
        let connects = providers.iter().map(|p| self.connect(p));
        let mut conns: Vec<(usize, Connection)> = Vec::new();
        for (i, c) in futures::future::join_all(connects)
            .await
            .into_iter()
            .enumerate()
        {
            match c {
                Ok(conn) => conns.push((i, conn)),
                Err(e) => reports[i].dropped = Some(e.to_string()),
            }
        }

        // The verified size: from the store, else from the first provider that proves it.
        // The last-resort providers (the API's nodes) are asked first: they hold the whole file.
        // A provider that is still downloading may not hold the last chunk yet: it is not
        // dropped for failing, nor for not answering within the stall timeout.
        let mut total = known_size;
        let mut order: Vec<&(usize, Connection)> = conns.iter().collect();
        order.sort_by_key(|(at, _)| !options.last_resort.contains(&reports[*at].provider));
        for (at, conn) in order {
            if total.is_some() {
                break;
            }
            let proof = tokio::time::timeout(
                options.stall_timeout,
                iroh_blobs::get::request::get_verified_size(conn, &hash.into()),
            )
            .await;
            match proof {
                Ok(Ok((size, _))) => total = Some(size),
                Ok(Err(e)) => {
                    tracing::debug!(target: TARGET, %hash, provider = %reports[*at].provider, error = %e, "no size proof from this provider");
                }
                Err(_) => {
                    tracing::debug!(target: TARGET, %hash, provider = %reports[*at].provider, "no size proof in time from this provider");
                }
            }
        }
        let Some(total) = total else {
            for (at, _) in &conns {
                reports[*at].dropped = Some("could not prove the file's size".to_owned());
            }
            return Err(ContentError::Swarm {
                hash,
                have,
                total: 0,
                providers: reports,
            });
        };
        store.pin_partial(hash).await?;
        on_progress(TransferProgress { done: have, total });

        let held = store
            .blobs_store()
            .blobs()
            .observe(iroh_blobs::Hash::from(hash))
            .await
            .map_err(ContentError::store("observing a blob"))?
            .ranges;
        let mut queued = pieces(total, options.piece_bytes, &held);
        if options.shuffle {
            shuffle(queued.make_contiguous());
        }
        let queue = Arc::new(Queue {
            pieces: Mutex::new(queued),
            in_flight: AtomicUsize::new(0),
        });
        let holdings = Arc::new(Holdings {
            ranges: providers.iter().map(|_| RwLock::new(None)).collect(),
            last_resort: providers
                .iter()
                .map(|p| options.last_resort.contains(&p.0.id))
                .collect(),
            alive: providers
                .iter()
                .enumerate()
                .map(|(i, _)| AtomicBool::new(conns.iter().any(|(at, _)| *at == i)))
                .collect(),
            workers: providers
                .iter()
                .map(|_| AtomicUsize::new(PER_PROVIDER))
                .collect(),
        });
        // Aborted when this function returns or is dropped.
        let mut observers = tokio::task::JoinSet::new();
        for (at, conn) in &conns {
            observers.spawn(observe(
                store.blobs_store().clone(),
                conn.clone(),
                hash,
                holdings.clone(),
                (*at, total),
            ));
        }
        info!(target: TARGET, %hash, total, resume_from = have, providers = conns.len(), "swarm download started");

        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut workers = tokio::task::JoinSet::new();
        for (at, conn) in conns {
            // Two requests in flight per provider, so that asking for the next piece does not
            // leave the link idle for a round trip.
            for _ in 0..PER_PROVIDER {
                let (queue, tx, blobs) = (queue.clone(), tx.clone(), store.blobs_store().clone());
                let (conn, holdings) = (conn.clone(), holdings.clone());
                let stall = options.stall_timeout;
                workers.spawn(async move {
                    let job = Job {
                        blobs: &blobs,
                        hash,
                        conn: &conn,
                        queue: &queue,
                        holdings: &holdings,
                        me: at,
                        tx: &tx,
                        stall,
                    };
                    (at, worker(job).await)
                });
            }
        }
        drop(tx);
        let mut done = have;
        loop {
            tokio::select! {
                Some(Event::Bytes(n)) = rx.recv() => {
                    done = (done + n).min(total);
                    on_progress(TransferProgress { done, total });
                }
                joined = workers.join_next() => {
                    let Some(joined) = joined else { break };
                    let (at, result) = joined.map_err(|e| ContentError::Store {
                        context: "a download worker",
                        source: Box::new(e),
                    })?;
                    let report = &mut reports[at];
                    report.bytes += result.bytes;
                    report.pieces += result.pieces;
                    if let Some(why) = result.dropped.filter(|_| report.dropped.is_none()) {
                        warn!(target: TARGET, %hash, provider = %report.provider, reason = %why, "provider dropped");
                        report.dropped = Some(why);
                    }
                }
            }
        }
        observers.abort_all();
        while let Ok(Event::Bytes(n)) = rx.try_recv() {
            done = (done + n).min(total);
        }
        if !matches!(store.local_state(hash).await?, LocalState::Complete { .. }) {
            let have = match store.local_state(hash).await? {
                LocalState::Partial { have, .. } => have,
                _ => 0,
            };
            return Err(ContentError::Swarm {
                hash,
                have,
                total,
                providers: reports,
            });
        }
        let info = store.commit(hash).await?;
        on_progress(TransferProgress {
            done: info.size,
            total: info.size,
        });
        let outcome = SwarmOutcome {
            hash,
            size: info.size,
            resumed_from: have,
            providers: reports,
            elapsed: started.elapsed(),
        };
        info!(
            target: TARGET,
            %hash,
            size = info.size,
            resumed_from = have,
            transferred = outcome.transferred(),
            elapsed_ms = outcome.elapsed.as_millis() as u64,
            providers = ?outcome.providers.iter().map(|p| (p.provider.fmt_short().to_string(), p.bytes)).collect::<Vec<_>>(),
            "swarm download complete"
        );
        Ok(outcome)
    }
}

/// The missing chunk ranges of a `total`-byte blob, cut into pieces of about `piece_bytes`.
fn pieces(total: u64, piece_bytes: u64, held: &ChunkRanges) -> VecDeque<ChunkRanges> {
    // Whole 16 KiB chunk groups, so that a piece boundary never splits a group.
    let per_piece = (piece_bytes / CHUNK).max(16) / 16 * 16;
    let chunks = total.div_ceil(CHUNK).max(1);
    let mut out = VecDeque::new();
    let mut start = 0;
    while start < chunks {
        let end = (start + per_piece).min(chunks);
        let range = ChunkRanges::chunks(start..end);
        let missing = range.difference(held);
        if !missing.is_empty() {
            out.push_back(missing);
        }
        start = end;
    }
    out
}

/// Fisher–Yates with a seed from the clock and the process (no cryptographic need: it only
/// spreads simultaneous downloads over the file).
fn shuffle<T>(items: &mut [T]) {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ (u64::from(std::process::id()) << 32)
        | 1;
    for i in (1..items.len()).rev() {
        // xorshift64
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = (x % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// One line per provider, for error messages: `<id>: <bytes> bytes[, dropped: <why>]`.
pub(crate) fn describe(reports: &[ProviderReport]) -> String {
    if reports.is_empty() {
        return "no provider was given".to_owned();
    }
    reports
        .iter()
        .map(|r| match &r.dropped {
            Some(why) => format!(
                "{}: {} bytes, dropped: {why}",
                r.provider.fmt_short(),
                r.bytes
            ),
            None => format!("{}: {} bytes", r.provider.fmt_short(), r.bytes),
        })
        .collect::<Vec<_>>()
        .join("; ")
}
