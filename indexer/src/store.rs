//! Postgres side of the indexer: batches, checkpoints, recent block hashes, rollbacks.
//!
//! A batch is written in one transaction ([`write`]): raw events (unique on
//! `(chain_id, tx_hash, log_index)`), the derived tables, the recent block hashes and the
//! checkpoint. Appends are binary `COPY`s and every other statement a multi-row `UNNEST`
//! insert or update, so a batch costs a fixed number of round trips whatever its size. The
//! write is split in two ([`stage_batch`], [`StagedBatch::finish`]) so that the indexer can
//! append the next batch's raw log on a second connection while it finishes the current one.
//! A rollback ([`rollback_to`]) deletes what is above the common ancestor and recomputes the
//! derived tables from the raw log with the same code path, also in one transaction.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use alloy::primitives::map::{AddressMap, U256Map};
use alloy::primitives::{Address, B256, Bytes, U256};
use sqlx::{PgConnection, PgPool, Row};

use crate::copy::BinaryCopy;
use crate::decode::{self, Event, RawEvent, TangibleEvent, dec, hex0x, i64_of};
use crate::rpc::BlockRef;
use crate::{IndexerError, Result};
use tangible_chain::bindings::TangibleMarket as M;

/// The last block fully indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

/// Which deployment a mirror belongs to (stored with the checkpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Chain id.
    pub chain_id: u64,
    /// First block of the deployment.
    pub deployment_block: u64,
    /// Address of the registry contract.
    pub registry: Address,
}

fn parse_hash(s: &str) -> Result<B256> {
    s.parse().map_err(|e| {
        IndexerError::DeploymentMismatch(format!("malformed hash {s} in the database: {e}"))
    })
}

/// The stored checkpoint of `chain_id` and the identity it was written for.
pub async fn load_checkpoint(
    pool: &PgPool,
    chain_id: u64,
) -> Result<Option<(Checkpoint, Identity)>> {
    let row = sqlx::query(
        "SELECT block_number, block_hash, deployment_block, registry_address FROM checkpoints WHERE chain_id = $1",
    )
    .bind(chain_id as i64)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let registry: String = row.get(3);
    Ok(Some((
        Checkpoint {
            number: row.get::<i64, _>(0) as u64,
            hash: parse_hash(row.get(1))?,
        },
        Identity {
            chain_id,
            deployment_block: row.get::<i64, _>(2) as u64,
            registry: registry.parse().map_err(|e| {
                IndexerError::DeploymentMismatch(format!("malformed address {registry}: {e}"))
            })?,
        },
    )))
}

/// Chain ids other than `chain_id` that this database already mirrors.
pub async fn other_chains(pool: &PgPool, chain_id: u64) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT chain_id FROM checkpoints WHERE chain_id <> $1")
            .bind(chain_id as i64)
            .fetch_all(pool)
            .await?,
    )
}

/// Recent block hashes of `chain_id`, highest first.
pub async fn recent_blocks(pool: &PgPool, chain_id: u64) -> Result<Vec<(u64, B256)>> {
    let rows = sqlx::query("SELECT block_number, block_hash FROM blocks WHERE chain_id = $1 ORDER BY block_number DESC")
        .bind(chain_id as i64)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.get::<i64, _>(0) as u64, parse_hash(r.get(1))?)))
        .collect()
}

/// Deletes everything indexed, for every chain (used when the database mirrors another
/// deployment and the operator asked for a reset).
pub async fn reset(pool: &PgPool) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "TRUNCATE events, blocks, checkpoints, users, studios, films, editions, licences, resale_offers, sales, withdrawals, deposits",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Mirror tables whose non-unique indexes a cold backfill may defer ([`defer_indexes`]).
///
/// Only the bulk tables: one row per event (`events`), per purchase (`licences`) or per sale
/// (`sales`). The other mirror tables (studios, films, editions, resale offers) get few rows
/// in a backfill and start empty, so keeping their indexes costs little, and dropping fewer
/// leaves fewer to re-create (their re-creation measured 2–10 ms each, 0.03–0.04 s for the
/// seven, in the benchmark of 2026-11-23: not the fixed cost that was suspected).
pub const DEFERRABLE_INDEX_TABLES: &[&str] = &["events", "licences", "sales"];

/// Append-only tables whose primary key a cold backfill may also defer ([`defer_indexes`]
/// with `keys`): the raw log, unique on `(chain_id, tx_hash, log_index)`, and the per-event
/// tables keyed by `(tx_hash, log_index)`. Their keys are hashes in random order, so keeping
/// them during a bulk append costs a random B-tree insertion per row, where re-creating them
/// afterwards is one sorted build. Exactly-once does not depend on them meanwhile: each batch
/// is written only on top of the checkpoint it extends, verified under a row lock in the
/// batch's own transaction ([`BatchWrite::parent`]).
/// (`withdrawals` and `deposits`, one row per money move out of or into the market, are
/// rare next to sales; their keys stay.)
pub const DEFERRABLE_KEY_TABLES: &[&str] = &["events", "sales"];

/// Drops the secondary (non-unique, non-primary) indexes of [`DEFERRABLE_INDEX_TABLES`] and,
/// when `keys`, the primary keys of [`DEFERRABLE_KEY_TABLES`], recording how to re-create each
/// in `indexer_deferred_indexes`, in one transaction. Other unique indexes and keys stay (the
/// derived tables' updates look rows up by them). Returns how many were dropped.
///
/// While keys are deferred, batches must be written with [`BatchWrite::parent`] checked
/// (the indexer does); [`restore_indexes`] must run before the indexer follows the head.
pub async fn defer_indexes(pool: &PgPool, keys: bool) -> Result<usize> {
    let key_tables: &[&str] = if keys { DEFERRABLE_KEY_TABLES } else { &[] };
    defer_indexes_of(pool, DEFERRABLE_INDEX_TABLES, key_tables).await
}

