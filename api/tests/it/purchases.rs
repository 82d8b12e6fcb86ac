//! Card purchases end to end: PaymentIntent in localstripe, signed webhook, settlement on anvil.

use std::time::{Duration, Instant};

use alloy::primitives::{B256, U256, keccak256};
use alloy::providers::Provider;
use serde_json::{Value, json};
use tangible_chain::bindings::TangibleMarket;
use tangible_domain::{Cents, Split};

use crate::helpers::{Options, PRICE, QUALITY, TestApp, mined, spawn_app, spawn_app_with};

pub(crate) const CARD_OK: &str = "4242424242424242";
/// Declined when charged. (In localstripe, 4000000000000002 is declined when attached to a
/// customer, which this flow never does; 4000000000000341 is its "charge declined" card.)
pub(crate) const CARD_DECLINED: &str = "4000000000000341";

/// Every `SaleSettled` log for `payment_ref`.
pub(crate) async fn settlements_on_chain(app: &TestApp, payment_ref: B256) -> usize {
    let filter = alloy::rpc::types::Filter::new()
        .address(app.chain.deployment.contracts.market)
        .event_signature(
            <TangibleMarket::SaleSettled as alloy::sol_types::SolEvent>::SIGNATURE_HASH,
        )
        .topic3(payment_ref)
        .from_block(0);
    app.chain.provider.get_logs(&filter).await.unwrap().len()
}

pub(crate) async fn buy_and_pay(app: &TestApp, buyer_index: usize) -> (Value, B256) {
    let buyer = app.chain.buyer(buyer_index).address();
    let created = app.create_purchase(buyer).await;
    let pi = created["payment_intent_id"].as_str().unwrap();
    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    (created.clone(), keccak256(pi.as_bytes()))
}

#[tokio::test]
async fn card_purchase_is_settled_once_on_chain_and_fulfilled() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let float_before = market
        .balanceOfCredit(app.chain.keys[0].address())
        .call()
        .await
        .unwrap();
    let buyer = app.chain.buyer(0).address();

    let created = app.create_purchase(buyer).await;
    assert_eq!(created["amount"], PRICE, "amount is the on-chain price");
    assert_eq!(created["currency"], "eur");
    assert!(
        created["client_secret"]
            .as_str()
            .unwrap()
            .contains("_secret_")
    );
    let pi = created["payment_intent_id"].as_str().unwrap();
    let intent = app.stripe.get(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(intent["amount"], PRICE);
    assert_eq!(intent["metadata"]["purchase_id"], created["purchase_id"]);
    let id = created["purchase_id"].as_str().unwrap();
    let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
    assert_eq!(view["state"], "awaiting_payment");
    assert!(view["licence_id"].is_null());

    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    let view = app.wait_fulfilled(id).await;

    // The licence id is the contract's cardLicenceId(keccak256(pi)) and belongs to the buyer.
    let payment_ref = keccak256(pi.as_bytes());
    let expected_id = market.cardLicenceId(payment_ref).call().await.unwrap();
    assert_eq!(view["licence_id"], expected_id.to_string());
    assert_eq!(market.ownerOf(expected_id).call().await.unwrap(), buyer);
    let licence = market.licence(expected_id).call().await.unwrap();
    assert_eq!(
        (licence.filmId, licence.quality, licence.revoked),
        (app.chain.film_id, QUALITY, false)
    );
    // One settlement, paid from the operator's float, with the primary split in its event.
    assert_eq!(settlements_on_chain(&app, payment_ref).await, 1);
    let float_after = market
        .balanceOfCredit(app.chain.keys[0].address())
        .call()
        .await
        .unwrap();
    assert_eq!(float_before - float_after, U256::from(PRICE * 10_000));
    let tx: B256 = view["tx_hash"].as_str().unwrap().parse().unwrap();
    let receipt = app
        .chain
        .provider
        .get_transaction_receipt(tx)
        .await
        .unwrap()
        .unwrap();
    let sale = receipt
        .decoded_log::<TangibleMarket::SaleSettled>()
        .expect("SaleSettled in the receipt");
    let split = Split::primary(Cents(PRICE), tangible_domain::DEFAULT_COMMISSION_BPS).unwrap();
    assert_eq!(sale.priceCents, PRICE);
    assert_eq!(sale.studioCents, split.studio.get());
    assert_eq!(sale.platformCents, split.platform.get());
    // Audit: the event in the inbox, one recorded attempt.
    let attempts = view["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{view:#}");
    assert_eq!(attempts[0]["outcome"], "fulfilled");
    assert_eq!(
        app.count("SELECT count(*) FROM api_stripe_events WHERE event_type = 'payment_intent.succeeded' AND outcome = 'paid'").await,
        1
    );
}

