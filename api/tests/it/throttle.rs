//! Per-client rate limits: a burst of anonymous purchase creations from one client is cut at
//! the configured number — and so are the PaymentIntents at Stripe — with 429, `Retry-After`
//! and the JSON error body; another client is not; a proxy's header names the client only
//! when configured; signed-in writes have their own limit, per wallet.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use futures::StreamExt;
use serde_json::{Value, json};

use crate::auth::sign_in;
use crate::helpers::{Options, TestApp, spawn_app_with};

/// The anonymous burst the tests configure (and a sustained rate of one a minute).
const BURST: u64 = 5;

fn limited(extra: Vec<(&'static str, String)>) -> Options {
    let mut vars = vec![
        ("THROTTLE_ANONYMOUS_PER_MINUTE", "1".to_owned()),
        ("THROTTLE_ANONYMOUS_BURST", BURST.to_string()),
        ("THROTTLE_SIGNED_IN_PER_MINUTE", "1".to_owned()),
        ("THROTTLE_SIGNED_IN_BURST", "3".to_owned()),
    ];
    vars.extend(extra);
    Options {
        extra: vars,
        ..Options::default()
    }
}

/// An HTTP client whose connections come from `ip` (any 127.0.0.0/8 address is local).
fn client_from(ip: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(ip))
        .build()
        .unwrap()
}

fn purchase_body(app: &TestApp) -> Value {
    json!({"film_id": app.chain.film_id, "quality": "4k",
        "buyer_address": app.chain.buyer(0).address().to_string()})
}

/// Checks a refusal: 429, a whole `Retry-After` of at least a second, the JSON error body.
async fn assert_throttled(r: reqwest::Response) {
    assert_eq!(r.status(), 429);
    let retry_after: u64 = r
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .expect("whole seconds");
    assert!(retry_after >= 1, "Retry-After {retry_after}");
    let ct = r.headers().get("content-type").unwrap().to_str().unwrap();
    assert!(ct.starts_with("application/json"), "{ct}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
}

/// PaymentIntents the Stripe emulator holds for this app's purchases (each carries its
/// purchase id in its metadata, and the purchase row is written before the intent is asked).
async fn intents_at_stripe(app: &TestApp) -> usize {
    let ours: Vec<String> = sqlx::query_scalar("SELECT purchase_id::text FROM api_purchases")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    let list = app.stripe.get("/v1/payment_intents?limit=1000000").await;
    list["data"]
        .as_array()
        .expect("a list of PaymentIntents")
        .iter()
        .filter(|pi| {
            pi["metadata"]["purchase_id"]
                .as_str()
                .is_some_and(|id| ours.iter().any(|o| o == id))
        })
        .count()
}

#[tokio::test]
async fn a_burst_of_anonymous_purchases_is_cut_at_the_limit_and_other_clients_are_not() {
    let app = spawn_app_with(limited(vec![])).await;
    let body = purchase_body(&app);
    let started = Instant::now();
    let answers: Vec<reqwest::Response> = futures::stream::iter(0..400)
        .map(|_| app.http.post(app.url("/v1/purchases")).json(&body).send())
        .buffer_unordered(32)
        .map(Result::unwrap)
        .collect()
        .await;
    // One more token a minute: what the limit allows over the time the burst took.
    let allowed = BURST + started.elapsed().as_secs() / 60;
    let created = answers.iter().filter(|r| r.status() == 201).count() as u64;
    let mut throttled = 0u64;
    for r in answers {
        match r.status().as_u16() {
            201 => {}
            429 => {
                throttled += 1;
                assert_throttled(r).await;
            }
            other => panic!("unexpected {other}: {}", r.text().await.unwrap_or_default()),
        }
    }
    assert!(
        (1..=allowed).contains(&created),
        "{created} created, {allowed} allowed"
    );
    assert_eq!(created + throttled, 400);
    assert_eq!(
        app.count("SELECT count(*) FROM api_purchases").await as u64,
        created
    );
    assert_eq!(intents_at_stripe(&app).await as u64, created);

    // The same client naming another address in X-Forwarded-For (not trusted by default) is
    // still throttled.
    let r = app
        .http
        .post(app.url("/v1/purchases"))
        .header("x-forwarded-for", "198.51.100.77")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_throttled(r).await;

    // Another client is not throttled.
    let other = client_from(Ipv4Addr::new(127, 0, 0, 2));
    let r = other
        .post(app.url("/v1/purchases"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    assert_eq!(intents_at_stripe(&app).await as u64, created + 1);

    // Refusals are counted per route.
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("http_requests_throttled_total")
                && l.contains("path=\"/v1/purchases\"")
                && l.contains("class=\"anonymous\"")),
        "no refusal counter in:\n{metrics}"
    );
}

#[tokio::test]
async fn a_configured_proxy_header_names_the_client() {
    let app = spawn_app_with(limited(vec![(
        "THROTTLE_CLIENT_IP_HEADER",
        "x-forwarded-for".to_owned(),
    )]))
    .await;
    let nonce = |forwarded: &'static str| {
        app.http
            .post(app.url("/v1/auth/nonce"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"address": app.chain.buyer(0).address().to_string()}))
            .send()
    };
    for _ in 0..BURST {
        assert_eq!(
            nonce("203.0.113.1, 198.51.100.1").await.unwrap().status(),
            200
        );
    }
    // The client's own part of the list (before the proxy's last entry) does not matter.
    assert_throttled(nonce("203.0.113.2, 198.51.100.1").await.unwrap()).await;
    assert_throttled(nonce("198.51.100.1").await.unwrap()).await;
    // Another address the proxy names is another client, though the TCP peer is the same.
    assert_eq!(nonce("198.51.100.2").await.unwrap().status(), 200);
}

#[tokio::test]
async fn signed_in_writes_have_their_own_limit_per_wallet() {
    let app = spawn_app_with(limited(vec![])).await;
    let alice = sign_in(&app, app.chain.buyer(0)).await;
    let bob = sign_in(&app, app.chain.buyer(1)).await;
    // This client's anonymous purchase limit is used up ...
    let body = purchase_body(&app);
    for _ in 0..BURST {
        let (status, body) = app.post_json("/v1/purchases", &body).await;
        assert_eq!(status, 201, "{body}");
    }
    let r = app
        .http
        .post(app.url("/v1/purchases"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_throttled(r).await;

    // ... which does not touch its signed-in writes: three (the signed-in burst) go through
    // (to the handler, which refuses the empty body), the fourth is throttled.
    let register = |token: &str| {
        app.http
            .post(app.url("/v1/studios"))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(register(&alice).await.unwrap().status(), 422);
    }
    assert_throttled(register(&alice).await.unwrap()).await;
    // Another wallet from the same address has its own limit.
    assert_eq!(register(&bob).await.unwrap().status(), 422);
    // Another signed-in route has its own limit too.
    let r = app
        .http
        .post(app.url("/v1/editions/1-4k/withdraw"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 429);
}
