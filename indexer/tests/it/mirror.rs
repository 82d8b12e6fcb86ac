//! A realistic sequence of Tangible operations is mirrored exactly: the database is compared
//! field by field with the contracts' own reads, and the raw log and the `sales`,
//! `withdrawals` and `deposits` rows with the events of `eth_getLogs`, decoded here with the
//! contract bindings (not with the indexer's decoder).

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, Log, TransactionReceipt};
use serde_json::{Value, json};
use tangible_chain::bindings::TangibleMarket;
use tangible_db::PgPool;
use tangible_db::sqlx::{self, Row};
use tangible_db::testing::TestDatabase;
use tangible_indexer::Indexer;
use tangible_indexer::rpc::HttpRpc;

use crate::fixture::{self, Chain, count, hex, mined};

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

/// What [`operations`] created, for the checks.
pub(crate) struct Ops {
    pub(crate) l1: U256,
    pub(crate) l2: U256,
    pub(crate) l3: U256,
    pub(crate) l4: U256,
    pub(crate) card: U256,
    pub(crate) card2: U256,
    /// A card sale charged back before its clearance time.
    pub(crate) card3: U256,
    /// Bought by buyer 0 with its credit (a signed credit order the operator submitted).
    pub(crate) credit: U256,
    pub(crate) pref: B256,
    pub(crate) pref2: B256,
    /// The head after the resale, before the cancellations and revocations.
    pub(crate) after_resale: u64,
}

/// The offer listed in a receipt.
fn offer_of(r: &TransactionReceipt) -> U256 {
    fixture::event::<TangibleMarket::OfferListed>(r).offerId
}

/// Every kind of operation the mirror follows: studio and edition updates, withdrawal and
/// reactivation of an edition, primary sales of both studios' films (crypto and card), a
/// listing with a price update and its resale, a listing cancelled by its seller, one cancelled
/// by an operator revocation, a card resale, deposits and every kind of withdrawal. `ix`, if
/// given, is synced after the registry updates, after the resale and at the end.
/// Buyer 0 buys edition `(film, 1)` at `price` with its credit: a credit order signed with its
/// anvil key, submitted by the operator.
async fn spend_credit(c: &Chain, film: u64, price: u64) -> U256 {
    use alloy::signers::SignerSync;
    use tangible_chain::orders::{CreditAction, CreditOrder, domain, edition_target};
    let m = c.market();
    let key: alloy::signers::local::PrivateKeySigner = c.anvil.keys()
        [tangible_testkit::roles::BUYER]
        .clone()
        .into();
    assert_eq!(key.address(), c.buyers[0]);
    let nonce = m.orderNonce(key.address()).call().await.unwrap();
    let deadline = u64::MAX >> 1;
    let order = CreditOrder::new(
        key.address(),
        CreditAction::BuyPrimary,
        (edition_target(film, 1), price, key.address()),
        nonce,
        deadline,
    );
    let d = domain(c.deployment.chain_id, c.deployment.contracts.market);
    let sig = key.sign_hash_sync(&order.digest(&d)).unwrap();
    let call = order.relay_call(sig.as_bytes().to_vec().into());
    let r = mined(m.call_builder(&call).from(c.deployer)).await;
    fixture::licence_of(&r)
}

