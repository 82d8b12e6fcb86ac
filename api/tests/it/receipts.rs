//! Purchase receipts by email, against a real SMTP server (aiosmtpd, the test kit's
//! [`SmtpSink`], which stores what it accepts in a Maildir read back here): the buyer's address
//! goes to Stripe as `receipt_email` and, once the purchase is fulfilled, a receipt naming the
//! film, the amount, the licence id and the transaction reaches it, once, also across an SMTP
//! outage and a re-claimed job. No address, no mail; a bad address is refused; an erased
//! address gets nothing.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use serde_json::{Value, json};
use tangible_testkit::{Film, SmtpSink};

use crate::helpers::{Options, PRICE, RpcProxy, TestApp, WEBHOOK_SECRET, spawn_app_with};
use crate::purchases::CARD_OK;

const FROM: &str = "Tangible receipts <receipts@tangible.test>";

/// Options of an app mailing receipts through `smtp_url`.
fn mailing(smtp_url: String) -> Options {
    Options {
        extra: vec![("SMTP_URL", smtp_url), ("SMTP_FROM", FROM.to_owned())],
        ..Options::default()
    }
}

async fn create(app: &TestApp, email: Option<&str>) -> (reqwest::StatusCode, Value) {
    let mut body = json!({
        "film_id": app.chain.film_id,
        "quality": "4k",
        "buyer_address": app.chain.buyer(0).address().to_string(),
    });
    if let Some(email) = email {
        body["receipt_email"] = json!(email);
    }
    app.post_json("/v1/purchases", &body).await
}

/// Creates a purchase (with `email`), pays it and waits until it is fulfilled; its view.
async fn buy(app: &TestApp, email: Option<&str>) -> Value {
    let (status, created) = create(app, email).await;
    assert_eq!(status, 201, "{created}");
    let pi = created["payment_intent_id"].as_str().unwrap();
    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    app.wait_fulfilled(created["purchase_id"].as_str().unwrap())
        .await
}