/// [`defer_indexes`] over explicit lists: the secondary indexes of `index_tables` and the
/// primary keys of `key_tables` (which must only be append-only tables whose batches are
/// written with [`BatchWrite::parent`] checked). For benchmarks and tests comparing lists.
pub async fn defer_indexes_of(
    pool: &PgPool,
    index_tables: &[&str],
    key_tables: &[&str],
) -> Result<usize> {
    let mut tx = pool.begin().await?;
    // (name, table, definition, drop statement)
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT i.relname::text, t.relname::text,
                CASE WHEN x.indisprimary
                     THEN format('ALTER TABLE %s ADD CONSTRAINT %I %s', t.oid::regclass, c.conname, pg_get_constraintdef(c.oid))
                     ELSE pg_get_indexdef(i.oid) END,
                CASE WHEN x.indisprimary
                     THEN format('ALTER TABLE %s DROP CONSTRAINT %I', t.oid::regclass, c.conname)
                     ELSE format('DROP INDEX %s', i.oid::regclass) END
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.contype = 'p'
         WHERE n.nspname = current_schema()
           AND ((t.relname = ANY($1) AND NOT x.indisunique AND NOT x.indisprimary)
                OR (t.relname = ANY($2) AND x.indisprimary AND c.oid IS NOT NULL))
         ORDER BY 1",
    )
    .bind(index_tables)
    .bind(key_tables)
    .fetch_all(&mut *tx)
    .await?;
    for (index, table, definition, drop) in &rows {
        sqlx::query(
            "INSERT INTO indexer_deferred_indexes (index_name, table_name, definition) VALUES ($1, $2, $3)",
        )
        .bind(index)
        .bind(table)
        .bind(definition)
        .execute(&mut *tx)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(drop.clone()))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Re-creates the indexes [`defer_indexes`] dropped. Returns how many.
///
/// The raw log's indexes are built on one connection and the other tables' on a second one,
/// concurrently (two sorts overlap on two cores); each group in its own transaction, which
/// removes the group's rows of `indexer_deferred_indexes`. If one group fails (a duplicate),
/// the other may be committed and the failed one's rows stay: the next call builds what is
/// still missing (an index already present is skipped).
pub async fn restore_indexes(pool: &PgPool) -> Result<usize> {
    Ok(restore_indexes_timed(pool, true).await?.0.len())
}

/// [`restore_indexes`] (`parallel`: in two groups on two connections, else all in one
/// transaction), returning each index re-created (or found present) with the time its build
/// took, and the time of the slowest commit.
pub async fn restore_indexes_timed(
    pool: &PgPool,
    parallel: bool,
) -> Result<(Vec<(String, Duration)>, Duration)> {
    let (mut built, commit) = if parallel {
        let (a, b) = tokio::try_join!(
            restore_group(pool, &["events"], true),
            restore_group(pool, &["events"], false)
        )?;
        let mut built = a.0;
        built.extend(b.0);
        (built, a.1.max(b.1))
    } else {
        restore_group(pool, &[], false).await?
    };
    built.sort_by(|x, y| x.0.cmp(&y.0));
    Ok((built, commit))
}

/// Re-creates, in one transaction, the deferred indexes whose table is (`inside`) or is not
/// in `tables`.
async fn restore_group(
    pool: &PgPool,
    tables: &[&str],
    inside: bool,
) -> Result<(Vec<(String, Duration)>, Duration)> {
    let mut tx = pool.begin().await?;
    // Each index is one sort; give it room (the default 64 MB spills large ones to disk).
    sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT index_name, definition FROM indexer_deferred_indexes
         WHERE (table_name = ANY($1)) = $2 ORDER BY index_name FOR UPDATE",
    )
    .bind(tables)
    .bind(inside)
    .fetch_all(&mut *tx)
    .await?;
    let mut built = Vec::with_capacity(rows.len());
    for (index, definition) in &rows {
        let t = Instant::now();
        // Idempotent if the index exists anyway (created by hand meanwhile).
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE n.nspname = current_schema() AND c.relname = $1)",
        )
        .bind(index)
        .fetch_one(&mut *tx)
        .await?;
        if !exists {
            sqlx::query(sqlx::AssertSqlSafe(definition.clone()))
                .execute(&mut *tx)
                .await?;
        }
        built.push((index.clone(), t.elapsed()));
    }
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    sqlx::query("DELETE FROM indexer_deferred_indexes WHERE index_name = ANY($1)")
        .bind(&names)
        .execute(&mut *tx)
        .await?;
    let t = Instant::now();
    tx.commit().await?;
    Ok((built, t.elapsed()))
}

/// Number of indexes currently deferred.
pub async fn deferred_indexes(pool: &PgPool) -> Result<usize> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer_deferred_indexes")
        .fetch_one(pool)
        .await?;
    Ok(n as usize)
}

/// The planner's estimate of the number of raw events stored (cheap on any table size).
pub async fn estimated_events(pool: &PgPool) -> Result<u64> {
    // `reltuples` is -1 before the first analyze; the size (about 500 bytes a row) covers it.
    let n: Option<f64> = sqlx::query_scalar(
        "SELECT GREATEST(reltuples::float8, pg_relation_size(oid) / 500.0) FROM pg_class WHERE oid = 'events'::regclass",
    )
    .fetch_optional(pool)
    .await?;
    Ok(n.unwrap_or(0.0).max(0.0) as u64)
}

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
            insert_events(&mut tx, tail.identity.chain_id, tail.events).await?;
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
    if let Err(e) = copy_events(&mut tx, chain_id, events).await {
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
        // Locked until the commit: a concurrent writer waits here, then sees the new row.
        let stored: Option<(i64, String)> = sqlx::query_as(
            "SELECT block_number, block_hash FROM checkpoints WHERE chain_id = $1 FOR UPDATE",
        )
        .bind(identity.chain_id as i64)
        .fetch_optional(&mut **tx)
        .await?;
        let stored = stored
            .map(|(n, h)| {
                Ok::<_, IndexerError>(Checkpoint {
                    number: n as u64,
                    hash: parse_hash(&h)?,
                })
            })
            .transpose()?;
        if stored != parent {
            return Err(IndexerError::CheckpointMoved {
                stored: stored.map(|c| c.number),
                expected: parent.map(|c| c.number),
            });
        }
    }
    apply_with(tx, tail.events, copy).await?;
    record_blocks(tx, identity.chain_id, tail.blocks).await?;
    sqlx::query("DELETE FROM blocks WHERE chain_id = $1 AND block_number < $2")
        .bind(identity.chain_id as i64)
        .bind(tail.checkpoint.number.saturating_sub(tail.window) as i64)
        .execute(&mut **tx)
        .await?;
    write_checkpoint(tx, identity, tail.checkpoint).await?;
    Ok(())
}