pub(crate) async fn operations(c: &Chain, mut ix: Option<&mut Indexer<HttpRpc>>) -> Ops {
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
        m.updateEdition(c.film_id, 1, keccak256("hd v2"), 950, "re-encode".into())
            .from(c.studio_admin),
    )
    .await;
    mined(m.setResaleFloor(c.film_id, 1, 300).from(c.studio_admin)).await;
    mined(m.withdrawEdition(c.film_id, 1).from(c.studio_admin)).await;
    mined(m.reactivateEdition(c.film_id, 1).from(c.studio_admin)).await;
    if let Some(ix) = ix.as_deref_mut() {
        ix.sync().await.unwrap(); // part of the history, then incrementally
    }

    // Primary sale, listing, price update, resale.
    let l1 = c.buy(b0).await;
    let offer1 = offer_of(&mined(m.list(l1, 800).from(b0)).await);
    mined(m.updateOffer(offer1, 900).from(b0)).await;
    let r = mined(m.buyOffer(offer1, 900, b1).from(b1)).await;
    let l2 = fixture::licence_of(&r);
    if let Some(ix) = ix.as_deref_mut() {
        ix.sync().await.unwrap();
    }
    let after_resale = c.provider.get_block_number().await.unwrap();
    // A resale floor set after the resale (undone by the reorg tests' rollback to it); the
    // listings below stay above it.
    mined(m.setResaleFloor(c.film_id, 2, 400).from(c.studio_admin)).await;

    // A listing cancelled by its seller, one cancelled by an operator revocation.
    let l3 = c.buy(b1).await;
    let offer2 = offer_of(&mined(m.list(l3, 500).from(b1)).await);
    mined(m.cancelOffer(offer2).from(b1)).await;
    mined(m.list(l2, 700).from(b1)).await;
    mined(m.revoke(l2, 2).from(op)).await;

    // A card settlement from the operator's float, withdrawals.
    mined(m.deposit(U256::from(1_000_000_000u64)).from(op)).await;
    let pref = fixture::payment_ref(1);
    let r = mined(m.settleCardPrimary(c.film_id, 1, 950, b0, pref).from(op)).await;
    let card = fixture::licence_of(&r);
    // Part of the resale's proceeds spent on the second studio's film by a signed credit order
    // the operator submits (`CreditSpent`).
    let credit_licence = spend_credit(c, c.film2_id, 700).await;
    let credit = m.balanceOfCredit(b0).call().await.unwrap();
    mined(m.withdraw(b0, credit).from(b0)).await;
    mined(m.withdrawStudio(c.studio_id).from(c.studio_admin)).await;

    // The second studio's film: a crypto primary sale, its card resale, a second deposit, and
    // the seller's, the studio's and the platform's withdrawals (the seller's to another address).
    let r = mined(m.buyPrimary(c.film2_id, 1, 700, b1).from(b1)).await;
    let l4 = fixture::licence_of(&r);
    let offer4 = offer_of(&mined(m.list(l4, 600).from(b1)).await);
    mined(m.deposit(U256::from(3_000_000u64)).from(op)).await;
    let pref2 = fixture::payment_ref(2);
    let r = mined(m.settleCardOffer(offer4, 600, b0, pref2).from(op)).await;
    let card2 = fixture::licence_of(&r);
    // Card money is pending until its clearance time: a third card sale charged back before
    // it (its shares go back to the float), then past it, the first two credited.
    let pref3 = fixture::payment_ref(3);
    let r = mined(m.settleCardPrimary(c.film2_id, 1, 700, b1, pref3).from(op)).await;
    let card3 = fixture::licence_of(&r);
    mined(m.revoke(card3, 1).from(op)).await;
    let period = m.clearancePeriod().call().await.unwrap();
    let _: serde_json::Value = (c.provider)
        .raw_request("evm_increaseTime".into(), [u64::from(period) + 1])
        .await
        .unwrap();
    mined(m.clearSales(vec![card, card2]).from(b1)).await;
    let credit = m.balanceOfCredit(b1).call().await.unwrap();
    mined(m.withdraw(b0, credit).from(b1)).await;
    mined(m.withdrawStudio(c.studio2_id).from(c.studio2_admin)).await;
    mined(m.withdrawPlatform().from(op)).await;
    if let Some(ix) = ix {
        ix.sync().await.unwrap();
    }
    Ops {
        l1,
        l2,
        l3,
        l4,
        card,
        card2,
        card3,
        credit: credit_licence,
        pref,
        pref2,
        after_resale,
    }
}

