//! No charge without a licence or a refund: a settlement blocked past `settlement_deadline_secs`
//! (here a paused market) is refunded with its reason recorded; a low float is an alert.

use std::time::{Duration, Instant};

use alloy::primitives::keccak256;
use serde_json::{Value, json};

use crate::helpers::{Options, PRICE, TestApp, WEBHOOK_SECRET, mined, spawn_app_with};
use crate::purchases::{CARD_OK, buy_and_pay, settlements_on_chain};

/// The states a purchase went through, from its audited transitions.
pub(crate) fn path(view: &Value) -> Vec<String> {
    view["transitions"]
        .as_array()
        .unwrap_or_else(|| panic!("no transitions: {view:#}"))
        .iter()
        .map(|t| t["to"].as_str().unwrap().to_owned())
        .collect()
}

/// The `charge.refunded` event Stripe sends once PaymentIntent `pi`'s charge (read from the
/// emulator) is fully refunded (localstripe itself sends no charge events).
pub(crate) async fn charge_refunded_event(app: &TestApp, id: &str, pi: &str) -> Value {
    let intent = app.stripe.get(&format!("/v1/payment_intents/{pi}")).await;
    let charge = match &intent["latest_charge"] {
        Value::String(id) => id.clone(),
        other => other["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no charge: {intent}"))
            .to_owned(),
    };
    json!({
        "id": id, "object": "event", "type": "charge.refunded",
        "created": chrono::Utc::now().timestamp(),
        "data": {"object": {"id": charge, "object": "charge", "payment_intent": pi,
            "amount": PRICE, "amount_refunded": PRICE, "refunded": true}}
    })
}

#[tokio::test]
async fn settlement_blocked_past_the_bound_is_refunded_with_its_reason() {
    const BOUND_SECS: u64 = 4;
    let app = spawn_app_with(Options {
        extra: vec![("SETTLEMENT_DEADLINE_SECS", BOUND_SECS.to_string())],
        ..Options::default()
    })
    .await;
    let market = app.chain.market();
    // The market is paused (an incident): every settlement reverts until it is unpaused.
    mined(market.pause()).await;
    let paid_at = Instant::now();
    let (created, payment_ref) = buy_and_pay(&app, 0).await;
    let id = created["purchase_id"].as_str().unwrap();
    let pi = created["payment_intent_id"].as_str().unwrap();

    let view = app
        .wait_for_state(id, &["fulfilled", "failed", "refunded"])
        .await;
    assert_eq!(view["state"], "refunded", "{view:#}");
    assert!(
        paid_at.elapsed() >= Duration::from_secs(BOUND_SECS),
        "refunded before the bound: {view:#}"
    );
    assert_eq!(
        view["failure_code"], "settlement_deadline_exceeded",
        "{view:#}"
    );
    let message = view["failure_message"].as_str().unwrap();
    assert!(
        message.contains("paused") && message.contains(&format!("{BOUND_SECS} s")),
        "{message}"
    );
    // Settlement waited (retried) up to the bound, gave up, then the refund ran.
    let attempts: Vec<(&str, &str)> = view["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].as_str().unwrap(), a["outcome"].as_str().unwrap()))
        .collect();
    let retries = attempts
        .iter()
        .filter(|a| **a == ("settle", "retry"))
        .count();
    assert!(retries >= 1, "{attempts:?}");
    assert_eq!(
        attempts[retries..],
        [("settle", "failed"), ("refund", "refunded")],
        "{attempts:?}"
    );
    // The refund is real, in the emulator, for the whole amount of this PaymentIntent.
    let refund_id = view["refund_id"].as_str().unwrap();
    let refund = app.stripe.get(&format!("/v1/refunds/{refund_id}")).await;
    assert_eq!(
        (&refund["amount"], refund["payment_intent"].as_str()),
        (&json!(PRICE), Some(pi)),
        "{refund}"
    );
    // Audited: every transition, the last one with its reason.
    assert_eq!(
        path(&view),
        ["awaiting_payment", "paid", "settling", "refunded"],
        "{view:#}"
    );
    let last = view["transitions"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["from"].as_str(), last["reason"].as_str()),
        (Some("settling"), Some("settlement_deadline_exceeded")),
        "{last}"
    );
    // An operator alert, and nothing minted.
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("operator_alerts_total")
                && l.contains("reason=\"settlement_deadline_exceeded\"")),
        "no alert"
    );
    assert_eq!(settlements_on_chain(&app, payment_ref).await, 0);

    // Once unpaused, nothing settles it late: the job is over, the card was refunded.
    mined(market.unpause()).await;
    app.wait_idle().await;
    assert!(
        !market
            .paymentRefUsed(keccak256(pi.as_bytes()))
            .call()
            .await
            .unwrap()
    );
    // Stripe's charge.refunded for the API's own refund is only recorded (no revocation).
    let event = charge_refunded_event(&app, "evt_own_refund", pi).await;
    let (status, body) = app
        .send_webhook(&event, WEBHOOK_SECRET, chrono::Utc::now().timestamp())
        .await;
    assert_eq!(
        (status.as_u16(), body["outcome"].as_str()),
        (200, Some("refund_of_refunded")),
        "{body}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM api_jobs WHERE kind = 'revoke'")
            .await,
        0
    );
}