/// Records block headers (replacing any stored hash at the same height).
pub async fn record_blocks(
    conn: &mut PgConnection,
    chain_id: u64,
    blocks: &[BlockRef],
) -> Result<()> {
    if blocks.is_empty() {
        return Ok(());
    }
    let numbers: Vec<i64> = blocks.iter().map(|b| b.number as i64).collect();
    let hashes: Vec<String> = blocks.iter().map(|b| hex0x(b.hash)).collect();
    let parents: Vec<String> = blocks.iter().map(|b| hex0x(b.parent_hash)).collect();
    sqlx::query(
        "INSERT INTO blocks (chain_id, block_number, block_hash, parent_hash)
         SELECT $1, n, h, p FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t(n, h, p)
         ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = EXCLUDED.block_hash, parent_hash = EXCLUDED.parent_hash",
    )
    .bind(chain_id as i64)
    .bind(numbers)
    .bind(hashes)
    .bind(parents)
    .execute(conn)
    .await?;
    Ok(())
}

async fn write_checkpoint(
    conn: &mut PgConnection,
    identity: &Identity,
    cp: Checkpoint,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO checkpoints (chain_id, block_number, block_hash, deployment_block, registry_address, updated_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (chain_id) DO UPDATE SET block_number = EXCLUDED.block_number, block_hash = EXCLUDED.block_hash,
           deployment_block = EXCLUDED.deployment_block, registry_address = EXCLUDED.registry_address, updated_at = now()",
    )
    .bind(identity.chain_id as i64)
    .bind(cp.number as i64)
    .bind(hex0x(cp.hash))
    .bind(identity.deployment_block as i64)
    .bind(hex0x(identity.registry))
    .execute(conn)
    .await?;
    Ok(())
}

/// Rolls the mirror back to `ancestor` in one transaction: deletes the events, block hashes and
/// users above it, recomputes the derived tables from the remaining raw log, and moves the
/// checkpoint to the ancestor. Returns the number of events deleted.
pub async fn rollback_to(pool: &PgPool, identity: &Identity, ancestor: Checkpoint) -> Result<u64> {
    let chain = identity.chain_id as i64;
    let above = ancestor.number as i64;
    let mut tx = pool.begin().await?;
    let deleted = sqlx::query("DELETE FROM events WHERE chain_id = $1 AND block_number > $2")
        .bind(chain)
        .bind(above)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM blocks WHERE chain_id = $1 AND block_number > $2")
        .bind(chain)
        .bind(above)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM users WHERE first_seen_block > $1")
        .bind(above)
        .execute(&mut *tx)
        .await?;
    recompute_derived(&mut tx, identity.chain_id).await?;
    write_checkpoint(&mut tx, identity, ancestor).await?;
    tx.commit().await?;
    Ok(deleted)
}

/// Empties the derived tables and re-applies the raw log of `chain_id`, in pages.
pub async fn recompute_derived(conn: &mut PgConnection, chain_id: u64) -> Result<()> {
    sqlx::query(
        "TRUNCATE studios, films, editions, licences, resale_offers, sales, withdrawals, deposits",
    )
    .execute(&mut *conn)
    .await?;
    let mut after: (i64, i32) = (-1, -1);
    loop {
        let rows = sqlx::query(
            "SELECT block_number, block_hash, extract(epoch FROM block_timestamp)::bigint, tx_hash, tx_index, log_index,
                    contract, topic0, topic1, topic2, topic3, data
             FROM events
             WHERE chain_id = $1 AND (block_number, log_index) > ($2, $3) AND event_name = ANY($4)
             ORDER BY block_number, log_index
             LIMIT 10000",
        )
        .bind(chain_id as i64)
        .bind(after.0)
        .bind(after.1)
        .bind(MIRRORED_NAMES)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last() else { break };
        after = (last.get(0), last.get(5));
        let mut events = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut topics = Vec::with_capacity(4);
            for i in 7..11 {
                if let Some(t) = r.get::<Option<Vec<u8>>, _>(i) {
                    topics.push(B256::try_from(t.as_slice()).map_err(|_| {
                        IndexerError::DeploymentMismatch(format!(
                            "malformed topic of {} bytes in the database",
                            t.len()
                        ))
                    })?);
                }
            }
            let raw = RawEvent {
                block_number: r.get::<i64, _>(0) as u64,
                block_hash: parse_hash(r.get(1))?,
                block_timestamp: r.get::<Option<i64>, _>(2).map(|t| t as u64),
                tx_hash: parse_hash(r.get(3))?,
                tx_index: r.get::<i32, _>(4) as u64,
                log_index: r.get::<i32, _>(5) as u64,
                address: r.get::<String, _>(6).parse().unwrap_or_default(),
                topics,
                data: Bytes::from(r.get::<Vec<u8>, _>(11)),
            };
            events.push(decode::decode(raw)?);
        }
        // The derived tables were emptied above: nothing can collide with the fast path.
        apply_with(&mut *conn, &events, true).await?;
    }
    Ok(())
}

const MIRRORED_NAMES: &[&str] = &[
    "StudioRegistered",
    "StudioUpdated",
    "FilmRegistered",
    "EditionRegistered",
    "EditionUpdated",
    "EditionStatusChanged",
    "LicenceMinted",
    "LicenceRevoked",
    "OfferListed",
    "OfferUpdated",
    "OfferCancelled",
    "OfferFilled",
    "SaleSettled",
    "Withdrawn",
    "Deposited",
];

/// Column list of the raw log, in the order [`copy_events`] encodes the fields.
const EVENT_COLUMNS: &str = "chain_id, block_number, block_hash, block_timestamp, tx_hash, tx_index, log_index, contract, event_name, topic0, topic1, topic2, topic3, data";

/// Encodes raw events as a binary `COPY` payload for [`EVENT_COLUMNS`].
pub fn encode_events(chain_id: u64, events: &[Event]) -> Vec<u8> {
    let mut c = BinaryCopy::with_capacity(events.len() * 480);
    for e in events {
        encode_event(&mut c, chain_id, e);
    }
    c.finish()
}

fn encode_event(c: &mut BinaryCopy, chain_id: u64, e: &Event) {
    let r = &e.raw;
    c.row(14);
    c.int8(chain_id as i64);
    c.int8(r.block_number as i64);
    c.hex0x(r.block_hash.as_slice());
    match r.block_timestamp {
        Some(t) => c.timestamptz(t as i64),
        None => c.null(),
    }
    c.hex0x(r.tx_hash.as_slice());
    c.int4(r.tx_index as i32);
    c.int4(r.log_index as i32);
    c.hex0x(r.address.as_slice());
    match e.name {
        Some(n) => c.text(n),
        None => c.null(),
    }
    for i in 0..4 {
        match r.topics.get(i) {
            Some(t) => c.bytea(t.as_slice()),
            None => c.null(),
        }
    }
    c.bytea(&r.data);
}