#[tokio::test]
async fn mint_list_buy_revoke_sequences_are_mirrored_exactly() {
    let c = fixture::chain().await;
    let m = c.market();
    let [b0, b1] = c.buyers;
    let op = c.deployer;
    let db = TestDatabase::new().await.unwrap();
    let mut ix = fixture::indexer(&c, db.pool(), fixture::config()).await;
    let ops = operations(&c, Some(&mut ix)).await;

    let pool = db.pool();
    // Raw log == every log of the market.
    let logs = chain_logs(&c).await;
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
        let row = sqlx::query("SELECT master_hash, price_cents, active, resale_floor_cents FROM editions WHERE film_id = $1 AND quality = $2")
            .bind(c.film_id as i64)
            .bind(q as i16)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(row.get::<String, _>(0), hex(e.masterHash), "edition {q}");
        assert_eq!(row.get::<i64, _>(1), e.priceCents as i64, "edition {q}");
        assert_eq!(row.get::<bool, _>(2), e.active, "edition {q}");
        assert_eq!(
            row.get::<i64, _>(3),
            e.resaleFloorCents as i64,
            "edition {q}"
        );
        assert_eq!(e.resaleFloorCents, [0, 300, 400][q as usize], "edition {q}");
    }

    // Licences, field by field against `licence(id)`.
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT licence_id::text FROM licences ORDER BY licence_id")
            .fetch_all(pool)
            .await
            .unwrap();
    let mut expected_ids: Vec<U256> = vec![
        ops.l1, ops.l2, ops.l3, ops.l4, ops.card, ops.card2, ops.card3, ops.credit,
    ];
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
        // A licence replaced in its slot by a stablecoin resale (the buyer's id is one generation up)
        // reads with owner, acquisition and hold 0: the chain keeps them in its `LicenceMinted` event.
        let (owner, acquired_at, hold_until) = if l.owner.is_zero() {
            assert!(
                l.revoked && l.reason == 0,
                "licence {id}: owner 0 only once resold"
            );
            let minted = m
                .LicenceMinted_filter()
                .topic1(*id)
                .from_block(0)
                .query()
                .await
                .unwrap();
            let (ev, _) = minted.first().expect("the licence's LicenceMinted event");
            (ev.owner, ev.acquiredAt, ev.holdUntil)
        } else {
            (l.owner, l.acquiredAt, l.holdUntil)
        };
        assert_eq!(row.get::<String, _>(0), hex(owner), "licence {id}");
        assert_eq!(row.get::<i64, _>(1), l.filmId as i64);
        assert_eq!(row.get::<i16, _>(2), l.quality as i16);
        assert_eq!(row.get::<i64, _>(3), acquired_at as i64);
        assert_eq!(row.get::<i64, _>(4), hold_until as i64);
        assert_eq!(row.get::<bool, _>(5), l.revoked, "licence {id} revoked");
        if l.revoked {
            assert_eq!(row.get::<Option<i16>, _>(6), Some(l.reason as i16));
        }
    }
    let replaced: Option<String> =
        sqlx::query_scalar("SELECT replaced_by::text FROM licences WHERE licence_id = $1::numeric")
            .bind(ops.l1.to_string())
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(
        replaced,
        Some(ops.l2.to_string()),
        "resale links the old licence to the new one"
    );
    let replaced: Option<String> =
        sqlx::query_scalar("SELECT replaced_by::text FROM licences WHERE licence_id = $1::numeric")
            .bind(ops.l4.to_string())
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(
        replaced,
        Some(ops.card2.to_string()),
        "so does a card resale"
    );

    // Offers against `offer(id)`.
    let statuses: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT offer_id::text, status, price, buyer_address FROM resale_offers ORDER BY offer_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(statuses.len(), 4);
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
    assert_eq!(statuses[3].1, "filled");
    assert_eq!(statuses[3].3, Some(hex(b0)), "the card resale's recipient");

    // Sales: every share and recipient; the resale split 80/15/5 of 9 €.
    let sales: Vec<SaleRow> = sqlx::query_as(
        "SELECT kind, price_cents, seller_cents, studio_cents, platform_cents, seller_address, platform_address, studio_id
         FROM sales ORDER BY block_number, log_index",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(sales.len(), 8);
    let resale = &sales[1];
    assert_eq!(
        (resale.0.as_str(), resale.1, resale.2, resale.3, resale.4),
        ("resale", 900, 720, 135, 45)
    );
    assert_eq!(resale.5, Some(hex(b0)));
    assert_eq!(resale.6, hex(c.platform));
    // Both studios' films sold, so a sale's studio cannot be right by accident.
    let studios: Vec<Option<i64>> = sales.iter().map(|s| s.7).collect();
    let (s1, s2) = (Some(c.studio_id as i64), Some(c.studio2_id as i64));
    assert_eq!(studios, [s1, s1, s1, s1, s2, s2, s2, s2]);
    // The purchase paid with credit: buyer 0 paid it, from its balance.
    let (spent, payer): (String, String) = sqlx::query_as(
        "SELECT c.amount_units::text, s.payer_address FROM credit_spends c JOIN sales s USING (licence_id)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(payer, hex(b0));
    let per_cent = c.market().unitsPerCent().call().await.unwrap();
    assert_eq!(spent, (U256::from(700) * per_cent).to_string());
    for (licence, pref) in [(ops.card, ops.pref), (ops.card2, ops.pref2)] {
        let card_sale: (Option<String>, String) = sqlx::query_as(
            "SELECT payment_ref, payer_address FROM sales WHERE licence_id = $1::numeric",
        )
        .bind(licence.to_string())
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(card_sale, (Some(hex(pref)), hex(op)));
    }

    // Every sale, withdrawal and deposit row, field by field, against the decoded logs.
    let (sales, withdrawals, deposits) = assert_rows_match_logs(&c, pool).await;
    assert_eq!((sales, withdrawals, deposits), (8, 5, 2));
    // Clearance: three card sales pending, two cleared, one clawed back to the float.
    let clearances: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT licence_id::text, kind, refunded_to FROM sale_clearances ORDER BY block_number, log_index",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let (card, card2, card3) = (
        ops.card.to_string(),
        ops.card2.to_string(),
        ops.card3.to_string(),
    );
    assert_eq!(
        clearances,
        vec![
            (card.clone(), "pending".to_owned(), None),
            (card2.clone(), "pending".to_owned(), None),
            (card3.clone(), "pending".to_owned(), None),
            (card3, "clawed_back".to_owned(), Some(hex(op))),
            (card, "cleared".to_owned(), None),
            (card2, "cleared".to_owned(), None),
        ]
    );

    // Users.
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

/// Every log of the deployment's contracts, from `eth_getLogs`.
pub(crate) async fn chain_logs(c: &Chain) -> Vec<Log> {
    let a = &c.deployment.contracts;
    let mut addresses = vec![a.registry, a.licence, a.market];
    addresses.sort();
    addresses.dedup();
    c.provider
        .get_logs(
            &Filter::new()
                .from_block(c.deployment.deployment_block)
                .address(addresses),
        )
        .await
        .unwrap()
}

/// Rows of `table` as JSON objects (numbers as text where they can exceed 64 bits, times as
/// epoch seconds), in chain order, and the table's column names.
async fn rows(pool: &PgPool, table: &str) -> (Vec<BTreeMap<String, Value>>, Vec<String>) {
    let mut columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap();
    columns.sort();
    let fields: Vec<String> = columns
        .iter()
        .map(|col| match col.as_str() {
            "block_timestamp" => format!("'{col}', extract(epoch FROM {col})::bigint"),
            "licence_id" | "offer_id" | "amount_units" => format!("'{col}', {col}::text"),
            _ => format!("'{col}', {col}"),
        })
        .collect();
    // Built from the table's own column names, not from input.
    let q = format!(
        "SELECT coalesce(json_agg(json_build_object({}) ORDER BY block_number, log_index), '[]')::text FROM {table}",
        fields.join(", ")
    );
    let json: String = sqlx::query_scalar(sqlx::AssertSqlSafe(q))
        .fetch_one(pool)
        .await
        .unwrap();
    (serde_json::from_str(&json).unwrap(), columns)
}

/// Asserts `actual` rows equal `expected` ones field by field, and that `expected` names
/// every column of the table (so no column goes unchecked).
fn assert_rows(
    table: &str,
    columns: &[String],
    actual: &[BTreeMap<String, Value>],
    expected: &[BTreeMap<String, Value>],
) {
    for e in expected {
        let keys: Vec<&String> = e.keys().collect();
        assert_eq!(keys, columns.iter().collect::<Vec<_>>(), "{table}: columns");
    }
    assert_eq!(actual.len(), expected.len(), "{table}: row count");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        for (k, v) in e {
            assert_eq!(a.get(k), Some(v), "{table} row {i}: field {k}");
        }
    }
}

