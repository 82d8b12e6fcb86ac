//! A reorg costs in proportion to its depth, not to the history: on a mirror of many events, a
//! reorg of depth 1 rewrites only the rows above the fork. Every row at or below it keeps its
//! physical version (`ctid` and `xmin` unchanged: not deleted and re-inserted, not updated),
//! and the mirror still equals a fresh index of the canonical chain.

use alloy::primitives::B256;
use alloy::providers::Provider;
use tangible_db::sqlx;
use tangible_db::testing::TestDatabase;

use crate::fixture::{self, mined};

/// Per table, the physical version (`ctid`, `xmin`) of every row written at or below `fork`.
async fn versions_at_or_below(pool: &sqlx::PgPool, fork: u64) -> Vec<(&'static str, Vec<String>)> {
    let mut out = Vec::new();
    for (table, block) in tangible_db::ROW_BLOCK {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT ctid::text || ' ' || xmin::text FROM {table} WHERE {block} <= $1 ORDER BY 1"
        )))
        .bind(fork as i64)
        .fetch_all(pool)
        .await
        .unwrap();
        out.push((*table, rows));
    }
    out
}

#[tokio::test]
async fn a_reorg_of_depth_1_rewrites_only_the_rows_above_the_fork() {
    let c = fixture::chain().await;
    let db = TestDatabase::new().await.unwrap();
    let mut ix = fixture::indexer(&c, db.pool(), fixture::config()).await;
    // Every kind of row below the fork (offers listed, repriced, cancelled and filled, licences
    // revoked, card sales, withdrawals, deposits), then many purchases.
    crate::mirror::operations(&c, Some(&mut ix)).await;
    for _ in 0..60 {
        c.buy_fresh(c.buyers[0]).await;
    }
    fixture::catch_up(&mut ix).await;
    let head = c.provider.get_block_number().await.unwrap();
    let fork = head - 1;
    let before = versions_at_or_below(db.pool(), fork).await;
    for (table, rows) in &before {
        assert!(!rows.is_empty(), "no {table} row below the fork");
    }
    assert!(before[0].1.len() > 200, "{} events", before[0].1.len());

    // The HD price changed in the sequence: the new block buys the 4K edition.
    c.reorg(1, c.purchase_tx(2, 1300)).await;
    assert_eq!(fixture::catch_up(&mut ix).await.reorg, Some(1));

    let after = versions_at_or_below(db.pool(), fork).await;
    for ((table, b), (_, a)) in before.iter().zip(&after) {
        let kept = b.iter().filter(|v| a.contains(v)).count();
        assert_eq!(
            (kept, a.len()),
            (b.len(), b.len()),
            "{table}: rows at or below the fork rewritten by a reorg of depth 1"
        );
    }
    let reference = fixture::reference(&c).await;
    fixture::assert_same_mirror(db.pool(), reference.pool(), "reorg of depth 1").await;
}

/// Rows created below the fork and updated above it (a studio, an edition's price and status,
/// an offer repriced and cancelled, one filled, licences revoked) are re-derived from their
/// events below the fork when those blocks are rolled back: the mirror equals a fresh index.
#[tokio::test]
async fn rows_updated_above_the_fork_get_back_their_state_at_the_fork() {
    let c = fixture::chain().await;
    let db = TestDatabase::new().await.unwrap();
    let mut ix = fixture::indexer(&c, db.pool(), fixture::config()).await;
    let m = c.market();
    let [b0, b1] = c.buyers;
    // Below the fork: two listings (one repriced), a licence to revoke later.
    let l0 = c.buy(b0).await;
    let l1 = c.buy(b0).await;
    let l2 = c.buy(b0).await;
    let offer1 = offer_of(&mined(m.list(l1, 800).from(b0)).await);
    mined(m.updateOffer(offer1, 850).from(b0)).await;
    let offer2 = offer_of(&mined(m.list(l2, 700).from(b0)).await);
    fixture::catch_up(&mut ix).await;
    let fork = c.provider.get_block_number().await.unwrap();

    // Above it: every kind of update of those rows, indexed, then rolled back.
    mined(
        m.updateStudio(c.studio_id, c.studio_admin, b1, "Renamed".into())
            .from(c.studio_admin),
    )
    .await;
    mined(
        m.updateEdition(c.film_id, 1, B256::repeat_byte(7), 990, "re-encode".into())
            .from(c.studio_admin),
    )
    .await;
    mined(m.withdrawEdition(c.film_id, 1).from(c.studio_admin)).await;
    mined(m.updateOffer(offer1, 900).from(b0)).await;
    mined(m.cancelOffer(offer1).from(b0)).await;
    mined(m.buyOffer(offer2, 700, b1).from(b1)).await;
    mined(m.revoke(l0, 2).from(c.deployer)).await;
    fixture::catch_up(&mut ix).await;
    let revoked = fixture::count(db.pool(), "SELECT count(*) FROM licences WHERE revoked").await;
    assert_eq!(revoked, 2, "the resold licence and the revoked one");

    let depth = c.provider.get_block_number().await.unwrap() - fork;
    c.rollback(depth).await;
    assert_eq!(fixture::catch_up(&mut ix).await.reorg, Some(depth));
    let reference = fixture::reference(&c).await;
    fixture::assert_same_mirror(db.pool(), reference.pool(), "rollback of the updates").await;
    let offers: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, price FROM resale_offers ORDER BY offer_id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let active = |p: i64| ("active".to_owned(), p);
    assert_eq!(offers, [active(850), active(700)]);
}

/// The offer listed in a receipt.
fn offer_of(r: &alloy::rpc::types::TransactionReceipt) -> alloy::primitives::U256 {
    fixture::event::<tangible_chain::bindings::TangibleMarket::OfferListed>(r).offerId
}
