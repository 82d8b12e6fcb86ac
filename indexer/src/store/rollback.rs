//! Reorgs and resets: the mirror rolled back to a common ancestor (the raw log, block hashes
//! and users above it deleted, the derived tables recomputed from the raw log), or emptied.

use alloy::primitives::{B256, Bytes};
use sqlx::{PgConnection, PgPool, Row};

use super::checkpoint::{Checkpoint, Identity, write_checkpoint};
use super::{apply_with, parse_hash};
use crate::decode::{self, RawEvent};
use crate::{IndexerError, Result};

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

/// Empties the derived tables and re-applies the raw log of `chain_id`, in pages (every event
/// of the contract; the fold skips those kept in the raw log only).
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
             WHERE chain_id = $1 AND (block_number, log_index) > ($2, $3) AND event_name IS NOT NULL
             ORDER BY block_number, log_index
             LIMIT 10000",
        )
        .bind(chain_id as i64)
        .bind(after.0)
        .bind(after.1)
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