/// Appends raw events with one binary `COPY` (the fast path of [`write_batch`]). Fails with a
/// unique violation if one of them is already stored; [`insert_events`] skips those instead.
pub async fn copy_events(conn: &mut PgConnection, chain_id: u64, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    send_copy(
        conn,
        &format!("COPY events ({EVENT_COLUMNS}) FROM STDIN (FORMAT binary)"),
        encode_events(chain_id, events),
    )
    .await
}

/// Appends raw events; an event already stored is skipped (idempotent).
pub async fn insert_events(conn: &mut PgConnection, chain_id: u64, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let n = events.len();
    let mut bn = Vec::with_capacity(n);
    let mut bh = Vec::with_capacity(n);
    let mut ts = Vec::with_capacity(n);
    let mut txh = Vec::with_capacity(n);
    let mut ti = Vec::with_capacity(n);
    let mut li = Vec::with_capacity(n);
    let mut contract = Vec::with_capacity(n);
    let mut name = Vec::with_capacity(n);
    let mut topics: [Vec<Option<Vec<u8>>>; 4] = Default::default();
    let mut data = Vec::with_capacity(n);
    for e in events {
        let r = &e.raw;
        bn.push(r.block_number as i64);
        bh.push(hex0x(r.block_hash));
        ts.push(r.block_timestamp.map(|t| t as i64));
        txh.push(hex0x(r.tx_hash));
        ti.push(r.tx_index as i32);
        li.push(r.log_index as i32);
        contract.push(hex0x(r.address));
        name.push(e.name);
        for (i, col) in topics.iter_mut().enumerate() {
            col.push(r.topics.get(i).map(|t| t.to_vec()));
        }
        data.push(r.data.to_vec());
    }
    let [t0, t1, t2, t3] = topics;
    sqlx::query(
        "INSERT INTO events (chain_id, block_number, block_hash, block_timestamp, tx_hash, tx_index, log_index,
                             contract, event_name, topic0, topic1, topic2, topic3, data)
         SELECT $1, bn, bh, to_timestamp(ts), txh, ti, li, c, nm, t0, t1, t2, t3, d
         FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::int[], $8::text[], $9::text[],
                     $10::bytea[], $11::bytea[], $12::bytea[], $13::bytea[], $14::bytea[])
              AS t(bn, bh, ts, txh, ti, li, c, nm, t0, t1, t2, t3, d)
         ON CONFLICT (chain_id, tx_hash, log_index) DO NOTHING",
    )
    .bind(chain_id as i64)
    .bind(bn)
    .bind(bh)
    .bind(ts)
    .bind(txh)
    .bind(ti)
    .bind(li)
    .bind(contract)
    .bind(name)
    .bind(t0)
    .bind(t1)
    .bind(t2)
    .bind(t3)
    .bind(data)
    .execute(conn)
    .await?;
    Ok(())
}

/// Column vectors for one multi-row statement.
#[derive(Default)]
struct Cols {
    i: [Vec<i64>; 6],
    s: [Vec<String>; 8],
    o: [Vec<Option<String>>; 2],
    b: Vec<bool>,
}

impl Cols {
    fn is_empty(&self) -> bool {
        self.i[0].is_empty() && self.s[0].is_empty()
    }
}

fn opt_addr(a: Address) -> Option<String> {
    (a != Address::ZERO).then(|| hex0x(a))
}

/// Applies decoded events (in chain order) to the derived tables. Creations of a batch are
/// applied before its updates; for updates of one entity the last one wins. This equals
/// applying the events one by one because an entity is always created before it is updated.
pub async fn apply(conn: &mut PgConnection, events: &[Event]) -> Result<()> {
    apply_with(conn, events, false).await
}

