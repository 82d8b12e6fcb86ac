//! The operator console (`/v1/admin/*`): a refund Stripe refuses is listed, alerted and
//! refunded when an operator retries it; a dead job is listed and retried; the float's history
//! adds up to its balance on chain; only a platform admin gets in.

use alloy::primitives::U256;
use serde_json::{Value, json};

use crate::auth::sign_in;
use crate::deadline::{charge_refunded_event, path};
use crate::disputes::{dispute_event, post};
use crate::helpers::{Options, PRICE, TestApp, WEBHOOK_SECRET, mined, spawn_app_with};
use crate::purchases::buy_and_pay;

/// What Stripe answers a refund of a charge under dispute (the test's Stripe proxy answers it:
/// the emulator refuses no refund of a succeeded charge).
const REFUSAL: &str = "Charge ch_x has been disputed: it cannot be refunded";

async fn admin_get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn admin_post(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn reasons_for(alerts: &Value, purchase: &str) -> Vec<String> {
    alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["purchase_id"] == purchase)
        .map(|a| a["reason"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_refused_refund_is_listed_alerted_and_refunded_when_an_operator_retries() {
    let app = spawn_app_with(Options {
        extra: vec![("SETTLEMENT_DEADLINE_SECS", "3".to_owned())],
        ..Options::default()
    })
    .await;
    let market = app.chain.market();
    let admin = sign_in(&app, &app.chain.keys[0].clone()).await;
    let buyer = sign_in(&app, &app.chain.buyer(1).clone()).await;

    // Settlement blocked (paused market) past its bound: the API refunds, Stripe refuses.
    mined(market.pause()).await;
    app.stripe.refuse_refunds(Some(REFUSAL));
    let (created, _) = buy_and_pay(&app, 0).await;
    let id = created["purchase_id"].as_str().unwrap();
    let pi = created["payment_intent_id"].as_str().unwrap();
    let view = app
        .wait_for_state(id, &["failed", "refunded", "fulfilled"])
        .await;
    assert_eq!(view["state"], "failed", "{view:#}");
    app.wait_idle().await;
    mined(market.unpause()).await;

    // Only a platform admin sees the console.
    let (s, body) = app.get_json("/v1/admin/refunds/failed").await;
    assert_eq!(
        (s.as_u16(), &body["error"]["code"]),
        (401, &json!("unauthorized")),
        "{body}"
    );
    for path in [
        "/v1/admin/refunds/failed",
        "/v1/admin/alerts",
        "/v1/admin/jobs",
        "/v1/admin/float",
    ] {
        let (s, body) = admin_get(&app, &buyer, path).await;
        assert_eq!(
            (s, &body["error"]["code"]),
            (403, &json!("not_platform_admin")),
            "{path}: {body}"
        );
    }
    let (s, body) = admin_post(
        &app,
        &buyer,
        &format!("/v1/admin/purchases/{id}/refund"),
        &json!({"reason": "trust me"}),
    )
    .await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (403, &json!("not_platform_admin")),
        "{body}"
    );

    // The failed refund is listed with Stripe's answer; both give-ups are alerts.
    let (s, failed) = admin_get(&app, &admin, "/v1/admin/refunds/failed").await;
    assert_eq!(s, 200, "{failed}");
    let row = failed
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["purchase_id"] == id)
        .unwrap_or_else(|| panic!("not listed: {failed:#}"));
    assert_eq!(row["amount_cents"], PRICE);
    assert_eq!(row["failure_code"], "settlement_deadline_exceeded");
    assert!(
        row["last_refund_error"].as_str().unwrap().contains(REFUSAL),
        "{row}"
    );
    let (_, alerts) = admin_get(&app, &admin, "/v1/admin/alerts").await;
    let reasons = reasons_for(&alerts, id);
    assert!(
        reasons.contains(&"settlement_deadline_exceeded".to_owned())
            && reasons.contains(&"refund_refused".to_owned()),
        "{alerts:#}"
    );

    // Its settlement is dead, but its refund is decided: settling it now would pay twice.
    let (_, dead) = admin_get(&app, &admin, "/v1/admin/jobs").await;
    let settle = dead
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["purchase_id"] == id && j["kind"] == "settle")
        .unwrap_or_else(|| panic!("the given-up settlement is not listed: {dead:#}"));
    let (s, body) = admin_post(
        &app,
        &admin,
        &format!("/v1/admin/jobs/{}/retry", settle["job_id"]),
        &json!({"reason": "market unpaused"}),
    )
    .await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (409, &json!("not_retryable")),
        "{body}"
    );

    // Bad requests are refused before anything is queued.
    let (s, body) = admin_post(
        &app,
        &admin,
        &format!("/v1/admin/purchases/{id}/refund"),
        &json!({"reason": "x"}),
    )
    .await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (422, &json!("invalid_field")),
        "{body}"
    );
    let (s, body) = admin_post(
        &app,
        &admin,
        "/v1/admin/purchases/00000000-0000-0000-0000-000000000000/refund",
        &json!({"reason": "no such purchase"}),
    )
    .await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (404, &json!("not_found")),
        "{body}"
    );
    // While Stripe still refuses, a retry fails again, and is listed again.
    let (s, body) = admin_post(
        &app,
        &admin,
        &format!("/v1/admin/purchases/{id}/refund"),
        &json!({"reason": "first try"}),
    )
    .await;
    assert_eq!(s, 202, "{body}");
    app.wait_idle().await;
    let view = app.wait_for_state(id, &["failed", "refunded"]).await;
    assert_eq!(view["state"], "failed", "{view:#}");
    let (_, failed) = admin_get(&app, &admin, "/v1/admin/refunds/failed").await;
    assert_eq!(failed[0]["refund_attempts"], 2, "{failed:#}");

    // Stripe accepts now (the dispute was resolved, say): the operator's retry refunds.
    app.stripe.refuse_refunds(None);
    let (s, queued) = admin_post(
        &app,
        &admin,
        &format!("/v1/admin/purchases/{id}/refund"),
        &json!({"reason": "Stripe support cleared the charge"}),
    )
    .await;
    assert_eq!(s, 202, "{queued}");
    assert_eq!(
        (queued["kind"].as_str(), queued["purchase_state"].as_str()),
        (Some("refund"), Some("failed")),
        "{queued}"
    );
    let view = app.wait_for_state(id, &["refunded"]).await;
    let refund_id = view["refund_id"].as_str().unwrap();
    let refund = app.stripe.get(&format!("/v1/refunds/{refund_id}")).await;
    assert_eq!(
        (&refund["amount"], refund["payment_intent"].as_str()),
        (&json!(PRICE), Some(pi)),
        "{refund}"
    );
    assert_eq!(
        path(&view).last().map(String::as_str),
        Some("refunded"),
        "{view:#}"
    );
    let (_, failed) = admin_get(&app, &admin, "/v1/admin/refunds/failed").await;
    assert!(
        failed
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["purchase_id"] != id),
        "{failed:#}"
    );
    // Refunded: a second refund by hand is refused.
    let (s, body) = admin_post(
        &app,
        &admin,
        &format!("/v1/admin/purchases/{id}/refund"),
        &json!({"reason": "once more"}),
    )
    .await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (409, &json!("not_refundable")),
        "{body}"
    );
    // Both actions are audited with their author and reason.
    let actions: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT actor, action, reason FROM api_operator_actions WHERE purchase_id = $1::uuid ORDER BY action_id",
    )
    .bind(id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let me = app.chain.keys[0].address().to_string();
    assert_eq!(
        actions,
        [
            (me.clone(), "refund_purchase".into(), "first try".into()),
            (
                me,
                "refund_purchase".into(),
                "Stripe support cleared the charge".into()
            ),
        ]
    );

    // Another purchase whose refund Stripe refused is refunded from the Stripe dashboard
    // instead: its charge.refunded event records it refunded, and it leaves the list.
    mined(market.pause()).await;
    app.stripe.refuse_refunds(Some(REFUSAL));
    let (created, _) = buy_and_pay(&app, 2).await;
    let second = created["purchase_id"].as_str().unwrap();
    let second_pi = created["payment_intent_id"].as_str().unwrap();
    let view = app
        .wait_for_state(second, &["failed", "refunded", "fulfilled"])
        .await;
    assert_eq!(view["state"], "failed", "{view:#}");
    app.wait_idle().await;
    mined(market.unpause()).await;
    app.stripe.refuse_refunds(None);
    let refund = app
        .stripe
        .post("/v1/refunds", &[("payment_intent", second_pi)])
        .await;
    assert!(refund.status().is_success());
    let event = charge_refunded_event(&app, "evt_console_dashboard_refund", second_pi).await;
    let (s, body) = app
        .send_webhook(&event, WEBHOOK_SECRET, chrono::Utc::now().timestamp())
        .await;
    assert_eq!(
        (s.as_u16(), body["outcome"].as_str()),
        (200, Some("failed_refunded_outside_api")),
        "{body}"
    );
    let (_, view) = app.get_json(&format!("/v1/purchases/{second}")).await;
    assert_eq!(view["state"], "refunded", "{view:#}");
    let (_, failed) = admin_get(&app, &admin, "/v1/admin/refunds/failed").await;
    assert!(
        failed
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["purchase_id"] != second),
        "{failed:#}"
    );

    // A fulfilled purchase keeps its licence: not refundable by hand.
    let (created, _) = buy_and_pay(&app, 1).await;
    let other = created["purchase_id"].as_str().unwrap();
    app.wait_fulfilled(other).await;
    let (s, body) = admin_post(
        &app,
        &admin,
        &format!("/v1/admin/purchases/{other}/refund"),
        &json!({"reason": "customer asked"}),
    )
    .await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (409, &json!("not_refundable")),
        "{body}"
    );
}

