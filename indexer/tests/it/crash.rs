//! The indexer process killed (SIGKILL) at random points while it indexes (0-50 ms after its
//! first batch of the run committed), mid-batch included, and restarted, ends with no gap and
//! no duplicate: the mirror equals a fresh index of the chain.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use rand::Rng;
use tangible_db::sqlx;
use tangible_db::testing::TestDatabase;
use tangible_indexer::store;

use crate::fixture::{self, checkpoint, count};

fn spawn_indexer(
    c: &fixture::Chain,
    db: &TestDatabase,
    deployment: &std::path::Path,
    defer_above: u64,
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tangible-indexer"))
        .args(["--rpc-url", &c.url(), "--database-url", db.url()])
        .arg("--deployment")
        .arg(deployment)
        .args([
            "--confirmations",
            "0",
            "--metrics-addr",
            "",
            "--poll-interval-ms",
            "50",
        ])
        .args([
            "--initial-range",
            "2",
            "--max-range",
            "3",
            "--target-logs",
            "6",
        ])
        .args(["--defer-indexes-above", &defer_above.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("indexer binary starts")
}

#[tokio::test]
async fn killed_at_random_points_and_restarted_leaves_no_gap_and_no_duplicate() {
    killed_and_restarted(false).await;
}

/// The same with the secondary indexes and the append-only tables' unique keys deferred
/// (`--defer-indexes-above 1`): kills while they are dropped, restarts, and at the end the
/// keys are back (their re-creation would fail on a duplicate), with the same rows.
#[tokio::test]
async fn killed_during_a_deferred_backfill_and_restarted_leaves_no_gap_and_no_duplicate() {
    killed_and_restarted(true).await;
}

async fn primary_keys(db: &TestDatabase) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE contype = 'p' AND conrelid::regclass::text = ANY($1) ORDER BY 1",
    )
    .bind(store::DEFERRABLE_KEY_TABLES)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

async fn killed_and_restarted(defer: bool) {
    let defer_above = if defer { 1 } else { 0 };
    let c = fixture::chain().await;
    for _ in 0..60 {
        c.buy(c.buyers[0]).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let deployment = dir.path().join("31337.json");
    c.deployment.save(&deployment).unwrap();
    let db = TestDatabase::new().await.unwrap();
    let keys = primary_keys(&db).await;
    assert_eq!(keys.len(), store::DEFERRABLE_KEY_TABLES.len(), "{keys:?}");
    let mut deferred_kills = 0;

    let mut rng = rand::rng();
    let mut mid_kills = 0;
    for round in 0..10 {
        // The chain keeps moving between runs.
        for _ in 0..25 {
            c.buy(c.buyers[round % 2]).await;
        }
        let before = checkpoint(db.pool()).await;
        let mut child = spawn_indexer(&c, &db, &deployment, defer_above);
        // Killed once it is indexing (its first batch committed), however long the start took,
        // a random 0-50 ms later.
        let start = Instant::now();
        while checkpoint(db.pool()).await <= before {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "round {round}: the indexer never moved the checkpoint"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "round {round}: the indexer exited"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..=50))).await;
        child.kill().unwrap(); // SIGKILL: no chance to finish the batch in flight
        child.wait().unwrap();
        let head = c.provider.get_block_number().await.unwrap() as i64;
        let after = checkpoint(db.pool()).await;
        assert!(
            after >= before,
            "the checkpoint never goes back without a reorg"
        );
        if before < after && after < head {
            mid_kills += 1;
        }
        if store::deferred_indexes(db.pool()).await.unwrap() > 0 {
            deferred_kills += 1;
            // Keys dropped, and what is stored so far holds no duplicate.
            assert!(primary_keys(&db).await.len() < keys.len());
            assert_eq!(
                count(
                    db.pool(),
                    "SELECT count(*) FROM (SELECT 1 FROM events GROUP BY chain_id, tx_hash, log_index HAVING count(*) > 1) d",
                )
                .await,
                0
            );
        }
    }
    eprintln!(
        "{mid_kills} of 10 kills interrupted the indexer while it was making progress, {deferred_kills} with indexes and keys deferred"
    );
    if defer {
        assert!(
            deferred_kills >= 1,
            "no kill happened while the keys were deferred: the test proved nothing"
        );
    }
    assert!(
        mid_kills >= 1,
        "no kill interrupted the indexing in progress: the test proved nothing"
    );

    // Last run: wait until caught up, then a graceful stop (SIGTERM) exits cleanly.
    let mut child = spawn_indexer(&c, &db, &deployment, defer_above);
    // A block mined after the start proves this run is in its loop when it is stopped.
    c.buy(c.buyers[0]).await;
    let head = c.provider.get_block_number().await.unwrap() as i64;
    let start = Instant::now();
    // Caught up, and (the step after) the deferred indexes and keys re-created.
    while checkpoint(db.pool()).await < head
        || store::deferred_indexes(db.pool()).await.unwrap() > 0
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "indexer did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SAFETY: signalling our own child.
    unsafe { libc_kill(child.id() as i32, 15) };
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");

    let logs = c
        .provider
        .get_logs(
            &Filter::new()
                .from_block(c.deployment.deployment_block)
                .address(c.deployment.contracts.market),
        )
        .await
        .unwrap();
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM events").await,
        logs.len() as i64,
        "gap or duplicate"
    );
    assert_eq!(primary_keys(&db).await, keys, "every unique key back");
    let reference = fixture::reference(&c).await;
    fixture::assert_same_mirror(db.pool(), reference.pool(), "after kills and restarts").await;
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