/// [`apply`], with the rows of new licences and sales appended by binary `COPY` when `copy`
/// (fails with a unique violation if one is already stored, where [`apply`] skips it).
pub async fn apply_with(conn: &mut PgConnection, events: &[Event], copy: bool) -> Result<()> {
    let mut users: AddressMap<(u64, Option<u64>)> = AddressMap::default();
    let mut see = |a: Address, raw: &RawEvent| {
        if a != Address::ZERO {
            users
                .entry(a)
                .or_insert((raw.block_number, raw.block_timestamp));
        }
    };
    let (mut studios, mut films, mut editions, mut listed, mut withdrawn, mut deposited) =
        <(Cols, Cols, Cols, Cols, Cols, Cols)>::default();
    let mut minted: Vec<NewLicence> = Vec::new();
    let mut sales: Vec<NewSale> = Vec::new();
    // Last update per key, kept in chain order.
    let mut studio_upd: BTreeMap<
        u32,
        (
            &RawEvent,
            &tangible_chain::bindings::TangibleMarket::StudioUpdated,
        ),
    > = BTreeMap::new();
    let mut edition_upd = BTreeMap::new();
    let mut edition_status = BTreeMap::new();
    let mut revoked = BTreeMap::new();
    let mut offer_upd = BTreeMap::new();
    let mut offer_cancel = BTreeMap::new();
    let mut offer_fill = BTreeMap::new();

    for e in events {
        let Some(d) = &e.decoded else { continue };
        let r = &e.raw;
        let blk = r.block_number as i64;
        match d {
            TangibleEvent::StudioRegistered(ev) => {
                see(ev.admin, r);
                studios.i[0].push(ev.studioId as i64);
                studios.i[1].push(ev.commissionBps as i64);
                studios.i[2].push(blk);
                studios.s[0].push(ev.name.clone());
                studios.s[1].push(hex0x(ev.admin));
                studios.s[2].push(hex0x(ev.royaltyRecipient));
                studios.s[3].push(hex0x(r.tx_hash));
            }
            TangibleEvent::StudioUpdated(ev) => {
                see(ev.admin, r);
                studio_upd.insert(ev.studioId, (r, ev));
            }
            TangibleEvent::FilmRegistered(ev) => {
                films.i[0].push(i64_of(ev.filmId, r, "FilmRegistered")?);
                films.i[1].push(ev.studioId as i64);
                films.i[2].push(ev.year as i64);
                films.i[3].push(blk);
                films.s[0].push(ev.title.clone());
                films.s[1].push(hex0x(r.tx_hash));
            }
            TangibleEvent::EditionRegistered(ev) => {
                editions.i[0].push(i64_of(ev.filmId, r, "EditionRegistered")?);
                editions.i[1].push(ev.quality as i64);
                editions.i[2].push(i64_of(ev.priceCents, r, "EditionRegistered")?);
                editions.i[3].push(blk);
                editions.s[0].push(hex0x(ev.masterHash));
            }
            TangibleEvent::EditionUpdated(ev) => {
                edition_upd.insert((ev.filmId, ev.quality), (r, ev));
            }
            TangibleEvent::EditionStatusChanged(ev) => {
                edition_status.insert((ev.filmId, ev.quality), (r, ev));
            }
            TangibleEvent::LicenceMinted(ev) => {
                see(ev.owner, r);
                minted.push(NewLicence::of(r, ev)?);
            }
            TangibleEvent::LicenceRevoked(ev) => {
                revoked.insert(ev.licenceId, (r, ev));
            }
            TangibleEvent::OfferListed(ev) => {
                see(ev.seller, r);
                listed.s[0].push(dec(ev.offerId));
                listed.s[1].push(dec(ev.licenceId));
                listed.s[2].push(hex0x(ev.seller));
                listed.s[3].push(hex0x(r.tx_hash));
                listed.i[0].push(i64_of(ev.priceCents, r, "OfferListed")?);
                listed.i[1].push(blk);
            }
            TangibleEvent::OfferUpdated(ev) => {
                offer_upd.insert(ev.offerId, (r, ev));
            }
            TangibleEvent::OfferCancelled(ev) => {
                offer_cancel.insert(ev.offerId, r);
            }
            TangibleEvent::OfferFilled(ev) => {
                see(ev.buyer, r);
                offer_fill.insert(ev.offerId, (r, ev));
            }
            TangibleEvent::SaleSettled(ev) => {
                see(ev.payer, r);
                see(ev.seller, r);
                sales.push(NewSale::of(r, ev)?);
            }
            TangibleEvent::Withdrawn(ev) => {
                withdrawn.s[0].push(hex0x(r.tx_hash));
                withdrawn.s[1].push(hex0x(ev.account));
                withdrawn.s[2].push(hex0x(ev.to));
                withdrawn.s[3].push(dec(ev.amount));
                withdrawn.i[0].push(r.log_index as i64);
                withdrawn.i[1].push(blk);
            }
            TangibleEvent::Deposited(ev) => {
                deposited.s[0].push(hex0x(r.tx_hash));
                deposited.s[1].push(hex0x(ev.account));
                deposited.s[2].push(dec(ev.amount));
                deposited.i[0].push(r.log_index as i64);
                deposited.i[1].push(blk);
            }
        }
    }

    if !users.is_empty() {
        let (mut a, mut b, mut t) = (Vec::new(), Vec::new(), Vec::new());
        for (addr, (block, ts)) in &users {
            a.push(hex0x(addr));
            b.push(*block as i64);
            t.push(ts.map(|t| t as i64));
        }
        sqlx::query(
            "INSERT INTO users (address, created_at, first_seen_block)
             SELECT a, COALESCE(to_timestamp(ts), now()), b FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(a, b, ts)
             ON CONFLICT (address) DO UPDATE SET first_seen_block = EXCLUDED.first_seen_block, created_at = EXCLUDED.created_at
             WHERE EXCLUDED.first_seen_block < users.first_seen_block",
        )
        .bind(a)
        .bind(b)
        .bind(t)
        .execute(&mut *conn)
        .await?;
    }

    if !studios.is_empty() {
        let [id, bps, blk, ..] = studios.i;
        let [name, admin, royalty, txh, ..] = studios.s;
        sqlx::query(
            "INSERT INTO studios (studio_id, name, admin_address, royalty_addr, commission_bps, registered_block, registered_tx, updated_block)
             SELECT id, nm, adm, roy, bps, blk, txh, blk
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[])
                  AS t(id, nm, adm, roy, bps, blk, txh)
             ON CONFLICT (studio_id) DO NOTHING",
        )
        .bind(id)
        .bind(name)
        .bind(admin)
        .bind(royalty)
        .bind(bps)
        .bind(blk)
        .bind(txh)
        .execute(&mut *conn)
        .await?;
    }
    if !studio_upd.is_empty() {
        let mut c = Cols::default();
        for (id, (r, ev)) in &studio_upd {
            c.i[0].push(*id as i64);
            c.i[1].push(ev.commissionBps as i64);
            c.i[2].push(r.block_number as i64);
            c.s[0].push(ev.name.clone());
            c.s[1].push(hex0x(ev.admin));
            c.s[2].push(hex0x(ev.royaltyRecipient));
        }
        let [id, bps, blk, ..] = c.i;
        let [name, admin, royalty, ..] = c.s;
        sqlx::query(
            "UPDATE studios s SET name = t.nm, admin_address = t.adm, royalty_addr = t.roy, commission_bps = t.bps, updated_block = t.blk
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) AS t(id, nm, adm, roy, bps, blk)
             WHERE s.studio_id = t.id",
        )
        .bind(id)
        .bind(name)
        .bind(admin)
        .bind(royalty)
        .bind(bps)
        .bind(blk)
        .execute(&mut *conn)
        .await?;
    }

    if !films.is_empty() {
        let [id, studio, year, blk, ..] = films.i;
        let [title, txh, ..] = films.s;
        sqlx::query(
            "INSERT INTO films (film_id, studio_id, title, year, registered_block, registered_tx)
             SELECT id, st, ti, yr, blk, txh
             FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS t(id, st, ti, yr, blk, txh)
             ON CONFLICT (film_id) DO NOTHING",
        )
        .bind(id)
        .bind(studio)
        .bind(title)
        .bind(year)
        .bind(blk)
        .bind(txh)
        .execute(&mut *conn)
        .await?;
    }
    let mut touched_films: Vec<i64> = editions.i[0].clone();
    if !editions.is_empty() {
        let [film, quality, price, blk, ..] = editions.i;
        let [hash, ..] = editions.s;
        sqlx::query(
            "INSERT INTO editions (film_id, quality, master_hash, price_cents, active, registered_block, updated_block)
             SELECT f, q, h, p, TRUE, blk, blk
             FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[]) AS t(f, q, h, p, blk)
             ON CONFLICT (film_id, quality) DO NOTHING",
        )
        .bind(film)
        .bind(quality)
        .bind(hash)
        .bind(price)
        .bind(blk)
        .execute(&mut *conn)
        .await?;
    }
    if !edition_upd.is_empty() {
        let mut c = Cols::default();
        for ((film, q), (r, ev)) in &edition_upd {
            c.i[0].push(i64_of(*film, r, "EditionUpdated")?);
            c.i[1].push(*q as i64);
            c.i[2].push(i64_of(ev.priceCents, r, "EditionUpdated")?);
            c.i[3].push(r.block_number as i64);
            c.s[0].push(hex0x(ev.masterHash));
        }
        touched_films.extend(&c.i[0]);
        let [film, quality, price, blk, ..] = c.i;
        let [hash, ..] = c.s;
        sqlx::query(
            "UPDATE editions e SET master_hash = t.h, price_cents = t.p, updated_block = GREATEST(e.updated_block, t.blk)
             FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[]) AS t(f, q, h, p, blk)
             WHERE e.film_id = t.f AND e.quality = t.q",
        )
        .bind(film)
        .bind(quality)
        .bind(hash)
        .bind(price)
        .bind(blk)
        .execute(&mut *conn)
        .await?;
    }
    if !edition_status.is_empty() {
        let mut c = Cols::default();
        for ((film, q), (r, ev)) in &edition_status {
            c.i[0].push(i64_of(*film, r, "EditionStatusChanged")?);
            c.i[1].push(*q as i64);
            c.i[2].push(r.block_number as i64);
            c.b.push(ev.active);
        }
        let [film, quality, blk, ..] = c.i;
        sqlx::query(
            "UPDATE editions e SET active = t.a, updated_block = GREATEST(e.updated_block, t.blk)
             FROM unnest($1::bigint[], $2::bigint[], $3::bool[], $4::bigint[]) AS t(f, q, a, blk)
             WHERE e.film_id = t.f AND e.quality = t.q",
        )
        .bind(film)
        .bind(quality)
        .bind(c.b)
        .bind(blk)
        .execute(&mut *conn)
        .await?;
    }
    if !touched_films.is_empty() {
        touched_films.sort_unstable();
        touched_films.dedup();
        sqlx::query(
            "UPDATE films f SET master_hash = (SELECT e.master_hash FROM editions e WHERE e.film_id = f.film_id ORDER BY e.quality DESC LIMIT 1)
             WHERE f.film_id = ANY($1)",
        )
        .bind(touched_films)
        .execute(&mut *conn)
        .await?;
    }

    if !minted.is_empty() && copy {
        copy_licences(&mut *conn, &minted).await?;
    } else if !minted.is_empty() {
        insert_licences(&mut *conn, &minted).await?;
    }
    if !revoked.is_empty() {
        let mut c = Cols::default();
        for (id, (r, ev)) in &revoked {
            c.s[0].push(dec(*id));
            c.s[1].push(hex0x(r.tx_hash));
            c.o[0].push((!ev.replacedBy.is_zero()).then(|| dec(ev.replacedBy)));
            c.i[0].push(ev.reason as i64);
            c.i[1].push(r.block_number as i64);
        }
        let [id, txh, ..] = c.s;
        let [reason, blk, ..] = c.i;
        let [replaced, _] = c.o;
        sqlx::query(
            "UPDATE licences l SET revoked = TRUE, revoked_reason = t.r, replaced_by = t.rep::numeric, revoked_tx = t.txh, revoked_block = t.blk
             FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS t(id, r, rep, txh, blk)
             WHERE l.licence_id = t.id::numeric",
        )
        .bind(id)
        .bind(reason)
        .bind(replaced)
        .bind(txh)
        .bind(blk)
        .execute(&mut *conn)
        .await?;
    }

    if !listed.is_empty() {
        let [price, blk, ..] = listed.i;
        let [id, licence, seller, txh, ..] = listed.s;
        sqlx::query(
            "INSERT INTO resale_offers (offer_id, licence_id, seller_address, price, status, listed_block, listed_tx, updated_block)
             SELECT id::numeric, l::numeric, s, p, 'active', blk, txh, blk
             FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS t(id, l, s, p, blk, txh)
             ON CONFLICT (offer_id) DO NOTHING",
        )
        .bind(id)
        .bind(licence)
        .bind(seller)
        .bind(price)
        .bind(blk)
        .bind(txh)
        .execute(&mut *conn)
        .await?;
    }
    if !offer_upd.is_empty() {
        let mut c = Cols::default();
        for (id, (r, ev)) in &offer_upd {
            c.s[0].push(dec(*id));
            c.i[0].push(i64_of(ev.priceCents, r, "OfferUpdated")?);
            c.i[1].push(r.block_number as i64);
        }
        let [id, ..] = c.s;
        let [price, blk, ..] = c.i;
        sqlx::query(
            "UPDATE resale_offers o SET price = t.p, updated_block = GREATEST(o.updated_block, t.blk)
             FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(id, p, blk) WHERE o.offer_id = t.id::numeric",
        )
        .bind(id)
        .bind(price)
        .bind(blk)
        .execute(&mut *conn)
        .await?;
    }
    if !offer_cancel.is_empty() || !offer_fill.is_empty() {
        let mut c = Cols::default();
        for (id, r) in &offer_cancel {
            c.s[0].push(dec(*id));
            c.s[1].push("cancelled".to_owned());
            c.s[2].push(hex0x(r.tx_hash));
            c.o[0].push(None);
            c.o[1].push(None);
            c.i[0].push(r.block_number as i64);
        }
        for (id, (r, ev)) in &offer_fill {
            c.s[0].push(dec(*id));
            c.s[1].push("filled".to_owned());
            c.s[2].push(hex0x(r.tx_hash));
            c.o[0].push(Some(hex0x(ev.buyer)));
            c.o[1].push(Some(dec(ev.newLicenceId)));
            c.i[0].push(r.block_number as i64);
        }
        let [id, status, txh, ..] = c.s;
        let [buyer, newl] = c.o;
        let [blk, ..] = c.i;
        sqlx::query(
            "UPDATE resale_offers o SET status = t.st, buyer_address = t.b, new_licence_id = t.nl::numeric,
                    closed_block = t.blk, closed_tx = t.txh, updated_block = GREATEST(o.updated_block, t.blk)
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS t(id, st, txh, b, nl, blk)
             WHERE o.offer_id = t.id::numeric",
        )
        .bind(id)
        .bind(status)
        .bind(txh)
        .bind(buyer)
        .bind(newl)
        .bind(blk)
        .execute(&mut *conn)
        .await?;
    }

    if !sales.is_empty() && copy {
        copy_sales(&mut *conn, &sales, &minted).await?;
    } else if !sales.is_empty() {
        insert_sales(&mut *conn, &sales).await?;
    }
    if !withdrawn.is_empty() {
        let [li, blk, ..] = withdrawn.i;
        let [txh, account, to, amount, ..] = withdrawn.s;
        sqlx::query(
            "INSERT INTO withdrawals (tx_hash, log_index, block_number, account_address, to_address, amount_units)
             SELECT txh, li, blk, a, dst, amt::numeric
             FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) AS t(txh, li, blk, a, dst, amt)
             ON CONFLICT (tx_hash, log_index) DO NOTHING",
        )
        .bind(txh)
        .bind(li)
        .bind(blk)
        .bind(account)
        .bind(to)
        .bind(amount)
        .execute(&mut *conn)
        .await?;
    }
    if !deposited.is_empty() {
        let [li, blk, ..] = deposited.i;
        let [txh, account, amount, ..] = deposited.s;
        sqlx::query(
            "INSERT INTO deposits (tx_hash, log_index, block_number, account_address, amount_units)
             SELECT txh, li, blk, a, amt::numeric
             FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS t(txh, li, blk, a, amt)
             ON CONFLICT (tx_hash, log_index) DO NOTHING",
        )
        .bind(txh)
        .bind(li)
        .bind(blk)
        .bind(account)
        .bind(amount)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Sends one binary `COPY` payload.
async fn send_copy(conn: &mut PgConnection, statement: &str, payload: Vec<u8>) -> Result<()> {
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(payload).await?;
    copy.finish().await?;
    Ok(())
}

/// A licence minted in the batch (a `licences` row), its fields checked.
struct NewLicence {
    id: U256,
    owner: Address,
    film: i64,
    quality: i16,
    acquired_at: i64,
    /// `None` when the licence has no hold (0 on chain).
    hold_until: Option<i64>,
    tx_hash: B256,
    block: i64,
    log_index: i32,
}

impl NewLicence {
    fn of(r: &RawEvent, ev: &M::LicenceMinted) -> Result<Self> {
        Ok(Self {
            id: ev.licenceId,
            owner: ev.owner,
            film: i64_of(ev.filmId, r, "LicenceMinted")?,
            quality: i16::from(ev.quality),
            acquired_at: i64_of(ev.acquiredAt, r, "LicenceMinted")?,
            hold_until: match i64_of(ev.holdUntil, r, "LicenceMinted")? {
                0 => None,
                h => Some(h),
            },
            tx_hash: r.tx_hash,
            block: r.block_number as i64,
            log_index: r.log_index as i32,
        })
    }
}

/// A sale settled in the batch (a `sales` row), its amounts checked.
struct NewSale<'a> {
    raw: &'a RawEvent,
    ev: &'a M::SaleSettled,
    /// price, seller, studio and platform cents.
    cents: [i64; 4],
}