#[tokio::test]
async fn a_dead_job_is_listed_and_retried_and_the_float_history_adds_up() {
    let app = spawn_app_with(Options {
        extra: vec![("SETTLE_MAX_ATTEMPTS", "2".to_owned())],
        ..Options::default()
    })
    .await;
    let admin = sign_in(&app, &app.chain.keys[0].clone()).await;
    let (created, _) = buy_and_pay(&app, 0).await;
    let id = created["purchase_id"].as_str().unwrap();
    let pi = created["payment_intent_id"].as_str().unwrap();
    let view = app.wait_fulfilled(id).await;
    let licence: U256 = view["licence_id"].as_str().unwrap().parse().unwrap();

    // A dispute while the chain node is unreachable: the revocation is given up (dead).
    app.rpc.set_down(true);
    let opened = dispute_event(
        "evt_console_dp",
        "charge.dispute.created",
        "dp_console",
        pi,
        "needs_response",
    );
    assert_eq!(post(&app, &opened).await, "revocation_queued");
    app.wait_idle().await;
    app.rpc.set_down(false);
    assert!(
        !app.chain
            .market()
            .licence(licence)
            .call()
            .await
            .unwrap()
            .revoked
    );

    let (s, dead) = admin_get(&app, &admin, "/v1/admin/jobs").await;
    assert_eq!(s, 200, "{dead}");
    let job = dead
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["purchase_id"] == id && j["kind"] == "revoke")
        .unwrap_or_else(|| panic!("the revocation is not listed dead: {dead:#}"));
    assert_eq!(
        (job["state"].as_str(), job["attempts"].as_i64()),
        (Some("dead"), Some(2)),
        "{job}"
    );
    let job_id = job["job_id"].as_i64().unwrap();
    let (_, alerts) = admin_get(&app, &admin, "/v1/admin/alerts").await;
    assert!(
        reasons_for(&alerts, id).contains(&"revocation_gave_up".to_owned()),
        "{alerts:#}"
    );
    let (s, body) = admin_get(&app, &admin, "/v1/admin/jobs?state=sleeping").await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (422, &json!("invalid_field")),
        "{body}"
    );
    let (s, body) = admin_get(&app, &admin, "/v1/admin/jobs?limit=0").await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (422, &json!("invalid_field")),
        "{body}"
    );

    // Retried by an operator: the licence is revoked on chain, the job done.
    let (s, queued) = admin_post(
        &app,
        &admin,
        &format!("/v1/admin/jobs/{job_id}/retry"),
        &json!({"reason": "node back up"}),
    )
    .await;
    assert_eq!(s, 202, "{queued}");
    assert_eq!(queued["job_id"], job_id);
    app.wait_idle().await;
    assert!(
        app.chain
            .market()
            .licence(licence)
            .call()
            .await
            .unwrap()
            .revoked,
        "not revoked after the retry"
    );
    let view = app.wait_for_state(id, &["revoked"]).await;
    assert_eq!(view["state"], "revoked");
    // Only a dead job can be retried; an unknown one is not found.
    let (s, body) = admin_post(
        &app,
        &admin,
        &format!("/v1/admin/jobs/{job_id}/retry"),
        &json!({"reason": "again"}),
    )
    .await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (409, &json!("job_not_dead")),
        "{body}"
    );
    let (s, body) = admin_post(
        &app,
        &admin,
        "/v1/admin/jobs/999999/retry",
        &json!({"reason": "no such job"}),
    )
    .await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (404, &json!("not_found")),
        "{body}"
    );

    // The float: its balance on chain, and a history that sums to it (deposit, settlement).
    let (s, float) = admin_get(&app, &admin, "/v1/admin/float?limit=200").await;
    assert_eq!(s, 200, "{float}");
    let market = app.chain.market();
    let units = market
        .balanceOfCredit(app.chain.keys[0].address())
        .call()
        .await
        .unwrap();
    let per_cent = U256::from(market.unitsPerCent().call().await.unwrap());
    assert_eq!(
        U256::from(float["balance_cents"].as_i64().unwrap()),
        units / per_cent
    );
    // The daily card limit and today's card settlements, as the contract counts them.
    let limit = market.cardSettlementLimit().call().await.unwrap();
    assert_eq!(float["daily_limit_cents"], 5_000_000, "{float}");
    assert_eq!(
        float["settled_today_cents"].as_u64(),
        Some(limit.settledTodayCents),
        "{float}"
    );
    let movements = float["movements"].as_array().unwrap();
    let kinds: Vec<&str> = movements
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    // Newest first: the chargeback gave the card sale's pending shares back to the float.
    assert_eq!(
        kinds,
        ["clawback", "card_settlement", "deposit"],
        "{float:#}"
    );
    assert_eq!(movements[0]["cents"], PRICE as i64);
    assert_eq!(movements[0]["licence_id"], licence.to_string());
    assert_eq!(movements[1]["cents"], -(PRICE as i64));
    assert_eq!(movements[1]["licence_id"], licence.to_string());
    assert_eq!(movements[0]["balance_after_cents"], float["balance_cents"]);
    let oldest = movements.last().unwrap();
    assert_eq!(
        oldest["balance_after_cents"].as_i64().unwrap() - oldest["cents"].as_i64().unwrap(),
        0,
        "the history does not add up to the balance: {float:#}"
    );
    assert_eq!(float["low"], false);
}
