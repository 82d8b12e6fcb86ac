//! The Stripe webhook: signatures, the inbox (duplicates), amount checks and disputes.

use std::time::{Duration, Instant};

use alloy::primitives::{U256, keccak256};
use serde_json::{Value, json};

use crate::helpers::{PRICE, TestApp, WEBHOOK_SECRET, spawn_app};
use crate::purchases::{buy_and_pay, settlements_on_chain};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn succeeded_event(id: &str, pi: &str, purchase_id: &str, amount: u64, currency: &str) -> Value {
    received_event(id, pi, purchase_id, amount, amount, currency)
}

/// A `payment_intent.succeeded` event whose intent asked for `amount` and received `received`.
fn received_event(
    id: &str,
    pi: &str,
    purchase_id: &str,
    amount: u64,
    received: u64,
    currency: &str,
) -> Value {
    json!({
        "id": id, "object": "event", "type": "payment_intent.succeeded", "created": now(),
        "data": {"object": {"id": pi, "object": "payment_intent", "amount": amount, "amount_received": received,
            "currency": currency, "status": "succeeded", "metadata": {"purchase_id": purchase_id}}}
    })
}

#[tokio::test]
async fn duplicated_webhooks_settle_once() {
    let app = spawn_app().await;
    let (created, payment_ref) = buy_and_pay(&app, 0).await;
    let id = created["purchase_id"].as_str().unwrap();
    app.wait_fulfilled(id).await;

    // Stripe redelivers the very same event (same id): acknowledged, nothing done again.
    let payload: Value = sqlx::query_scalar(
        "SELECT payload FROM api_stripe_events WHERE event_type = 'payment_intent.succeeded'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    for _ in 0..3 {
        let (status, body) = app.send_webhook(&payload, WEBHOOK_SECRET, now()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["duplicate"], true);
    }
    // Another event id for the same PaymentIntent: stored, but the purchase is already past payment.
    let pi = created["payment_intent_id"].as_str().unwrap();
    let (status, body) = app
        .send_webhook(
            &succeeded_event("evt_other", pi, id, PRICE, "eur"),
            WEBHOOK_SECRET,
            now(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "already_fulfilled");
    // Whatever those events queued has run by now.
    app.wait_idle().await;
    assert_eq!(app.count("SELECT count(*) FROM api_jobs").await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM api_settlement_attempts")
            .await,
        1
    );
    assert_eq!(settlements_on_chain(&app, payment_ref).await, 1);
}

#[tokio::test]
async fn forged_and_stale_signatures_are_rejected_and_nothing_is_stored() {
    let app = spawn_app().await;
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let id = created["purchase_id"].as_str().unwrap();
    let pi = created["payment_intent_id"].as_str().unwrap();
    let event = succeeded_event("evt_forged", pi, id, PRICE, "eur");

    let (status, body) = app.send_webhook(&event, "whsec_wrong", now()).await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (400, Some("invalid_signature")),
        "{body}"
    );
    let (status, body) = app.send_webhook(&event, WEBHOOK_SECRET, now() - 3600).await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (400, Some("invalid_signature")),
        "{body}"
    );
    // A valid signature over another body does not carry over.
    let raw = serde_json::to_vec(&event).unwrap();
    let sig = tangible_api::stripe::sign_payload(b"{}", WEBHOOK_SECRET.as_bytes(), now());
    let r = app
        .http
        .post(app.url("/v1/webhooks/stripe"))
        .header("stripe-signature", sig)
        .body(raw.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .http
        .post(app.url("/v1/webhooks/stripe"))
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "no signature header");

    assert_eq!(app.count("SELECT count(*) FROM api_stripe_events").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM api_jobs").await, 0);
    let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
    assert_eq!(view["state"], "awaiting_payment");
}

