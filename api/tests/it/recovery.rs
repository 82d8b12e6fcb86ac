//! Card settlements and refunds that survive an outage or a crash: the node down mid-settlement,
//! the API killed between payment and settlement, a settlement mined but never recorded, a
//! refund that reached Stripe but was never recorded. Each is settled or refunded exactly once.

use std::time::{Duration, Instant};

use alloy::primitives::{B256, keccak256};
use serde_json::Value;

use crate::helpers::{Options, PRICE, QUALITY, TestApp, mined, spawn_app, spawn_app_with};
use crate::purchases::{CARD_OK, buy_and_pay, settlements_on_chain};

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

/// The `(kind, outcome)` of every recorded attempt of a purchase, oldest first.
pub(crate) fn attempt_outcomes(view: &Value) -> Vec<(String, String)> {
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
    let refunds = refunds_at_stripe(&app, pi).await;
    assert_eq!(refunds.len(), 0, "{refunds:#?}");
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
