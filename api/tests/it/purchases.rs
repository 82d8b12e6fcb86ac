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
async fn rpc_down_during_settlement_then_back_settles_once() {
    let app = spawn_app().await;
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let id = created["purchase_id"].as_str().unwrap();
    app.rpc.set_down(true);
    let pi = created["payment_intent_id"].as_str().unwrap();
    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    // Retries pile up while the node is unreachable.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
        let retries = view["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["outcome"] == "retry")
            .count();
        for a in view["attempts"].as_array().unwrap() {
            let detail = a["detail"].as_str().unwrap_or("");
            assert!(
                !detail.contains(&app.rpc.addr.to_string()),
                "the RPC URL (may hold an API key) leaked: {detail}"
            );
        }
        if retries >= 2 {
            assert!(
                ["paid", "settling"].contains(&view["state"].as_str().unwrap()),
                "{view:#}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no retries recorded: {view:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.rpc.set_down(false);
    app.wait_fulfilled(id).await;
    assert_eq!(
        settlements_on_chain(&app, keccak256(pi.as_bytes())).await,
        1
    );
}

#[tokio::test]
async fn api_killed_between_payment_and_settlement_settles_once_after_restart() {
    let mut app = spawn_app_with(Options {
        run_worker: false,
        ..Options::default()
    })
    .await;
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let id = created["purchase_id"].as_str().unwrap().to_owned();
    let pi = created["payment_intent_id"].as_str().unwrap().to_owned();
    assert_eq!(app.stripe.pay(&pi, CARD_OK).await, 200);
    app.wait_for_state(&id, &["paid"]).await;
    // Simulate a worker that claimed the job and died mid-settlement: its lease has run out.
    sqlx::query("UPDATE api_jobs SET state = 'running', locked_by = 'dead-worker', locked_until = now() - interval '1 second', attempts = 1")
        .execute(app.db.pool())
        .await
        .unwrap();
    app.kill().await;
    app.start(&Options::default()).await;
    app.wait_fulfilled(&id).await;
    assert_eq!(
        settlements_on_chain(&app, keccak256(pi.as_bytes())).await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM api_jobs WHERE state = 'done'")
            .await,
        1
    );
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

/// Waits until `n` jobs are running at once, and returns their workers.
async fn running_workers(app: &TestApp, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let workers: Vec<String> = sqlx::query_scalar(
            "SELECT locked_by FROM api_jobs WHERE state = 'running' ORDER BY locked_by",
        )
        .fetch_all(app.db.pool())
        .await
        .unwrap();
        if workers.len() >= n {
            return workers;
        }
        assert!(
            Instant::now() < deadline,
            "never {n} jobs running at once: {workers:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts each purchase has exactly one recorded attempt, and one settlement on chain.
async fn settled_once_each(app: &TestApp, created: &[Value]) {
    for c in created {
        let view = app.wait_fulfilled(c["purchase_id"].as_str().unwrap()).await;
        assert_eq!(
            attempt_outcomes(&view),
            [("settle".to_owned(), "fulfilled".to_owned())],
            "{view:#}"
        );
        let pi = c["payment_intent_id"].as_str().unwrap();
        assert_eq!(settlements_on_chain(app, keccak256(pi.as_bytes())).await, 1);
    }
    assert_eq!(
        app.count("SELECT count(DISTINCT tx_hash) FROM api_purchases WHERE state = 'fulfilled'")
            .await,
        created.len() as i64
    );
}

#[tokio::test]
async fn concurrent_card_payments_each_settle_once() {
    let app = spawn_app_with(Options {
        workers: 4,
        ..Options::default()
    })
    .await;
    let mut created = Vec::new();
    for i in 0..6 {
        created.push(app.create_purchase(app.chain.buyer(i % 3).address()).await);
    }
    // With the node stalled, each worker holds the job it claimed: all four must claim one,
    // each a different job, and the other two wait.
    app.rpc.set_stalled(true);
    let pays = created.iter().map(|c| {
        app.stripe
            .pay(c["payment_intent_id"].as_str().unwrap(), CARD_OK)
    });
    for status in futures::future::join_all(pays).await {
        assert_eq!(status, 200);
    }
    let workers = running_workers(&app, 4).await;
    let mut distinct = workers.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{workers:?}");
    app.rpc.set_stalled(false);
    settled_once_each(&app, &created).await;
}

#[tokio::test]
async fn two_api_instances_share_the_queue_and_settle_each_payment_once() {
    // Instance A (one worker) reaches the node through the test's proxy, instance B
    // directly. A's worker is held mid-settlement by a stalled node, so the other payments
    // can only be settled by B: both instances claim jobs from one queue, and neither
    // takes the job the other holds.
    let app = spawn_app_with(Options {
        workers: 1,
        ..Options::default()
    })
    .await;
    let mut created = Vec::new();
    for i in 0..6 {
        created.push(app.create_purchase(app.chain.buyer(i % 3).address()).await);
    }
    app.rpc.set_stalled(true);
    assert_eq!(
        app.stripe
            .pay(created[0]["payment_intent_id"].as_str().unwrap(), CARD_OK)
            .await,
        200
    );
    let held = running_workers(&app, 1).await;
    let a_instance = held[0].split("-worker-").next().unwrap().to_owned();

    let mut config = app.config(&Options {
        workers: 2,
        ..Options::default()
    });
    config.listen_addr = "127.0.0.1:0".parse().unwrap();
    config.rpc_url = app.chain.anvil.endpoint().into();
    let second = tangible_api::Application::build(config).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(second.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let pays = created[1..].iter().map(|c| {
        app.stripe
            .pay(c["payment_intent_id"].as_str().unwrap(), CARD_OK)
    });
    for status in futures::future::join_all(pays).await {
        assert_eq!(status, 200);
    }
    for c in &created[1..] {
        app.wait_fulfilled(c["purchase_id"].as_str().unwrap()).await;
    }
    // A still holds the first one.
    let (_, first) = app
        .get_json(&format!(
            "/v1/purchases/{}",
            created[0]["purchase_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(first["state"], "settling", "{first:#}");
    app.rpc.set_stalled(false);
    settled_once_each(&app, &created).await;

    let claims: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.payment_intent_id, j.locked_by FROM api_jobs j JOIN api_purchases p USING (purchase_id)",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(claims.len(), 6);
    for (pi, worker) in &claims {
        let by_a = worker.starts_with(&format!("{a_instance}-worker-"));
        assert_eq!(
            by_a,
            pi == created[0]["payment_intent_id"].as_str().unwrap(),
            "{claims:?}"
        );
    }
    let _ = stop.send(());
    handle.await.unwrap().unwrap();
}

/// The `(kind, outcome)` of every recorded attempt of a purchase, oldest first.
fn attempt_outcomes(view: &Value) -> Vec<(String, String)> {
    view["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_owned(),
                a["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_settlement_mined_but_never_recorded_is_found_on_chain_not_refunded() {
    // The worker sent settleCardPrimary, it was mined, and the worker died before recording
    // it; meanwhile the studio withdrew the edition. The next worker must find the sale on
    // chain (the buyer holds the licence) and must not refund it.
    let mut app = spawn_app_with(Options {
        run_worker: false,
        ..Options::default()
    })
    .await;
    let buyer = app.chain.buyer(0).address();
    let (created, payment_ref) = buy_and_pay(&app, 0).await;
    let id = created["purchase_id"].as_str().unwrap().to_owned();
    app.wait_for_state(&id, &["paid"]).await;
    let market = app.chain.market();
    // The operator's transaction, as the dead worker would have sent it.
    let receipt =
        mined(market.settleCardPrimary(app.chain.film_id, QUALITY, PRICE, buyer, payment_ref))
            .await;
    mined(
        market
            .withdrawEdition(app.chain.film_id, QUALITY)
            .from(app.chain.studio_admin),
    )
    .await;

    app.stop().await;
    app.start(&Options::default()).await;
    let view = app.wait_fulfilled(&id).await;
    assert_eq!(
        view["tx_hash"].as_str().unwrap().parse::<B256>().unwrap(),
        receipt.transaction_hash,
        "{view:#}"
    );
    assert_eq!(
        attempt_outcomes(&view),
        [("settle".to_owned(), "already_settled".to_owned())],
        "{view:#}"
    );
    let licence = market.cardLicenceId(payment_ref).call().await.unwrap();
    assert_eq!(view["licence_id"], licence.to_string());
    assert_eq!(market.ownerOf(licence).call().await.unwrap(), buyer);
    assert_eq!(settlements_on_chain(&app, payment_ref).await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM api_jobs WHERE kind = 'refund'")
            .await,
        0
    );
    assert!(view["refund_id"].is_null(), "{view:#}");
    let pi = created["payment_intent_id"].as_str().unwrap();
    let refunds = app
        .stripe
        .get(&format!("/v1/refunds?payment_intent={pi}"))
        .await;
    assert_eq!(refunds["data"].as_array().unwrap().len(), 0, "{refunds}");
}

/// The refunds localstripe holds for a PaymentIntent.
pub(crate) async fn refunds_at_stripe(app: &TestApp, payment_intent: &str) -> Vec<Value> {
    let list = app
        .stripe
        .get(&format!("/v1/refunds?payment_intent={payment_intent}"))
        .await;
    list["data"].as_array().expect("a refund list").clone()
}

#[tokio::test]
async fn a_refund_that_reached_stripe_but_was_never_recorded_is_not_repeated() {
    // localstripe ignores Idempotency-Key, as Stripe does once a key has expired: the
    // refund job must find the refund it already made rather than rely on the key.
    let app = spawn_app().await;
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let id = created["purchase_id"].as_str().unwrap();
    let pi = created["payment_intent_id"].as_str().unwrap();
    mined(
        app.chain
            .market()
            .withdrawEdition(app.chain.film_id, QUALITY)
            .from(app.chain.studio_admin),
    )
    .await;
    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    let view = app
        .wait_for_state(id, &["fulfilled", "refunded", "failed"])
        .await;
    assert_eq!(view["state"], "refunded", "{view:#}");
    let first = view["refund_id"].as_str().unwrap().to_owned();
    assert_eq!(refunds_at_stripe(&app, pi).await.len(), 1);

    // A worker that died after Stripe accepted the refund, before its commit: the purchase
    // and the job are back as they were, the lease ran out.
    let mut tx = app.db.pool().begin().await.unwrap();
    sqlx::query("UPDATE api_purchases SET state = 'settling', refund_id = NULL WHERE purchase_id = $1::uuid")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("DELETE FROM api_settlement_attempts WHERE kind = 'refund'")
        .execute(&mut *tx)
        .await
        .unwrap();
    let rewound = sqlx::query(
        "UPDATE api_jobs SET state = 'running', locked_by = 'dead-worker', \
         locked_until = now() - interval '1 second' WHERE kind = 'refund' AND state = 'done'",
    )
    .execute(&mut *tx)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(rewound, 1);
    tx.commit().await.unwrap();

    let view = app.wait_for_state(id, &["refunded", "failed"]).await;
    assert_eq!(view["state"], "refunded", "{view:#}");
    assert_eq!(view["refund_id"], first.as_str(), "{view:#}");
    let refunds = refunds_at_stripe(&app, pi).await;
    assert_eq!(refunds.len(), 1, "refunded twice: {refunds:#?}");
    assert_eq!(refunds[0]["amount"], PRICE);
    assert_eq!(
        attempt_outcomes(&view),
        [
            ("settle".to_owned(), "impossible".to_owned()),
            ("refund".to_owned(), "refunded".to_owned())
        ],
        "{view:#}"
    );
}