/// Sends `raw` as a webhook body signed with the endpoint secret.
async fn send_raw(app: &TestApp, raw: &[u8]) -> (reqwest::StatusCode, Value) {
    let sig = tangible_api::stripe::sign_payload(raw, WEBHOOK_SECRET.as_bytes(), now());
    let r = app
        .http
        .post(app.url("/v1/webhooks/stripe"))
        .header("stripe-signature", sig)
        .body(raw.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The stored outcome of every event, by id.
async fn stored_outcomes(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT event_id, event_type, outcome FROM api_stripe_events ORDER BY event_id")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn signed_events_the_api_cannot_process_are_acknowledged_stored_and_alerted() {
    let app = spawn_app().await;
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let id = created["purchase_id"].as_str().unwrap();
    let pi = created["payment_intent_id"].as_str().unwrap();

    // A handled type whose object does not parse (no amount): acknowledged, not acted on.
    let broken = json!({
        "id": "evt_broken", "object": "event", "type": "payment_intent.succeeded", "created": now(),
        "data": {"object": {"id": pi, "object": "payment_intent", "currency": "eur",
            "metadata": {"purchase_id": id}}}
    });
    let (status, body) = app.send_webhook(&broken, WEBHOOK_SECRET, now()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "unparseable_object", "{body}");
    // A type the API does not handle.
    let unknown = json!({
        "id": "evt_unknown", "object": "event", "type": "customer.created", "created": now(),
        "data": {"object": {"id": "cus_1", "object": "customer"}}
    });
    let (status, body) = app.send_webhook(&unknown, WEBHOOK_SECRET, now()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "unhandled_type", "{body}");
    // JSON that is not an event, and a body that is not JSON at all.
    let (status, body) = app
        .send_webhook(&json!({"hello": "world"}), WEBHOOK_SECRET, now())
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "unparseable_event", "{body}");
    let (status, body) = send_raw(&app, b"\x00 not json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "unparseable_event", "{body}");
    // Redelivered, each is a duplicate (the unparseable ones are known by a digest of the body).
    let (status, body) = send_raw(&app, b"\x00 not json").await;
    assert_eq!(
        (status.as_u16(), &body["duplicate"]),
        (200, &json!(true)),
        "{body}"
    );
    let (status, body) = app.send_webhook(&broken, WEBHOOK_SECRET, now()).await;
    assert_eq!(
        (status.as_u16(), &body["duplicate"]),
        (200, &json!(true)),
        "{body}"
    );

    let stored = stored_outcomes(&app).await;
    assert_eq!(stored.len(), 4, "{stored:?}");
    assert!(stored.contains(&(
        "evt_broken".into(),
        "payment_intent.succeeded".into(),
        "unparseable_object".into()
    )));
    assert!(stored.contains(&(
        "evt_unknown".into(),
        "customer.created".into(),
        "unhandled_type".into()
    )));
    let unparsed: Vec<_> = stored
        .iter()
        .filter(|(event, kind, outcome)| {
            event.starts_with("unparsed_") && kind == "unknown" && outcome == "unparseable_event"
        })
        .collect();
    assert_eq!(unparsed.len(), 2, "{stored:?}");
    // Nothing was acted on.
    assert_eq!(app.count("SELECT count(*) FROM api_jobs").await, 0);
    let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
    assert_eq!(view["state"], "awaiting_payment");
    // Each is an operator alert: counted by reason (and logged at error level).
    let metrics = app.metrics().await;
    for reason in ["unparseable_object", "unhandled_type", "unparseable_event"] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("stripe_webhook_alerts_total")
                    && l.contains(&format!("reason=\"{reason}\""))),
            "no alert counted for {reason}"
        );
    }
    // The purchase still completes when the real payment arrives.
    assert_eq!(app.stripe.pay(pi, crate::purchases::CARD_OK).await, 200);
    app.wait_fulfilled(id).await;
}

