//! Tangible's indexer: mirrors the contracts' events into Postgres, exactly once, reorg-safe.
//!
//! Data flow of one batch ([`Indexer::step`]; during a backfill three ranges are in flight at
//! once: one being committed, the next one's raw log staged on a second connection, the one
//! after it being fetched):
//! 1. [`rpc`]: read the head, fetch the headers of the next block range (all of them near the
//!    head, the two ends during a deep backfill) and its logs with `eth_getLogs`; the range
//!    adapts, halving when the node refuses it or returns too many logs and growing back after.
//! 2. [`decode`]: logs become typed Tangible events (alloy `sol!` bindings of `tangible-chain`).
//! 3. [`store`]: one transaction appends them to the raw `events` log (unique on
//!    `(chain_id, tx_hash, log_index)`), applies them to the derived tables, records the recent
//!    block hashes and moves the checkpoint (block number and hash). An empty range still moves
//!    the checkpoint.
//! 4. Reorgs: when the next block's parent hash differs from the checkpoint's hash (or the
//!    checkpoint block is gone), the common ancestor is found over the window of recent block
//!    hashes, every projection unwinds to it (rows above it deleted, rows updated above it
//!    re-derived from their events in the raw log), the raw log above it is deleted, and
//!    indexing resumes from the ancestor — in one transaction.
//!
//! [`Indexer::run`] repeats steps with a confirmation depth, backoff on RPC or database errors,
//! Prometheus metrics ([`metrics`]) and a graceful shutdown.

pub mod config;
pub mod copy;
pub mod decode;
mod indexer;
pub mod metrics;
pub mod rpc;
pub mod store;

pub use config::{Args, IndexerConfig, Settings};
pub use indexer::{Indexer, StepOutcome};

/// Opens the mirror database's pool and checks that its schema is this build's (the indexer
/// does not migrate: the deploy's `tangible-api migrate` does); an error names the database
/// without its password.
pub async fn open_database(settings: &Settings) -> anyhow::Result<sqlx::PgPool> {
    use anyhow::Context;
    let url = &settings.database_url;
    let pool = tangible_db::connect(url.expose(), settings.db_max_connections)
        .await
        .with_context(|| format!("connecting to the database {url}"))?;
    tangible_db::require_current_schema(&pool)
        .await
        .with_context(|| format!("database {url}"))?;
    Ok(pool)
}

/// Errors of the indexer.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    /// The RPC node failed (retried with backoff by [`Indexer::run`]).
    #[error("rpc: {0}")]
    Rpc(#[from] rpc::RpcError),
    /// The database failed (retried with backoff by [`Indexer::run`]).
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A log of a known event could not be decoded, or holds a value out of the schema's range.
    #[error("cannot decode log {tx_hash}#{log_index} ({event}): {reason}")]
    Decode {
        /// Transaction of the log.
        tx_hash: String,
        /// Index of the log in its block.
        log_index: u64,
        /// Event name.
        event: &'static str,
        /// Why.
        reason: String,
    },
    /// The database already mirrors another deployment or chain.
    #[error("{0}")]
    DeploymentMismatch(String),
    /// A batch was not written: the stored checkpoint is not the one it extends (another
    /// writer moved it, or a commit was lost or acknowledged to nobody). Reload and retry.
    #[error("stored checkpoint {stored:?} is not the batch's parent {expected:?}")]
    CheckpointMoved {
        /// The stored checkpoint's block.
        stored: Option<u64>,
        /// The block the batch extends.
        expected: Option<u64>,
    },
}

impl IndexerError {
    /// Whether retrying later can help (node or database unavailable), as opposed to a
    /// configuration or data error that needs an operator.
    pub const fn is_transient(&self) -> bool {
        matches!(self, Self::Rpc(_) | Self::Db(_))
    }
}

/// Result alias of the indexer.
pub type Result<T, E = IndexerError> = std::result::Result<T, E>;
