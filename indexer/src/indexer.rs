//! The indexing loop: ranges, confirmations, checkpoints, reorgs, backoff.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use alloy::rpc::types::Log;
use futures::future::try_join_all;
use sqlx::PgPool;
use tangible_chain::Deployment;
use tokio::sync::watch;
use tracing::{debug, error, info, warn};

use crate::config::IndexerConfig;
use crate::decode::{self, Event, RawEvent};
use crate::rpc::{BlockRef, Rpc, RpcError};
use crate::store::{self, Checkpoint, Identity, StagedBatch};
use crate::{IndexerError, Result};

const TARGET: &str = "tangible::indexer";

/// What one [`Indexer::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// Blocks `from..=to` were indexed (possibly with no event) and checkpointed.
    Indexed {
        /// First block of the range.
        from: u64,
        /// Last block of the range (the new checkpoint).
        to: u64,
        /// Events written.
        events: usize,
    },
    /// Nothing to index: the checkpoint is at the head minus the confirmations.
    CaughtUp {
        /// The node's head.
        head: u64,
    },
    /// A reorg was found and the mirror rolled back to the common ancestor.
    Reorg {
        /// The common ancestor (the new checkpoint).
        ancestor: u64,
        /// Blocks rolled back.
        depth: u64,
    },
    /// The step found an inconsistent view (chain moving, range refused) and will be retried.
    Retry(String),
}

/// Mirrors one deployment into Postgres. See the crate documentation for the data flow.
#[derive(Debug)]
pub struct Indexer<R> {
    rpc: R,
    pool: PgPool,
    cfg: IndexerConfig,
    identity: Identity,
    addresses: Vec<Address>,
    checkpoint: Option<Checkpoint>,
    range: u64,
    /// Ranges fetched ahead, in order: the next one (possibly staged) and the one after it.
    ahead: VecDeque<Prefetched>,
    /// Secondary indexes are dropped for a backfill (re-created once caught up).
    deferred: bool,
    /// Whether deferring the indexes was considered already (once per run).
    defer_considered: bool,
}

/// A range ready to be written: its headers and decoded events, checked against each other;
/// when fetched ahead (while the previous batch was written), possibly with its raw log staged.
#[derive(Debug)]
struct Prefetched {
    from: u64,
    to: u64,
    headers: Vec<BlockRef>,
    events: Vec<Event>,
    staged: Option<StagedBatch>,
}

/// Rolls back the staged batches of ranges fetched ahead and not used.
async fn discard(ahead: impl IntoIterator<Item = Prefetched>) {
    for p in ahead {
        abandon(p.staged).await;
    }
}

/// Rolls a staged batch back (an error only means the connection is gone, and with it the
/// transaction).
async fn abandon(staged: Option<StagedBatch>) {
    if let Some(staged) = staged
        && let Err(e) = staged.abandon().await
    {
        debug!(target: TARGET, error = %e, "rolling back a staged batch");
    }
}

