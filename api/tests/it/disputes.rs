//! The dispute lifecycle: `charge.dispute.created` revokes, `charge.dispute.closed` won gives
//! the buyer a new licence (a reinstatement), lost is recorded and stays revoked; a refund made
//! at Stripe (`charge.refunded`) revokes. Stripe's dispute events are posted signed, as Stripe
//! would send them (localstripe emits none).

use alloy::primitives::{Address, U256};
use serde_json::{Value, json};

use crate::deadline::{charge_refunded_event, path};
use crate::helpers::{PRICE, QUALITY, TestApp, WEBHOOK_SECRET, mined, spawn_app};
use crate::purchases::buy_and_pay;

pub(crate) fn dispute_event(
    event_id: &str,
    kind: &str,
    dispute_id: &str,
    pi: &str,
    status: &str,
) -> Value {
    json!({
        "id": event_id, "object": "event", "type": kind, "created": chrono::Utc::now().timestamp(),
        "data": {"object": {"id": dispute_id, "object": "dispute", "amount": PRICE,
            "reason": "fraudulent", "status": status, "payment_intent": pi, "charge": "ch_x"}}
    })
}

pub(crate) async fn post(app: &TestApp, event: &Value) -> String {
    let (status, body) = app
        .send_webhook(event, WEBHOOK_SECRET, chrono::Utc::now().timestamp())
        .await;
    assert_eq!(status, 200, "{body}");
    body["outcome"].as_str().unwrap().to_owned()
}

/// A fulfilled card purchase by buyer 0: (purchase id, PaymentIntent, licence id).
pub(crate) async fn fulfilled(app: &TestApp) -> (String, String, U256) {
    let (created, _) = buy_and_pay(app, 0).await;
    let id = created["purchase_id"].as_str().unwrap().to_owned();
    let view = app.wait_fulfilled(&id).await;
    let licence = view["licence_id"].as_str().unwrap().parse().unwrap();
    let pi = created["payment_intent_id"].as_str().unwrap().to_owned();
    (id, pi, licence)
}

/// Opens a dispute and waits for the licence to be revoked on chain.
async fn disputed_and_revoked(app: &TestApp, id: &str, pi: &str, licence: U256) -> Value {
    let opened = dispute_event(
        "evt_dp_open",
        "charge.dispute.created",
        "dp_1",
        pi,
        "needs_response",
    );
    assert_eq!(post(app, &opened).await, "revocation_queued");
    let view = app
        .wait_for_state(id, &["revoked", "dispute_lost", "failed", "refunded"])
        .await;
    assert_eq!(view["state"], "revoked", "{view:#}");
    let on_chain = app.chain.market().licence(licence).call().await.unwrap();
    assert!(on_chain.revoked, "not revoked on chain");
    assert_eq!(on_chain.reason, 1, "chargeback");
    view
}

