//! Index deferral for a cold backfill: the bulk tables' secondary indexes and the append-only
//! tables' primary keys are dropped before it and re-created (one sorted build each) once the
//! indexer is caught up; their definitions wait in `indexer_deferred_indexes` meanwhile.

use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::Result;
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
/// batch's own transaction ([`BatchWrite::parent`](super::BatchWrite::parent)).
/// (`withdrawals` and `deposits`, one row per money move out of or into the market, are
/// rare next to sales; their keys stay.)
pub const DEFERRABLE_KEY_TABLES: &[&str] = &["events", "sales"];

/// Drops the secondary (non-unique, non-primary) indexes of [`DEFERRABLE_INDEX_TABLES`] and,
/// when `keys`, the primary keys of [`DEFERRABLE_KEY_TABLES`], recording how to re-create each
/// in `indexer_deferred_indexes`, in one transaction. Other unique indexes and keys stay (the
/// derived tables' updates look rows up by them). Returns how many were dropped.
///
/// While keys are deferred, batches must be written with [`BatchWrite::parent`](super::BatchWrite::parent) checked
/// (the indexer does); [`restore_indexes`] must run before the indexer follows the head.
pub async fn defer_indexes(pool: &PgPool, keys: bool) -> Result<usize> {
    let key_tables: &[&str] = if keys { DEFERRABLE_KEY_TABLES } else { &[] };
    defer_indexes_of(pool, DEFERRABLE_INDEX_TABLES, key_tables).await
}

/// [`defer_indexes`] over explicit lists: the secondary indexes of `index_tables` and the
/// primary keys of `key_tables` (which must only be append-only tables whose batches are
/// written with [`BatchWrite::parent`](super::BatchWrite::parent) checked). For benchmarks and tests comparing lists.
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
