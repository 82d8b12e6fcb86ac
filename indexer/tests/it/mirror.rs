//! A realistic sequence of Tangible operations is mirrored exactly: the database is compared
//! field by field with the contracts' own reads, and the raw log with `eth_getLogs`.

use alloy::primitives::{Address, U256, keccak256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use tangible_chain::bindings::TangibleMarket;
use tangible_db::sqlx::{self, Row};
use tangible_db::testing::TestDatabase;

use crate::fixture::{self, count, hex, mined};

/// kind, price, seller, studio and platform cents, seller, platform, studio id.
type SaleRow = (
    String,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    String,
    Option<i64>,
);

#[tokio::test]
async fn mint_list_buy_revoke_sequences_are_mirrored_exactly() {
    let c = fixture::chain().await;
    let m = c.market();
    let [b0, b1] = c.buyers;
    let op = c.deployer;

    // Registry updates.
    mined(
        m.updateStudio(
            c.studio_id,
            c.studio_admin,
            c.buyers[1],
            "Studio Star Film".into(),
        )
        .from(c.studio_admin),
    )
    .await;
    mined(
        m.updateEdition(c.film_id, 1, keccak256("hd v2"), 950)
            .from(c.studio_admin),
    )
    .await;
    mined(m.withdrawEdition(c.film_id, 1).from(c.studio_admin)).await;
    mined(m.reactivateEdition(c.film_id, 1).from(c.studio_admin)).await;

    let db = TestDatabase::new().await.unwrap();
    let mut ix = fixture::indexer(&c, db.pool(), fixture::config()).await;
    ix.sync().await.unwrap(); // index part of the history, then continue incrementally

    // Primary sale, listing, price update, resale.
    let l1 = c.buy(b0).await;
    let r = mined(m.list(l1, 800).from(b0)).await;
    let offer1 = r
        .inner
        .logs()
        .iter()
        .find_map(|l| l.log_decode::<TangibleMarket::OfferListed>().ok())
        .unwrap()
        .inner
        .data
        .offerId;
    mined(m.updateOffer(offer1, 900).from(b0)).await;
    let r = mined(m.buyOffer(offer1, 900, b1).from(b1)).await;
    let l2 = fixture::licence_of(&r);
    ix.sync().await.unwrap();

    // A listing cancelled by its seller, one cancelled by an operator revocation.
    let l3 = c.buy(b1).await;
    mined(m.list(l3, 500).from(b1)).await;
    mined(m.cancelOffer(U256::from(2)).from(b1)).await;
    mined(m.list(l2, 700).from(b1)).await;
    mined(m.revoke(l2, 2).from(op)).await;

    // A card settlement from the operator's float, withdrawals.
    mined(m.deposit(U256::from(1_000_000_000u64)).from(op)).await;
    let pref = fixture::payment_ref(1);
    let r = mined(m.settleCardPrimary(c.film_id, 1, 950, b0, pref).from(op)).await;
    let card = fixture::licence_of(&r);
    let credit = m.balanceOfCredit(b0).call().await.unwrap();
    mined(m.withdraw(b0, credit).from(b0)).await;
    mined(m.withdrawStudio(c.studio_id).from(c.studio_admin)).await;
    ix.sync().await.unwrap();

    let pool = db.pool();
    // Raw log == every log of the market.
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
        count(pool, "SELECT count(*) FROM events").await,
        logs.len() as i64
    );
    let stored: Vec<(String, i32)> =
        sqlx::query_as("SELECT tx_hash, log_index FROM events ORDER BY block_number, log_index")
            .fetch_all(pool)
            .await
            .unwrap();
    let expected: Vec<(String, i32)> = logs
        .iter()
        .map(|l| {
            (
                hex(l.transaction_hash.unwrap()),
                l.log_index.unwrap() as i32,
            )
        })
        .collect();
    assert_eq!(stored, expected);

    // Studios.
    let s = m.studio(c.studio_id).call().await.unwrap();
    let row = sqlx::query("SELECT name, admin_address, royalty_addr, commission_bps FROM studios WHERE studio_id = $1")
        .bind(c.studio_id as i64)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>(0), s.name);
    assert_eq!(row.get::<String, _>(1), hex(s.admin));
    assert_eq!(row.get::<String, _>(2), hex(s.royaltyRecipient));
    assert_eq!(row.get::<i32, _>(3), s.commissionBps as i32);

    // Films and editions.
    let f = m.film(c.film_id).call().await.unwrap();
    let row =
        sqlx::query("SELECT studio_id, year, title, master_hash FROM films WHERE film_id = $1")
            .bind(c.film_id as i64)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(row.get::<i64, _>(0), f.studioId as i64);
    assert_eq!(row.get::<i32, _>(1), f.year as i32);
    assert_eq!(row.get::<String, _>(2), "Le Voyage dans la Lune");
    assert_eq!(row.get::<Option<String>, _>(3), Some(hex(keccak256("4k"))));
    for q in [1u8, 2] {
        let e = m.edition(c.film_id, q).call().await.unwrap();
        let row = sqlx::query("SELECT master_hash, price_cents, active FROM editions WHERE film_id = $1 AND quality = $2")
            .bind(c.film_id as i64)
            .bind(q as i16)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(row.get::<String, _>(0), hex(e.masterHash), "edition {q}");
        assert_eq!(row.get::<i64, _>(1), e.priceCents as i64, "edition {q}");
        assert_eq!(row.get::<bool, _>(2), e.active, "edition {q}");
    }

    // Licences, field by field against `licence(id)`.
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT licence_id::text FROM licences ORDER BY licence_id")
            .fetch_all(pool)
            .await
            .unwrap();
    let mut expected_ids: Vec<U256> = vec![l1, l2, l3, card];
    expected_ids.sort();
    assert_eq!(
        ids,
        expected_ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
    );
    for id in &expected_ids {
        let l = m.licence(*id).call().await.unwrap();
        let row = sqlx::query(
            "SELECT owner_address, film_id, quality, extract(epoch FROM acquired_at)::bigint,
                    coalesce(extract(epoch FROM hold_until)::bigint, 0), revoked, revoked_reason
             FROM licences WHERE licence_id = $1::numeric",
        )
        .bind(id.to_string())
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(row.get::<String, _>(0), hex(l.owner), "licence {id}");
        assert_eq!(row.get::<i64, _>(1), l.filmId as i64);
        assert_eq!(row.get::<i16, _>(2), l.quality as i16);
        assert_eq!(row.get::<i64, _>(3), l.acquiredAt as i64);
        assert_eq!(row.get::<i64, _>(4), l.holdUntil as i64);
        assert_eq!(row.get::<bool, _>(5), l.revoked, "licence {id} revoked");
        if l.revoked {
            assert_eq!(row.get::<Option<i16>, _>(6), Some(l.reason as i16));
        }
    }
    let replaced: Option<String> =
        sqlx::query_scalar("SELECT replaced_by::text FROM licences WHERE licence_id = $1::numeric")
            .bind(l1.to_string())
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(
        replaced,
        Some(l2.to_string()),
        "resale links the old licence to the new one"
    );

    // Offers against `offer(id)`.
    let statuses: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT offer_id::text, status, price, buyer_address FROM resale_offers ORDER BY offer_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(statuses.len(), 3);
    for (id, status, price, _) in &statuses {
        let o = m.offer(id.parse().unwrap()).call().await.unwrap();
        assert_eq!(status == "active", o.active, "offer {id}");
        if o.active {
            // The contract clears a closed offer, so only an open one has a price to compare.
            assert_eq!(*price, o.priceCents as i64, "offer {id}");
        }
    }
    assert_eq!(statuses[0].1, "filled");
    assert_eq!(statuses[0].2, 900, "the updated price is kept");
    assert_eq!(statuses[0].3, Some(hex(b1)));
    assert_eq!(statuses[1].1, "cancelled");
    assert_eq!(
        statuses[2].1, "cancelled",
        "revoking a listed licence cancels its offer"
    );

    // Sales: every share and recipient; the resale split 80/15/5 of 9 €.
    let sales: Vec<SaleRow> = sqlx::query_as(
        "SELECT kind, price_cents, seller_cents, studio_cents, platform_cents, seller_address, platform_address, studio_id
         FROM sales ORDER BY block_number, log_index",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(sales.len(), 4);
    let resale = &sales[1];
    assert_eq!(
        (resale.0.as_str(), resale.1, resale.2, resale.3, resale.4),
        ("resale", 900, 720, 135, 45)
    );
    assert_eq!(resale.5, Some(hex(b0)));
    assert_eq!(resale.6, hex(c.platform));
    assert!(sales.iter().all(|s| s.7 == Some(c.studio_id as i64)));
    let card_sale: (Option<String>, String) = sqlx::query_as(
        "SELECT payment_ref, payer_address FROM sales WHERE licence_id = $1::numeric",
    )
    .bind(card.to_string())
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(card_sale, (Some(hex(pref)), hex(op)));

    // Money movements and users.
    assert_eq!(count(pool, "SELECT count(*) FROM withdrawals").await, 2);
    assert_eq!(count(pool, "SELECT count(*) FROM deposits").await, 1);
    let users: Vec<String> = sqlx::query_scalar("SELECT address FROM users")
        .fetch_all(pool)
        .await
        .unwrap();
    for who in [b0, b1, c.studio_admin] {
        assert!(users.contains(&hex(who)), "user {who} missing");
    }
    assert!(!users.contains(&hex(Address::ZERO)));

    // Incremental indexing == one cold pass.
    let reference = fixture::reference(&c).await;
    fixture::assert_same_mirror(pool, reference.pool(), "incremental vs cold").await;
}
