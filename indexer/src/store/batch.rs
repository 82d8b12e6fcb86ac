//! Batch write: a batch's raw log, derived tables, block hashes and checkpoint in one
//! transaction, written in two halves ([`stage_batch`], [`StagedBatch::finish`]) so that the
//! next batch's raw log can be appended on a second connection while the current one finishes.

use sqlx::PgPool;

use super::checkpoint::{self, Checkpoint, Identity};
use super::{apply_with, raw_log};
use crate::decode::Event;
use crate::rpc::BlockRef;
use crate::{IndexerError, Result};

/// Writes one batch and its checkpoint atomically, with no parent check (see [`write`]).
pub async fn write_batch(
    pool: &PgPool,
    identity: &Identity,
    events: &[Event],
    blocks: &[BlockRef],
    checkpoint: Checkpoint,
    window: u64,
) -> Result<()> {
    let batch = BatchWrite {
        identity,
        events,
        blocks,
        checkpoint,
        window,
        parent: None,
    };
    write(pool, &batch).await
}

/// Writes one batch and its checkpoint in one transaction: its raw log and new licences and
/// sales appended with binary `COPY`, the derived tables updated, its block hashes recorded,
/// the checkpoint moved. Equivalent to [`stage_batch`] then [`StagedBatch::finish`].
pub async fn write(pool: &PgPool, batch: &BatchWrite<'_>) -> Result<()> {
    let written = match stage_batch(pool, batch.identity.chain_id, batch.events).await {
        Ok(staged) => staged.finish_once(batch).await,
        Err(e) => Err(e),
    };
    rewrite_if_duplicate(pool, batch, written).await
}

/// One batch to write: its events, the headers of its range and the checkpoint it ends on.
#[derive(Debug, Clone, Copy)]
pub struct BatchWrite<'a> {
    /// Deployment mirrored.
    pub identity: &'a Identity,
    /// Decoded events of the range, in chain order.
    pub events: &'a [Event],
    /// Headers fetched for the range (recorded for reorg detection).
    pub blocks: &'a [BlockRef],
    /// The checkpoint committed with the batch.
    pub checkpoint: Checkpoint,
    /// Rows of `blocks` more than `window` below the checkpoint are pruned.
    pub window: u64,
    /// When set, the checkpoint the batch extends (`Some(None)`: none stored yet). It is
    /// compared with the stored one under a row lock in the batch's transaction, and the batch
    /// fails with [`IndexerError::CheckpointMoved`] if they differ. This makes a batch land
    /// exactly once on top of its predecessor without relying on unique keys (deferred during
    /// a backfill), and tells a writer whose view is stale (a commit acknowledged to nobody,
    /// or a second indexer on the same database) to reload the checkpoint.
    pub parent: Option<Option<Checkpoint>>,
}