#[tokio::test]
async fn unknown_or_withdrawn_editions_cannot_be_bought() {
    let app = spawn_app().await;
    let buyer = app.chain.buyer(0).address().to_string();
    let (status, body) = app
        .post_json(
            "/v1/purchases",
            &json!({"film_id": app.chain.film_id, "quality": "sd", "buyer_address": buyer}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let market = app.chain.market();
    mined(
        market
            .withdrawEdition(app.chain.film_id, QUALITY)
            .from(app.chain.studio_admin),
    )
    .await;
    let (status, body) = app
        .post_json(
            "/v1/purchases",
            &json!({"film_id": app.chain.film_id, "quality": "4k", "buyer_address": buyer}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "edition_not_on_sale");
    assert_eq!(app.count("SELECT count(*) FROM api_purchases").await, 0);
}

#[tokio::test]
async fn a_declined_card_mints_nothing() {
    let app = spawn_app().await;
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let pi = created["payment_intent_id"].as_str().unwrap();
    let status = app.stripe.pay(pi, CARD_DECLINED).await;
    assert!(status == 200 || status == 402, "confirm answered {status}");
    // The payment_failed webhook arrives (localstripe waits 1 s before sending).
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.count("SELECT count(*) FROM api_stripe_events WHERE event_type = 'payment_intent.payment_failed'").await == 0 {
        assert!(Instant::now() < deadline, "no payment_failed webhook");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Whatever that event queued has run by now.
    app.wait_idle().await;
    let (_, view) = app
        .get_json(&format!(
            "/v1/purchases/{}",
            created["purchase_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(view["state"], "awaiting_payment", "{view:#}");
    assert_eq!(view["failure_code"], "payment_failed");
    assert_eq!(app.count("SELECT count(*) FROM api_jobs").await, 0);
    let market = app.chain.market();
    assert!(
        !market
            .paymentRefUsed(keccak256(pi.as_bytes()))
            .call()
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_payment_for_a_withdrawn_edition_is_refunded() {
    let app = spawn_app().await;
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let market = app.chain.market();
    mined(
        market
            .withdrawEdition(app.chain.film_id, QUALITY)
            .from(app.chain.studio_admin),
    )
    .await;
    let pi = created["payment_intent_id"].as_str().unwrap();
    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    let view = app
        .wait_for_state(
            created["purchase_id"].as_str().unwrap(),
            &["fulfilled", "refunded", "failed"],
        )
        .await;
    assert_eq!(view["state"], "refunded", "{view:#}");
    assert_eq!(view["failure_code"], "settlement_impossible");
    let refund_id = view["refund_id"].as_str().unwrap();
    let refund = app.stripe.get(&format!("/v1/refunds/{refund_id}")).await;
    assert_eq!(refund["amount"], PRICE, "{refund}");
    assert!(
        !market
            .paymentRefUsed(keccak256(pi.as_bytes()))
            .call()
            .await
            .unwrap()
    );
    let outcomes: Vec<&str> = view["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["impossible", "refunded"]);
}

#[tokio::test]
async fn two_card_buyers_race_for_one_offer_one_licence_one_refund() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let seller = app.chain.buyer(0).address();
    // The seller bought with stablecoin (no hold period) and lists at 8 €.
    let receipt = mined(
        market
            .buyPrimary(app.chain.film_id, QUALITY, PRICE, seller)
            .from(seller),
    )
    .await;
    let minted = receipt
        .decoded_log::<TangibleMarket::LicenceMinted>()
        .unwrap();
    let receipt = mined(market.list(minted.licenceId, 800).from(seller)).await;
    let offer_id = receipt
        .decoded_log::<TangibleMarket::OfferListed>()
        .unwrap()
        .offerId;

    let mut purchases = Vec::new();
    for b in [1, 2] {
        let buyer = app.chain.buyer(b).address();
        let (status, body) = app
            .post_json(
                &format!("/v1/offers/{offer_id}/purchases"),
                &json!({"buyer_address": buyer.to_string()}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["amount"], 800);
        purchases.push((buyer, body));
    }
    // The seller cannot buy their own offer.
    let (status, _) = app
        .post_json(
            &format!("/v1/offers/{offer_id}/purchases"),
            &json!({"buyer_address": seller.to_string()}),
        )
        .await;
    assert_eq!(status, 422);
    let (s0, s1) = tokio::join!(
        app.stripe.pay(
            purchases[0].1["payment_intent_id"].as_str().unwrap(),
            CARD_OK
        ),
        app.stripe.pay(
            purchases[1].1["payment_intent_id"].as_str().unwrap(),
            CARD_OK
        ),
    );
    assert_eq!((s0.as_u16(), s1.as_u16()), (200, 200));
    let mut views = Vec::new();
    for (_, p) in &purchases {
        views.push(
            app.wait_for_state(
                p["purchase_id"].as_str().unwrap(),
                &["fulfilled", "refunded", "failed"],
            )
            .await,
        );
    }
    let states: Vec<&str> = views.iter().map(|v| v["state"].as_str().unwrap()).collect();
    let winner = states
        .iter()
        .position(|s| *s == "fulfilled")
        .expect("one buyer gets the licence");
    let loser = 1 - winner;
    assert_eq!(states[loser], "refunded", "{views:#?}");
    assert!(
        views[loser]["refund_id"]
            .as_str()
            .unwrap()
            .starts_with("re_")
    );
    // One new licence, owned by the winner; the seller's is revoked; the offer is closed.
    let new_id: U256 = views[winner]["licence_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        market.ownerOf(new_id).call().await.unwrap(),
        purchases[winner].0
    );
    assert!(
        market
            .licence(minted.licenceId)
            .call()
            .await
            .unwrap()
            .revoked
    );
    assert!(!market.offer(offer_id).call().await.unwrap().active);
    let loser_pi = views[loser]["payment_intent_id"].as_str().unwrap();
    assert!(
        !market
            .paymentRefUsed(keccak256(loser_pi.as_bytes()))
            .call()
            .await
            .unwrap()
    );
    // The resale split 80/15/5 is in the sale event.
    let tx: B256 = views[winner]["tx_hash"].as_str().unwrap().parse().unwrap();
    let receipt = app
        .chain
        .provider
        .get_transaction_receipt(tx)
        .await
        .unwrap()
        .unwrap();
    let sale = receipt
        .decoded_log::<TangibleMarket::SaleSettled>()
        .unwrap();
    let split = Split::resale(Cents(800)).unwrap();
    assert_eq!(
        (
            sale.sellerCents,
            sale.studioCents,
            sale.platformCents,
            sale.seller
        ),
        (
            split.seller.get(),
            split.studio.get(),
            split.platform.get(),
            seller
        )
    );
    assert_eq!(
        (sale.sellerCents, sale.studioCents, sale.platformCents),
        (640, 120, 40)
    );
}

/// The contract's daily limit on card settlements (a stolen operator key's bound). A purchase
/// the limit leaves no room for is refused before anyone is charged; one paid before the limit
/// was cut is not lost: its settlement waits (retried, named) until the limit is raised (or the
/// next UTC day), then settles once.
#[tokio::test]
async fn the_daily_card_limit_refuses_new_payments_and_a_paid_one_waits_for_room() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let buyer = app.chain.buyer(0).address();
    let created = app.create_purchase(buyer).await;
    let pi = created["payment_intent_id"].as_str().unwrap().to_owned();
    let payment_ref = keccak256(pi.as_bytes());

    // The admin cuts the limit to 10 € a day: below one 13 € sale.
    mined(market.setCardSettlementLimit(10)).await;
    let (status, err) = app
        .post_json(
            "/v1/purchases",
            &json!({"film_id": app.chain.film_id, "quality": "4k", "buyer_address": buyer.to_string()}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), &err["error"]["code"]),
        (409, &json!("card_limit_reached")),
        "{err}"
    );
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("over the market's daily limit on card payments (1000 cents)"),
        "{err}"
    );

    // The purchase created before the cut is paid: its settlement waits.
    assert_eq!(app.stripe.pay(&pi, CARD_OK).await, 200);
    let id = created["purchase_id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
        let waiting = view["attempts"].as_array().unwrap().iter().any(|a| {
            a["outcome"] == "retry"
                && a["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("reached the limit: 0 of 1000 cents settled, 1300 more asked")
        });
        if waiting {
            assert_ne!(view["state"], "fulfilled");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no limit retry recorded: {view:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(settlements_on_chain(&app, payment_ref).await, 0);
    mined(market.setCardSettlementLimit(50_000)).await;
    app.wait_fulfilled(id).await;
    assert_eq!(settlements_on_chain(&app, payment_ref).await, 1);
    let limit = market.cardSettlementLimit().call().await.unwrap();
    assert_eq!(
        (limit.eurosPerDay, limit.settledTodayCents),
        (50_000, 1_300)
    );
}

#[tokio::test]
async fn an_exhausted_float_is_reported_and_settlement_waits_for_a_top_up() {
    let app = spawn_app_with(Options {
        float_warning_cents: 5_000,
        ..Options::default()
    })
    .await;
    let market = app.chain.market();
    let operator = app.chain.keys[0].address();
    // The operator withdraws all but 5 € of its 1,000 € float: below one 13 € sale.
    mined(market.withdraw(operator, U256::from(99_500u64 * 10_000))).await;
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(
        status, 200,
        "a low float warns, it does not make the API unready: {body}"
    );
    assert_eq!(body["operator_float_cents"], 500);
    assert!(
        body["warnings"][0].as_str().unwrap().contains("float"),
        "{body}"
    );

    let (created, payment_ref) = buy_and_pay(&app, 0).await;
    let id = created["purchase_id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
        let waiting = view["attempts"].as_array().unwrap().iter().any(|a| {
            a["outcome"] == "retry" && a["detail"].as_str().unwrap_or("").contains("float too low")
        });
        if waiting {
            assert_ne!(view["state"], "fulfilled");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no float retry recorded: {view:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    mined(market.deposit(U256::from(99_500u64 * 10_000))).await;
    app.wait_fulfilled(id).await;
    assert_eq!(settlements_on_chain(&app, payment_ref).await, 1);
}
