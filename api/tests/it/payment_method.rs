//! `POST /v1/purchases/{id}/payment-method`, the storefront's card payment (the page tokenises
//! the card with the publishable key; the API checks the client secret against Stripe's copy,
//! attaches the card and confirms server-side): who may pay, what a decline answers, and that a
//! repeated or late call never charges twice.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::purchases::{CARD_DECLINED, CARD_OK};

async fn pay(app: &TestApp, purchase: &str, payment_method: &str, secret: &str) -> (u16, Value) {
    let (status, body) = app
        .post_json(
            &format!("/v1/purchases/{purchase}/payment-method"),
            &json!({ "payment_method": payment_method, "client_secret": secret }),
        )
        .await;
    (status.as_u16(), body)
}

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

#[tokio::test]
async fn only_the_client_secret_pays_and_a_paid_purchase_is_never_charged_twice() {
    let app = spawn_app().await;
    let a = app.create_purchase(app.chain.buyer(0).address()).await;
    let b = app.create_purchase(app.chain.buyer(1).address()).await;
    let (a_id, a_pi, a_secret) = (
        field(&a, "purchase_id"),
        field(&a, "payment_intent_id"),
        field(&a, "client_secret"),
    );
    let b_secret = field(&b, "client_secret");
    let card = app.stripe.payment_method(CARD_OK).await;

    // Someone else's secret, a forged one with the right prefix, an unknown purchase: 404, and
    // nothing reaches the PaymentIntent.
    for (purchase, secret) in [
        (a_id, b_secret),
        (a_id, &*format!("{a_pi}_secret_forged")),
        (a_id, ""),
        ("6f1c0d1e-0000-4000-8000-000000000000", a_secret),
        ("not-a-uuid", a_secret),
    ] {
        let (status, body) = pay(&app, purchase, &card, secret).await;
        assert_eq!(
            (status, field(&body["error"], "code")),
            (404, "not_found"),
            "{purchase} {secret}: {body}"
        );
    }
    // Not a card: refused before Stripe is asked.
    let (status, body) = pay(&app, a_id, "tok_visa", a_secret).await;
    assert_eq!(
        (status, field(&body["error"], "code")),
        (422, "invalid_field"),
        "{body}"
    );
    let intent = app.stripe.get(&format!("/v1/payment_intents/{a_pi}")).await;
    assert_eq!(intent["status"], "requires_payment_method", "{intent}");

    // The client secret pays.
    let (status, body) = pay(&app, a_id, &card, a_secret).await;
    assert_eq!(
        (status, field(&body, "status")),
        (200, "succeeded"),
        "{body}"
    );
    // A repeated call (a double click, a retried request) answers the same and charges nothing
    // more, also with another card.
    let other = app.stripe.payment_method(CARD_OK).await;
    let (status, body) = pay(&app, a_id, &other, a_secret).await;
    assert_eq!(
        (status, field(&body, "status")),
        (200, "succeeded"),
        "{body}"
    );
    let intent = app.stripe.get(&format!("/v1/payment_intents/{a_pi}")).await;
    assert_eq!(
        intent["payment_method"],
        card.as_str(),
        "the first card stays: {intent}"
    );
    let view = app.wait_fulfilled(a_id).await;
    assert!(view["licence_id"].is_string(), "{view}");
    let (status, body) = pay(&app, a_id, &other, a_secret).await;
    assert_eq!(
        (status, field(&body, "status")),
        (200, "succeeded"),
        "after fulfilment: {body}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM api_purchases WHERE state = 'fulfilled'")
            .await,
        1,
        "one purchase paid"
    );
}

#[tokio::test]
async fn a_declined_card_is_a_402_that_leaves_the_purchase_open_and_unpaid() {
    let app = spawn_app().await;
    let p = app.create_purchase(app.chain.buyer(0).address()).await;
    let (id, secret) = (field(&p, "purchase_id"), field(&p, "client_secret"));

    let declined = app.stripe.payment_method(CARD_DECLINED).await;
    let (status, body) = pay(&app, id, &declined, secret).await;
    assert_eq!(
        (status, field(&body["error"], "code")),
        (402, "card_declined"),
        "{body}"
    );
    assert!(
        !field(&body["error"], "message").is_empty(),
        "the issuer's reason is shown: {body}"
    );

    // Stripe's payment_failed webhook is recorded; the purchase stays open for another card
    // (on real Stripe; the emulator refuses a second card on a declined intent), unpaid.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
        if view["failure_code"] == "payment_failed" {
            assert_eq!(view["state"], "awaiting_payment", "{view}");
            assert!(view["licence_id"].is_null(), "{view}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no payment_failed recorded: {view}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.wait_idle().await;
    assert_eq!(
        app.count("SELECT count(*) FROM api_jobs").await,
        0,
        "nothing to settle"
    );
}
