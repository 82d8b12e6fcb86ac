//! Reorgs and resets: the mirror rolled back to a common ancestor (each projection unwound to
//! it, the raw log and block hashes above it deleted), or emptied.

use alloy::primitives::{B256, Bytes};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use super::catalogue::Catalogue;
use super::checkpoint::{Checkpoint, Identity, write_checkpoint};
use super::licences::Licences;
use super::money::Money;
use super::offers::Offers;
use super::users::Users;
use super::{apply_with, parse_hash, sales};
use crate::decode::{self, Event, RawEvent};
use crate::{IndexerError, Result};

/// Deletes everything indexed, for every chain (used when the database mirrors another
/// deployment and the operator asked for a reset).
pub async fn reset(pool: &PgPool) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "TRUNCATE events, blocks, checkpoints, users, studios, films, editions, licences, resale_offers, sales, withdrawals, deposits, sale_clearances, credit_spends",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Rolls the mirror back to `ancestor` in one transaction: each projection unwinds to its
/// state at the ancestor ([`unwind_derived`]: rows above it deleted, rows updated above it
/// re-derived from the raw log at or below it; rows below it untouched), then the raw events
/// and block hashes above it are deleted and the checkpoint moves to the ancestor. Its cost
/// follows the reorg's depth, not the history ([`recompute_derived`] replays all of it).
/// Returns the number of events deleted.
pub async fn rollback_to(pool: &PgPool, identity: &Identity, ancestor: Checkpoint) -> Result<u64> {
    let chain = identity.chain_id as i64;
    let above = ancestor.number as i64;
    let mut tx = pool.begin().await?;
    unwind_derived(&mut tx, identity.chain_id, ancestor.number).await?;
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
    write_checkpoint(&mut tx, identity, ancestor).await?;
    tx.commit().await?;
    Ok(deleted)
}

/// Unwinds every derived table to its state at block `to` (reth's `unwind`): the append-only
/// tables (users, licences, sales, withdrawals, deposits, sale_clearances,
/// credit_spends) delete their rows above it; the keyed
/// ones (studios, editions, resale offers, licence revocations) delete the rows created above
/// it and re-derive the rows updated above it from their own events at or below it in the raw
/// log, which must still hold them (delete the raw log above `to` afterwards).
pub async fn unwind_derived(conn: &mut PgConnection, chain_id: u64, to: u64) -> Result<()> {
    Users::unwind(conn, to).await?;
    Money::unwind(conn, to).await?;
    sales::unwind(conn, to).await?;
    Offers::unwind(conn, chain_id, to).await?;
    Licences::unwind(conn, chain_id, to).await?;
    Catalogue::unwind(conn, chain_id, to).await
}

/// The stored events of `chain_id` at or below block `to` whose signature is one of
/// `signatures`, decoded, in chain order (the source of a keyed projection's unwind).
pub(super) async fn replay_source(
    conn: &mut PgConnection,
    chain_id: u64,
    to: u64,
    signatures: &[B256],
) -> Result<Vec<Event>> {
    let signatures: Vec<&[u8]> = signatures.iter().map(|s| s.as_slice()).collect();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RAW_COLUMNS} FROM events
         WHERE chain_id = $1 AND block_number <= $2 AND topic0 = ANY($3)
         ORDER BY block_number, log_index"
    )))
    .bind(chain_id as i64)
    .bind(to as i64)
    .bind(signatures)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| decode::decode(raw_event(r)?)).collect()
}

/// Columns of a stored event read back by [`raw_event`].
const RAW_COLUMNS: &str = "block_number, block_hash, extract(epoch FROM block_timestamp)::bigint, tx_hash, tx_index, log_index,
     contract, topic0, topic1, topic2, topic3, data";

/// A stored event, from a row of [`RAW_COLUMNS`].
fn raw_event(r: &PgRow) -> Result<RawEvent> {
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
    Ok(RawEvent {
        block_number: r.get::<i64, _>(0) as u64,
        block_hash: parse_hash(r.get(1))?,
        block_timestamp: r.get::<Option<i64>, _>(2).map(|t| t as u64),
        tx_hash: parse_hash(r.get(3))?,
        tx_index: r.get::<i32, _>(4) as u64,
        log_index: r.get::<i32, _>(5) as u64,
        address: r.get::<String, _>(6).parse().unwrap_or_default(),
        topics,
        data: Bytes::from(r.get::<Vec<u8>, _>(11)),
    })
}

/// Empties the derived tables and re-applies the raw log of `chain_id`, in pages (every event
/// of the contract; the fold skips those kept in the raw log only).
pub async fn recompute_derived(conn: &mut PgConnection, chain_id: u64) -> Result<()> {
    sqlx::query(
        "TRUNCATE studios, films, editions, licences, resale_offers, sales, withdrawals, deposits, sale_clearances, credit_spends",
    )
    .execute(&mut *conn)
    .await?;
    let mut after: (i64, i32) = (-1, -1);
    loop {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RAW_COLUMNS}
             FROM events
             WHERE chain_id = $1 AND (block_number, log_index) > ($2, $3) AND event_name IS NOT NULL
             ORDER BY block_number, log_index
             LIMIT 10000"
        )))
        .bind(chain_id as i64)
        .bind(after.0)
        .bind(after.1)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last() else { break };
        after = (last.get(0), last.get(5));
        let mut events = Vec::with_capacity(rows.len());
        for r in &rows {
            events.push(decode::decode(raw_event(r)?)?);
        }
        // The derived tables were emptied above: nothing can collide with the fast path.
        apply_with(&mut *conn, &events, true).await?;
    }
    Ok(())
}