/// The fallback of the fast path: when `written` failed because a row of the batch is already
/// stored (a binary `COPY` cannot skip it), the batch is written again, whole, with the
/// idempotent inserts (its first attempt was rolled back, see [`rolled_back`]).
async fn rewrite_if_duplicate(
    pool: &PgPool,
    tail: &BatchWrite<'_>,
    written: Result<()>,
) -> Result<()> {
    match written {
        Err(IndexerError::Db(e)) if is_unique_violation(&e) => {
            tracing::warn!(target: "tangible::indexer", error = %e,
                "batch holds rows already stored; writing it with idempotent inserts");
            let mut tx = pool.begin().await?;
            raw_log::insert_events(&mut tx, tail.identity.chain_id, tail.events).await?;
            finish_batch(tx, tail, false).await
        }
        other => other,
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

/// A batch whose raw log is appended in a transaction not committed yet: the first half of a
/// write, made by [`stage_batch`] while the previous batch may still be in flight on another
/// connection, and completed by [`StagedBatch::finish`] once that one is committed. Dropping it
/// rolls the transaction back ([`StagedBatch::abandon`] waits for the rollback).
pub struct StagedBatch {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    /// Number and last position (block, log index) of the events staged, to check that
    /// `finish` is given the same batch.
    events: usize,
    last: Option<(u64, u64)>,
}

impl std::fmt::Debug for StagedBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedBatch")
            .field("events", &self.events)
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

fn last_position(events: &[Event]) -> Option<(u64, u64)> {
    events.last().map(|e| (e.raw.block_number, e.raw.log_index))
}

/// Opens a transaction on a connection of its own and appends the raw log of `events` with a
/// binary `COPY`. The appended rows depend on nothing stored before them, so this may run
/// while the previous batch is still being written on another connection (the indexer
/// stages the next range while it finishes the current one, using both cores). Nothing is
/// visible until [`StagedBatch::finish`] commits.
pub async fn stage_batch(pool: &PgPool, chain_id: u64, events: &[Event]) -> Result<StagedBatch> {
    let mut tx = pool.begin().await?;
    if let Err(e) = raw_log::copy_events(&mut tx, chain_id, events).await {
        return Err(rolled_back(tx, e).await);
    }
    Ok(StagedBatch {
        tx,
        events: events.len(),
        last: last_position(events),
    })
}

impl StagedBatch {
    /// Completes the batch staged from `batch.events` (the same events): checks the parent checkpoint
    /// under a row lock, writes the derived tables, the block hashes and the checkpoint, and
    /// commits. Its parent must be committed by then (the derived tables read and update what
    /// earlier batches wrote). A row already stored makes it roll back and write the batch
    /// again with idempotent inserts, as [`write`] does.
    pub async fn finish(self, pool: &PgPool, batch: &BatchWrite<'_>) -> Result<()> {
        let written = self.finish_once(batch).await;
        rewrite_if_duplicate(pool, batch, written).await
    }

    async fn finish_once(self, tail: &BatchWrite<'_>) -> Result<()> {
        debug_assert_eq!(
            (self.events, self.last),
            (tail.events.len(), last_position(tail.events)),
            "a staged batch is finished with the events it was staged with"
        );
        finish_batch(self.tx, tail, true).await
    }

    /// Rolls the staged batch back (and waits for it, so that its locks are released).
    pub async fn abandon(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

/// Second half of a batch write, in the transaction `tx` holding its raw log: parent check,
/// derived tables (new licences and sales appended by binary `COPY` when `copy`, else with the
/// idempotent inserts), block hashes, checkpoint, commit.
async fn finish_batch(
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    tail: &BatchWrite<'_>,
    copy: bool,
) -> Result<()> {
    match finish_in(&mut tx, tail, copy).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(())
        }
        Err(e) => Err(rolled_back(tx, e).await),
    }
}

/// Rolls `tx` back now (not when the dropped connection is next used: its locks and its
/// connection are released before a rewrite or the next batch needs them) and returns `e`.
async fn rolled_back(
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    e: IndexerError,
) -> IndexerError {
    if let Err(rollback) = tx.rollback().await {
        tracing::debug!(target: "tangible::indexer", error = %rollback, "rolling back a failed batch");
    }
    e
}

/// The statements of [`finish_batch`], in `tx`.
async fn finish_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    tail: &BatchWrite<'_>,
    copy: bool,
) -> Result<()> {
    let identity = tail.identity;
    if let Some(parent) = tail.parent {
        checkpoint::check_parent(tx, identity.chain_id, parent).await?;
    }
    apply_with(tx, tail.events, copy).await?;
    checkpoint::record_blocks(tx, identity.chain_id, tail.blocks).await?;
    checkpoint::prune_blocks(
        tx,
        identity.chain_id,
        tail.checkpoint.number.saturating_sub(tail.window),
    )
    .await?;
    checkpoint::write_checkpoint(tx, identity, tail.checkpoint).await?;
    Ok(())
}
