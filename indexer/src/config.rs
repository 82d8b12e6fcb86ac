//! Command-line flags and environment variables of the indexer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `tangible-indexer` flags; each can also come from the environment variable it names.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "tangible-indexer",
    version,
    about = "Mirror Tangible's contract events into Postgres"
)]
pub struct Args {
    /// JSON-RPC HTTP endpoint of the chain.
    #[arg(long, env = "RPC_URL", default_value = "http://127.0.0.1:8545")]
    pub rpc_url: String,
    /// Postgres URL of the mirror database.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Deployment file written by the deployer (`deployments/<chain-id>.json`).
    #[arg(
        long,
        env = "DEPLOYMENT_FILE",
        default_value = "deployments/31337.json"
    )]
    pub deployment: PathBuf,
    /// Blocks below the head considered final enough to index.
    #[arg(long, env = "INDEXER_CONFIRMATIONS", default_value_t = 2)]
    pub confirmations: u64,
    /// How often the head is polled when caught up, in milliseconds.
    #[arg(long, env = "INDEXER_POLL_INTERVAL_MS", default_value_t = 200)]
    pub poll_interval_ms: u64,
    /// First `eth_getLogs` range, in blocks.
    #[arg(long, env = "INDEXER_INITIAL_RANGE", default_value_t = 100)]
    pub initial_range: u64,
    /// Largest `eth_getLogs` range, in blocks.
    #[arg(long, env = "INDEXER_MAX_RANGE", default_value_t = 50_000)]
    pub max_range: u64,
    /// Logs per batch the range adapts to (shrinks above, grows below half of it).
    #[arg(long, env = "INDEXER_TARGET_LOGS", default_value_t = 10_000)]
    pub target_logs: usize,
    /// Drop the mirror's secondary indexes during a backfill with at least this many events
    /// ahead (estimated, and at least as many as already stored); they are re-created once
    /// caught up. 0 never defers them.
    #[arg(long, env = "INDEXER_DEFER_INDEXES_ABOVE", default_value_t = 50_000)]
    pub defer_indexes_above: u64,
    /// Recent block hashes kept for reorg detection; a deeper reorg re-indexes from the
    /// deployment block.
    #[arg(long, env = "INDEXER_REORG_WINDOW", default_value_t = 128)]
    pub reorg_window: u64,
    /// Timeout of one RPC call, in milliseconds.
    #[arg(long, env = "INDEXER_RPC_TIMEOUT_MS", default_value_t = 30_000)]
    pub rpc_timeout_ms: u64,
    /// Prometheus metrics listen address (`/metrics`); empty to disable.
    #[arg(long, env = "INDEXER_METRICS_ADDR", default_value = "127.0.0.1:9102")]
    pub metrics_addr: String,
    /// Maximum database connections.
    #[arg(long, env = "INDEXER_DB_CONNECTIONS", default_value_t = 4)]
    pub db_connections: u32,
    /// Delete the mirror of this chain if it belongs to another deployment, and start over.
    #[arg(long, env = "INDEXER_RESET_ON_MISMATCH", default_value_t = false)]
    pub reset_on_mismatch: bool,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "INDEXER_LOG_JSON", default_value_t = false)]
    pub log_json: bool,
}

impl Args {
    /// The indexer settings these flags describe.
    pub fn indexer_config(&self) -> IndexerConfig {
        IndexerConfig {
            confirmations: self.confirmations,
            poll_interval: Duration::from_millis(self.poll_interval_ms),
            initial_range: self.initial_range.max(1),
            max_range: self.max_range.max(1),
            target_logs: self.target_logs.max(1),
            reorg_window: self.reorg_window.max(2),
            reset_on_mismatch: self.reset_on_mismatch,
            defer_indexes_above: self.defer_indexes_above,
        }
    }

    /// The metrics address, if metrics are enabled.
    pub fn metrics_addr(&self) -> anyhow::Result<Option<SocketAddr>> {
        if self.metrics_addr.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(self.metrics_addr.parse()?))
    }
}

/// Settings of an [`crate::Indexer`].
#[derive(Debug, Clone)]
pub struct IndexerConfig {
    /// Blocks below the head considered final enough to index.
    pub confirmations: u64,
    /// Head polling interval when caught up.
    pub poll_interval: Duration,
    /// First `eth_getLogs` range, in blocks.
    pub initial_range: u64,
    /// Largest `eth_getLogs` range, in blocks.
    pub max_range: u64,
    /// Logs per batch the range adapts to.
    pub target_logs: usize,
    /// Recent block hashes kept for reorg detection.
    pub reorg_window: u64,
    /// Wipe a mirror of another deployment instead of refusing to start.
    pub reset_on_mismatch: bool,
    /// Drop the secondary indexes during a backfill with at least this many events ahead
    /// (estimated, and no fewer than already stored), re-create them once caught up; 0 never.
    pub defer_indexes_above: u64,
}

impl Default for IndexerConfig {
    fn default() -> Self {
        Self {
            confirmations: 0,
            poll_interval: Duration::from_millis(200),
            initial_range: 100,
            max_range: 50_000,
            target_logs: 10_000,
            reorg_window: 128,
            reset_on_mismatch: false,
            defer_indexes_above: 50_000,
        }
    }
}