impl<'a> NewSale<'a> {
    fn of(raw: &'a RawEvent, ev: &'a M::SaleSettled) -> Result<Self> {
        let cents = |v| i64_of(v, raw, "SaleSettled");
        Ok(Self {
            raw,
            ev,
            cents: [
                cents(ev.priceCents)?,
                cents(ev.sellerCents)?,
                cents(ev.studioCents)?,
                cents(ev.platformCents)?,
            ],
        })
    }

    fn kind(&self) -> &'static str {
        if self.ev.offerId.is_zero() {
            "primary"
        } else {
            "resale"
        }
    }
}

/// Column list of `licences` written for a new licence, in [`copy_licences`]' field order.
const LICENCE_COLUMNS: &str = "licence_id, owner_address, film_id, quality, tx_hash, acquired_at, hold_until, minted_block, log_index";

/// New licences by binary `COPY`, encoded straight from the events (no intermediate strings:
/// this runs for every purchase of a backfill).
async fn copy_licences(conn: &mut PgConnection, minted: &[NewLicence]) -> Result<()> {
    let mut c = BinaryCopy::with_capacity(minted.len() * 200);
    for l in minted {
        c.row(9);
        c.numeric(l.id);
        c.hex0x(l.owner.as_slice());
        c.int8(l.film);
        c.int2(l.quality);
        c.hex0x(l.tx_hash.as_slice());
        c.timestamptz(l.acquired_at);
        match l.hold_until {
            Some(h) => c.timestamptz(h),
            None => c.null(),
        }
        c.int8(l.block);
        c.int4(l.log_index);
    }
    send_copy(
        conn,
        &format!("COPY licences ({LICENCE_COLUMNS}) FROM STDIN (FORMAT binary)"),
        c.finish(),
    )
    .await
}