#[tokio::test]
async fn stored_events_keep_no_client_secret() {
    let app = spawn_app().await;
    let (created, _) = buy_and_pay(&app, 0).await;
    let id = created["purchase_id"].as_str().unwrap();
    app.wait_fulfilled(id).await;
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    // An event carrying secrets in its object and deeper (previous attributes, a list).
    let pi = created["payment_intent_id"].as_str().unwrap();
    let event = json!({
        "id": "evt_secrets", "object": "event", "type": "payment_intent.payment_failed",
        "created": now(),
        "data": {
            "object": {"id": pi, "object": "payment_intent", "amount": PRICE, "currency": "eur",
                "client_secret": secret, "metadata": {"purchase_id": id},
                "charges": {"data": [{"client_secret": "seti_x_secret_y"}]}},
            "previous_attributes": {"client_secret": "pi_old_secret_z"}
        }
    });
    let (status, body) = app.send_webhook(&event, WEBHOOK_SECRET, now()).await;
    assert_eq!(status, 200, "{body}");

    let payloads: Vec<(String, String)> =
        sqlx::query_as("SELECT event_id, payload::text FROM api_stripe_events")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    // localstripe's own payment_intent.succeeded and ours.
    assert!(payloads.len() >= 2, "{payloads:?}");
    for (event, payload) in &payloads {
        assert!(
            !payload.contains("client_secret") && !payload.contains("_secret_"),
            "{event} keeps a client secret: {payload}"
        );
    }
    // The rest of the event is kept.
    let kept: Value =
        sqlx::query_scalar("SELECT payload FROM api_stripe_events WHERE event_id = 'evt_secrets'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(kept["data"]["object"]["amount"], PRICE);
    assert_eq!(kept["data"]["object"]["metadata"]["purchase_id"], id);
}

#[tokio::test]
async fn an_amount_or_currency_mismatch_is_not_settled_and_queues_a_refund() {
    let app = spawn_app().await;
    let market = app.chain.market();
    // (intent amount, amount received, currency): a short intent, a short payment on a
    // correct intent, another currency.
    let cases = [
        (PRICE - 1, PRICE - 1, "eur"),
        (PRICE, PRICE - 1, "eur"),
        (PRICE, PRICE, "usd"),
    ];
    for (n, (amount, received, currency)) in cases.into_iter().enumerate() {
        let created = app.create_purchase(app.chain.buyer(0).address()).await;
        let id = created["purchase_id"].as_str().unwrap();
        let pi = created["payment_intent_id"].as_str().unwrap();
        let event = received_event(
            &format!("evt_mismatch_{n}"),
            pi,
            id,
            amount,
            received,
            currency,
        );
        let (status, body) = app.send_webhook(&event, WEBHOOK_SECRET, now()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["outcome"], "amount_mismatch", "case {n}");
        // The money taken goes back: a refund job, and the worker attempts it. This
        // PaymentIntent was never charged, so Stripe refuses and the purchase ends failed (an
        // operator looks at it); nothing is minted either way.
        let deadline = Instant::now() + Duration::from_secs(30);
        let view = loop {
            let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
            let refund_tried = view["attempts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["kind"] == "refund" && a["outcome"] != "retry");
            if refund_tried {
                break view;
            }
            assert!(
                Instant::now() < deadline,
                "case {n}: no refund attempted: {view:#}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(view["state"], "failed", "{view:#}");
        assert_eq!(view["failure_code"], "amount_mismatch", "{view:#}");
        let jobs: Vec<(String, String)> =
            sqlx::query_as("SELECT kind, state FROM api_jobs WHERE purchase_id = $1::uuid")
                .bind(id)
                .fetch_all(app.db.pool())
                .await
                .unwrap();
        assert_eq!(jobs, [("refund".to_owned(), "done".to_owned())], "case {n}");
        assert!(
            !market
                .paymentRefUsed(keccak256(pi.as_bytes()))
                .call()
                .await
                .unwrap()
        );
    }
    assert_eq!(
        app.count("SELECT count(*) FROM api_jobs WHERE kind = 'settle'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_dispute_revokes_the_licence_on_chain() {
    let app = spawn_app().await;
    let (created, _) = buy_and_pay(&app, 0).await;
    let id = created["purchase_id"].as_str().unwrap();
    let view = app.wait_fulfilled(id).await;
    let licence_id: U256 = view["licence_id"].as_str().unwrap().parse().unwrap();
    let market = app.chain.market();
    assert!(!market.licence(licence_id).call().await.unwrap().revoked);

    let dispute = json!({
        "id": "evt_dispute_1", "object": "event", "type": "charge.dispute.created", "created": now(),
        "data": {"object": {"id": "dp_1", "object": "dispute", "amount": PRICE, "reason": "fraudulent",
            "payment_intent": created["payment_intent_id"], "charge": "ch_x"}}
    });
    let (status, body) = app.send_webhook(&dispute, WEBHOOK_SECRET, now()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "revocation_queued");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
        if view["revoked_tx_hash"].is_string() {
            break;
        }
        assert!(Instant::now() < deadline, "never revoked: {view:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let licence = market.licence(licence_id).call().await.unwrap();
    assert!(licence.revoked);
    assert_eq!(licence.reason, 1, "chargeback");
}

#[tokio::test]
async fn a_restart_whose_port_was_taken_meanwhile_still_receives_webhooks() {
    // The test helper's restart: another process took the old port while the API was down.
    let mut app = spawn_app().await;
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let old = app.addr;
    app.stop().await;
    let squatter = std::net::TcpListener::bind(old).expect("the freed port");
    app.start(&Default::default()).await;
    assert_ne!(app.addr, old);
    let pi = created["payment_intent_id"].as_str().unwrap();
    assert_eq!(app.stripe.pay(pi, crate::purchases::CARD_OK).await, 200);
    app.wait_fulfilled(created["purchase_id"].as_str().unwrap())
        .await;
    drop(squatter);
}
