//! The cold-backfill fast paths: secondary indexes deferred and re-created (also across a
//! restart), and a batch whose events are already stored (the binary `COPY` fails on the unique
//! key, the batch is written again with the idempotent inserts).

use alloy::providers::Provider;
use tangible_db::PgPool;
use tangible_db::sqlx;
use tangible_db::testing::TestDatabase;
use tangible_indexer::decode::{self, RawEvent};
use tangible_indexer::rpc::{HttpRpc, Rpc};
use tangible_indexer::store::{self, Checkpoint, Identity};
use tangible_indexer::{IndexerConfig, StepOutcome};

use crate::fixture::{self, assert_same_mirror, count};

/// Every non-unique index of the mirror tables with its definition, sorted.
async fn secondary_indexes(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT i.relname::text, pg_get_indexdef(i.oid)
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
         WHERE t.relname = ANY($1) AND NOT x.indisunique AND NOT x.indisprimary ORDER BY 1",
    )
    .bind(store::DEFERRABLE_INDEX_TABLES)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn deferred_indexes_are_recreated_after_a_restart_and_the_mirror_is_exact() {
    let c = fixture::chain().await;
    for i in 0..8 {
        c.buy(c.buyers[i % 2]).await;
    }
    let db = TestDatabase::new().await.unwrap();
    let before = secondary_indexes(db.pool()).await;
    assert!(
        before.iter().any(|(n, _)| n == "events_block_idx"),
        "{before:?}"
    );
    let cfg = IndexerConfig {
        defer_indexes_above: 1,
        ..fixture::config()
    };

    // First run: steps until a batch with events was written, then "crashes" (dropped).
    let mut ix = fixture::indexer(&c, db.pool(), cfg.clone()).await;
    loop {
        match ix.step().await.unwrap() {
            StepOutcome::Indexed { events, .. } if events > 0 => break,
            StepOutcome::CaughtUp { .. } => panic!("caught up before any event"),
            _ => {}
        }
    }
    drop(ix);
    assert!(secondary_indexes(db.pool()).await.is_empty());
    assert_eq!(
        store::deferred_indexes(db.pool()).await.unwrap(),
        before.len()
    );

    // Second run: finds the indexes deferred, catches up, re-creates them.
    let mut ix = fixture::indexer(&c, db.pool(), cfg).await;
    ix.sync().await.unwrap();
    assert_eq!(secondary_indexes(db.pool()).await, before);
    assert_eq!(store::deferred_indexes(db.pool()).await.unwrap(), 0);
    let reference = fixture::reference(&c).await;
    assert_same_mirror(db.pool(), reference.pool(), "after a deferred backfill").await;
}

#[tokio::test]
async fn a_batch_already_stored_is_written_again_without_duplicates() {
    let c = fixture::chain().await;
    for i in 0..3 {
        c.buy(c.buyers[i % 2]).await;
    }
    let db = fixture::reference(&c).await;
    let reference = fixture::reference(&c).await;
    let events_before = count(db.pool(), "SELECT count(*) FROM events").await;
    assert!(events_before > 0);

    // The whole history again, as one batch, on top of the complete mirror.
    let rpc = HttpRpc::new(&c.url(), std::time::Duration::from_secs(10)).unwrap();
    let head = rpc.head().await.unwrap();
    let a = &c.deployment.contracts;
    let mut addresses = vec![a.registry, a.licence, a.market];
    addresses.sort();
    addresses.dedup();
    let logs = rpc
        .logs(c.deployment.deployment_block, head, &addresses)
        .await
        .unwrap();
    let events: Vec<_> = logs
        .iter()
        .map(|l| decode::decode(RawEvent::from_log(l, None).unwrap()).unwrap())
        .collect();
    assert_eq!(events.len() as i64, events_before);
    let block = rpc.block(head).await.unwrap().unwrap();
    let identity = Identity {
        chain_id: c.provider.get_chain_id().await.unwrap(),
        deployment_block: c.deployment.deployment_block,
        registry: a.registry,
    };
    let cp = Checkpoint {
        number: block.number,
        hash: block.hash,
    };
    // The fast path alone refuses it...
    let mut tx = db.pool().begin().await.unwrap();
    let err = store::copy_events(&mut tx, identity.chain_id, &events)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("duplicate key"), "{err}");
    drop(tx);
    // ... and the batch writer falls back to the idempotent inserts.
    store::write_batch(db.pool(), &identity, &events, &[block], cp, 128)
        .await
        .unwrap();
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM events").await,
        events_before
    );
    assert_same_mirror(db.pool(), reference.pool(), "after a re-written batch").await;
}
