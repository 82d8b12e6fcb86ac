//! Reorgs made with `anvil_reorg` and `anvil_rollback` at depths 1 to 10 leave the mirror
//! equal to a fresh index of the canonical chain.

use alloy::providers::Provider;
use tangible_db::sqlx;
use tangible_db::testing::TestDatabase;
use tangible_indexer::{Indexer, rpc::HttpRpc, store};

use crate::fixture::{self, Chain, mined};

/// `blocks` blocks of activity: a purchase, then a listing of it, alternately.
async fn activity(c: &Chain, blocks: u64) {
    let m = c.market();
    let mut last = None;
    for i in 0..blocks {
        match last.take() {
            Some(l) if i % 2 == 1 => {
                let nonce = c.nonce(c.buyers[0]).await;
                mined(m.list(l, 500).from(c.buyers[0]).nonce(nonce)).await;
            }
            _ => last = Some(c.buy_fresh(c.buyers[0]).await),
        }
    }
}

/// Steps until caught up; returns the depth of the last reorg handled, if any.
async fn catch_up(ix: &mut Indexer<HttpRpc>) -> Option<u64> {
    fixture::catch_up(ix).await.reorg
}

#[tokio::test]
async fn reorgs_and_rollbacks_of_depth_1_to_10_leave_the_mirror_equal_to_the_canonical_chain() {
    let c = fixture::chain().await;
    let db = TestDatabase::new().await.unwrap();
    let mut ix = fixture::indexer(&c, db.pool(), fixture::config()).await;
    catch_up(&mut ix).await;

    for depth in 1..=10u64 {
        eprintln!("reorg depth {depth}");
        // anvil_reorg: the last `depth` blocks are replaced, the new first one carries another
        // purchase (by the other buyer), so the new chain has the same height and other events.
        activity(&c, depth).await;
        assert_eq!(catch_up(&mut ix).await, None);
        let tx = c.purchase_tx(1, 900);
        let head_before = c.provider.get_block_number().await.unwrap();
        c.reorg(depth, tx).await;
        assert_eq!(c.provider.get_block_number().await.unwrap(), head_before);
        let seen = catch_up(&mut ix).await;
        assert!(
            seen.is_some_and(|d| d >= 1),
            "depth {depth}: reorg not detected"
        );
        let reference = fixture::reference(&c).await;
        fixture::assert_same_mirror(
            db.pool(),
            reference.pool(),
            &format!("anvil_reorg depth {depth}"),
        )
        .await;

        // anvil_rollback: the last `depth` blocks disappear, then a different history grows.
        activity(&c, depth).await;
        assert_eq!(catch_up(&mut ix).await, None);
        c.rollback(depth).await;
        let seen = catch_up(&mut ix).await;
        assert_eq!(
            seen,
            Some(depth),
            "depth {depth}: rollback not detected at its depth"
        );
        let reference = fixture::reference(&c).await;
        fixture::assert_same_mirror(
            db.pool(),
            reference.pool(),
            &format!("anvil_rollback depth {depth}"),
        )
        .await;
        // ... and new activity on top of the shortened chain is indexed too.
        let nonce = c.nonce(c.buyers[1]).await;
        mined(
            c.market()
                .buyPrimary(c.film_id, 1, 900, c.buyers[1])
                .from(c.buyers[1])
                .nonce(nonce),
        )
        .await;
        c.mine(1).await;
        catch_up(&mut ix).await;
        let reference = fixture::reference(&c).await;
        fixture::assert_same_mirror(
            db.pool(),
            reference.pool(),
            &format!("after rollback depth {depth}"),
        )
        .await;
    }
}

/// A backfill stepped until the next range is staged ahead (its raw log in an open
/// transaction): the fixture's studio, film and editions indexed first, then 24 blocks of
/// activity backfilled by a new indexer (indexes deferred, small ranges). Also returns the
/// number of blocks above its checkpoint (the staged range among them).
async fn staged_mid_backfill(c: &Chain, db: &TestDatabase) -> (Indexer<HttpRpc>, u64) {
    let cfg = tangible_indexer::IndexerConfig {
        defer_indexes_above: 1,
        ..fixture::config()
    };
    catch_up(&mut fixture::indexer(c, db.pool(), cfg.clone()).await).await;
    activity(c, 24).await;
    let mut ix = fixture::indexer(c, db.pool(), cfg).await;
    for _ in 0..100 {
        ix.step().await.expect("step");
        if ix.staged_ahead() {
            let head = c.provider.get_block_number().await.unwrap();
            let above = head - ix.checkpoint().unwrap().number;
            return (ix, above);
        }
    }
    panic!("no range was staged during the backfill");
}

/// No transaction left open, indexes back, mirror equal to a fresh index of the chain.
async fn assert_settled(c: &Chain, db: &TestDatabase, what: &str) {
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(open, 0, "{what}: a staged transaction was left open");
    assert_eq!(
        store::deferred_indexes(db.pool()).await.unwrap(),
        0,
        "{what}"
    );
    let reference = fixture::reference(c).await;
    fixture::assert_same_mirror(db.pool(), reference.pool(), what).await;
}

