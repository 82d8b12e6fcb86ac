//! Prometheus metrics of the indexer, served on `/metrics` by [`install`].
//!
//! - `indexer_blocks_behind_head` (gauge): head − checkpoint.
//! - `indexer_checkpoint_block` (gauge), `indexer_head_block` (gauge).
//! - `indexer_events_total` (counter) and `indexer_events_per_second` (gauge, last batch).
//! - `indexer_reorgs_total` (counter), `indexer_reorged_blocks_total` (counter).
//! - `indexer_rpc_errors_total` (counter), `indexer_db_errors_total` (counter).
//! - `indexer_log_range_blocks` (gauge): current `eth_getLogs` range.
//! - `indexer_batch_seconds` (histogram): fetch + write time of a batch.

use std::net::SocketAddr;

use metrics_exporter_prometheus::PrometheusBuilder;

/// Starts the Prometheus exporter on `addr` (must be called inside a tokio runtime).
pub fn install(addr: SocketAddr) -> anyhow::Result<()> {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()?;
    describe();
    Ok(())
}

fn describe() {
    metrics::describe_gauge!(
        "indexer_blocks_behind_head",
        "Blocks between the chain head and the checkpoint"
    );
    metrics::describe_gauge!("indexer_checkpoint_block", "Last block fully indexed");
    metrics::describe_gauge!("indexer_head_block", "Latest block number of the node");
    metrics::describe_counter!("indexer_events_total", "Events written to the raw log");
    metrics::describe_gauge!(
        "indexer_events_per_second",
        "Events per second of the last batch"
    );
    metrics::describe_counter!("indexer_reorgs_total", "Reorgs detected and rolled back");
    metrics::describe_counter!(
        "indexer_reorged_blocks_total",
        "Blocks rolled back by reorgs"
    );
    metrics::describe_counter!("indexer_rpc_errors_total", "Failed RPC calls");
    metrics::describe_counter!("indexer_db_errors_total", "Failed database operations");
    metrics::describe_gauge!(
        "indexer_log_range_blocks",
        "Current eth_getLogs range in blocks"
    );
    metrics::describe_histogram!("indexer_batch_seconds", "Fetch and write time of one batch");
}
