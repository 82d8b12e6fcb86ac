//! Card money integrity (issue 12 item 3, audit H-1): a card sale's shares stay pending on
//! chain for the clearance period, a dispute inside it gives them back to the operator's float
//! in the revocation's transaction, even after the licence was resold, and card purchases are
//! capped per payment and per buyer over a period.

use alloy::primitives::{Address, U256};
use serde_json::json;
use tangible_chain::bindings::TangibleMarket;

use crate::catalogue::index;
use crate::disputes::{dispute_event, fulfilled, post};
use crate::helpers::{Options, PRICE, TestApp, mined, spawn_app, spawn_app_with};

async fn float(app: &TestApp) -> U256 {
    (app.chain.market())
        .balanceOfCredit(app.chain.keys[0].address())
        .call()
        .await
        .unwrap()
}

async fn units_per_cent(app: &TestApp) -> U256 {
    app.chain.market().unitsPerCent().call().await.unwrap()
}

/// Moves the chain's clock `secs` forward and mines a block.
async fn warp(app: &TestApp, secs: u64) {
    use alloy::providers::Provider;
    let p = &app.chain.provider;
    let _: serde_json::Value = p
        .raw_request("evm_increaseTime".into(), [secs])
        .await
        .unwrap();
    let _: serde_json::Value = p.raw_request("evm_mine".into(), ()).await.unwrap();
}

/// Opens a dispute on `pi` and waits for the purchase to be revoked.
async fn dispute(app: &TestApp, id: &str, pi: &str) {
    let opened = dispute_event(
        "evt_clear_open",
        "charge.dispute.created",
        "dp_clear",
        pi,
        "needs_response",
    );
    assert_eq!(post(app, &opened).await, "revocation_queued");
    let view = app
        .wait_for_state(id, &["revoked", "dispute_lost", "failed", "refunded"])
        .await;
    assert_eq!(view["state"], "revoked", "{view:#}");
}

#[tokio::test]
async fn a_card_sale_stays_pending_and_a_dispute_gives_it_back_to_the_float() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let float_before = float(&app).await;
    let studio_before = market.studio(1).call().await.unwrap().creditCents;
    let platform_before = market.platformCreditCents().call().await.unwrap();
    let (id, pi, licence) = fulfilled(&app).await;

    // Paid from the float, credited to nobody yet: pending for the clearance period.
    let per_cent = units_per_cent(&app).await;
    assert_eq!(
        float_before - float(&app).await,
        U256::from(PRICE) * per_cent
    );
    let pending = market.pendingSale(licence).call().await.unwrap();
    assert_eq!(pending.studioCents + pending.platformCents, PRICE);
    assert!(!pending.tainted);
    let period = market.clearancePeriod().call().await.unwrap();
    assert_eq!(period, 120 * 24 * 3600, "the contract's default");
    assert_eq!(
        market.studio(1).call().await.unwrap().creditCents,
        studio_before
    );
    assert_eq!(
        market.platformCreditCents().call().await.unwrap(),
        platform_before
    );
    // Nobody can clear it before its time.
    let early = market
        .clearSales(vec![licence])
        .from(app.chain.buyer(1).address())
        .call()
        .await;
    assert!(early.is_err(), "nothing is due yet");

    // A dispute inside the window: revoked, and the whole price back in the float.
    dispute(&app, &id, &pi).await;
    assert_eq!(
        float(&app).await,
        float_before,
        "the float got the price back"
    );
    let after = market.pendingSale(licence).call().await.unwrap();
    assert_eq!(after.clearAt, 0, "nothing pending any more");
    assert_eq!(
        market.studio(1).call().await.unwrap().creditCents,
        studio_before
    );
    assert_eq!(
        market.platformCreditCents().call().await.unwrap(),
        platform_before
    );
}

