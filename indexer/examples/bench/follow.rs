//! Head-follow latency at one block per second, mined by the bench (`evm_mine`).

use std::time::{Duration, Instant};

use alloy::providers::Provider;
use tangible_db::sqlx;
use tangible_indexer::decode::hex0x;
use tangible_indexer::rpc::HttpRpc;
use tangible_indexer::{Indexer, IndexerConfig};

use crate::chain::{BenchChain, purchase};

/// Head-follow latency (4.) at one block per second, first at the shipped defaults (the binary's
/// flags without arguments: 2 confirmations, 200 ms poll), then at 0 confirmations and a 50 ms
/// poll (the setting of earlier runs). The bench mines the blocks itself (`evm_mine` once a
/// second, one purchase in each), so each block's mining time is stamped when the `evm_mine`
/// call is made, not when a poll notices the new head. `cfg` gives the other settings.
pub(crate) async fn report(
    chain: &mut BenchChain,
    rpc: &HttpRpc,
    pool: &sqlx::PgPool,
    cfg: &IndexerConfig,
) -> anyhow::Result<()> {
    let samples: usize = std::env::var("BENCH_LATENCY_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            if std::env::var("BENCH_QUICK").as_deref() == Ok("1") {
                10
            } else {
                40
            }
        });
    // The binary's defaults: its settings with no file, no flag and only the database set (a
    // TANGIBLE_INDEXER_* variable would override one, so none may be set).
    anyhow::ensure!(
        std::env::vars().all(|(k, _)| !k.starts_with("TANGIBLE_INDEXER_")),
        "unset the TANGIBLE_INDEXER_* variables: this measures the binary's default settings"
    );
    let shipped = tangible_indexer::Settings::from_sources(
        None,
        [(
            "TANGIBLE_INDEXER_DATABASE_URL".to_owned(),
            "unused".to_owned(),
        )],
        &tangible_indexer::Args::default(),
    )?
    .indexer_config();
    for (label, confirmations, poll) in [
        (
            "shipped defaults",
            shipped.confirmations,
            shipped.poll_interval,
        ),
        ("earlier runs' setting", 0, Duration::from_millis(50)),
    ] {
        let latencies = head_follow(
            chain,
            rpc,
            pool,
            IndexerConfig {
                confirmations,
                poll_interval: poll,
                ..cfg.clone()
            },
            samples,
        )
        .await?;
        let ms = |d: Duration| d.as_millis();
        println!(
            "4. head-follow latency at one block per second, {label} ({confirmations} confirmations, poll {} ms), block mined (evm_mine called) -> its events queryable: median {} ms, p90 {} ms, min {} ms, max {} ms over {} blocks{}",
            poll.as_millis(),
            ms(latencies[latencies.len() / 2]),
            ms(latencies[latencies.len() * 9 / 10]),
            ms(latencies[0]),
            ms(*latencies.last().unwrap()),
            latencies.len(),
            if confirmations > 0 {
                format!(
                    " (a block is indexable only once {confirmations} more are mined: {confirmations} s at this block time)"
                )
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// Head-follow latency: an indexer with `cfg` follows the chain while the bench mines one block
/// a second (`evm_mine`), each with one purchase; returns, sorted, for each block the time from
/// the `evm_mine` call to its purchase's events being queryable.
async fn head_follow(
    chain: &mut BenchChain,
    rpc: &HttpRpc,
    pool: &sqlx::PgPool,
    cfg: IndexerConfig,
    samples: usize,
) -> anyhow::Result<Vec<Duration>> {
    let confirmations = cfg.confirmations;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let follow = Indexer::new(rpc.clone(), pool.clone(), &chain.deployment, cfg).await?;
    let run = tokio::spawn(follow.run(shutdown));
    // The miner: one block a second, one purchase in each of the first `samples`, then
    // `confirmations` more so the last ones are confirmed; sends each purchase's hash with
    // the time its `evm_mine` was called.
    let (mined_tx, mut mined) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let miner = {
        let (provider, buyers, mut nonces) = (
            chain.provider.clone(),
            chain.buyers.clone(),
            chain.nonces.clone(),
        );
        let (market, film_id, gas_price) = (
            chain.deployment.contracts.market,
            chain.film_id,
            chain.gas_price,
        );
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            for i in 0..samples + confirmations as usize {
                tick.tick().await;
                let sent = if i < samples {
                    let k = i % buyers.len();
                    let tx = purchase(market, film_id, buyers[k], nonces[k], gas_price);
                    nonces[k] += 1;
                    Some(*provider.send_transaction(tx).await?.tx_hash())
                } else {
                    None
                };
                let at = Instant::now();
                let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await?;
                if let Some(hash) = sent {
                    let _ = mined_tx.send((hex0x(hash), at));
                }
            }
            anyhow::Ok(nonces)
        })
    };
    // The watcher: polls for each purchase's events every 2 ms, in block order.
    let mut latencies = Vec::with_capacity(samples);
    while let Some((hash, at)) = mined.recv().await {
        loop {
            let found: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events WHERE tx_hash = $1)")
                    .bind(&hash)
                    .fetch_one(pool)
                    .await?;
            if found {
                latencies.push(at.elapsed());
                break;
            }
            anyhow::ensure!(
                at.elapsed() < Duration::from_secs(30),
                "{hash} never indexed"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    chain.nonces = miner.await??;
    stop.send(true)?;
    run.await??;
    latencies.sort();
    Ok(latencies)
}
