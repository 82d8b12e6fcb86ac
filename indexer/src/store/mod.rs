//! Postgres side of the indexer: batches, checkpoints, recent block hashes, rollbacks.
//!
//! A batch is written in one transaction ([`write`]): raw events (unique on
//! `(chain_id, tx_hash, log_index)`), the derived tables, the recent block hashes and the
//! checkpoint. Appends are binary `COPY`s and every other statement a multi-row `UNNEST`
//! insert or update, so a batch costs a fixed number of round trips whatever its size. The
//! write is split in two ([`stage_batch`], [`StagedBatch::finish`]) so that the indexer can
//! append the next batch's raw log on a second connection while it finishes the current one.
//! A rollback ([`rollback_to`]) unwinds each projection to the common ancestor
//! ([`unwind_derived`]: rows above it deleted, rows updated above it re-derived from their
//! events in the raw log with the same fold), then deletes the raw log above it, also in one
//! transaction.
//!
//! Modules, along the seams of a write:
//! - [`checkpoint`](self::checkpoint): the checkpoint, the deployment's identity, the window
//!   of recent block hashes;
//! - `deferral`: the bulk tables' indexes and keys dropped for a backfill and re-created;
//! - `batch`: one batch's transaction, staged in two halves;
//! - `raw_log`: the `events` table;
//! - `rollback`: back to a common ancestor (each projection's `unwind`);
//! - `fold`: decoded events → one typed row batch per statement (`Projection`), a pure
//!   function; then one module per table family writes its rows: `users`, `catalogue`
//!   (studios, films, editions), `licences`, `offers` (resale offers), `sales`, `money`
//!   (withdrawals, deposits, sale_clearances, credit_spends).

mod batch;
pub mod checkpoint;
mod deferral;
mod fold;
mod raw_log;
mod rollback;

mod catalogue;
mod licences;
mod money;
mod offers;
mod sales;
mod users;

use alloy::primitives::B256;
use sqlx::PgConnection;

use crate::decode::Event;
use crate::{IndexerError, Result};
use fold::fold;

pub use batch::{BatchWrite, StagedBatch, stage_batch, write, write_batch};
pub use checkpoint::{
    Checkpoint, Identity, load_checkpoint, other_chains, recent_blocks, record_blocks,
};
pub use deferral::{
    DEFERRABLE_INDEX_TABLES, DEFERRABLE_KEY_TABLES, defer_indexes, defer_indexes_of,
    deferred_indexes, estimated_events, restore_indexes, restore_indexes_timed,
};
pub use raw_log::{copy_events, encode_events, insert_events};
pub use rollback::{recompute_derived, reset, rollback_to, unwind_derived};

/// Applies decoded events (in chain order) to the derived tables. Creations of a batch are
/// applied before its updates; for updates of one entity the last one wins. This equals
/// applying the events one by one because an entity is always created before it is updated.
pub async fn apply(conn: &mut PgConnection, events: &[Event]) -> Result<()> {
    apply_with(conn, events, false).await
}

/// [`apply`], with the rows of new licences and sales appended by binary `COPY` when `copy`
/// (fails with a unique violation if one is already stored, where [`apply`] skips it).
pub async fn apply_with(conn: &mut PgConnection, events: &[Event], copy: bool) -> Result<()> {
    fold(events)?.write(conn, copy).await
}

fn parse_hash(s: &str) -> Result<B256> {
    s.parse().map_err(|e| {
        IndexerError::DeploymentMismatch(format!("malformed hash {s} in the database: {e}"))
    })
}

/// Sends one binary `COPY` payload.
async fn send_copy(conn: &mut PgConnection, statement: &str, payload: Vec<u8>) -> Result<()> {
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(payload).await?;
    copy.finish().await?;
    Ok(())
}
