//! The money reconciliation (seed 004) after a mixed run: fulfilled, refunded past the
//! settlement bound, disputed (open, won, lost), declined and unpaid purchases reconcile to the
//! cent (Stripe charges = settled on chain + refunded + pending); a refund made at Stripe that
//! nobody told the API about is a listed mismatch with its purchase.

use serde_json::{Value, json};

use crate::auth::sign_in;
use crate::disputes::{dispute_event, post};
use crate::helpers::{Options, PRICE, TestApp, mined, spawn_app_with};
use crate::purchases::{CARD_DECLINED, buy_and_pay};

const P: i64 = PRICE as i64;

async fn report(app: &TestApp, token: &str, from: &str, to: &str) -> (u16, Value) {
    let url = reqwest::Url::parse_with_params(
        &app.url("/v1/admin/reconciliation"),
        &[("from", from), ("to", to)],
    )
    .unwrap();
    let r = app.http.get(url).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn totals(r: &Value) -> [i64; 7] {
    [
        "charges",
        "stripe_charged_cents",
        "settled_cents",
        "refunded_cents",
        "charged_back_cents",
        "pending_cents",
        "revoked_settlements_cents",
    ]
    .map(|k| r[k].as_i64().unwrap_or_else(|| panic!("{k}: {r:#}")))
}

/// A fulfilled purchase of buyer `i`: (purchase id, PaymentIntent).
async fn fulfilled(app: &TestApp, i: usize) -> (String, String) {
    let (created, _) = buy_and_pay(app, i).await;
    let id = created["purchase_id"].as_str().unwrap().to_owned();
    app.wait_fulfilled(&id).await;
    (
        id,
        created["payment_intent_id"].as_str().unwrap().to_owned(),
    )
}

/// Opens a dispute on `pi` and waits for the revocation.
async fn disputed(app: &TestApp, id: &str, pi: &str, n: usize) {
    let opened = dispute_event(
        &format!("evt_rc_open_{n}"),
        "charge.dispute.created",
        &format!("dp_rc_{n}"),
        pi,
        "needs_response",
    );
    assert_eq!(post(app, &opened).await, "revocation_queued");
    let view = app.wait_for_state(id, &["revoked"]).await;
    assert_eq!(view["state"], "revoked");
}

#[tokio::test]
async fn a_mixed_run_reconciles_to_the_cent_and_a_silent_refund_is_a_mismatch() {
    let app = spawn_app_with(Options {
        extra: vec![("SETTLEMENT_DEADLINE_SECS", "3".to_owned())],
        ..Options::default()
    })
    .await;
    let admin = sign_in(&app, &app.chain.keys[0].clone()).await;
    let from = (chrono::Utc::now() - chrono::TimeDelta::hours(1)).to_rfc3339();
    let to = || (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339();

    // 1. Refunded: its settlement blocked past the bound (paused market).
    let market = app.chain.market();
    mined(market.pause()).await;
    let (created, _) = buy_and_pay(&app, 0).await;
    let refunded = created["purchase_id"].as_str().unwrap().to_owned();
    let view = app
        .wait_for_state(&refunded, &["refunded", "failed", "fulfilled"])
        .await;
    assert_eq!(view["state"], "refunded", "{view:#}");
    mined(market.unpause()).await;
    // 2. Fulfilled.
    let (_ok, _) = fulfilled(&app, 1).await;
    // 3. Disputed, still open (licence revoked): pending.
    let (open, open_pi) = fulfilled(&app, 2).await;
    disputed(&app, &open, &open_pi, 1).await;
    // 4. Disputed and won: a new licence (settled again, from the float).
    let (won, won_pi) = fulfilled(&app, 3).await;
    disputed(&app, &won, &won_pi, 2).await;
    let closed = dispute_event(
        "evt_rc_won",
        "charge.dispute.closed",
        "dp_rc_2",
        &won_pi,
        "won",
    );
    assert_eq!(post(&app, &closed).await, "reinstatement_queued");
    app.wait_for_state(&won, &["reinstated"]).await;
    // 5. Disputed and lost: charged back.
    let (lost, lost_pi) = fulfilled(&app, 4).await;
    disputed(&app, &lost, &lost_pi, 3).await;
    let closed = dispute_event(
        "evt_rc_lost",
        "charge.dispute.closed",
        "dp_rc_3",
        &lost_pi,
        "lost",
    );
    assert_eq!(post(&app, &closed).await, "dispute_lost");
    // 6. A declined card and 7. a purchase never paid: no charge at all.
    let declined = app.create_purchase(app.chain.buyer(0).address()).await;
    let status = app
        .stripe
        .pay(
            declined["payment_intent_id"].as_str().unwrap(),
            CARD_DECLINED,
        )
        .await;
    assert!(status == 200 || status == 402, "confirm answered {status}");
    app.create_purchase(app.chain.buyer(1).address()).await;
    app.wait_idle().await;

    // Only a platform admin; a malformed or empty period is refused.
    let buyer = sign_in(&app, &app.chain.buyer(0).clone()).await;
    let (s, body) = report(&app, &buyer, &from, &to()).await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (403, &json!("not_platform_admin")),
        "{body}"
    );
    let (s, body) = report(&app, &admin, "yesterday", &to()).await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (422, &json!("invalid_field")),
        "{body}"
    );
    let (s, body) = report(&app, &admin, &to(), &from).await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (422, &json!("invalid_field")),
        "{body}"
    );

    let (s, r) = report(&app, &admin, &from, &to()).await;
    assert_eq!(s, 200, "{r:#}");
    assert_eq!(r["difference"], 0, "{r:#}");
    assert_eq!(r["mismatches"], json!([]), "{r:#}");
    // charges, charged, settled (fulfilled + reinstated), refunded (refund + chargeback),
    // charged back, pending (open dispute), revoked settlements (the three disputed licences).
    assert_eq!(totals(&r), [5, 5 * P, 2 * P, 2 * P, P, P, 3 * P], "{r:#}");
    // A period before the run has none of it.
    let (s, r) = report(&app, &admin, "2020-01-01", "2020-01-31").await;
    assert_eq!(s, 200, "{r:#}");
    assert_eq!(totals(&r), [0; 7], "{r:#}");

    // A refund made from the Stripe dashboard whose event never reached the API: the buyer
    // has the money back and a live licence. The report names the purchase.
    let (silent, silent_pi) = fulfilled(&app, 0).await;
    let refund = app
        .stripe
        .post("/v1/refunds", &[("payment_intent", silent_pi.as_str())])
        .await;
    assert!(refund.status().is_success(), "{:?}", refund.text().await);
    let (s, r) = report(&app, &admin, &from, &to()).await;
    assert_eq!(s, 200, "{r:#}");
    assert_eq!(
        r["difference"], -P,
        "settled and refunded counts twice: {r:#}"
    );
    let kinds: Vec<(&str, &str)> = r["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind_of_mismatch"].as_str().unwrap(),
                m["purchase_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("settled_and_refunded", silent.as_str()),
            ("refund_not_recorded", silent.as_str())
        ],
        "{r:#}"
    );
    let m = &r["mismatches"][0];
    assert_eq!(
        (
            m["stripe_cents"].as_i64(),
            m["stripe_refunded_cents"].as_i64(),
            m["chain_cents"].as_i64()
        ),
        (Some(P), Some(P), Some(P)),
        "{m}"
    );
    assert_eq!(m["payment_intent_id"], silent_pi.as_str());
    assert_eq!(m["tx_hashes"].as_array().unwrap().len(), 1, "{m}");
}
