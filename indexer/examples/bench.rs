//! Indexer benchmark (issue 3): a chain of ≥ 100,000 Tangible events produced on anvil, then
//!
//! 1. end to end: a cold backfill by the indexer into a fresh database (events/s);
//! 2. the database write path alone: the same decoded events written with the indexer's batch
//!    code (`store::stage_batch` / `StagedBatch::finish`, pipelined as the indexer does: raw log + derived tables + checkpoint) into a fresh database;
//! 3. the physical ceiling: a raw `COPY` of the same rows into an unindexed table, same run;
//!    every row the write path writes on one connection (3b.) and on two at once (3c., like
//!    the write path: raw log on one, the other tables on the other);
//! 4. head-follow latency at one block per second, mined by the bench (`evm_mine`): block
//!    mined → its events queryable, at the binary's defaults (2 confirmations, 200 ms poll)
//!    and at 0 confirmations with a 50 ms poll (`BENCH_LATENCY_BLOCKS` blocks each, default 40,
//!    10 with `BENCH_QUICK=1`).
//!
//! `cargo run --release -p tangible-indexer --example bench` (`BENCH_EVENTS` sets the number
//! of events, default 100000). Runs on a private PostgreSQL started from the system binaries
//! (durable settings: fsync on) and the pinned anvil.

use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use tangible_chain::bindings::{TangibleMarket, TestEuro};
use tangible_chain::deploy::{DeployConfig, deploy_all};
use tangible_db::sqlx::{self, Executor};
use tangible_db::testing::{ClusterOptions, PgCluster, TestDatabase};
use tangible_indexer::decode::{self, RawEvent, hex0x};
use tangible_indexer::rpc::{BlockRef, HttpRpc, Rpc};
use tangible_indexer::store::{self, Checkpoint, Identity};
use tangible_indexer::{Indexer, IndexerConfig};