#[tokio::test]
async fn a_dispute_created_then_closed_won_reinstates_a_new_licence() {
    let app = spawn_app().await;
    let buyer: Address = app.chain.buyer(0).address();
    let (id, pi, licence) = fulfilled(&app).await;
    disputed_and_revoked(&app, &id, &pi, licence).await;

    let won = dispute_event("evt_dp_won", "charge.dispute.closed", "dp_1", &pi, "won");
    assert_eq!(post(&app, &won).await, "reinstatement_queued");
    let view = app
        .wait_for_state(&id, &["reinstated", "refunded", "failed"])
        .await;
    assert_eq!(view["state"], "reinstated", "{view:#}");
    // A new licence, of the same edition, owned by the same buyer, valid; the first stays revoked.
    let new: U256 = view["reinstated_licence_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no new licence: {view:#}"))
        .parse()
        .unwrap();
    assert_ne!(new, licence);
    let market = app.chain.market();
    let l = market.licence(new).call().await.unwrap();
    assert_eq!(
        (l.owner, l.filmId, l.quality, l.revoked),
        (buyer, app.chain.film_id, QUALITY, false)
    );
    assert!(market.isValid(new).call().await.unwrap());
    assert!(market.licence(licence).call().await.unwrap().revoked);
    assert_eq!(view["licence_id"], licence.to_string());
    // Audited as a reinstatement.
    assert_eq!(
        path(&view),
        [
            "awaiting_payment",
            "paid",
            "settling",
            "fulfilled",
            "disputed",
            "revoked",
            "reinstated"
        ],
        "{view:#}"
    );
    let reasons: Vec<Option<&str>> = view["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .skip(4)
        .map(|t| t["reason"].as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            Some("dispute dp_1 opened (fraudulent)"),
            Some("licence_revoked_dispute"),
            Some("dispute_won")
        ],
        "{view:#}"
    );
    let reinstated = view["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "reinstate" && a["outcome"] == "reinstated")
        .unwrap_or_else(|| panic!("no reinstatement attempt: {view:#}"));
    assert!(reinstated["tx_hash"].is_string(), "{reinstated}");

    // A redelivered closing does nothing more: one reinstatement.
    let (_, body) = app
        .send_webhook(&won, WEBHOOK_SECRET, chrono::Utc::now().timestamp())
        .await;
    assert_eq!(body["duplicate"], true);
    app.wait_idle().await;
    assert_eq!(
        app.count("SELECT count(*) FROM api_settlement_attempts WHERE outcome = 'reinstated'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_dispute_closed_lost_is_recorded_and_the_licence_stays_revoked() {
    let app = spawn_app().await;
    let (id, pi, licence) = fulfilled(&app).await;
    disputed_and_revoked(&app, &id, &pi, licence).await;

    let lost = dispute_event("evt_dp_lost", "charge.dispute.closed", "dp_1", &pi, "lost");
    assert_eq!(post(&app, &lost).await, "dispute_lost");
    app.wait_idle().await;
    let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
    assert_eq!(view["state"], "dispute_lost", "{view:#}");
    assert!(view["reinstated_licence_id"].is_null(), "{view:#}");
    assert!(
        app.chain
            .market()
            .licence(licence)
            .call()
            .await
            .unwrap()
            .revoked
    );
    assert_eq!(
        app.count("SELECT count(*) FROM api_jobs WHERE kind = 'reinstate'")
            .await,
        0
    );
    let last = view["transitions"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (
            last["from"].as_str(),
            last["to"].as_str(),
            last["reason"].as_str()
        ),
        (
            Some("revoked"),
            Some("dispute_lost"),
            Some("dispute dp_1 closed lost")
        ),
        "{last}"
    );
    // A late "won" for a lost dispute is out of the lifecycle: recorded, nothing minted.
    let won = dispute_event("evt_dp_late", "charge.dispute.closed", "dp_1", &pi, "won");
    assert_eq!(post(&app, &won).await, "dispute_closed_ignored");
}

#[tokio::test]
async fn a_refund_made_at_stripe_revokes_the_licence() {
    let app = spawn_app().await;
    let (id, pi, licence) = fulfilled(&app).await;
    // Someone refunds the payment from the Stripe dashboard (outside the API).
    let r = app
        .stripe
        .post("/v1/refunds", &[("payment_intent", pi.as_str())])
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let event = charge_refunded_event(&app, "evt_dashboard_refund", &pi).await;
    assert_eq!(post(&app, &event).await, "revocation_queued");
    let view = app
        .wait_for_state(&id, &["revoked", "failed", "refunded"])
        .await;
    assert_eq!(view["state"], "revoked", "{view:#}");
    let on_chain = app.chain.market().licence(licence).call().await.unwrap();
    assert!(on_chain.revoked);
    assert_eq!(on_chain.reason, 3, "other: refunded outside the API");
    let last = view["transitions"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["from"].as_str(), last["reason"].as_str()),
        (
            Some("fulfilled"),
            Some("licence_revoked_refunded_outside_api")
        ),
        "{last}"
    );
    // The money went back: a dispute "won" afterwards gives no new licence.
    let won = dispute_event(
        "evt_dp_after_refund",
        "charge.dispute.closed",
        "dp_9",
        &pi,
        "won",
    );
    assert_eq!(post(&app, &won).await, "dispute_closed_ignored");
    app.wait_idle().await;
    assert_eq!(
        app.count("SELECT count(*) FROM api_jobs WHERE kind = 'reinstate'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_won_dispute_that_cannot_reinstate_is_refunded() {
    let app = spawn_app().await;
    let (id, pi, licence) = fulfilled(&app).await;
    disputed_and_revoked(&app, &id, &pi, licence).await;
    // The studio withdrew the edition meanwhile: no new licence can be minted.
    mined(
        app.chain
            .market()
            .withdrawEdition(app.chain.film_id, QUALITY)
            .from(app.chain.studio_admin),
    )
    .await;
    let won = dispute_event("evt_dp_won", "charge.dispute.closed", "dp_1", &pi, "won");
    assert_eq!(post(&app, &won).await, "reinstatement_queued");
    let view = app
        .wait_for_state(&id, &["reinstated", "refunded", "failed"])
        .await;
    assert_eq!(view["state"], "refunded", "{view:#}");
    assert_eq!(view["failure_code"], "reinstatement_impossible", "{view:#}");
    assert!(view["reinstated_licence_id"].is_null(), "{view:#}");
    let refund_id = view["refund_id"].as_str().unwrap();
    let refund = app.stripe.get(&format!("/v1/refunds/{refund_id}")).await;
    assert_eq!(refund["amount"], PRICE, "{refund}");
    let last = view["transitions"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["from"].as_str(), last["reason"].as_str()),
        (Some("revoked"), Some("reinstatement_impossible")),
        "{last}"
    );
}
