//! Configuration of the indexer: an optional TOML file (`TANGIBLE_INDEXER_CONFIG`) overlaid by
//! `TANGIBLE_INDEXER_*` environment variables (one per field, upper-cased: `rpc_url` →
//! `TANGIBLE_INDEXER_RPC_URL`), then by command-line flags ([`Args`]). The loader is the service
//! shell's ([`tangible_service::config`]), as the API's.
//!
//! The database and node URLs are [`SecretUrl`]s: they never print their credentials.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tangible_service::{ConfigError, ConfigLoader, SecretUrl};

/// The service name of the indexer's variables (`TANGIBLE_INDEXER_*`).
pub const SERVICE: &str = "indexer";

/// The indexer's settings. Every field has a default except the database URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// JSON-RPC HTTP endpoint of the chain (secret: provider URLs often embed an API key).
    #[serde(default = "defaults::rpc_url")]
    pub rpc_url: SecretUrl,
    /// Postgres URL of the mirror database (migrated by the deploy's `tangible-api migrate`).
    pub database_url: SecretUrl,
    /// Deployment file written by the deployer (`deployments/<chain-id>.json`).
    #[serde(default = "defaults::deployment_file")]
    pub deployment_file: PathBuf,
    /// Blocks below the head considered final enough to index.
    #[serde(default = "defaults::confirmations")]
    pub confirmations: u64,
    /// How often the head is polled when caught up, in milliseconds.
    #[serde(default = "defaults::poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// First `eth_getLogs` range, in blocks.
    #[serde(default = "defaults::initial_range")]
    pub initial_range: u64,
    /// Largest `eth_getLogs` range, in blocks.
    #[serde(default = "defaults::max_range")]
    pub max_range: u64,
    /// Logs per batch the range adapts to (shrinks above, grows below half of it).
    #[serde(default = "defaults::target_logs")]
    pub target_logs: usize,
    /// Drop the mirror's secondary indexes during a backfill with at least this many events
    /// ahead (estimated, and at least as many as already stored); they are re-created once
    /// caught up. 0 never defers them.
    #[serde(default = "defaults::defer_indexes_above")]
    pub defer_indexes_above: u64,
    /// Recent block hashes kept for reorg detection; a deeper reorg re-indexes from the
    /// deployment block.
    #[serde(default = "defaults::reorg_window")]
    pub reorg_window: u64,
    /// Timeout of one RPC call, in milliseconds.
    #[serde(default = "defaults::rpc_timeout_ms")]
    pub rpc_timeout_ms: u64,
    /// Prometheus metrics listen address (`/metrics`); empty to disable.
    #[serde(default = "defaults::metrics_addr")]
    pub metrics_addr: String,
    /// Size of the database pool.
    #[serde(default = "defaults::db_max_connections")]
    pub db_max_connections: u32,
    /// Delete the mirror of this chain if it belongs to another deployment, and start over.
    #[serde(default)]
    pub reset_on_mismatch: bool,
    /// JSON log lines (production) instead of human-readable ones.
    #[serde(default)]
    pub json_logs: bool,
}

mod defaults {
    use std::path::PathBuf;

    use tangible_service::SecretUrl;

    pub(super) fn rpc_url() -> SecretUrl {
        SecretUrl::new("http://127.0.0.1:8545")
    }
    pub(super) fn deployment_file() -> PathBuf {
        "deployments/31337.json".into()
    }
    pub(super) const fn confirmations() -> u64 {
        2
    }
    pub(super) const fn poll_interval_ms() -> u64 {
        200
    }
    pub(super) const fn initial_range() -> u64 {
        100
    }
    pub(super) const fn max_range() -> u64 {
        50_000
    }
    pub(super) const fn target_logs() -> usize {
        10_000
    }
    pub(super) const fn defer_indexes_above() -> u64 {
        50_000
    }
    pub(super) const fn reorg_window() -> u64 {
        128
    }
    pub(super) const fn rpc_timeout_ms() -> u64 {
        30_000
    }
    pub(super) fn metrics_addr() -> String {
        "127.0.0.1:9102".to_owned()
    }
    pub(super) const fn db_max_connections() -> u32 {
        4
    }
}