/// What keeps a settlement from completing in [`other_blocked_settlements_are_refunded_too`].
#[derive(Debug, Clone, Copy)]
enum Blocker {
    /// The operator's float is drained (below one sale).
    FloatExhausted,
    /// The chain node cannot be reached (the refund goes ahead without reading the chain).
    RpcDown,
}

#[tokio::test]
async fn other_blocked_settlements_are_refunded_too() {
    for blocker in [Blocker::FloatExhausted, Blocker::RpcDown] {
        let app = spawn_app_with(Options {
            extra: vec![("SETTLEMENT_DEADLINE_SECS", "3".to_owned())],
            ..Options::default()
        })
        .await;
        let market = app.chain.market();
        let operator = app.chain.keys[0].address();
        let float = market.balanceOfCredit(operator).call().await.unwrap();
        let expected = match blocker {
            Blocker::FloatExhausted => {
                mined(market.withdraw(operator, float)).await;
                "float too low"
            }
            Blocker::RpcDown => "rpc",
        };
        let created = app.create_purchase(app.chain.buyer(0).address()).await;
        let pi = created["payment_intent_id"].as_str().unwrap();
        let payment_ref = keccak256(pi.as_bytes());
        if matches!(blocker, Blocker::RpcDown) {
            app.rpc.set_down(true);
        }
        assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
        let id = created["purchase_id"].as_str().unwrap();
        let view = app
            .wait_for_state(id, &["fulfilled", "failed", "refunded"])
            .await;
        assert_eq!(view["state"], "refunded", "{blocker:?}: {view:#}");
        assert_eq!(
            view["failure_code"], "settlement_deadline_exceeded",
            "{blocker:?}: {view:#}"
        );
        let message = view["failure_message"].as_str().unwrap();
        assert!(message.contains(expected), "{blocker:?}: {message}");
        let refund_id = view["refund_id"].as_str().unwrap();
        let refund = app.stripe.get(&format!("/v1/refunds/{refund_id}")).await;
        assert_eq!(refund["amount"], PRICE, "{blocker:?}: {refund}");
        // Unblocked afterwards, nothing settles it late.
        app.rpc.set_down(false);
        if matches!(blocker, Blocker::FloatExhausted) {
            mined(market.deposit(float)).await;
        }
        app.wait_idle().await;
        assert_eq!(
            settlements_on_chain(&app, payment_ref).await,
            0,
            "{blocker:?}"
        );
    }
}

#[tokio::test]
async fn a_low_float_raises_an_alert_and_a_readiness_warning() {
    // The deployed float is 1,000 €; the threshold is set above it.
    let app = spawn_app_with(Options {
        float_warning_cents: 200_000,
        ..Options::default()
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = app.metrics().await;
        if metrics
            .lines()
            .any(|l| l.starts_with("operator_alerts_total") && l.contains("reason=\"float_low\""))
        {
            break;
        }
        assert!(Instant::now() < deadline, "no float_low alert:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 200, "a low float warns, it does not block: {body}");
    assert!(
        body["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("float")),
        "{body}"
    );
}