async fn erase(app: &TestApp, purchase_id: &str, client_secret: &str) -> (u16, Value) {
    let r = app
        .http
        .delete(app.url(&format!("/v1/purchases/{purchase_id}/email")))
        .json(&json!({ "client_secret": client_secret }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The receipt attempts of a purchase's view, as `outcome` strings.
fn receipt_outcomes(view: &Value) -> Vec<String> {
    view["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "receipt")
        .map(|a| a["outcome"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until a purchase's view satisfies `done`; the view.
async fn wait_view(app: &TestApp, purchase_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, view) = app.get_json(&format!("/v1/purchases/{purchase_id}")).await;
        if done(&view) {
            return view;
        }
        assert!(Instant::now() < deadline, "never reached: {view:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asserts that `raw` is the receipt of the fulfilled purchase `view`, sent to `to`.
fn assert_is_receipt_of(raw: &[u8], view: &Value, to: &str) {
    let text = String::from_utf8_lossy(raw);
    let message = MessageParser::default()
        .parse(raw)
        .unwrap_or_else(|| panic!("not a message: {text}"));
    let recipient = message
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address());
    assert_eq!(recipient, Some(to), "{text}");
    // The envelope recipient, as the server received it (aiosmtpd's `X-RcptTo`).
    assert_eq!(
        message.header_raw("X-RcptTo").map(str::trim),
        Some(to),
        "{text}"
    );
    let title = Film::SINGLE_4K.title;
    assert!(
        message.subject().is_some_and(|s| s.ends_with(title)),
        "subject {:?}",
        message.subject()
    );
    let body = message.body_text(0).expect("a text body");
    let licence_id = view["licence_id"].as_str().unwrap();
    let tx_hash = view["tx_hash"].as_str().unwrap();
    let amount = format!("{}.{:02} EUR", PRICE / 100, PRICE % 100);
    let film = format!("{title} (film {}, 4k)", view["film_id"]);
    for (what, part) in [
        ("film", film.as_str()),
        ("amount", amount.as_str()),
        ("licence id", licence_id),
        ("transaction", tx_hash),
    ] {
        assert!(body.contains(part), "{what} {part} missing from:\n{body}");
    }
    let purchase_id = view["purchase_id"].as_str().unwrap();
    assert!(
        message
            .message_id()
            .is_some_and(|id| id.starts_with(&format!("receipt.{purchase_id}@"))),
        "{:?}",
        message.message_id()
    );
}

#[tokio::test]
async fn receipt_email_received_with_the_right_licence_id() {
    let sink = SmtpSink::start().expect("aiosmtpd starts");
    let app = spawn_app_with(mailing(sink.url())).await;
    let email = "Buyer.One+films@example.com";

    let (status, created) = create(&app, Some(email)).await;
    assert_eq!(status, 201, "{created}");
    let pi = created["payment_intent_id"].as_str().unwrap();
    assert_eq!(
        app.stripe.receipt_email(pi).as_deref(),
        Some(email),
        "Stripe's receipt_email"
    );
    let id = created["purchase_id"].as_str().unwrap();
    let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
    assert_eq!(view["receipt_email_on_file"], true, "{view}");
    assert!(view["receipt_sent_at"].is_null(), "{view}");
    // Nothing is mailed before the purchase is fulfilled.
    assert!(sink.messages().is_empty());

    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    let fulfilled = app.wait_fulfilled(id).await;
    let messages = sink.wait_for_messages(1, Duration::from_secs(30)).await;
    assert_eq!(messages.len(), 1, "one receipt");
    assert_is_receipt_of(&messages[0], &fulfilled, email);

    // `receipt_sent_at` commits right after the server's acceptance, the attempt's record just
    // after it: wait for the record.
    let view = wait_view(&app, id, |v| !receipt_outcomes(v).is_empty()).await;
    assert_eq!(receipt_outcomes(&view), ["sent"], "{view:#}");
    assert!(!view["receipt_sent_at"].is_null(), "{view:#}");
    // The attempt record names the address masked only.
    assert!(!view.to_string().contains("Buyer.One"), "{view}");

    // A re-claimed receipt job (a worker that died after sending, say) sends nothing more.
    sqlx::query("UPDATE api_jobs SET state = 'queued', run_at = now() WHERE kind = 'receipt'")
        .execute(app.db.pool())
        .await
        .unwrap();
    let view = wait_view(&app, id, |v| receipt_outcomes(v).len() == 2).await;
    assert_eq!(receipt_outcomes(&view), ["sent", "skipped"], "{view:#}");
    app.wait_idle().await;
    assert_eq!(sink.messages().len(), 1, "the receipt is never sent twice");
}

#[tokio::test]
async fn a_purchase_without_email_sends_nothing() {
    let sink = SmtpSink::start().expect("aiosmtpd starts");
    let app = spawn_app_with(mailing(sink.url())).await;
    let view = buy(&app, None).await;
    assert_eq!(view["receipt_email_on_file"], false, "{view}");
    assert_eq!(
        app.stripe
            .receipt_email(view["payment_intent_id"].as_str().unwrap()),
        None
    );
    // A blank address is no address.
    let blank = buy(&app, Some("  ")).await;
    assert_eq!(blank["receipt_email_on_file"], false, "{blank}");
    app.wait_idle().await;
    assert_eq!(
        app.count("SELECT count(*) FROM api_jobs WHERE kind = 'receipt'")
            .await,
        0
    );
    assert!(sink.messages().is_empty(), "no receipt without an address");
}

#[tokio::test]
async fn a_bad_receipt_email_is_refused_with_a_json_error() {
    let app = spawn_app_with(Options {
        run_worker: false,
        ..Options::default()
    })
    .await;
    let too_long = format!("buyer@{}.com", "a".repeat(250));
    for bad in [
        "not-an-address",
        "buyer@localhost",
        "buyer@example.com\r\nBcc: victim@example.com",
        "Buyer <buyer@example.com>",
        "bü@example.com",
        too_long.as_str(),
    ] {
        let (status, body) = create(&app, Some(bad)).await;
        assert_eq!(status, 422, "{bad:?}: {body}");
        assert_eq!(body["error"]["code"], "invalid_field", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with("receipt_email "), "{message}");
        assert!(
            !message.contains("buyer"),
            "the address is not echoed: {message}"
        );
    }
    let (status, body) = app
        .post_json(
            "/v1/purchases",
            &json!({"film_id": app.chain.film_id, "quality": "4k",
                "buyer_address": app.chain.buyer(0).address().to_string(), "receipt_email": 7}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_body", "{body}");
    // Refused before anything was stored or asked of Stripe.
    assert_eq!(app.count("SELECT count(*) FROM api_purchases").await, 0);
    assert!(
        app.stripe.requests().is_empty(),
        "{:?}",
        app.stripe.requests()
    );
}

#[tokio::test]
async fn the_buyer_erases_the_email_and_no_receipt_follows() {
    let sink = SmtpSink::start().expect("aiosmtpd starts");
    let app = spawn_app_with(mailing(sink.url())).await;
    let (status, created) = create(&app, Some("erase.me@example.com")).await;
    assert_eq!(status, 201, "{created}");
    let id = created["purchase_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    let pi = created["payment_intent_id"].as_str().unwrap();

    // Only the buyer's client secret erases it.
    let (status, body) = erase(&app, id, &format!("{pi}_secret_forged")).await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    let (status, _) = erase(&app, "00000000-0000-4000-8000-000000000000", secret).await;
    assert_eq!(status, 404);
    let stored = || async {
        sqlx::query_as::<_, (Option<String>, bool)>(
            "SELECT receipt_email, receipt_email_erased_at IS NOT NULL FROM api_purchases WHERE purchase_id = $1::uuid",
        )
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
    };
    assert_eq!(stored().await, (Some("erase.me@example.com".into()), false));

    let (status, body) = erase(&app, id, secret).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(stored().await, (None, true));
    let (_, view) = app.get_json(&format!("/v1/purchases/{id}")).await;
    assert_eq!(view["receipt_email_on_file"], false, "{view}");
    // Erasing again is not an error.
    assert_eq!(erase(&app, id, secret).await.0, 204);

    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    app.wait_fulfilled(id).await;
    // Stripe's events carry the address it was given (on the intent and its charge): the inbox
    // stores them without it.
    let charge = json!({
        "id": "evt_charge_with_receipt_email", "object": "event", "type": "charge.succeeded",
        "created": chrono::Utc::now().timestamp(),
        "data": {"object": {"id": "ch_1", "object": "charge", "payment_intent": pi,
            "receipt_email": "erase.me@example.com"},
            "previous_attributes": {"receipt_email": "Erase.Me@example.com"}}
    });
    let (status, body) = app
        .send_webhook(&charge, WEBHOOK_SECRET, chrono::Utc::now().timestamp())
        .await;
    assert_eq!(status, 200, "{body}");
    app.wait_idle().await;
    assert!(
        sink.messages().is_empty(),
        "no receipt to an erased address"
    );
    let copies: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM api_stripe_events WHERE lower(payload::text) LIKE '%erase.me@%') \
              + (SELECT count(*) FROM api_purchases WHERE lower(receipt_email) LIKE '%erase.me@%')",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        copies, 0,
        "no copy of the erased address is left in the database"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM api_stripe_events WHERE event_id = 'evt_charge_with_receipt_email'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM api_jobs WHERE kind = 'receipt'")
            .await,
        0
    );
}

#[tokio::test]
async fn an_smtp_outage_is_retried_and_the_receipt_sent_once() {
    let sink = SmtpSink::start().expect("aiosmtpd starts");
    // The mail server behind a link the test cuts.
    let link = RpcProxy::start(SocketAddr::from(([127, 0, 0, 1], sink.port()))).await;
    link.set_down(true);
    let app = spawn_app_with(mailing(format!("smtp://{}", link.addr))).await;
    let email = "outage@example.com";
    let view = buy(&app, Some(email)).await;
    let id = view["purchase_id"].as_str().unwrap();

    let failing = wait_view(&app, id, |v| receipt_outcomes(v).len() >= 2).await;
    assert!(
        receipt_outcomes(&failing).iter().all(|o| o == "retry"),
        "{failing:#}"
    );
    assert!(failing["receipt_sent_at"].is_null());
    assert!(sink.messages().is_empty());

    link.set_down(false);
    // Until an attempt ends the job (its record follows `receipt_sent_at` by a moment).
    let sent = wait_view(&app, id, |v| {
        receipt_outcomes(v).last().is_some_and(|o| o != "retry")
    })
    .await;
    assert_eq!(
        receipt_outcomes(&sent).last().map(String::as_str),
        Some("sent"),
        "{sent:#}"
    );
    assert!(!sent["receipt_sent_at"].is_null(), "{sent:#}");
    app.wait_idle().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "sent once after the outage");
    assert_is_receipt_of(&messages[0], &view, email);
}