#[tokio::test]
async fn a_reorg_while_a_range_is_staged_ahead_ends_in_the_canonical_mirror() {
    let c = fixture::chain().await;
    let db = TestDatabase::new().await.unwrap();
    let (mut ix, depth) = staged_mid_backfill(&c, &db).await;
    // Every block above the checkpoint (the staged range included) is replaced by one block
    // with another purchase: the staged range still continues the checkpoint, so it is
    // written, and the next fetch finds it orphaned and rolls it back.
    c.reorg(depth, c.purchase_tx(1, 900)).await;
    assert!(catch_up(&mut ix).await.is_some(), "reorg not detected");
    assert!(!ix.staged_ahead());
    assert_settled(&c, &db, "reorg while a range is staged").await;
}

#[tokio::test]
async fn a_chain_rolled_back_below_a_staged_range_rolls_the_staged_transaction_back() {
    let c = fixture::chain().await;
    let db = TestDatabase::new().await.unwrap();
    let (mut ix, depth) = staged_mid_backfill(&c, &db).await;
    // The chain loses every block above the checkpoint: the staged range is above the new
    // head, so the next step discards it and, caught up, re-creates the deferred indexes —
    // which would wait forever on a staged transaction left open.
    c.rollback(depth).await;
    let caught_up = tokio::time::timeout(std::time::Duration::from_secs(60), catch_up(&mut ix));
    assert_eq!(
        caught_up
            .await
            .expect("caught up without waiting on a lock"),
        None
    );
    assert!(!ix.staged_ahead());
    assert_settled(&c, &db, "rollback below a staged range").await;
    // New activity on the shortened chain is indexed too.
    c.buy_fresh(c.buyers[1]).await;
    catch_up(&mut ix).await;
    assert_settled(&c, &db, "activity after the rollback").await;
}

/// Every kind of event the mirror derives tables from (resales, revocations, cancellations,
/// offer updates, edition updates, deposits, withdrawals, card sales: the `mirror.rs`
/// sequence) lies below a reorg's common ancestor, so the rollback re-derives all of them from
/// the stored raw log; then the chain is rolled back to an early ancestor (just after the
/// resale), so the revocation, the cancellations, the card sales and the money movements are
/// undone. Each time the mirror equals a fresh index, and its sales, withdrawals and deposits
/// equal the decoded `eth_getLogs` events.
#[tokio::test]
async fn the_whole_operation_sequence_is_re_derived_exactly_after_a_reorg_and_an_early_rollback() {
    let c = fixture::chain().await;
    let db = TestDatabase::new().await.unwrap();
    let mut ix = fixture::indexer(&c, db.pool(), fixture::config()).await;
    let ops = crate::mirror::operations(&c, Some(&mut ix)).await;
    // Two blocks of purchases above the sequence, replaced by a reorg of depth 2.
    activity(&c, 2).await;
    assert_eq!(catch_up(&mut ix).await, None);
    let revoked_before: i64 =
        fixture::count(db.pool(), "SELECT count(*) FROM licences WHERE revoked").await;
    assert_eq!(
        revoked_before, 4,
        "the two revocations (fraud, chargeback) and both resales"
    );
    // The HD price changed in the sequence: the new block buys the 4K edition.
    c.reorg(2, c.purchase_tx(2, 1300)).await;
    let seen = catch_up(&mut ix).await;
    assert!(matches!(seen, Some(1..=2)), "reorg not detected: {seen:?}");
    assert_eq!(
        fixture::count(db.pool(), "SELECT count(*) FROM sales").await,
        8 + 1,
        "the sequence's sales and the new block's purchase"
    );
    let reference = fixture::reference(&c).await;
    fixture::assert_same_mirror(db.pool(), reference.pool(), "reorg above the sequence").await;
    crate::mirror::assert_rows_match_logs(&c, db.pool()).await;
    let revoked: Vec<String> =
        sqlx::query_scalar("SELECT licence_id::text FROM licences WHERE revoked ORDER BY 1")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let mut expected = vec![
        ops.l1.to_string(),
        ops.l2.to_string(),
        ops.l4.to_string(),
        ops.card3.to_string(),
    ];
    expected.sort();
    assert_eq!(
        revoked, expected,
        "revoked and resold licences stay revoked"
    );

    // Rolled back to just after the resale: everything later disappears from the mirror.
    let head = c.provider.get_block_number().await.unwrap();
    let depth = head - ops.after_resale;
    c.rollback(depth).await;
    assert_eq!(
        catch_up(&mut ix).await,
        Some(depth),
        "rollback not detected"
    );
    let reference = fixture::reference(&c).await;
    fixture::assert_same_mirror(db.pool(), reference.pool(), "rollback to the resale").await;
    crate::mirror::assert_rows_match_logs(&c, db.pool()).await;
    for (query, left) in [
        ("SELECT count(*) FROM licences WHERE revoked", 1),
        ("SELECT count(*) FROM sales", 2),
        ("SELECT count(*) FROM withdrawals", 0),
        ("SELECT count(*) FROM deposits", 0),
        ("SELECT count(*) FROM sale_clearances", 0),
        ("SELECT count(*) FROM credit_spends", 0),
    ] {
        let n = fixture::count(db.pool(), query).await;
        assert_eq!(n, left, "{query} after the rollback");
    }
    // ... and new activity on the shortened chain is indexed on top of the re-derived tables.
    c.buy_fresh(c.buyers[1]).await;
    catch_up(&mut ix).await;
    let reference = fixture::reference(&c).await;
    fixture::assert_same_mirror(db.pool(), reference.pool(), "activity after the rollback").await;
}
