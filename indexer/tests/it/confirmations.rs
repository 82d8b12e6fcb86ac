//! The shipped default of 2 confirmations: the checkpoint stays two blocks behind the head, and
//! a reorg of the unconfirmed blocks never reaches the mirror.

use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use tangible_chain::bindings::TangibleMarket;
use tangible_db::testing::TestDatabase;
use tangible_indexer::{Indexer, IndexerConfig, StepOutcome, rpc::HttpRpc};

use crate::fixture::{self, Chain, count, hex};

fn two_confirmations() -> IndexerConfig {
    IndexerConfig {
        confirmations: 2,
        ..fixture::config()
    }
}

/// Steps until caught up; panics on a reorg (none may reach an indexer that waits for
/// confirmations deeper than the reorg).
async fn catch_up(ix: &mut Indexer<HttpRpc>) -> u64 {
    for _ in 0..10_000 {
        match ix.step().await.expect("step") {
            StepOutcome::CaughtUp { head } => return head,
            StepOutcome::Reorg { ancestor, depth } => {
                panic!("a reorg reached the indexer (ancestor {ancestor}, depth {depth})")
            }
            _ => {}
        }
    }
    panic!("indexer never caught up");
}

async fn events_of_tx(db: &TestDatabase, tx: &str) -> i64 {
    tangible_db::sqlx::query_scalar("SELECT count(*) FROM events WHERE tx_hash = $1")
        .bind(tx)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// The checkpoint the indexer stored.
async fn stored_checkpoint(db: &TestDatabase) -> i64 {
    count(
        db.pool(),
        "SELECT coalesce(max(block_number), -1) FROM checkpoints",
    )
    .await
}

/// A purchase of the HD edition by the other buyer, as an `anvil_reorg` transaction.
fn other_purchase(c: &Chain) -> serde_json::Value {
    let call = TangibleMarket::buyPrimaryCall {
        filmId: c.film_id,
        quality: 1,
        expectedPriceCents: 900,
        recipient: c.buyers[1],
    };
    serde_json::json!({
        "from": c.buyers[1],
        "to": c.deployment.contracts.market,
        "data": format!("0x{}", hex::encode(call.abi_encode())),
        "gas": "0x100000",
    })
}

#[tokio::test]
async fn two_confirmations_keep_the_checkpoint_two_blocks_behind_and_a_shallow_reorg_out_of_the_mirror()
 {
    let c = fixture::chain().await;
    let db = TestDatabase::new().await.unwrap();
    let mut ix = fixture::indexer(&c, db.pool(), two_confirmations()).await;
    let head = catch_up(&mut ix).await;
    assert_eq!(stored_checkpoint(&db).await, head as i64 - 2);
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
    assert_eq!(stored_checkpoint(&db).await, head as i64 - 2);
    assert_eq!(
        events_of_tx(&db, &doomed_tx).await,
        0,
        "unconfirmed block indexed"
    );

    // A depth-1 reorg inside the window: the purchase's block is replaced by one with another
    // purchase.
    let _: serde_json::Value = c
        .provider
        .raw_request(
            "anvil_reorg".into(),
            (1u64, vec![(other_purchase(&c), 0u64)]),
        )
        .await
        .unwrap();
    c.drop_pending().await;
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
        assert_eq!(stored_checkpoint(&db).await, head as i64 - 2);
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
    let reference = TestDatabase::new().await.unwrap();
    fixture::indexer(&c, reference.pool(), two_confirmations())
        .await
        .sync()
        .await
        .unwrap();
    fixture::assert_same_mirror(db.pool(), reference.pool(), "two confirmations").await;
}
