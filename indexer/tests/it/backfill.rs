//! The cold-backfill fast paths: secondary indexes and the append-only tables' unique keys
//! deferred and re-created (also across a restart); a batch written only on top of the
//! checkpoint it extends (a stale writer is refused and reloads); a batch whose events are
//! already stored (the binary `COPY` fails on the unique key, the batch is written again with
//! the idempotent inserts).

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

/// The primary keys of the append-only tables (`(tx_hash, log_index, chain_id)` for `events`).
async fn primary_keys(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE contype = 'p' AND conrelid::regclass::text = ANY($1) ORDER BY 1",
    )
    .bind(store::DEFERRABLE_KEY_TABLES)
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
    let keys = primary_keys(db.pool()).await;
    assert!(
        keys.contains(&(
            "events".into(),
            "PRIMARY KEY (tx_hash, log_index, chain_id)".into()
        )),
        "{keys:?}"
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
    assert!(primary_keys(db.pool()).await.is_empty());
    assert_eq!(
        store::deferred_indexes(db.pool()).await.unwrap(),
        before.len() + keys.len()
    );

    // Second run: finds the indexes deferred, catches up, re-creates them.
    let mut ix = fixture::indexer(&c, db.pool(), cfg).await;
    ix.sync().await.unwrap();
    assert_eq!(secondary_indexes(db.pool()).await, before);
    assert_eq!(primary_keys(db.pool()).await, keys);
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

/// Steps until a batch with events was written.
async fn step_until_events(ix: &mut tangible_indexer::Indexer<HttpRpc>) {
    loop {
        match ix.step().await.unwrap() {
            StepOutcome::Indexed { events, .. } if events > 0 => return,
            StepOutcome::CaughtUp { .. } => panic!("caught up too early"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_writer_with_a_stale_checkpoint_is_refused_and_reloads_while_keys_are_deferred() {
    let c = fixture::chain().await;
    for i in 0..12 {
        c.buy(c.buyers[i % 2]).await;
    }
    let db = TestDatabase::new().await.unwrap();
    let cfg = IndexerConfig {
        defer_indexes_above: 1,
        ..fixture::config()
    };
    // A defers the keys and writes a batch; B starts from that checkpoint; A writes another.
    let mut a = fixture::indexer(&c, db.pool(), cfg.clone()).await;
    step_until_events(&mut a).await;
    assert!(primary_keys(db.pool()).await.is_empty(), "keys deferred");
    let mut b = fixture::indexer(&c, db.pool(), cfg).await;
    let stale = b.checkpoint();
    step_until_events(&mut a).await;
    assert_ne!(a.checkpoint(), stale);

    // The batch builder refuses a batch that does not extend the stored checkpoint.
    let identity = Identity {
        chain_id: c.provider.get_chain_id().await.unwrap(),
        deployment_block: c.deployment.deployment_block,
        registry: c.deployment.contracts.registry,
    };
    let events_before = count(db.pool(), "SELECT count(*) FROM events").await;
    let cp = a.checkpoint().unwrap();
    let batch = store::BatchWrite {
        identity: &identity,
        events: &[],
        blocks: &[],
        checkpoint: cp,
        window: 128,
        parent: Some(stale),
    };
    let err = store::write(db.pool(), &batch).await.unwrap_err();
    assert!(
        matches!(err, tangible_indexer::IndexerError::CheckpointMoved { .. }),
        "{err}"
    );

    // B, stale, would write A's last batch again: refused, it reloads the checkpoint instead.
    assert_eq!(
        b.step().await.unwrap(),
        StepOutcome::Retry("checkpoint moved".into())
    );
    assert_eq!(b.checkpoint(), a.checkpoint());
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM events").await,
        events_before,
        "nothing written by the stale writer"
    );
    // A stops (its next range, staged on its own connection, is rolled back): B's re-creation
    // of the keys would otherwise wait for A's open transaction until A's next step.
    drop(a);
    b.sync().await.unwrap();
    assert!(
        !primary_keys(db.pool()).await.is_empty(),
        "keys re-created once caught up (they would fail on a duplicate)"
    );
    assert_eq!(store::deferred_indexes(db.pool()).await.unwrap(), 0);
    let reference = fixture::reference(&c).await;
    assert_same_mirror(db.pool(), reference.pool(), "after a stale writer").await;
}