/// New licences with an idempotent multi-row insert (a licence already stored is skipped).
async fn insert_licences(conn: &mut PgConnection, minted: &[NewLicence]) -> Result<()> {
    let mut c = Cols::default();
    for l in minted {
        c.s[0].push(dec(l.id));
        c.s[1].push(hex0x(l.owner));
        c.s[2].push(hex0x(l.tx_hash));
        c.i[0].push(l.film);
        c.i[1].push(l.quality.into());
        c.i[2].push(l.acquired_at);
        c.i[3].push(l.hold_until.unwrap_or(0));
        c.i[4].push(l.block);
        c.i[5].push(l.log_index.into());
    }
    let [film, quality, acquired, hold, blk, li] = c.i;
    let [id, owner, txh, ..] = c.s;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO licences ({LICENCE_COLUMNS})
         SELECT id::numeric, o, f, q, txh, to_timestamp(acq), CASE WHEN hold = 0 THEN NULL ELSE to_timestamp(hold) END, blk, li
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
              AS t(id, o, f, q, txh, acq, hold, blk, li)
         ON CONFLICT (licence_id) DO NOTHING"
    )))
    .bind(id)
    .bind(owner)
    .bind(film)
    .bind(quality)
    .bind(txh)
    .bind(acquired)
    .bind(hold)
    .bind(blk)
    .bind(li)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Column list of `sales`, in [`copy_sales`]' field order.
const SALE_COLUMNS: &str =
    "tx_hash, log_index, block_number, block_timestamp, kind, licence_id, offer_id, payment_ref,
     payer_address, price_cents, seller_address, seller_cents, studio_address, studio_cents,
     platform_address, platform_cents, film_id, quality, studio_id";