async fn send_all(p: &DynProvider, txs: Vec<TransactionRequest>) {
    let mut pending = Vec::with_capacity(txs.len());
    for chunk in txs.chunks(256) {
        let sent =
            futures::future::join_all(chunk.iter().map(|tx| p.send_transaction(tx.clone()))).await;
        for s in sent {
            pending.push(*s.expect("send").tx_hash());
        }
    }
    let _: serde_json::Value = p.raw_request("evm_mine".into(), ()).await.unwrap();
    let last = pending.last().copied().unwrap();
    let r = p
        .get_transaction_receipt(last)
        .await
        .unwrap()
        .expect("mined");
    assert!(r.status());
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let target_events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let anvil = tangible_chain::anvil::anvil()
        .args(["--gas-limit", "3000000000", "--no-mining"])
        .try_spawn()?;
    let keys: Vec<alloy::signers::local::PrivateKeySigner> =
        anvil.keys().iter().map(|k| k.clone().into()).collect();
    let mut wallet = alloy::network::EthereumWallet::from(keys[0].clone());
    for k in &keys[1..] {
        wallet.register_signer(k.clone());
    }
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(anvil.endpoint_url())
        .erased();
    let accounts: Vec<Address> = keys.iter().map(|k| k.address()).collect();
    let (admin, studio_admin, royalty, platform) =
        (accounts[0], accounts[1], accounts[2], accounts[9]);
    let buyers: Vec<Address> = accounts[3..9].to_vec();
    let _: serde_json::Value = provider
        .raw_request("evm_setAutomine".into(), (true,))
        .await?;
    let deployment = deploy_all(
        &provider,
        &DeployConfig {
            stablecoin: None,
            admin,
            operator: admin,
            platform,
        },
    )
    .await?;
    let market = TangibleMarket::new(deployment.contracts.market, &provider);
    market
        .registerStudio(studio_admin, royalty, "Bench Studio".into())
        .send()
        .await?
        .get_receipt()
        .await?;
    market
        .registerFilm(1, "Bench".into(), 2026)
        .from(studio_admin)
        .send()
        .await?
        .get_receipt()
        .await?;
    market
        .registerEdition(1, 2, keccak256("m"), 1300)
        .from(studio_admin)
        .send()
        .await?
        .get_receipt()
        .await?;
    let token = TestEuro::new(deployment.contracts.stablecoin, &provider);
    for b in &buyers {
        token
            .mint(*b, U256::from(1u128 << 100))
            .send()
            .await?
            .get_receipt()
            .await?;
        token
            .approve(deployment.contracts.market, U256::MAX)
            .from(*b)
            .send()
            .await?
            .get_receipt()
            .await?;
    }
    let _: serde_json::Value = provider
        .raw_request("evm_setAutomine".into(), (false,))
        .await?;

    // Each primary purchase emits 3 events (Transfer, LicenceMinted, SaleSettled).
    let purchases = target_events.div_ceil(3);
    println!(
        "producing {purchases} purchases (~{} events) on anvil ...",
        purchases * 3
    );
    let t = Instant::now();
    let mut nonces = Vec::new();
    for b in &buyers {
        nonces.push(provider.get_transaction_count(*b).await?);
    }
    let gas_price = provider.get_gas_price().await? * 2;
    let per_block = 100; // 300 events per block: a chain of many blocks, like a busy L2 contract
    let mut done = 0;
    while done < purchases {
        let n = per_block.min(purchases - done);
        let mut txs = Vec::with_capacity(n);
        for i in 0..n {
            let k = (done + i) % buyers.len();
            let call = TangibleMarket::buyPrimaryCall {
                filmId: 1,
                quality: 2,
                expectedPriceCents: 1300,
                recipient: buyers[k],
            };
            txs.push(
                TransactionRequest::default()
                    .with_from(buyers[k])
                    .with_to(deployment.contracts.market)
                    .with_input(call.abi_encode())
                    .with_nonce(nonces[k])
                    .with_gas_limit(300_000)
                    .with_gas_price(gas_price),
            );
            nonces[k] += 1;
        }
        send_all(&provider, txs).await;
        done += n;
    }
    let head = provider.get_block_number().await?;
    println!(
        "  chain ready in {:.1}s, head {head}",
        t.elapsed().as_secs_f64()
    );

    let cluster = tokio::task::spawn_blocking(|| {
        PgCluster::start_with(&ClusterOptions {
            fast_unsafe: false,
            ..ClusterOptions::default()
        })
    })
    .await??;

    // 1. End to end cold backfill.
    let db = TestDatabase::in_cluster(&cluster, true).await?;
    let rpc = HttpRpc::new(&anvil.endpoint(), Duration::from_secs(60))?;
    let cfg = IndexerConfig {
        confirmations: 0,
        reorg_window: 64,
        ..IndexerConfig::default()
    };
    let mut ix = Indexer::new(rpc.clone(), db.pool().clone(), &deployment, cfg.clone()).await?;
    let t = Instant::now();
    ix.sync().await?;
    let e2e = t.elapsed();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(db.pool())
        .await?;
    println!(
        "1. end-to-end cold backfill: {n} events in {:.2}s = {:.0} events/s",
        e2e.as_secs_f64(),
        n as f64 / e2e.as_secs_f64()
    );

    // Fetch and decode the same events once, outside the timings below.
    let mut events = Vec::new();
    let mut from = deployment.deployment_block;
    let t = Instant::now();
    while from <= head {
        let to = (from + 200).min(head);
        for log in rpc.logs(from, to, &[deployment.contracts.market]).await? {
            events.push(decode::decode(
                RawEvent::from_log(&log, None).expect("mined log"),
            )?);
        }
        from = to + 1;
    }
    let fetch = t.elapsed();
    println!(
        "   (fetch + decode alone: {:.2}s = {:.0} events/s)",
        fetch.as_secs_f64(),
        events.len() as f64 / fetch.as_secs_f64()
    );

    // 2. Write path alone: the indexer's batch writes, 10,000 events per transaction, as in
    // a cold backfill, each batch checked against the checkpoint it extends. Variants, each
    // into a fresh database: what the indexer does (secondary indexes and the append-only
    // tables' primary keys deferred, re-created at the end — included in the time), then
    // with the keys kept, then with every index maintained.
    let identity = Identity {
        chain_id: deployment.chain_id,
        deployment_block: deployment.deployment_block,
        registry: deployment.contracts.registry,
    };
    let window = cfg.reorg_window;
    // Where a batch's time goes (indexes maintained): raw log COPY, derived tables, commit.
    // Run first: it also warms the fresh cluster up (its first ~100 MB of WAL are new
    // segment files, later ones are recycled), which would otherwise penalise whatever runs
    // first below.
    let db4 = TestDatabase::in_cluster(&cluster, true).await?;
    let (raw, derived, commit) = batch_breakdown(db4.pool(), deployment.chain_id, &events).await?;
    println!(
        "   (breakdown with indexes maintained: raw log COPY {raw:.2}s, derived tables {derived:.2}s, commit {commit:.2}s)"
    );

    // The same breakdown with what the indexer defers dropped (as in the write path below).
    let db5 = TestDatabase::in_cluster(&cluster, true).await?;
    store::defer_indexes(db5.pool(), true).await?;
    let (raw, derived, commit) = batch_breakdown(db5.pool(), deployment.chain_id, &events).await?;
    println!(
        "   (breakdown with the indexer's deferral: raw log COPY {raw:.2}s, derived tables {derived:.2}s, commit {commit:.2}s; the rest of a batch is the parent check, block hashes and checkpoint)"
    );
    drop(db5);

    // The deferral before this change: every secondary index of the mirror tables and the keys
    // of all four append-only tables, whether the backfill writes many rows to them or none.
    let all_index_tables: Vec<&str> = std::iter::once("events")
        .chain(tangible_db::DERIVED_TABLES.iter().copied())
        .collect();
    const ALL_KEY_TABLES: &[&str] = &["events", "sales", "withdrawals", "deposits"];
    // (label, deferral (secondary-index tables, key tables, re-created on two connections),
    // batches pipelined)
    type Variant<'a> = (&'a str, Option<(&'a [&'a str], &'a [&'a str], bool)>, bool);
    let variants: [Variant; 5] = [
        (
            "indexer's cold backfill: secondary indexes and keys of the bulk tables deferred, re-created on two connections",
            Some((
                store::DEFERRABLE_INDEX_TABLES,
                store::DEFERRABLE_KEY_TABLES,
                true,
            )),
            true,
        ),
        (
            "the same with the batches written one after the other (no staging on a second connection)",
            Some((
                store::DEFERRABLE_INDEX_TABLES,
                store::DEFERRABLE_KEY_TABLES,
                true,
            )),
            false,
        ),
        (
            "the same re-created in one transaction",
            Some((
                store::DEFERRABLE_INDEX_TABLES,
                store::DEFERRABLE_KEY_TABLES,
                false,
            )),
            true,
        ),
        (
            "every mirror table's secondary indexes and every append-only key deferred, one transaction (an earlier deferral)",
            Some((&all_index_tables, ALL_KEY_TABLES, false)),
            true,
        ),
        ("every index and key maintained per batch", None, true),
    ];
    // Three rounds; in each, every variant and then both ceilings (3. and 3b. below) into
    // fresh databases, so that the load of this shared machine weighs on all of them alike;
    // the best time of each is reported.
    //
    // The all-rows ceiling (3b.): every row the write path left in the mirror (raw log and
    // each derived table, plus the checkpoint and block hashes), exported once as binary `COPY`
    // and copied into unindexed tables of the same column types (`LIKE`: no index, key, check
    // or default), one `COPY` per table, timed together. The payloads are prepared before the
    // clock starts (no encoding counted: a slightly higher, stricter ceiling than 3.).
    let mut best = [(Duration::MAX, Duration::ZERO, 0usize); 5];
    let mut best_builds: [Vec<(String, Duration)>; 5] = Default::default();
    let mut written_db = None;
    let mut payloads: Vec<(&str, i64, Vec<u8>)> = Vec::new();
    let (mut copy_t, mut all_t, mut two_t) = (Duration::MAX, Duration::MAX, Duration::MAX);
    let mut per_table = Vec::new();
    let mut two_sides = (Duration::ZERO, Duration::ZERO);
    let rounds = 3;
    for _round in 0..rounds {
        for (i, (_, defer, pipelined)) in variants.iter().enumerate() {
            let db = TestDatabase::in_cluster(&cluster, true).await?;
            let t = Instant::now();
            let (deferred, parallel) = match defer {
                Some((index_tables, key_tables, parallel)) => (
                    store::defer_indexes_of(db.pool(), index_tables, key_tables).await?,
                    *parallel,
                ),
                None => (0, false),
            };
            write_all(db.pool(), &identity, window, &events, *pipelined).await?;
            let batches = t.elapsed();
            let (mut builds, commit) = store::restore_indexes_timed(db.pool(), parallel).await?;
            assert_eq!(deferred, builds.len());
            let total = t.elapsed();
            if total < best[i].0 {
                best[i] = (total, total - batches, deferred);
                builds.push(("commit".into(), commit));
                best_builds[i] = builds;
            }
            if i == 0 && written_db.is_none() {
                written_db = Some(db);
            }
        }
        if payloads.is_empty() {
            let mut conn = written_db
                .as_ref()
                .expect("written")
                .pool()
                .acquire()
                .await?;
            for table in [
                "events",
                "licences",
                "sales",
                "users",
                "studios",
                "films",
                "editions",
                "resale_offers",
                "withdrawals",
                "deposits",
                "blocks",
                "checkpoints",
            ] {
                let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT count(*) FROM {table}"
                )))
                .fetch_one(&mut *conn)
                .await?;
                if rows == 0 {
                    continue;
                }
                let mut out = conn
                    .copy_out_raw(&format!("COPY {table} TO STDOUT (FORMAT binary)"))
                    .await?;
                let mut payload = Vec::new();
                while let Some(chunk) = futures::StreamExt::next(&mut out).await {
                    payload.extend_from_slice(&chunk?);
                }
                drop(out);
                payloads.push((table, rows, payload));
            }
        }
        let ceiling = TestDatabase::in_cluster(&cluster, true).await?;
        let mut conn = ceiling.pool().acquire().await?;
        // 3. The raw-log rows alone, encoded by the write path's encoder.
        conn.execute("CREATE TABLE copy_probe (LIKE events)")
            .await?;
        let t = Instant::now();
        let payload = store::encode_events(deployment.chain_id, &events);
        let mut copy = conn
            .copy_in_raw(
                "COPY copy_probe (chain_id, block_number, block_hash, block_timestamp, tx_hash, tx_index, log_index, contract, event_name, topic0, topic1, topic2, topic3, data) FROM STDIN (FORMAT binary)",
            )
            .await?;
        copy.send(payload).await?;
        assert_eq!(copy.finish().await? as usize, events.len());
        copy_t = copy_t.min(t.elapsed());
        // 3b. Every row.
        for (table, _, _) in &payloads {
            conn.execute(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE ceiling_{table} (LIKE {table})"
            )))
            .await?;
        }
        let mut times = Vec::new();
        let t = Instant::now();
        for (table, rows, payload) in &payloads {
            let t = Instant::now();
            let mut copy = conn
                .copy_in_raw(&format!("COPY ceiling_{table} FROM STDIN (FORMAT binary)"))
                .await?;
            copy.send(payload.as_slice()).await?;
            assert_eq!(copy.finish().await? as i64, *rows);
            times.push(format!(
                "{table} {rows} in {:.2}s",
                t.elapsed().as_secs_f64()
            ));
        }
        if t.elapsed() < all_t {
            all_t = t.elapsed();
            per_table = times;
        }
        drop(conn);
        // 3c. The same rows on two connections at once, as the write path has two: the raw
        // log on one, every other table (derived tables, block hashes, checkpoint) on the other.
        let ceiling2 = TestDatabase::in_cluster(&cluster, true).await?;
        let (mut events_conn, mut rest_conn) = (
            ceiling2.pool().acquire().await?,
            ceiling2.pool().acquire().await?,
        );
        for (table, _, _) in &payloads {
            events_conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "CREATE TABLE ceiling_{table} (LIKE {table})"
                )))
                .await?;
        }
        let (raw_log, rest): (Vec<_>, Vec<_>) = payloads
            .iter()
            .partition(|(table, _, _)| *table == "events");
        let t = Instant::now();
        let (a, b) = tokio::join!(
            copy_tables(&mut events_conn, &raw_log),
            copy_tables(&mut rest_conn, &rest)
        );
        let (events_side, rest_side) = (a?, b?);
        if t.elapsed() < two_t {
            two_t = t.elapsed();
            two_sides = (events_side, rest_side);
        }
    }
    let all_rows: i64 = payloads.iter().map(|(_, rows, _)| rows).sum();
    let (write_t, _, _) = best[0];
    let write_rate = events.len() as f64 / write_t.as_secs_f64();
    for (i, ((label, _, _), (total, recreate, deferred))) in variants.iter().zip(best).enumerate() {
        let rate = events.len() as f64 / total.as_secs_f64();
        let builds = best_builds[i]
            .iter()
            .map(|(name, t)| format!("{name} {:.3}", t.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ");
        if i == 0 {
            println!(
                "2. database write path ({label}; raw log + derived tables + checkpoint, {deferred} indexes/keys; best of {rounds}): {} events in {:.2}s = {rate:.0} events/s (batches {:.2}s, re-creation {:.2}s)",
                events.len(),
                total.as_secs_f64(),
                (total - recreate).as_secs_f64(),
                recreate.as_secs_f64()
            );
            println!("   (re-creation per index, s: {builds})");
        } else {
            println!(
                "   ({label}: {:.2}s = {rate:.0} events/s; batches {:.2}s, re-creation {:.2}s)",
                total.as_secs_f64(),
                (total - recreate).as_secs_f64(),
                recreate.as_secs_f64()
            );
            if !builds.is_empty() {
                println!("     (re-creation per index, s: {builds})");
            }
        }
    }
    let db2 = written_db.expect("first variant");
    // Every row really there, once: the keys re-created over them prove no duplicate.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(db2.pool())
        .await?;
    assert_eq!(stored as usize, events.len());

    // A lever measured alone, same run:
    // the per-batch licence lookup the sales' film/studio columns no longer need (their
    // licences are minted in the same batch): the query they used to run, per batch.
    let t = Instant::now();
    for chunk in events.chunks(10_000) {
        let mut ids: Vec<String> = chunk
            .iter()
            .filter_map(|e| match &e.decoded {
                Some(decode::TangibleEvent::SaleSettled(s)) => Some(s.licenceId.to_string()),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let rows: Vec<(String, i64, i16, Option<i64>)> = sqlx::query_as(
            "SELECT l.licence_id::text, l.film_id, l.quality, f.studio_id
             FROM licences l LEFT JOIN films f ON f.film_id = l.film_id
             WHERE l.licence_id = ANY($1::text[]::numeric[])",
        )
        .bind(&ids)
        .fetch_all(db2.pool())
        .await?;
        assert_eq!(rows.len(), ids.len());
    }
    println!(
        "   (lever: the per-batch licence lookup for the sales' film/studio, now taken from the batch: {:.2}s for the 10 batches)",
        t.elapsed().as_secs_f64()
    );

    // 3. Raw COPY of the same event rows into an unindexed table: binary (measured above, the
    // encoder the indexer's write path uses; the raw-log-only ceiling) and text (the figure
    // of earlier runs).
    let copy_rate = events.len() as f64 / copy_t.as_secs_f64();
    let copied = events.len();
    let mut conn = db2.pool().acquire().await?;
    println!(
        "3. raw binary COPY of the raw-log rows (1 per event) into an unindexed table: {copied} rows in {:.2}s = {copy_rate:.0} rows/s (raw-log-only ceiling, best of {rounds})",
        copy_t.as_secs_f64()
    );
    conn.execute("CREATE TABLE copy_probe_text (LIKE events)")
        .await?;
    let t = Instant::now();
    let mut buf = String::with_capacity(events.len() * 400);
    for e in &events {
        let r = &e.raw;
        let topic = |i: usize| {
            r.topics
                .get(i)
                .map(|t| format!("\\\\x{}", hex::encode(t)))
                .unwrap_or_else(|| "\\N".into())
        };
        buf.push_str(&format!(
            "{}\t{}\t{}\t\\N\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t\\\\x{}\n",
            deployment.chain_id,
            r.block_number,
            hex0x(r.block_hash),
            hex0x(r.tx_hash),
            r.tx_index,
            r.log_index,
            hex0x(r.address),
            e.name.unwrap_or("\\N"),
            topic(0),
            topic(1),
            topic(2),
            topic(3),
            hex::encode(&r.data)
        ));
    }
    let mut copy = conn
        .copy_in_raw(
            "COPY copy_probe_text (chain_id, block_number, block_hash, block_timestamp, tx_hash, tx_index, log_index, contract, event_name, topic0, topic1, topic2, topic3, data) FROM STDIN",
        )
        .await?;
    copy.send(buf.as_bytes()).await?;
    copy.finish().await?;
    let text_t = t.elapsed();
    println!(
        "   (text COPY of the same rows: {:.2}s = {:.0} rows/s)",
        text_t.as_secs_f64(),
        events.len() as f64 / text_t.as_secs_f64()
    );

    println!(
        "3b. raw binary COPY of every row the write path writes (raw log + derived tables + checkpoint) into unindexed tables: {all_rows} rows ({:.2} per event) in {:.2}s = {:.0} rows/s = {:.0} events/s (all-rows ceiling, best of {rounds}; {})",
        all_rows as f64 / events.len() as f64,
        all_t.as_secs_f64(),
        all_rows as f64 / all_t.as_secs_f64(),
        events.len() as f64 / all_t.as_secs_f64(),
        per_table.join(", ")
    );
    println!(
        "   write path / raw-log-only binary COPY (3.) = {:.0} %  [time of 3. / time of 2.; 3. copies 1 row per event, the write path writes {:.2}]",
        100.0 * write_rate / copy_rate,
        all_rows as f64 / events.len() as f64
    );
    println!(
        "   write path / all-rows binary COPY (3b.) = {:.0} %  [{:.2}s / {:.2}s: the same rows, unindexed; the ceiling on ONE connection, the write path on two]",
        100.0 * all_t.as_secs_f64() / write_t.as_secs_f64(),
        all_t.as_secs_f64(),
        write_t.as_secs_f64()
    );
    println!(
        "3c. the same rows as 3b. as two concurrent binary COPYs (raw log on one connection, every other table on a second, as the write path uses two): {all_rows} rows in {:.2}s = {:.0} rows/s = {:.0} events/s (two-connection all-rows ceiling, best of {rounds}; raw-log side {:.2}s, other tables {:.2}s)",
        two_t.as_secs_f64(),
        all_rows as f64 / two_t.as_secs_f64(),
        events.len() as f64 / two_t.as_secs_f64(),
        two_sides.0.as_secs_f64(),
        two_sides.1.as_secs_f64()
    );
    println!(
        "   write path / two-connection all-rows binary COPY (3c.) = {:.0} %  [like for like: two connections on both sides; {:.2}s / {:.2}s]",
        100.0 * two_t.as_secs_f64() / write_t.as_secs_f64(),
        two_t.as_secs_f64(),
        write_t.as_secs_f64()
    );
    drop(conn);

    // 4. Head-follow latency at one block per second, first at the shipped defaults
    // (the binary's flags without arguments: 2 confirmations, 200 ms poll), then at 0 confirmations and a
    // 50 ms poll (the setting of earlier runs). The bench mines the blocks itself (`evm_mine`
    // once a second, one purchase in each), so each block's mining time is stamped when the
    // `evm_mine` call is made, not when a poll notices the new head.
    let samples: usize = std::env::var("BENCH_LATENCY_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if std::env::var("BENCH_QUICK").as_deref() == Ok("1") {
            10
        } else {
            40
        });
    // The binary's defaults: its flags parsed without arguments (an INDEXER_* variable would
    // override one, so none may be set).
    anyhow::ensure!(
        std::env::vars().all(|(k, _)| !k.starts_with("INDEXER_")),
        "unset the INDEXER_* variables: this measures the binary's default settings"
    );
    let shipped = <tangible_indexer::Args as clap::Parser>::try_parse_from([
        "tangible-indexer",
        "--database-url",
        "unused",
    ])?
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
            &provider,
            &rpc,
            db.pool(),
            &deployment,
            IndexerConfig {
                confirmations,
                poll_interval: poll,
                ..cfg.clone()
            },
            &buyers,
            &mut nonces,
            gas_price,
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
#[allow(clippy::too_many_arguments)]
async fn head_follow(
    provider: &DynProvider,
    rpc: &HttpRpc,
    pool: &sqlx::PgPool,
    deployment: &tangible_chain::Deployment,
    cfg: IndexerConfig,
    buyers: &[Address],
    nonces: &mut [u64],
    gas_price: u128,
    samples: usize,
) -> anyhow::Result<Vec<Duration>> {
    let confirmations = cfg.confirmations;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let follow = Indexer::new(rpc.clone(), pool.clone(), deployment, cfg).await?;
    let run = tokio::spawn(follow.run(shutdown));
    // The miner: one block a second, one purchase in each of the first `samples`, then
    // `confirmations` more so the last ones are confirmed; sends each purchase's hash with
    // the time its `evm_mine` was called.
    let (mined_tx, mut mined) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let miner = {
        let (provider, buyers, mut nonces) = (provider.clone(), buyers.to_vec(), nonces.to_vec());
        let market = deployment.contracts.market;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            for i in 0..samples + confirmations as usize {
                tick.tick().await;
                let purchase = if i < samples {
                    let k = i % buyers.len();
                    let call = TangibleMarket::buyPrimaryCall {
                        filmId: 1,
                        quality: 2,
                        expectedPriceCents: 1300,
                        recipient: buyers[k],
                    };
                    let tx = TransactionRequest::default()
                        .with_from(buyers[k])
                        .with_to(market)
                        .with_input(call.abi_encode())
                        .with_nonce(nonces[k])
                        .with_gas_limit(300_000)
                        .with_gas_price(gas_price);
                    nonces[k] += 1;
                    Some(*provider.send_transaction(tx).await?.tx_hash())
                } else {
                    None
                };
                let at = Instant::now();
                let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await?;
                if let Some(hash) = purchase {
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
    nonces.copy_from_slice(&miner.await??);
    stop.send(true)?;
    run.await??;
    latencies.sort();
    Ok(latencies)
}

/// The database write path: `events` written as the indexer's cold backfill writes them,
/// 10,000 per batch, each checked against the checkpoint it extends; when `pipelined`, the next
/// batch's raw log staged on a second connection while the current batch is finished and
/// committed, else each batch written whole before the next one (`store::write`).
async fn write_all(
    pool: &sqlx::PgPool,
    identity: &Identity,
    window: u64,
    events: &[decode::Event],
    pipelined: bool,
) -> anyhow::Result<()> {
    let chunks: Vec<&[decode::Event]> = events.chunks(10_000).collect();
    let mut parent: Option<Checkpoint> = None;
    let mut staged = if pipelined {
        Some(store::stage_batch(pool, identity.chain_id, chunks[0]).await?)
    } else {
        None
    };
    for (k, chunk) in chunks.iter().enumerate() {
        let last = &chunk.last().expect("non-empty chunk").raw;
        let b = BlockRef {
            number: last.block_number,
            hash: last.block_hash,
            parent_hash: last.block_hash,
            timestamp: 0,
        };
        let cp = Checkpoint {
            number: b.number,
            hash: b.hash,
        };
        let batch = store::BatchWrite {
            identity,
            events: chunk,
            blocks: &[b],
            checkpoint: cp,
            window,
            parent: Some(parent),
        };
        if !pipelined {
            store::write(pool, &batch).await?;
            parent = Some(cp);
            continue;
        }
        let finish = staged.take().expect("staged").finish(pool, &batch);
        match chunks.get(k + 1) {
            Some(next) => {
                let (finished, next) =
                    tokio::join!(finish, store::stage_batch(pool, identity.chain_id, next));
                finished?;
                staged = Some(next?);
            }
            None => finish.await?,
        }
        parent = Some(cp);
    }
    Ok(())
}

/// Copies each prepared binary payload into its `ceiling_<table>`, one after the other on
/// `conn`; returns the time taken.
async fn copy_tables(
    conn: &mut sqlx::PgConnection,
    payloads: &[&(&str, i64, Vec<u8>)],
) -> anyhow::Result<Duration> {
    let t = Instant::now();
    for (table, rows, payload) in payloads {
        let mut copy = conn
            .copy_in_raw(&format!("COPY ceiling_{table} FROM STDIN (FORMAT binary)"))
            .await?;
        copy.send(payload.as_slice()).await?;
        assert_eq!(copy.finish().await? as i64, *rows);
    }
    Ok(t.elapsed())
}

/// Writes `events` in 10,000-event transactions as a batch does (raw log `COPY`, derived
/// tables, commit) and returns the seconds spent in each of the three steps.
async fn batch_breakdown(
    pool: &sqlx::PgPool,
    chain_id: u64,
    events: &[decode::Event],
) -> anyhow::Result<(f64, f64, f64)> {
    let (mut raw, mut derived, mut commit) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for chunk in events.chunks(10_000) {
        let mut tx = pool.begin().await?;
        let t = Instant::now();
        store::copy_events(&mut tx, chain_id, chunk).await?;
        raw += t.elapsed();
        let t = Instant::now();
        store::apply_with(&mut tx, chunk, true).await?;
        derived += t.elapsed();
        let t = Instant::now();
        tx.commit().await?;
        commit += t.elapsed();
    }
    Ok((
        raw.as_secs_f64(),
        derived.as_secs_f64(),
        commit.as_secs_f64(),
    ))
}