/// The logs of `from..=to` checked against the range's headers and decoded. `Ok(Err(why))`
/// when the node's answer is inconsistent (the chain moving under the fetch): the range is
/// fetched again. An event that fails to decode is an error.
fn check_and_decode(
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
    /// Connects the indexer to `rpc` and `pool` for `deployment`: checks the chain id, checks
    /// that the database mirrors this deployment (or resets it when configured to), and loads
    /// the checkpoint. The database must be migrated.
    pub async fn new(
        rpc: R,
        pool: PgPool,
        deployment: &Deployment,
        cfg: IndexerConfig,
    ) -> Result<Self> {
        let chain_id = rpc.chain_id().await?;
        if chain_id != deployment.chain_id {
            return Err(IndexerError::DeploymentMismatch(format!(
                "the RPC node is on chain {chain_id} but the deployment file is for chain {}",
                deployment.chain_id
            )));
        }
        // The stablecoin is not indexed: its transfers are not Tangible events, and on a public
        // chain they would dwarf them. Registry, licence and market may share one address.
        let mut addresses = vec![
            deployment.contracts.registry,
            deployment.contracts.licence,
            deployment.contracts.market,
        ];
        addresses.sort();
        addresses.dedup();
        let identity = Identity {
            chain_id,
            deployment_block: deployment.deployment_block,
            registry: deployment.contracts.registry,
        };

        let others = store::other_chains(&pool, chain_id).await?;
        let stored = store::load_checkpoint(&pool, chain_id).await?;
        let mismatch = match &stored {
            _ if !others.is_empty() => {
                Some(format!("the database already mirrors chain(s) {others:?}"))
            }
            Some((_, id)) if *id != identity => Some(format!(
                "the database mirrors another deployment (registry {}, block {}) than the deployment file (registry {}, block {})",
                id.registry, id.deployment_block, identity.registry, identity.deployment_block
            )),
            _ => None,
        };
        let mut checkpoint = stored.map(|(cp, _)| cp);
        if let Some(why) = mismatch {
            if !cfg.reset_on_mismatch {
                return Err(IndexerError::DeploymentMismatch(format!(
                    "{why}; use another database or --reset-on-mismatch"
                )));
            }
            warn!(target: TARGET, %why, "resetting the mirror");
            store::reset(&pool).await?;
            checkpoint = None;
        }
        let range = cfg.initial_range.min(cfg.max_range).max(1);
        // Indexes deferred by a run that stopped before catching up.
        let deferred = store::deferred_indexes(&pool).await? > 0;
        let mut indexer = Self {
            rpc,
            pool,
            cfg,
            identity,
            addresses,
            checkpoint,
            range,
            ahead: VecDeque::new(),
            deferred,
            defer_considered: false,
        };
        if indexer.checkpoint.is_none() {
            indexer.checkpoint = indexer.start_checkpoint().await?;
            if let Some(cp) = indexer.checkpoint {
                let block = BlockRef {
                    number: cp.number,
                    hash: cp.hash,
                    parent_hash: cp.hash,
                    timestamp: 0,
                };
                store::write_batch(
                    &indexer.pool,
                    &indexer.identity,
                    &[],
                    &[block],
                    cp,
                    indexer.cfg.reorg_window,
                )
                .await?;
            }
        }
        info!(target: TARGET, chain_id, checkpoint = ?indexer.checkpoint.map(|c| c.number),
              contracts = ?indexer.addresses, "indexer ready");
        Ok(indexer)
    }

    /// The block before the deployment block (`None` if the deployment is in block 0).
    async fn start_checkpoint(&self) -> Result<Option<Checkpoint>> {
        let Some(before) = self.identity.deployment_block.checked_sub(1) else {
            return Ok(None);
        };
        let block = self.rpc.block(before).await?.ok_or_else(|| {
            RpcError::Other(format!("block {before} (before the deployment) not found"))
        })?;
        Ok(Some(Checkpoint {
            number: block.number,
            hash: block.hash,
        }))
    }

    /// The last block fully indexed.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.checkpoint
    }

    /// Whether a range fetched ahead has its raw log staged in an open transaction (during a
    /// backfill, between two steps; finished or rolled back by the next step).
    pub fn staged_ahead(&self) -> bool {
        self.ahead.iter().any(|p| p.staged.is_some())
    }

    /// The current `eth_getLogs` range in blocks.
    pub fn range(&self) -> u64 {
        self.range
    }

    /// Indexes the next range, or detects and rolls back a reorg, or finds nothing to do.
    pub async fn step(&mut self) -> Result<StepOutcome> {
        let started = Instant::now();
        // Taken first: whatever happens below, a staged batch is either finished or rolled
        // back by this step (an open transaction would hold its locks and connection).
        let mut ahead = std::mem::take(&mut self.ahead);
        let head = match self.rpc.head().await {
            Ok(head) => head,
            Err(e) => {
                discard(ahead).await;
                return Err(e.into());
            }
        };
        metrics::gauge!("indexer_head_block").set(head as f64);
        let safe = head.saturating_sub(self.cfg.confirmations);
        let next = self
            .checkpoint
            .map_or(self.identity.deployment_block, |c| c.number + 1);
        if safe < next {
            discard(ahead).await;
            if self.deferred {
                self.restore_indexes().await?;
            }
            if let Some(cp) = self.checkpoint {
                // Idle: the checkpoint block itself may have been reorged out (or rolled back).
                match self.rpc.block(cp.number).await? {
                    Some(b) if b.hash == cp.hash => {}
                    _ => return self.handle_reorg().await,
                }
                metrics::gauge!("indexer_blocks_behind_head")
                    .set(head.saturating_sub(cp.number) as f64);
            }
            return Ok(StepOutcome::CaughtUp { head });
        }
        let current = match ahead.pop_front() {
            // Fetched, checked and decoded (and possibly staged) during the previous steps.
            Some(p) if p.from == next && p.to <= safe => p,
            other => {
                discard(other.into_iter().chain(ahead.drain(..))).await;
                let to = safe.min(next.saturating_add(self.range - 1));
                let (headers, logs) = match self.fetch_range(next, to, head).await {
                    Ok(Some(fetched)) => fetched,
                    Ok(None) => return Ok(StepOutcome::Retry("block not available yet".into())),
                    Err(RpcError::RangeTooLarge(msg)) if to > next => {
                        self.range = (to - next).div_ceil(2).max(1);
                        metrics::gauge!("indexer_log_range_blocks").set(self.range as f64);
                        debug!(target: TARGET, range = self.range, %msg, "log range refused, halving");
                        return Ok(StepOutcome::Retry(format!("range refused: {msg}")));
                    }
                    Err(e) => return Err(e.into()),
                };
                let events = match check_and_decode(next, to, &headers, &logs)? {
                    Ok(events) => events,
                    Err(why) => return Ok(StepOutcome::Retry(why)),
                };
                Prefetched {
                    from: next,
                    to,
                    headers,
                    events,
                    staged: None,
                }
            }
        };
        let Prefetched {
            to,
            headers,
            events,
            staged,
            ..
        } = current;
        if let Some(cp) = self.checkpoint
            && headers[0].parent_hash != cp.hash
        {
            abandon(staged).await;
            discard(ahead).await;
            return self.handle_reorg().await;
        }

        // Adapt the range to the number of logs.
        let span = to - next + 1;
        if events.len() > self.cfg.target_logs {
            self.range = (span * self.cfg.target_logs as u64 / events.len() as u64).max(1);
        } else if events.len() < self.cfg.target_logs / 2 && span == self.range {
            self.range = self.range.saturating_mul(2).min(self.cfg.max_range);
        }
        metrics::gauge!("indexer_log_range_blocks").set(self.range as f64);

        if !self.defer_considered && !events.is_empty() {
            // Never with a staged batch: ranges are staged only once this is decided (dropping
            // indexes would wait for a staged transaction's lock).
            debug_assert!(staged.is_none() && ahead.iter().all(|p| p.staged.is_none()));
            self.consider_deferring_indexes(events.len() as u64, next, to, head)
                .await?;
        }

        let end = *headers.last().expect("at least one header");
        let cp = Checkpoint {
            number: end.number,
            hash: end.hash,
        };
        let batch = store::BatchWrite {
            identity: &self.identity,
            events: &events,
            blocks: &headers,
            checkpoint: cp,
            window: self.cfg.reorg_window,
            // Written only on top of the checkpoint it extends (exactly once even while the
            // unique keys are deferred; detects a stale in-memory checkpoint).
            parent: Some(self.checkpoint),
        };
        let write = async {
            match staged {
                Some(staged) => staged.finish(&self.pool, &batch).await,
                None => store::write(&self.pool, &batch).await,
            }
        };
        // While behind, three ranges move at once: this batch's derived tables and commit,
        // the next range's raw log staged on a second connection, and the range after it
        // fetched, checked and decoded: the server works on two batches (both cores) while the
        // node serves the third. The next range was normally fetched by the previous step
        // (else it is fetched first, then staged). A range fetched ahead must continue the one
        // before it when it is staged or used; a reorg of a range after its fetch is found
        // by a later fetch (parent hash) and rolled back like any other.
        let following = ahead
            .pop_front()
            .filter(|p| p.from == to + 1 && p.to <= safe && p.headers[0].parent_hash == cp.hash);
        discard(ahead).await;
        // A staged batch holds a connection until the next step: with a single one, the
        // rewrite of a failed batch could wait for it (the fallback needs a connection).
        let stage = self.defer_considered && self.pool.options().get_max_connections() >= 2;
        let range_from = |from: u64| {
            (from <= safe).then(|| (from, safe.min(from.saturating_add(self.range - 1))))
        };
        let next_range = match &following {
            Some(p) => Some((p.from, p.to)),
            None => range_from(to + 1),
        };
        let after_range = next_range.and_then(|(_, t)| range_from(t + 1));
        let next_ahead = async {
            let mut p = match following {
                Some(p) => p,
                None => {
                    let (from, to) = next_range?;
                    self.prefetch(from, to, head, Some(cp.hash)).await?
                }
            };
            if stage && p.staged.is_none() && !p.events.is_empty() {
                p.staged = self.stage(&p.events).await;
            }
            Some(p)
        };
        let after_ahead = async {
            let (from, to) = after_range?;
            // Its continuity with the next range is checked when it is used.
            self.prefetch(from, to, head, None).await
        };
        let (written, next_ahead, after_ahead) = tokio::join!(write, next_ahead, after_ahead);
        let ahead: VecDeque<Prefetched> = match next_ahead {
            Some(p) => std::iter::once(p).chain(after_ahead).collect(),
            None => after_ahead.into_iter().collect(),
        };
        match written {
            Ok(()) => self.ahead = ahead,
            Err(IndexerError::CheckpointMoved { stored, expected }) => {
                discard(ahead).await;
                // The stored checkpoint is the truth (it commits with its batch).
                warn!(target: TARGET, ?stored, ?expected, "checkpoint moved under the indexer; reloading it");
                self.checkpoint = store::load_checkpoint(&self.pool, self.identity.chain_id)
                    .await?
                    .map(|(cp, _)| cp);
                return Ok(StepOutcome::Retry("checkpoint moved".into()));
            }
            Err(e) => {
                discard(ahead).await;
                return Err(e);
            }
        }
        self.checkpoint = Some(cp);

        let elapsed = started.elapsed();
        metrics::counter!("indexer_events_total").increment(events.len() as u64);
        metrics::gauge!("indexer_events_per_second")
            .set(events.len() as f64 / elapsed.as_secs_f64().max(1e-6));
        metrics::gauge!("indexer_checkpoint_block").set(to as f64);
        metrics::gauge!("indexer_blocks_behind_head").set(head.saturating_sub(to) as f64);
        metrics::histogram!("indexer_batch_seconds").record(elapsed.as_secs_f64());
        debug!(target: TARGET, from = next, to, events = events.len(), ms = elapsed.as_millis() as u64, "batch indexed");
        Ok(StepOutcome::Indexed {
            from: next,
            to,
            events: events.len(),
        })
    }

    /// The range `from..=to` fetched, checked and decoded ahead. `None` when any of it fails or
    /// when the range does not continue the block `after` (the chain moved): the step that
    /// needs it fetches it again and handles what it finds. A failed prefetch is not an error.
    async fn prefetch(
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
    async fn stage(&self, events: &[Event]) -> Option<StagedBatch> {
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
    async fn fetch_range(
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

    /// Drops the secondary indexes for the rest of a backfill when it is large: at least
    /// `defer_indexes_above` events ahead (extrapolated from this batch) and at least as many
    /// as already stored (re-creating indexes over a large table for a short backfill would
    /// cost more than it saves). Considered once per run, on the first batch with events.
    async fn consider_deferring_indexes(
        &mut self,
        batch_events: u64,
        from: u64,
        to: u64,
        head: u64,
    ) -> Result<()> {
        self.defer_considered = true;
        let threshold = self.cfg.defer_indexes_above;
        if self.deferred || threshold == 0 {
            return Ok(());
        }
        let span = to - from + 1;
        let ahead = batch_events.saturating_mul(head.saturating_sub(from) + 1) / span;
        if ahead < threshold {
            return Ok(());
        }
        let stored = store::estimated_events(&self.pool).await?;
        if ahead < stored {
            return Ok(());
        }
        let dropped = store::defer_indexes(&self.pool, true).await?;
        self.deferred = dropped > 0;
        info!(target: TARGET, dropped, events_ahead = ahead, events_stored = stored,
              "backfill: secondary indexes deferred until caught up");
        Ok(())
    }

    /// Re-creates the deferred secondary indexes (one transaction).
    async fn restore_indexes(&mut self) -> Result<()> {
        let started = Instant::now();
        let restored = store::restore_indexes(&self.pool).await?;
        self.deferred = false;
        info!(target: TARGET, restored, ms = started.elapsed().as_millis() as u64,
              "secondary indexes re-created");
        Ok(())
    }

    /// Finds the common ancestor over the recent block hashes and rolls the mirror back to it.
    async fn handle_reorg(&mut self) -> Result<StepOutcome> {
        discard(std::mem::take(&mut self.ahead)).await;
        if self.deferred {
            // The rollback deletes by block number: give it its index back first.
            self.restore_indexes().await?;
        }
        let old = self.checkpoint.map_or(0, |c| c.number);
        let mut ancestor = None;
        for (number, hash) in store::recent_blocks(&self.pool, self.identity.chain_id).await? {
            if let Some(b) = self.rpc.block(number).await?
                && b.hash == hash
            {
                ancestor = Some(Checkpoint { number, hash });
                break;
            }
        }
        let ancestor = match ancestor {
            Some(a) => a,
            None => {
                error!(target: TARGET, checkpoint = old, window = self.cfg.reorg_window,
                       "reorg deeper than the recent block window: re-indexing from the deployment block");
                match self.start_checkpoint().await? {
                    Some(cp) => cp,
                    None => {
                        store::reset(&self.pool).await?;
                        self.checkpoint = None;
                        metrics::counter!("indexer_reorgs_total").increment(1);
                        return Ok(StepOutcome::Reorg {
                            ancestor: 0,
                            depth: old + 1,
                        });
                    }
                }
            }
        };
        let deleted = store::rollback_to(&self.pool, &self.identity, ancestor).await?;
        self.checkpoint = Some(ancestor);
        let depth = old.saturating_sub(ancestor.number);
        metrics::counter!("indexer_reorgs_total").increment(1);
        metrics::counter!("indexer_reorged_blocks_total").increment(depth);
        warn!(target: TARGET, ancestor = ancestor.number, depth, deleted_events = deleted, "reorg rolled back");
        Ok(StepOutcome::Reorg {
            ancestor: ancestor.number,
            depth,
        })
    }

    /// Steps until caught up with the head minus the confirmations; returns the checkpoint.
    /// Errors are returned, not retried (see [`Indexer::run`] for the resilient loop).
    pub async fn sync(&mut self) -> Result<Option<u64>> {
        loop {
            match self.step().await? {
                StepOutcome::CaughtUp { .. } => return Ok(self.checkpoint.map(|c| c.number)),
                StepOutcome::Retry(why) => {
                    debug!(target: TARGET, %why, "retrying");
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                StepOutcome::Indexed { .. } | StepOutcome::Reorg { .. } => {}
            }
        }
    }

    /// Indexes until `shutdown` becomes true: follows the head, retries transient RPC and
    /// database errors with exponential backoff (100 ms to 30 s, with jitter), returns on an
    /// error that needs an operator. A batch interrupted by the shutdown is rolled back whole.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let mut failures = 0u32;
        loop {
            if *shutdown.borrow() {
                break;
            }
            let outcome = tokio::select! {
                o = self.step() => o,
                _ = shutdown.changed() => break,
            };
            let pause = match outcome {
                Ok(StepOutcome::Indexed { .. } | StepOutcome::Reorg { .. }) => {
                    failures = 0;
                    None
                }
                Ok(StepOutcome::CaughtUp { .. }) => {
                    failures = 0;
                    Some(self.cfg.poll_interval)
                }
                Ok(StepOutcome::Retry(why)) => {
                    debug!(target: TARGET, %why, "retrying");
                    Some(Duration::from_millis(50).min(self.cfg.poll_interval))
                }
                Err(e) if e.is_transient() => {
                    match &e {
                        IndexerError::Rpc(_) => {
                            metrics::counter!("indexer_rpc_errors_total").increment(1)
                        }
                        _ => metrics::counter!("indexer_db_errors_total").increment(1),
                    }
                    failures = failures.saturating_add(1);
                    let delay = backoff(failures);
                    warn!(target: TARGET, error = %e, failures, retry_in_ms = delay.as_millis() as u64, "transient error");
                    Some(delay)
                }
                Err(e) => {
                    error!(target: TARGET, error = %e, "fatal error");
                    return Err(e);
                }
            };
            if let Some(pause) = pause {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => break,
                }
            }
        }
        info!(target: TARGET, checkpoint = ?self.checkpoint.map(|c| c.number), "indexer stopped");
        Ok(())
    }
}

/// Exponential backoff with ±25 % jitter: 100 ms, 200 ms, … capped at 30 s.
fn backoff(failures: u32) -> Duration {
    let base = 100u64
        .saturating_mul(1 << failures.min(10).saturating_sub(1))
        .min(30_000);
    let jitter = rand::random_range(0.75..1.25);
    Duration::from_millis((base as f64 * jitter) as u64)
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_grows_exponentially_and_is_capped() {
        assert!(
            backoff(1) <= Duration::from_millis(125) && backoff(1) >= Duration::from_millis(75)
        );
        assert!(
            backoff(4) >= Duration::from_millis(600) && backoff(4) <= Duration::from_millis(1000)
        );
        for f in [20, 1_000, u32::MAX] {
            assert!(
                backoff(f) <= Duration::from_millis(37_500),
                "failures {f}: {:?}",
                backoff(f)
            );
        }
    }
}
