//! The shipped default of 2 confirmations: the checkpoint stays two blocks behind the head, and
//! a reorg of the unconfirmed blocks never reaches the mirror.

use alloy::providers::Provider;
use tangible_db::testing::TestDatabase;
use tangible_indexer::{Indexer, IndexerConfig, rpc::HttpRpc};

use crate::fixture::{self, checkpoint, hex};

fn two_confirmations() -> IndexerConfig {
    IndexerConfig {
        confirmations: 2,
        ..fixture::config()
    }
}

/// Steps until caught up; asserts no reorg reached the indexer (none may reach one that waits
/// for confirmations deeper than the reorg). Returns the head.
async fn catch_up(ix: &mut Indexer<HttpRpc>) -> u64 {
    let caught_up = fixture::catch_up(ix).await;
    assert_eq!(caught_up.reorg, None, "a reorg reached the indexer");
    caught_up.head
}

async fn events_of_tx(db: &TestDatabase, tx: &str) -> i64 {
    tangible_db::sqlx::query_scalar("SELECT count(*) FROM events WHERE tx_hash = $1")
        .bind(tx)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn two_confirmations_keep_the_checkpoint_two_blocks_behind_and_a_shallow_reorg_out_of_the_mirror()
 {
    let c = fixture::chain().await;
    let db = TestDatabase::new().await.unwrap();
    let mut ix = fixture::indexer(&c, db.pool(), two_confirmations()).await;
    let head = catch_up(&mut ix).await;
    assert_eq!(checkpoint(db.pool()).await, head as i64 - 2);
    assert_eq!(ix.checkpoint().unwrap().number, head - 2);

    // A purchase at the head: not confirmed, so not indexed.
    let m = c.market();
    let doomed = fixture::mined(
        m.buyPrimary(c.film_id, 2, 1300, c.buyers[0])
            .from(c.buyers[0]),
    )
    .await;
    let doomed_tx = hex(doomed.transaction_hash);
    let head = catch_up(&mut ix).await;
    assert_eq!(doomed.block_number, Some(head));
    assert_eq!(checkpoint(db.pool()).await, head as i64 - 2);
    assert_eq!(
        events_of_tx(&db, &doomed_tx).await,
        0,
        "unconfirmed block indexed"
    );

    // A depth-1 reorg inside the window: the purchase's block is replaced by one with another
    // purchase.
    c.reorg(1, c.purchase_tx(1, 900)).await;
    assert_eq!(c.provider.get_block_number().await.unwrap(), head);
    let gone = c
        .provider
        .get_transaction_receipt(doomed.transaction_hash)
        .await
        .unwrap();
    assert!(gone.is_none(), "the purchase was reorged out");
    // The chain moves on until the replacement block is confirmed, step by step.
    for _ in 0..3 {
        catch_up(&mut ix).await;
        let head = c.provider.get_block_number().await.unwrap();
        assert_eq!(checkpoint(db.pool()).await, head as i64 - 2);
        c.mine(1).await;
    }
    catch_up(&mut ix).await;
    assert_eq!(
        events_of_tx(&db, &doomed_tx).await,
        0,
        "a reorged-out block reached the mirror"
    );
    let licences: Vec<(String, i16)> =
        tangible_db::sqlx::query_as("SELECT owner_address, quality FROM licences")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(
        licences,
        [(hex(c.buyers[1]), 1)],
        "only the replacement block's purchase (the reorged-out one was the 4K, by the other buyer)"
    );

    // The same mirror as a fresh index with the same confirmations.
    let reference = fixture::reference_with(&c, two_confirmations()).await;
    fixture::assert_same_mirror(db.pool(), reference.pool(), "two confirmations").await;
}
