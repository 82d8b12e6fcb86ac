//! Reconciliation with Stripe: a card paid while its webhook was lost is found by reading
//! Stripe — by the sweeper, and by `GET /v1/purchases/{id}` (at most once per interval) — and
//! fulfilled through the webhook's own path; a purchase nobody paid is abandoned (its
//! PaymentIntent cancelled at the emulator, the purchase expired); the webhook and the
//! reconciliation racing each other settle once.

use std::time::{Duration, Instant};

use alloy::primitives::keccak256;
use serde_json::Value;
use tangible_testkit::localstripe::WebhookDelivery;

use crate::helpers::{Options, TestApp, spawn_app_with};
use crate::purchases::{CARD_OK, settlements_on_chain};

/// An app whose reconciliation settings are `(NAME, seconds)`.
async fn app_with(settings: &[(&'static str, u64)]) -> TestApp {
    spawn_app_with(Options {
        extra: settings
            .iter()
            .map(|(name, secs)| (*name, secs.to_string()))
            .collect(),
        ..Options::default()
    })
    .await
}

/// The purchase as stored (no GET: a GET may itself reconcile).
async fn stored_state(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT state FROM api_purchases WHERE purchase_id = $1::uuid")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Waits (reading the database only) until the purchase is `state`, at most `bound`.
async fn wait_stored(app: &TestApp, id: &str, state: &str, bound: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let now = stored_state(app, id).await;
        if now == state {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < bound,
            "purchase {id} is {now}, not {state}, after {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads of PaymentIntent `pi` the API made at Stripe.
fn intent_reads(app: &TestApp, pi: &str) -> usize {
    let read = format!("GET /v1/payment_intents/{pi}");
    app.stripe.requests().iter().filter(|r| **r == read).count()
}

/// Waits until `n` `payment_intent.succeeded` events are held back (the emulator sends its
/// webhooks a moment after the payment).
async fn wait_held_payments(app: &TestApp, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let held = app.stripe.held_webhooks();
        if held
            .iter()
            .filter(|t| *t == "payment_intent.succeeded")
            .count()
            >= n
        {
            return;
        }
        assert!(Instant::now() < deadline, "held webhooks: {held:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The number of settle jobs and of `fulfilled` settlement attempts of a purchase.
async fn settle_records(app: &TestApp, id: &str) -> (i64, i64) {
    let jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_jobs WHERE purchase_id = $1::uuid AND kind = 'settle'",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let fulfilled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_settlement_attempts WHERE purchase_id = $1::uuid AND outcome = 'fulfilled'",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    (jobs, fulfilled)
}

#[tokio::test]
async fn card_paid_while_the_webhook_is_lost_is_fulfilled_by_the_sweeper() {
    // Sweeps every second, purchases re-read once their last read is a second old; GETs never
    // read Stripe here.
    let app = app_with(&[
        ("RECONCILE_INTERVAL_SECS", 1),
        ("RECONCILE_AFTER_SECS", 1),
        ("RECONCILE_ON_READ_SECS", 3600),
    ])
    .await;
    app.stripe.set_webhook_delivery(WebhookDelivery::Drop);
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let id = created["purchase_id"].as_str().unwrap();
    let pi = created["payment_intent_id"].as_str().unwrap();
    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    // The bound: reconcile_after + interval (2 s) plus the settlement, with room for a slow
    // machine.
    let took = wait_stored(&app, id, "fulfilled", Duration::from_secs(30)).await;
    // localstripe sends a webhook a second after the event at the earliest (more on a busy
    // machine), so the sweeper may fulfil the purchase before the webhook is even dropped:
    // wait for the drop, bounded.
    let dropped_by = Instant::now() + Duration::from_secs(15);
    while !app
        .stripe
        .dropped_webhooks()
        .iter()
        .any(|t| t == "payment_intent.succeeded")
    {
        assert!(
            Instant::now() < dropped_by,
            "the payment's webhook was not lost: {:?}",
            app.stripe.dropped_webhooks()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events: i64 = app
        .count(
            "SELECT count(*) FROM api_stripe_events WHERE event_type = 'payment_intent.succeeded'",
        )
        .await;
    assert_eq!(events, 0, "no webhook reached the API");
    let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
    assert_eq!(view["state"], "fulfilled", "{view:#}");
    assert!(view["licence_id"].is_string(), "{view:#}");
    assert_eq!(
        settlements_on_chain(&app, keccak256(pi.as_bytes())).await,
        1
    );
    eprintln!("fulfilled by the sweeper {took:?} after payment");
}

#[tokio::test]
async fn card_paid_while_the_webhook_is_lost_is_fulfilled_on_get_and_gets_are_bounded() {
    // No sweep finds anything due within the test: only GETs read Stripe, at most once a second.
    let app = app_with(&[
        ("RECONCILE_INTERVAL_SECS", 3600),
        ("RECONCILE_AFTER_SECS", 3600),
        ("RECONCILE_ON_READ_SECS", 1),
    ])
    .await;
    app.stripe.set_webhook_delivery(WebhookDelivery::Drop);
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let id = created["purchase_id"].as_str().unwrap();
    let pi = created["payment_intent_id"].as_str().unwrap();

    // A client polling an unpaid purchase fast: at most one Stripe read per second.
    let start = Instant::now();
    let mut polls = 0;
    while start.elapsed() < Duration::from_millis(2500) {
        let (status, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(view["state"], "awaiting_payment", "{view:#}");
        polls += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reads = intent_reads(&app, pi);
    assert!(polls > 30, "{polls} polls");
    assert!(
        (1..=3).contains(&reads),
        "{reads} Stripe reads for {polls} GETs in 2.5 s (at most one a second)"
    );

    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The first GET a second after the last read finds the payment, and answers with it.
    let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
    assert!(
        ["paid", "settling", "fulfilled"].contains(&view["state"].as_str().unwrap()),
        "{view:#}"
    );
    let view = app.wait_fulfilled(id).await;
    assert!(view["licence_id"].is_string(), "{view:#}");
    assert!(
        app.stripe
            .dropped_webhooks()
            .iter()
            .any(|t| t == "payment_intent.succeeded")
    );
    assert_eq!(
        settlements_on_chain(&app, keccak256(pi.as_bytes())).await,
        1
    );
}

#[tokio::test]
async fn abandoned_purchase_has_its_payment_intent_cancelled_and_expires() {
    let app = app_with(&[
        ("RECONCILE_INTERVAL_SECS", 1),
        ("RECONCILE_AFTER_SECS", 3600),
        ("RECONCILE_ON_READ_SECS", 3600),
        ("ABANDON_AFTER_SECS", 4),
    ])
    .await;
    // Nobody pays this one.
    let abandoned = app.create_purchase(app.chain.buyer(0).address()).await;
    let id = abandoned["purchase_id"].as_str().unwrap();
    let pi = abandoned["payment_intent_id"].as_str().unwrap();
    // This one is paid just in time, but its webhook is held back: at its abandonment age the
    // sweeper must find the payment rather than cancel.
    app.stripe.set_webhook_delivery(WebhookDelivery::Hold);
    let paid = app.create_purchase(app.chain.buyer(1).address()).await;
    let paid_id = paid["purchase_id"].as_str().unwrap();
    let paid_pi = paid["payment_intent_id"].as_str().unwrap();
    assert_eq!(app.stripe.pay(paid_pi, CARD_OK).await, 200);

    wait_stored(&app, id, "expired", Duration::from_secs(30)).await;
    let intent = app.stripe.get(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(intent["status"], "canceled", "{intent:#}");
    assert!(
        app.stripe
            .requests()
            .contains(&format!("POST /v1/payment_intents/{pi}/cancel")),
        "{:?}",
        app.stripe.requests()
    );
    let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
    assert_eq!(view["state"], "expired", "{view:#}");
    assert_eq!(view["failure_code"], "payment_abandoned", "{view:#}");
    assert!(view["licence_id"].is_null(), "{view:#}");

    // Paying it now is refused by Stripe: nothing is charged, the purchase stays expired.
    assert!(!app.stripe.pay(pi, CARD_OK).await.is_success());
    let intent = app.stripe.get(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(intent["status"], "canceled", "{intent:#}");

    // The paid one was never cancelled: fulfilled, and its late webhook changes nothing.
    wait_stored(&app, paid_id, "fulfilled", Duration::from_secs(30)).await;
    assert!(
        !app.stripe
            .requests()
            .contains(&format!("POST /v1/payment_intents/{paid_pi}/cancel"))
    );
    wait_held_payments(&app, 1).await;
    for status in app.stripe.release_held_webhooks().await {
        assert_eq!(status, 200);
    }
    app.wait_idle().await;
    assert_eq!(stored_state(&app, paid_id).await, "fulfilled");
    assert_eq!(
        settlements_on_chain(&app, keccak256(paid_pi.as_bytes())).await,
        1
    );
    assert_eq!(stored_state(&app, id).await, "expired");
}

/// More abandoned purchases than a sweep's batch, whose PaymentIntent Stripe does not know (every
/// cancel and read fails): each sweep tries each once, instead of claiming them again and again
/// in one sweep that never ends (found by the attack review: a hot loop on Stripe).
#[tokio::test]
async fn abandoned_purchases_stripe_keeps_failing_on_are_tried_once_per_sweep() {
    let app = app_with(&[
        ("RECONCILE_INTERVAL_SECS", 1),
        ("RECONCILE_AFTER_SECS", 3600),
        ("RECONCILE_ON_READ_SECS", 3600),
        ("ABANDON_AFTER_SECS", 3600),
    ])
    .await;
    let n = 101;
    for _ in 0..n {
        app.create_purchase(app.chain.buyer(0).address()).await;
    }
    // Two days old, with intents Stripe answers 404 for.
    sqlx::query(
        "UPDATE api_purchases SET created_at = now() - interval '2 days', \
             payment_intent_id = 'pi_missing_' || purchase_id",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let calls = app
        .stripe
        .requests()
        .iter()
        .filter(|r| r.contains("pi_missing_"))
        .count();
    // A sweep a second for 4 s, each trying each purchase once (a cancel, maybe a read): at
    // most ~5 sweeps × 2 calls × n. The hot loop made thousands.
    assert!(calls >= n, "the sweeper never tried them: {calls} calls");
    assert!(
        calls <= 10 * n,
        "{calls} Stripe calls for {n} purchases in 4 s"
    );
    for state in sqlx::query_scalar::<_, String>("SELECT state FROM api_purchases")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
    {
        assert_eq!(state, "awaiting_payment");
    }
}

#[tokio::test]
async fn a_payment_reaching_an_expired_purchase_is_still_settled() {
    // The race Stripe's cancellation closes, forced: the payment went through, then the
    // purchase was marked expired (as if the API had cancelled and recorded in between). The
    // payment's webhook must still end in a licence, not a charge without one.
    let app = app_with(&[
        ("RECONCILE_INTERVAL_SECS", 3600),
        ("RECONCILE_AFTER_SECS", 3600),
        ("RECONCILE_ON_READ_SECS", 3600),
    ])
    .await;
    app.stripe.set_webhook_delivery(WebhookDelivery::Hold);
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let id = created["purchase_id"].as_str().unwrap();
    let pi = created["payment_intent_id"].as_str().unwrap();
    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    wait_held_payments(&app, 1).await;
    sqlx::query("UPDATE api_purchases SET state = 'expired', failure_code = 'payment_abandoned' WHERE purchase_id = $1::uuid")
        .bind(id)
        .execute(app.db.pool())
        .await
        .unwrap();
    for status in app.stripe.release_held_webhooks().await {
        assert_eq!(status, 200);
    }
    app.wait_fulfilled(id).await;
    assert_eq!(
        settlements_on_chain(&app, keccak256(pi.as_bytes())).await,
        1
    );
}

#[tokio::test]
async fn webhook_and_reconciliation_racing_settle_once() {
    let app = app_with(&[
        ("RECONCILE_INTERVAL_SECS", 1),
        ("RECONCILE_AFTER_SECS", 1),
        ("RECONCILE_ON_READ_SECS", 1),
    ])
    .await;
    app.stripe.set_webhook_delivery(WebhookDelivery::Hold);

    // The reconciliation first, the webhook after: the webhook finds the purchase settled.
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let first = created["purchase_id"].as_str().unwrap().to_owned();
    let first_pi = created["payment_intent_id"].as_str().unwrap().to_owned();
    assert_eq!(app.stripe.pay(&first_pi, CARD_OK).await, 200);
    wait_stored(&app, &first, "fulfilled", Duration::from_secs(30)).await;
    wait_held_payments(&app, 1).await;
    for status in app.stripe.release_held_webhooks().await {
        assert_eq!(status, 200);
    }
    let outcome: String = sqlx::query_scalar(
        "SELECT outcome FROM api_stripe_events WHERE purchase_id = $1::uuid AND event_type = 'payment_intent.succeeded'",
    )
    .bind(&first)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(outcome, "already_fulfilled");

    // Both at once, for several purchases: held webhooks released while GETs and the sweeper
    // read Stripe.
    let mut purchases = Vec::new();
    for i in 1..5 {
        let created = app.create_purchase(app.chain.buyer(i).address()).await;
        let pi = created["payment_intent_id"].as_str().unwrap().to_owned();
        assert_eq!(app.stripe.pay(&pi, CARD_OK).await, 200);
        purchases.push((created["purchase_id"].as_str().unwrap().to_owned(), pi));
    }
    wait_held_payments(&app, purchases.len()).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let gets = concurrent_gets(&app, &purchases);
    let (statuses, ()) = tokio::join!(app.stripe.release_held_webhooks(), gets);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    for (id, _) in &purchases {
        app.wait_fulfilled(id).await;
    }
    app.wait_idle().await;

    purchases.push((first, first_pi));
    for (id, pi) in &purchases {
        assert_eq!(
            settlements_on_chain(&app, keccak256(pi.as_bytes())).await,
            1,
            "{id}"
        );
        assert_eq!(settle_records(&app, id).await, (1, 1), "{id}");
        let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
        assert_eq!(view["state"], "fulfilled", "{view:#}");
    }
    // One licence per purchase, each the buyer's.
    let licences: i64 = app
        .count("SELECT count(*) FROM api_purchases WHERE state = 'fulfilled' AND licence_id IS NOT NULL")
        .await;
    assert_eq!(licences, 5);
}

/// GETs every purchase a few times concurrently (each may read Stripe).
async fn concurrent_gets(app: &TestApp, purchases: &[(String, String)]) {
    let mut set = tokio::task::JoinSet::new();
    for (id, _) in purchases {
        for _ in 0..3 {
            let url = app.url(&format!("/v1/purchases/{id}"));
            let http = app.http.clone();
            set.spawn(async move {
                let r = http.get(url).send().await.unwrap();
                assert_eq!(r.status(), 200);
                let _: Value = r.json().await.unwrap();
            });
        }
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
}
