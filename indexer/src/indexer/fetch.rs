//! Block ranges for a step: the headers and logs of a range fetched, checked against each
//! other and decoded; ranges fetched ahead while the previous batch is written (possibly with
//! their raw log staged); rolling back the staged batches of ranges not used.

use std::collections::HashMap;

use alloy::primitives::B256;
use alloy::rpc::types::Log;
use futures::future::try_join_all;
use tracing::debug;

use super::{Indexer, TARGET};
use crate::Result;
use crate::decode::{self, Event, RawEvent};
use crate::rpc::{BlockRef, Rpc, RpcError};
use crate::store::{self, StagedBatch};

/// A range ready to be written: its headers and decoded events, checked against each other;
/// when fetched ahead (while the previous batch was written), possibly with its raw log staged.
#[derive(Debug)]
pub(super) struct Prefetched {
    pub(super) from: u64,
    pub(super) to: u64,
    pub(super) headers: Vec<BlockRef>,
    pub(super) events: Vec<Event>,
    pub(super) staged: Option<StagedBatch>,
}

/// Rolls back the staged batches of ranges fetched ahead and not used.
pub(super) async fn discard(ahead: impl IntoIterator<Item = Prefetched>) {
    for p in ahead {
        abandon(p.staged).await;
    }
}

/// Rolls a staged batch back (an error only means the connection is gone, and with it the
/// transaction).
pub(super) async fn abandon(staged: Option<StagedBatch>) {
    if let Some(staged) = staged
        && let Err(e) = staged.abandon().await
    {
        debug!(target: TARGET, error = %e, "rolling back a staged batch");
    }
}

/// The logs of `from..=to` checked against the range's headers and decoded. `Ok(Err(why))`
/// when the node's answer is inconsistent (the chain moving under the fetch): the range is
/// fetched again. An event that fails to decode is an error.
pub(super) fn check_and_decode(
    from: u64,
    to: u64,
    headers: &[BlockRef],
    logs: &[Log],
) -> Result<std::result::Result<Vec<Event>, String>> {
    for w in headers.windows(2) {
        if w[1].number == w[0].number + 1 && w[1].parent_hash != w[0].hash {
            return Ok(Err(format!("chain moved at block {}", w[1].number)));
        }
    }
    let by_number: HashMap<u64, &BlockRef> = headers.iter().map(|b| (b.number, b)).collect();
    let mut events = Vec::with_capacity(logs.len());
    for log in logs {
        if log.removed {
            return Ok(Err("removed log in the answer".into()));
        }
        let known = log.block_number.and_then(|n| by_number.get(&n));
        let Some(raw) = RawEvent::from_log(log, known.map(|b| b.timestamp)) else {
            return Ok(Err("pending log in the answer".into()));
        };
        if raw.block_number < from || raw.block_number > to {
            return Ok(Err(format!(
                "log of block {} outside the range",
                raw.block_number
            )));
        }
        if let Some(b) = known
            && b.hash != raw.block_hash
        {
            return Ok(Err(format!("block {} changed during the fetch", b.number)));
        }
        events.push(decode::decode(raw)?);
    }
    Ok(Ok(events))
}

impl<R: Rpc> Indexer<R> {
    /// The range `from..=to` fetched, checked and decoded ahead. `None` when any of it fails or
    /// when the range does not continue the block `after` (the chain moved): the step that
    /// needs it fetches it again and handles what it finds. A failed prefetch is not an error.
    pub(super) async fn prefetch(
        &self,
        from: u64,
        to: u64,
        head: u64,
        after: Option<B256>,
    ) -> Option<Prefetched> {
        let (headers, logs) = self.fetch_range(from, to, head).await.ok()??;
        if after.is_some_and(|after| headers[0].parent_hash != after) {
            return None;
        }
        let events = check_and_decode(from, to, &headers, &logs).ok()?.ok()?;
        Some(Prefetched {
            from,
            to,
            headers,
            events,
            staged: None,
        })
    }

    /// `events`' raw log staged (see [`store::stage_batch`]); `None` if that failed (the batch
    /// is then written unstaged).
    pub(super) async fn stage(&self, events: &[Event]) -> Option<StagedBatch> {
        match store::stage_batch(&self.pool, self.identity.chain_id, events).await {
            Ok(staged) => Some(staged),
            Err(e) => {
                debug!(target: TARGET, error = %e, "staging a batch failed; it will be written unstaged");
                None
            }
        }
    }

    /// The headers of `from..=to` (every one of them near the head, where reorgs happen, only
    /// both ends deeper than the reorg window) and its logs, fetched concurrently. `None` when
    /// a block is not available (yet).
    pub(super) async fn fetch_range(
        &self,
        from: u64,
        to: u64,
        head: u64,
    ) -> Result<Option<(Vec<BlockRef>, Vec<Log>)>, RpcError> {
        let dense = to.saturating_add(self.cfg.reorg_window) > head;
        let numbers: Vec<u64> = if dense {
            (from..=to).collect()
        } else {
            vec![from, to]
        };
        let (blocks, logs) = tokio::try_join!(
            try_join_all(numbers.iter().map(|n| self.rpc.block(*n))),
            self.rpc.logs(from, to, &self.addresses)
        )?;
        let Some(mut headers) = blocks.into_iter().collect::<Option<Vec<_>>>() else {
            return Ok(None);
        };
        headers.dedup_by_key(|h| h.number);
        Ok(Some((headers, logs)))
    }
}
