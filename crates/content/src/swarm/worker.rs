//! One provider's worker: takes the next missing piece its provider may serve, fetches it with
//! a verified `GetRequest` over the provider's connection, and gives up on a provider that
//! stalls, trickles or sends data that does not verify.

use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use futures::StreamExt;
use iroh::endpoint::Connection;
use iroh_blobs::{
    api::remote::GetProgressItem,
    protocol::{ChunkRanges, GetRequest},
};
use tokio::sync::mpsc;

use super::{CHUNK, Event, Holdings, Queue};
use crate::hash::ContentHash;

/// What a worker did.
pub(super) struct WorkerResult {
    pub(super) bytes: u64,
    pub(super) pieces: u32,
    pub(super) dropped: Option<String>,
}

/// What a worker works with.
pub(super) struct Job<'a> {
    pub(super) blobs: &'a iroh_blobs::api::Store,
    pub(super) hash: ContentHash,
    pub(super) conn: &'a Connection,
    pub(super) queue: &'a Queue,
    pub(super) holdings: &'a Holdings,
    /// The provider's index.
    pub(super) me: usize,
    pub(super) tx: &'a mpsc::UnboundedSender<Event>,
    pub(super) stall: Duration,
}

/// How long a worker whose provider holds none of the missing pieces waits for that to change
/// while nothing else is in flight.
const IDLE_LIMIT: Duration = Duration::from_secs(30);
/// The slowest a provider may deliver a piece (bytes per second) before it is dropped as too
/// slow: one trickling just above the stall timeout would otherwise hold its pieces for ever.
const MIN_PIECE_RATE: u64 = 64 * 1024;

/// Takes the pieces its provider may serve until none is left, fetching each over `conn`.
pub(super) async fn worker(job: Job<'_>) -> WorkerResult {
    let me = job.me;
    let holdings = job.holdings;
    let result = work(job).await;
    holdings.worker_left(me);
    result
}

async fn work(job: Job<'_>) -> WorkerResult {
    let Job {
        blobs,
        hash,
        conn,
        queue,
        holdings,
        me,
        tx,
        stall,
    } = job;
    let mut result = WorkerResult {
        bytes: 0,
        pieces: 0,
        dropped: None,
    };
    let mut idle_since = Instant::now();
    loop {
        if !holdings.alive[me].load(Ordering::SeqCst) {
            // The provider's other request failed: stop asking it.
            return result;
        }
        let Some(piece) = queue.take_for(me, holdings) else {
            if queue.finished() {
                return result;
            }
            if queue.in_flight.load(Ordering::SeqCst) > 0 {
                idle_since = Instant::now();
            } else if idle_since.elapsed() > IDLE_LIMIT {
                // Nothing in flight anywhere and nothing this provider holds: give up on it.
                result.dropped = Some(format!(
                    "idle: held none of the missing pieces for {} s",
                    IDLE_LIMIT.as_secs()
                ));
                return result;
            }
            // Others are fetching (one may give a piece back), or this provider may get more.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        idle_since = Instant::now();
        let request = GetRequest::blob_ranges(iroh_blobs::Hash::from(hash), piece.clone());
        let mut items = blobs.remote().execute_get(conn.clone(), request).stream();
        let mut received = 0u64;
        let piece_bytes = piece_len(&piece);
        let limit = stall + Duration::from_secs(piece_bytes / MIN_PIECE_RATE);
        let deadline = tokio::time::Instant::now() + limit;
        let failure = loop {
            let wait = stall.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
            match tokio::time::timeout(wait, items.next()).await {
                Err(_) if tokio::time::Instant::now() >= deadline => {
                    break Some(format!(
                        "too slow: {received} of {piece_bytes} bytes of a piece in {} s",
                        limit.as_secs()
                    ));
                }
                Err(_) => break Some(format!("stalled: nothing for {} s", stall.as_secs())),
                Ok(Some(GetProgressItem::Progress(n))) => {
                    if n > received {
                        let _ = tx.send(Event::Bytes(n - received));
                        received = n;
                    }
                }
                Ok(Some(GetProgressItem::Done(_))) => break None,
                Ok(Some(GetProgressItem::Error(e))) => break Some(format!("bad transfer: {e}")),
                Ok(None) => break Some("the transfer ended without a result".to_owned()),
            }
        };
        drop(items);
        result.bytes += received;
        match failure {
            None => {
                result.pieces += 1;
                queue.done();
            }
            Some(why) => {
                // Only what is still missing goes back: the verified part of the piece is kept.
                let rest = match blobs.blobs().observe(iroh_blobs::Hash::from(hash)).await {
                    Ok(bitfield) => piece.difference(&bitfield.ranges),
                    Err(_) => piece,
                };
                holdings.drop_provider(me);
                queue.give_back(rest);
                conn.close(1u32.into(), b"dropped");
                result.dropped = Some(why);
                return result;
            }
        }
    }
}

/// Bytes a piece asks for (its chunks; the last chunk counted whole).
fn piece_len(piece: &ChunkRanges) -> u64 {
    let bounds = piece.boundaries();
    bounds
        .chunks(2)
        .map(|pair| match pair {
            [start, end] => (end.0 - start.0) * CHUNK,
            _ => 0,
        })
        .sum()
}
