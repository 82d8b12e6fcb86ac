//! A reorg on the backfilled mirror (5.): how long the indexer takes to handle one of depth 1
//! and one of depth 8 on the whole mirror, and how many rows at or below each fork were
//! rewritten (none may be: a reorg costs in proportion to its depth, not to the history).

use std::collections::HashSet;
use std::time::Instant;

use alloy::eips::BlockId;
use alloy::providers::Provider;
use alloy::providers::ext::AnvilApi;
use alloy::rpc::types::anvil::{ReorgOptions, TransactionData};
use tangible_chain::Deployment;
use tangible_db::sqlx;
use tangible_indexer::rpc::HttpRpc;
use tangible_indexer::{Indexer, IndexerConfig, StepOutcome};

use crate::chain::{BenchChain, purchase};

/// Every row's physical version (`table ctid xmin`) at or below `fork`, and the number of rows
/// above it.
async fn versions(pool: &sqlx::PgPool, fork: u64) -> anyhow::Result<(HashSet<String>, i64)> {
    let mut below = HashSet::new();
    let mut above = 0;
    for (table, block) in tangible_db::ROW_BLOCK {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT '{table} ' || ctid::text || ' ' || xmin::text FROM {table} WHERE {block} <= $1"
        )))
        .bind(fork as i64)
        .fetch_all(pool)
        .await?;
        below.extend(rows);
        above += sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {table} WHERE {block} > $1"
        )))
        .bind(fork as i64)
        .fetch_one(pool)
        .await?;
    }
    Ok((below, above))
}

/// Runs on the mirror in `pool` (the cold backfill's, followed to the head): for depth 1 then
/// 8, the last `depth` blocks are replaced by as many (the first with a purchase by the last
/// buyer), and the indexer catches up; prints the time it took and the rows rewritten.
pub(crate) async fn report(
    chain: &BenchChain,
    rpc: &HttpRpc,
    pool: &sqlx::PgPool,
    deployment: &Deployment,
    cfg: &IndexerConfig,
) -> anyhow::Result<()> {
    let mut ix = Indexer::new(rpc.clone(), pool.clone(), deployment, cfg.clone()).await?;
    ix.sync().await?;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;
    for depth in [1u64, 8] {
        let head = chain.provider.get_block_number().await?;
        let fork = head - depth;
        let (before, above) = versions(pool, fork).await?;
        // The new first block's purchase, from the last buyer's nonce at the fork.
        let buyer = *chain.buyers.last().expect("buyers");
        let nonce = chain
            .provider
            .get_transaction_count(buyer)
            .block_id(BlockId::number(fork))
            .await?;
        let tx = purchase(
            deployment.contracts.market,
            chain.film_id,
            buyer,
            nonce,
            chain.gas_price,
        );
        chain
            .provider
            .anvil_reorg(ReorgOptions {
                depth,
                tx_block_pairs: vec![(TransactionData::JSON(tx), 0)],
            })
            .await?;
        chain.provider.anvil_drop_all_transactions().await?;
        let t = Instant::now();
        let mut seen = None;
        loop {
            match ix.step().await? {
                StepOutcome::CaughtUp { .. } => break,
                StepOutcome::Reorg { depth, .. } => seen = Some(depth),
                _ => {}
            }
        }
        let took = t.elapsed();
        anyhow::ensure!(
            seen.is_some(),
            "the reorg of depth {depth} was not detected"
        );
        let (after, _) = versions(pool, fork).await?;
        let rewritten = before.difference(&after).count();
        println!(
            "5. reorg of depth {depth} on the {events}-event mirror: detected (depth {}), unwound and re-indexed in {:.1} ms; rows at or below the fork rewritten: {rewritten} of {}; rows above it before: {above}",
            seen.unwrap_or_default(),
            took.as_secs_f64() * 1e3,
            before.len()
        );
        anyhow::ensure!(
            rewritten == 0,
            "{rewritten} rows at or below the fork were rewritten"
        );
    }
    Ok(())
}