#[tokio::test]
async fn a_dispute_follows_a_card_licence_resold_before_its_payment_cleared() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let (seller, buyer) = (app.chain.buyer(0).address(), app.chain.buyer(1).address());
    let float_before = float(&app).await;
    let (id, pi, licence) = fulfilled(&app).await;

    // After the hold, the card buyer resells to a second wallet for 0.20 € (the laundering
    // move of the review): the new licence inherits the pending clearance.
    let hold = market.holdPeriod().call().await.unwrap();
    warp(&app, u64::from(hold.to::<u32>()) + 1).await;
    let r = mined(market.list(licence, 20).from(seller)).await;
    let offer = r
        .decoded_log::<TangibleMarket::OfferListed>()
        .unwrap()
        .offerId;
    let r = mined(market.buyOffer(offer, 20, buyer).from(buyer)).await;
    let second = r
        .decoded_log::<TangibleMarket::SaleSettled>()
        .unwrap()
        .licenceId;
    let pending = market.pendingSale(second).call().await.unwrap();
    assert!(pending.tainted, "sold while uncleared: tainted");
    assert_eq!(
        pending.sellerCents + pending.studioCents + pending.platformCents,
        20
    );
    let seller_credit = market.balanceOfCredit(seller).call().await.unwrap();
    assert_eq!(
        seller_credit,
        U256::ZERO,
        "the seller's share is pending too"
    );
    let buyer_credit_before = market.balanceOfCredit(buyer).call().await.unwrap();

    // The dispute on the first card payment revokes the licence it became and unwinds both
    // sales: the float gets the card price back, the second buyer their 0.20 €.
    dispute(&app, &id, &pi).await;
    let l2 = market.licence(second).call().await.unwrap();
    assert!(l2.revoked, "the laundered licence is revoked");
    assert_eq!(l2.reason, 1, "as a chargeback");
    let per_cent = units_per_cent(&app).await;
    assert_eq!(float(&app).await, float_before);
    assert_eq!(
        market.balanceOfCredit(buyer).call().await.unwrap() - buyer_credit_before,
        U256::from(20) * per_cent
    );
    assert_eq!(
        market.balanceOfCredit(seller).call().await.unwrap(),
        U256::ZERO
    );

    // The accounts as the API shows them, from the indexer's mirror.
    index(&app).await;
    let (status, account) = app.get_json(&format!("/v1/accounts/{buyer}")).await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["pending_cents"], 0, "{account:#}");
    let refund = &account["history"][0];
    assert_eq!(refund["kind"], "refund", "{account:#}");
    assert_eq!(refund["licence_id"], second.to_string());
    assert_eq!(
        refund["amount_units"],
        (U256::from(20) * per_cent).to_string()
    );
    assert_eq!(
        account["credit_units"],
        market
            .balanceOfCredit(buyer)
            .call()
            .await
            .unwrap()
            .to_string()
    );
    let (_, account) = app.get_json(&format!("/v1/accounts/{seller}")).await;
    let kinds: Vec<&str> = account["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["clawed_back", "sale"], "{account:#}");
    let (status, bad) = app.get_json("/v1/accounts/not-an-address").await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["error"]["code"], "invalid_field");
}

#[tokio::test]
async fn due_card_sales_are_credited_by_the_maintenance_loop() {
    let opts = Options {
        extra: vec![("MAINTENANCE_INTERVAL_SECS", "1".to_owned())],
        ..Options::default()
    };
    let app = spawn_app_with(opts).await;
    let market = app.chain.market();
    let platform = market.platform().call().await.unwrap();
    let platform_before = market.platformCreditCents().call().await.unwrap();
    let (_, _, licence) = fulfilled(&app).await;
    let pending = market.pendingSale(licence).call().await.unwrap();
    index(&app).await;
    let (_, account) = app.get_json(&format!("/v1/accounts/{platform}")).await;
    let shares = account["pending"].as_array().unwrap();
    assert_eq!(shares.len(), 1, "{account:#}");
    assert_eq!(shares[0]["role"], "platform");
    assert_eq!(shares[0]["cents"], pending.platformCents);
    assert_eq!(shares[0]["clear_at"], pending.clearAt);
    assert_eq!(account["pending_cents"], pending.platformCents);

    // Not due: the loop leaves it. Past its clearance time (chain clock), it credits it.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_ne!(market.pendingSale(licence).call().await.unwrap().clearAt, 0);
    let period = market.clearancePeriod().call().await.unwrap();
    warp(&app, u64::from(period) + 1).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while market.pendingSale(licence).call().await.unwrap().clearAt != 0 {
        assert!(std::time::Instant::now() < deadline, "never cleared");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        market.platformCreditCents().call().await.unwrap() - platform_before,
        pending.platformCents
    );
    index(&app).await;
    let (_, account) = app.get_json(&format!("/v1/accounts/{platform}")).await;
    assert_eq!(account["pending_cents"], 0, "{account:#}");
}

#[tokio::test]
async fn card_purchases_are_capped_per_payment_and_per_buyer() {
    let opts = Options {
        extra: vec![
            ("CARD_MAX_PURCHASE_CENTS", (PRICE - 1).to_string()),
            ("CARD_BUYER_LIMIT_CENTS", (2 * PRICE).to_string()),
        ],
        ..Options::default()
    };
    let mut app = spawn_app_with(opts).await;
    let buyer: Address = app.chain.buyer(0).address();
    let body =
        json!({"film_id": app.chain.film_id, "quality": "4k", "buyer_address": buyer.to_string()});
    let (status, err) = app.post_json("/v1/purchases", &body).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "card_amount_over_limit", "{err}");
    app.stop().await;

    let opts = Options {
        extra: vec![("CARD_BUYER_LIMIT_CENTS", (2 * PRICE).to_string())],
        ..Options::default()
    };
    app.start(&opts).await;
    for _ in 0..2 {
        let (status, created) = app.post_json("/v1/purchases", &body).await;
        assert_eq!(status, 201, "{created}");
    }
    let (status, err) = app.post_json("/v1/purchases", &body).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "card_buyer_limit_reached", "{err}");
    // Another wallet has its own limit.
    let other = json!({"film_id": app.chain.film_id, "quality": "4k",
        "buyer_address": app.chain.buyer(1).address().to_string()});
    let (status, created) = app.post_json("/v1/purchases", &other).await;
    assert_eq!(status, 201, "{created}");
    // A purchase that failed does not count against the buyer.
    sqlx::query("UPDATE api_purchases SET state = 'failed' WHERE buyer_address = $1")
        .bind(buyer.to_string().to_lowercase())
        .execute(app.db.pool())
        .await
        .unwrap();
    let (status, created) = app.post_json("/v1/purchases", &body).await;
    assert_eq!(status, 201, "{created}");
}