fn object(pairs: Vec<(&str, Value)>) -> BTreeMap<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Compares every `sales`, `withdrawals` and `deposits` row with the `SaleSettled`,
/// `Withdrawn`, `Deposited` and `CreditSpent` events of `eth_getLogs`, decoded with the contract bindings;
/// a sale's film and quality come from its licence's `LicenceMinted`, its studio from the
/// film's `FilmRegistered`. Returns the three row counts.
pub(crate) async fn assert_rows_match_logs(c: &Chain, pool: &PgPool) -> (usize, usize, usize) {
    let logs = chain_logs(c).await;
    let mut timestamps = BTreeMap::new();
    for l in &logs {
        let n = l.block_number.unwrap();
        if let std::collections::btree_map::Entry::Vacant(slot) = timestamps.entry(n) {
            let b = c.provider.get_block_by_number(n.into()).await.unwrap();
            slot.insert(b.unwrap().header.timestamp as i64);
        }
    }
    let mut licence_of = BTreeMap::new();
    let mut studio_of = BTreeMap::new();
    for l in &logs {
        if let Ok(e) = l.log_decode::<TangibleMarket::LicenceMinted>() {
            let e = e.inner.data;
            licence_of.insert(e.licenceId, (e.filmId, e.quality));
        }
        if let Ok(e) = l.log_decode::<TangibleMarket::FilmRegistered>() {
            studio_of.insert(e.inner.data.filmId, e.inner.data.studioId);
        }
    }
    let nullable = |a: Address| {
        if a.is_zero() {
            Value::Null
        } else {
            json!(hex(a))
        }
    };
    let (mut sales, mut withdrawals, mut deposits) = (Vec::new(), Vec::new(), Vec::new());
    let mut spends = Vec::new();
    for l in &logs {
        let place = |mut fields: Vec<(&'static str, Value)>| {
            let n = l.block_number.unwrap();
            fields.extend([
                ("tx_hash", json!(hex(l.transaction_hash.unwrap()))),
                ("log_index", json!(l.log_index.unwrap())),
                ("block_number", json!(n)),
            ]);
            fields
        };
        if let Ok(e) = l.log_decode::<TangibleMarket::SaleSettled>() {
            let e = e.inner.data;
            let (film, quality) = licence_of[&e.licenceId];
            sales.push(object(place(vec![
                (
                    "block_timestamp",
                    json!(timestamps[&l.block_number.unwrap()]),
                ),
                (
                    "kind",
                    json!(if e.offerId.is_zero() {
                        "primary"
                    } else {
                        "resale"
                    }),
                ),
                ("licence_id", json!(e.licenceId.to_string())),
                (
                    "offer_id",
                    if e.offerId.is_zero() {
                        Value::Null
                    } else {
                        json!(e.offerId.to_string())
                    },
                ),
                (
                    "payment_ref",
                    if e.paymentRef.is_zero() {
                        Value::Null
                    } else {
                        json!(hex(e.paymentRef))
                    },
                ),
                ("payer_address", json!(hex(e.payer))),
                ("price_cents", json!(e.priceCents)),
                ("seller_address", nullable(e.seller)),
                ("seller_cents", json!(e.sellerCents)),
                ("studio_address", json!(hex(e.studio))),
                ("studio_cents", json!(e.studioCents)),
                ("platform_address", json!(hex(e.platform))),
                ("platform_cents", json!(e.platformCents)),
                ("film_id", json!(film)),
                ("quality", json!(quality)),
                ("studio_id", json!(studio_of[&film])),
            ])));
        } else if let Ok(e) = l.log_decode::<TangibleMarket::Withdrawn>() {
            let e = e.inner.data;
            withdrawals.push(object(place(vec![
                ("account_address", json!(hex(e.account))),
                ("to_address", json!(hex(e.to))),
                ("amount_units", json!(e.amount.to_string())),
            ])));
        } else if let Ok(e) = l.log_decode::<TangibleMarket::Deposited>() {
            let e = e.inner.data;
            deposits.push(object(place(vec![
                ("account_address", json!(hex(e.account))),
                ("amount_units", json!(e.amount.to_string())),
            ])));
        } else if let Ok(e) = l.log_decode::<TangibleMarket::CreditSpent>() {
            let e = e.inner.data;
            spends.push(object(place(vec![
                ("account_address", json!(hex(e.account))),
                ("licence_id", json!(e.licenceId.to_string())),
                ("amount_units", json!(e.amount.to_string())),
            ])));
        }
    }
    for (table, expected) in [
        ("sales", &sales),
        ("withdrawals", &withdrawals),
        ("deposits", &deposits),
        ("credit_spends", &spends),
    ] {
        let (actual, columns) = rows(pool, table).await;
        assert_rows(table, &columns, &actual, expected);
    }
    (sales.len(), withdrawals.len(), deposits.len())
}