/// `tangible-indexer` flags: each overrides the setting of the same name (file, then
/// `TANGIBLE_INDEXER_<NAME>` variable).
#[derive(Debug, Clone, Default, clap::Parser, Serialize)]
#[command(
    name = "tangible-indexer",
    version,
    about = "Mirror Tangible's contract events into Postgres",
    after_help = "Every setting can also come from a TANGIBLE_INDEXER_<NAME> variable \
                  (TANGIBLE_INDEXER_DATABASE_URL, TANGIBLE_INDEXER_CONFIRMATIONS, ...) or from the \
                  TOML file named by TANGIBLE_INDEXER_CONFIG; a flag wins over both. The database \
                  must be migrated first: tangible-api migrate."
)]
pub struct Args {
    /// JSON-RPC HTTP endpoint of the chain [default: http://127.0.0.1:8545].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_url: Option<String>,
    /// Postgres URL of the mirror database.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Deployment file written by the deployer [default: deployments/31337.json].
    #[arg(long = "deployment")]
    #[serde(rename = "deployment_file", skip_serializing_if = "Option::is_none")]
    pub deployment: Option<PathBuf>,
    /// Blocks below the head considered final enough to index [default: 2].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmations: Option<u64>,
    /// How often the head is polled when caught up, in milliseconds [default: 200].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_interval_ms: Option<u64>,
    /// First `eth_getLogs` range, in blocks [default: 100].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_range: Option<u64>,
    /// Largest `eth_getLogs` range, in blocks [default: 50000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_range: Option<u64>,
    /// Logs per batch the range adapts to [default: 10000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_logs: Option<usize>,
    /// Defer the secondary indexes for a backfill with at least this many events ahead; 0
    /// never [default: 50000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defer_indexes_above: Option<u64>,
    /// Recent block hashes kept for reorg detection [default: 128].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reorg_window: Option<u64>,
    /// Timeout of one RPC call, in milliseconds [default: 30000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_timeout_ms: Option<u64>,
    /// Prometheus metrics listen address (`/metrics`); empty to disable [default:
    /// 127.0.0.1:9102].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_addr: Option<String>,
    /// Size of the database pool [default: 4].
    #[arg(long, alias = "db-connections")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_max_connections: Option<u32>,
    /// Delete the mirror of this chain if it belongs to another deployment, and start over.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reset_on_mismatch: bool,
    /// Log as JSON lines instead of text.
    #[arg(long, alias = "log-json")]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub json_logs: bool,
}

impl Settings {
    /// The file named by `TANGIBLE_INDEXER_CONFIG` (if set) under the `TANGIBLE_INDEXER_*`
    /// variables, under the flags set in `args`.
    pub fn load(args: &Args) -> Result<Self, ConfigError> {
        ConfigLoader::from_env(SERVICE)?
            .with_overrides(args)
            .extract()
    }

    /// The settings of an optional TOML file under `(name, value)` variables, under the flags
    /// set in `args`.
    pub fn from_sources(
        file: Option<PathBuf>,
        vars: impl IntoIterator<Item = (String, String)>,
        args: &Args,
    ) -> Result<Self, ConfigError> {
        ConfigLoader::from_sources(SERVICE, file.as_deref(), vars)?
            .with_overrides(args)
            .extract()
    }

    /// The indexer settings these describe.
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (format!("TANGIBLE_INDEXER_{k}"), (*v).to_owned()))
            .collect()
    }

    fn flags(flags: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("tangible-indexer").chain(flags.iter().copied()))
            .unwrap()
    }

    #[test]
    fn defaults_need_only_the_database() {
        let s = Settings::from_sources(
            None,
            vars(&[("DATABASE_URL", "postgres://u:pw@h/db")]),
            &Args::default(),
        )
        .unwrap();
        assert_eq!(s.rpc_url.expose(), "http://127.0.0.1:8545");
        assert_eq!(s.deployment_file, PathBuf::from("deployments/31337.json"));
        assert_eq!((s.confirmations, s.poll_interval_ms), (2, 200));
        assert_eq!(
            s.metrics_addr().unwrap(),
            Some("127.0.0.1:9102".parse().unwrap())
        );
        assert!(!s.reset_on_mismatch && !s.json_logs);
        assert!(!format!("{s:?}").contains("pw"));
        let err = Settings::from_sources(None, Vec::new(), &Args::default()).unwrap_err();
        assert!(err.to_string().contains("database_url"), "{err}");
    }

    #[test]
    fn flags_over_variables_over_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("indexer.toml");
        std::fs::write(
            &file,
            "database_url = \"postgres://file/db\"\nconfirmations = 5\nmax_range = 7\n",
        )
        .unwrap();
        let s = Settings::from_sources(
            Some(file),
            vars(&[
                ("CONFIRMATIONS", "3"),
                ("JSON_LOGS", "true"),
                ("RESET_ON_MISMATCH", "true"),
                ("DB_MAX_CONNECTIONS", "9"),
            ]),
            &flags(&[
                "--confirmations",
                "0",
                "--db-connections",
                "6",
                "--metrics-addr",
                "",
            ]),
        )
        .unwrap();
        assert_eq!(s.database_url.expose(), "postgres://file/db");
        assert_eq!((s.confirmations, s.max_range), (0, 7));
        assert_eq!(s.db_max_connections, 6);
        // Boolean flags only ever turn a setting on: unset, the variable's value stays.
        assert!(s.json_logs && s.reset_on_mismatch);
        assert_eq!(s.metrics_addr().unwrap(), None);
    }

    #[test]
    fn unknown_or_mistyped_variables_are_refused() {
        for bad in [("POLL_INTERVAL_MS", "soon"), ("NO_SUCH_SETTING", "1")] {
            let mut v = vars(&[("DATABASE_URL", "postgres://h/db")]);
            v.extend(vars(&[bad]));
            assert!(
                Settings::from_sources(None, v, &Args::default()).is_err(),
                "{bad:?}"
            );
        }
    }
}
