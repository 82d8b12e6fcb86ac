//! The indexing step: ranges, confirmations, checkpoints, reorgs. [`Indexer::step`] indexes the
//! next range (or finds a reorg, or nothing to do); the loops around it, the range sizing, the
//! ranges fetched ahead, reorg handling and deferred indexes live in the submodules.

use std::collections::VecDeque;
use std::time::Instant;

use alloy::primitives::Address;
use sqlx::PgPool;
use tangible_chain::Deployment;
use tracing::{debug, info, warn};

use crate::config::IndexerConfig;
use crate::rpc::{BlockRef, Rpc, RpcError};
use crate::store::{self, Checkpoint, Identity};
use crate::{IndexerError, Result};

mod fetch;
mod follow;
mod indexes;
mod range;
mod reorg;

use fetch::{Prefetched, abandon, check_and_decode, discard};

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
        let checkpoint = if let Some(why) = mismatch {
            if !cfg.reset_on_mismatch {
                return Err(IndexerError::DeploymentMismatch(format!(
                    "{why}; use another database or --reset-on-mismatch"
                )));
            }
            warn!(target: TARGET, %why, "resetting the mirror");
            store::reset(&pool).await?;
            None
        } else {
            stored.map(|(cp, _)| cp)
        };
        let range = range::initial(&cfg);
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
    pub const fn checkpoint(&self) -> Option<Checkpoint> {
        self.checkpoint
    }

    /// Whether a range fetched ahead has its raw log staged in an open transaction (during a
    /// backfill, between two steps; finished or rolled back by the next step).
    pub fn staged_ahead(&self) -> bool {
        self.ahead.iter().any(|p| p.staged.is_some())
    }

    /// The current `eth_getLogs` range in blocks.
    pub const fn range(&self) -> u64 {
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
                        self.range = range::halved(next, to);
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
        self.range = range::adapted(&self.cfg, self.range, to - next + 1, events.len());
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
}