/// New sales by binary `COPY`, encoded straight from the events, with the film, quality and
/// studio of each sold licence filled like [`insert_sales`]' `LEFT JOIN` does (NULL when the
/// licence is unknown). A sale's licence is normally minted in the same transaction, so in the
/// same batch: those come from `minted` (the batch's own new licences, already written) and
/// only the studios of their films are read; the rest (if any) are looked up in `licences`.
async fn copy_sales(
    conn: &mut PgConnection,
    sales: &[NewSale<'_>],
    minted: &[NewLicence],
) -> Result<()> {
    // licence id -> (film, quality), from this batch.
    let in_batch: U256Map<(i64, i16)> =
        minted.iter().map(|l| (l.id, (l.film, l.quality))).collect();
    let mut others: Vec<String> = sales
        .iter()
        .filter(|s| !in_batch.contains_key(&s.ev.licenceId))
        .map(|s| dec(s.ev.licenceId))
        .collect();
    others.sort_unstable();
    others.dedup();
    // licence id -> (film, quality, studio), for licences of earlier batches.
    let mut earlier: U256Map<(i64, i16, Option<i64>)> = U256Map::default();
    if !others.is_empty() {
        let rows: Vec<(String, i64, i16, Option<i64>)> = sqlx::query_as(
            "SELECT l.licence_id::text, l.film_id, l.quality, f.studio_id
             FROM licences l LEFT JOIN films f ON f.film_id = l.film_id
             WHERE l.licence_id = ANY($1::text[]::numeric[])",
        )
        .bind(&others)
        .fetch_all(&mut *conn)
        .await?;
        for (id, f, q, s) in rows {
            let id = id.parse::<U256>().map_err(|e| {
                IndexerError::DeploymentMismatch(format!("malformed licence id {id}: {e}"))
            })?;
            earlier.insert(id, (f, q, s));
        }
    }
    let mut films: Vec<i64> = sales
        .iter()
        .filter_map(|s| in_batch.get(&s.ev.licenceId).map(|(f, _)| *f))
        .collect();
    films.sort_unstable();
    films.dedup();
    let studio_of: HashMap<i64, i64> = if films.is_empty() {
        HashMap::new()
    } else {
        sqlx::query_as("SELECT film_id, studio_id FROM films WHERE film_id = ANY($1)")
            .bind(&films)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect()
    };
    let of = |id: &U256| match in_batch.get(id) {
        Some(&(film, quality)) => Some((film, quality, studio_of.get(&film).copied())),
        None => earlier.get(id).copied(),
    };
    let mut c = BinaryCopy::with_capacity(sales.len() * 420);
    for s in sales {
        let (r, ev) = (s.raw, s.ev);
        let [price, seller_c, studio_c, platform_c] = s.cents;
        c.row(19);
        c.hex0x(r.tx_hash.as_slice());
        c.int4(r.log_index as i32);
        c.int8(r.block_number as i64);
        match r.block_timestamp {
            Some(t) => c.timestamptz(t as i64),
            None => c.null(),
        }
        c.text(s.kind());
        c.numeric(ev.licenceId);
        if ev.offerId.is_zero() {
            c.null();
        } else {
            c.numeric(ev.offerId);
        }
        if ev.paymentRef == B256::ZERO {
            c.null();
        } else {
            c.hex0x(ev.paymentRef.as_slice());
        }
        c.hex0x(ev.payer.as_slice());
        c.int8(price);
        if ev.seller == Address::ZERO {
            c.null();
        } else {
            c.hex0x(ev.seller.as_slice());
        }
        c.int8(seller_c);
        c.hex0x(ev.studio.as_slice());
        c.int8(studio_c);
        c.hex0x(ev.platform.as_slice());
        c.int8(platform_c);
        match of(&ev.licenceId) {
            Some((film, quality, studio_id)) => {
                c.int8(film);
                c.int2(quality);
                match studio_id {
                    Some(s) => c.int8(s),
                    None => c.null(),
                }
            }
            None => {
                c.null();
                c.null();
                c.null();
            }
        }
    }
    send_copy(
        conn,
        &format!("COPY sales ({SALE_COLUMNS}) FROM STDIN (FORMAT binary)"),
        c.finish(),
    )
    .await
}

/// New sales with an idempotent multi-row insert (a sale already stored is skipped), the
/// film, quality and studio joined from `licences` and `films`.
async fn insert_sales(conn: &mut PgConnection, sales: &[NewSale<'_>]) -> Result<()> {
    let mut c = Cols::default();
    for s in sales {
        let (r, ev) = (s.raw, s.ev);
        c.s[0].push(hex0x(r.tx_hash));
        c.s[1].push(dec(ev.licenceId));
        c.s[2].push(hex0x(ev.payer));
        c.s[3].push(hex0x(ev.studio));
        c.s[4].push(hex0x(ev.platform));
        c.s[5].push(s.kind().to_owned());
        c.s[6].push(opt_addr(ev.seller).unwrap_or_default());
        c.s[7].push(r.block_timestamp.map(|t| t.to_string()).unwrap_or_default());
        c.o[0].push((!ev.offerId.is_zero()).then(|| dec(ev.offerId)));
        c.o[1].push((ev.paymentRef != B256::ZERO).then(|| hex0x(ev.paymentRef)));
        c.i[0].push(r.log_index as i64);
        c.i[1].push(r.block_number as i64);
        for (k, v) in s.cents.iter().enumerate() {
            c.i[2 + k].push(*v);
        }
    }
    let [li, blk, price, seller_c, studio_c, platform_c] = c.i;
    let [txh, licence, payer, studio, platform, kind, seller, ts] = c.s;
    let [offer, payref] = c.o;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sales ({SALE_COLUMNS})
         SELECT t.txh, t.li, t.blk, CASE WHEN t.ts = '' THEN NULL ELSE to_timestamp(t.ts::bigint) END, t.k, t.lic::numeric,
                t.off::numeric, t.pr, t.payer, t.price, NULLIF(t.seller, ''), t.sc, t.studio, t.stc, t.plat, t.pc,
                l.film_id, l.quality, f.studio_id
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::text[], $14::bigint[], $15::text[], $16::bigint[])
              AS t(txh, li, blk, ts, k, lic, off, pr, payer, price, seller, sc, studio, stc, plat, pc)
         LEFT JOIN licences l ON l.licence_id = t.lic::numeric
         LEFT JOIN films f ON f.film_id = l.film_id
         ON CONFLICT (tx_hash, log_index) DO NOTHING"
    )))
    .bind(txh)
    .bind(li)
    .bind(blk)
    .bind(ts)
    .bind(kind)
    .bind(licence)
    .bind(offer)
    .bind(payref)
    .bind(payer)
    .bind(price)
    .bind(seller)
    .bind(seller_c)
    .bind(studio)
    .bind(studio_c)
    .bind(platform)
    .bind(platform_c)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
