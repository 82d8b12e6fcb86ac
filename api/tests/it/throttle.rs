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

/// Sends `body` to `POST /v1/purchases` from `client`.
async fn purchase_from(app: &TestApp, client: &reqwest::Client, body: &Value) -> reqwest::Response {
    client
        .post(app.url("/v1/purchases"))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn payment_intent_creations_have_a_global_cap_that_many_addresses_do_not_lift() {
    // Each address stays within its own burst (5); together they would create 20 intents.
    const CAP: u64 = 8;
    let app = spawn_app_with(limited(vec![(
        "THROTTLE_PAYMENT_INTENTS_PER_MINUTE",
        CAP.to_string(),
    )]))
    .await;
    let body = purchase_body(&app);
    let started = Instant::now();
    let mut answers = Vec::new();
    for host in 2..6u8 {
        let client = client_from(Ipv4Addr::new(127, 0, 0, host));
        for _ in 0..BURST {
            answers.push(purchase_from(&app, &client, &body).await);
        }
    }
    // The cap refills CAP tokens a minute.
    let allowed = CAP + started.elapsed().as_secs() * CAP / 60;
    let created = answers.iter().filter(|r| r.status() == 201).count() as u64;
    for r in answers {
        match r.status().as_u16() {
            201 => {}
            429 => assert_throttled(r).await,
            other => panic!("unexpected {other}: {}", r.text().await.unwrap_or_default()),
        }
    }
    assert!(
        (CAP..=allowed).contains(&created),
        "{created} created from 4 addresses, the global cap is {CAP} (up to {allowed} with refill)"
    );
    assert_eq!(intents_at_stripe(&app).await as u64, created);
    // A refused request (invalid) does not spend the cap: only creations count, so junk
    // requests cannot lock buyers out. (Checked after the cap is spent: still a 422, not 429.)
    let client = client_from(Ipv4Addr::new(127, 0, 0, 9));
    let r = client
        .post(app.url("/v1/purchases"))
        .json(&json!({"film_id": app.chain.film_id, "quality": "8k",
            "buyer_address": app.chain.buyer(0).address().to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("http_requests_throttled_total")
                && l.contains("class=\"payment_intents\"")),
        "no refusal counter in:\n{metrics}"
    );
}

#[tokio::test]
async fn polling_a_purchase_is_limited_per_client() {
    const POLL_BURST: usize = 10;
    let app = spawn_app_with(limited(vec![
        ("THROTTLE_POLLING_PER_MINUTE", "1".to_owned()),
        ("THROTTLE_POLLING_BURST", POLL_BURST.to_string()),
    ]))
    .await;
    let created = app.create_purchase(app.chain.buyer(0).address()).await;
    let path = format!("/v1/purchases/{}", created["purchase_id"].as_str().unwrap());
    let mut statuses = Vec::new();
    for _ in 0..3 * POLL_BURST {
        let r = app.http.get(app.url(&path)).send().await.unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert_throttled(r).await;
        }
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        (1..=POLL_BURST + 1).contains(&ok)
            && ok + statuses.iter().filter(|s| **s == 429).count() == statuses.len(),
        "{statuses:?}"
    );
    // Another client polls freely.
    let other = client_from(Ipv4Addr::new(127, 0, 0, 3));
    let r = other.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn stripe_reads_caused_by_polling_are_capped_per_second() {
    const READS: u64 = 2;
    const PURCHASES: usize = 12;
    let app = spawn_app_with(Options {
        extra: vec![
            ("THROTTLE_STRIPE_READS_PER_SECOND", READS.to_string()),
            // Every GET may read (one second after creation); the sweeper stays away.
            ("RECONCILE_ON_READ_SECS", "1".to_owned()),
            ("RECONCILE_INTERVAL_SECS", "3600".to_owned()),
            ("RECONCILE_AFTER_SECS", "3600".to_owned()),
        ],
        ..Options::default()
    })
    .await;
    let mut ids = Vec::new();
    for _ in 0..PURCHASES {
        let p = app.create_purchase(app.chain.buyer(0).address()).await;
        ids.push(p["purchase_id"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let started = Instant::now();
    let app = &app;
    let answers: Vec<reqwest::StatusCode> = futures::stream::iter(ids.iter())
        .map(|id| async move {
            app.http
                .get(app.url(&format!("/v1/purchases/{id}")))
                .send()
                .await
                .unwrap()
                .status()
        })
        .buffer_unordered(PURCHASES)
        .collect()
        .await;
    // Every poll is answered (with the stored state when Stripe is not asked).
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    let allowed = READS + started.elapsed().as_secs() * READS + READS;
    // A purchase read from Stripe has its read time stamped.
    let read = app
        .count("SELECT count(*) FROM api_purchases WHERE stripe_checked_at IS NOT NULL")
        .await as u64;
    assert!(
        (1..=allowed).contains(&read),
        "{read} of {PURCHASES} polls read Stripe; the cap allows {allowed}"
    );
}

#[tokio::test]
async fn card_attempts_on_one_purchase_are_capped() {
    let app = spawn_app_with(limited(vec![(
        "THROTTLE_CARD_ATTEMPTS_PER_PURCHASE_PER_HOUR",
        "2".to_owned(),
    )]))
    .await;
    let p = app.create_purchase(app.chain.buyer(0).address()).await;
    let q = app.create_purchase(app.chain.buyer(1).address()).await;
    let pay = |p: &Value, card: String| {
        let path = format!(
            "/v1/purchases/{}/payment-method",
            p["purchase_id"].as_str().unwrap()
        );
        let body = json!({"payment_method": card, "client_secret": p["client_secret"]});
        app.http.post(app.url(&path)).json(&body).send()
    };
    // A carder tries card after card on one purchase: two reach Stripe, the third is refused.
    for _ in 0..2 {
        let card = app
            .stripe
            .payment_method(crate::purchases::CARD_DECLINED)
            .await;
        let r = pay(&p, card).await.unwrap();
        assert_ne!(r.status(), 429, "{}", r.text().await.unwrap_or_default());
    }
    let card = app.stripe.payment_method(crate::purchases::CARD_OK).await;
    assert_throttled(pay(&p, card).await.unwrap()).await;
    // Another purchase has its own attempts.
    let card = app.stripe.payment_method(crate::purchases::CARD_OK).await;
    let r = pay(&q, card).await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

#[tokio::test]
async fn operator_transactions_have_a_budget_per_wallet_and_in_total() {
    use alloy::providers::Provider;
    use alloy::signers::local::PrivateKeySigner;
    let app = spawn_app_with(Options {
        extra: vec![
            ("THROTTLE_OPERATOR_TX_PER_WALLET_PER_HOUR", "1".to_owned()),
            ("THROTTLE_OPERATOR_TX_PER_WALLET_BURST", "2".to_owned()),
            ("THROTTLE_OPERATOR_TX_PER_HOUR", "4".to_owned()),
        ],
        ..Options::default()
    })
    .await;
    let operator = app.chain.keys[0].address();
    let sent_before = app
        .chain
        .provider
        .get_transaction_count(operator)
        .await
        .unwrap();
    // Fresh wallets: signing in and applying for a studio cost an attacker nothing (no
    // transaction: a platform admin decides).
    let wallets: Vec<PrivateKeySigner> = (0..3).map(|_| PrivateKeySigner::random()).collect();
    let mut tokens = Vec::new();
    for w in &wallets {
        tokens.push(sign_in(&app, w).await);
    }
    for (token, wallet) in tokens.iter().zip(&wallets) {
        let r = app
            .http
            .post(app.url("/v1/studios"))
            .bearer_auth(token)
            .json(
                &json!({"name": "Spam Pictures", "royalty_address": wallet.address().to_string()}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    }
    // The platform admin registers studios for two of them (its burst of 2), then is refused.
    let platform = sign_in(&app, &app.chain.keys[0].clone()).await;
    let register_for = |wallet: &PrivateKeySigner| {
        app.http
            .post(app.url("/v1/studios"))
            .bearer_auth(&platform)
            .json(
                &json!({"name": "Partner", "royalty_address": wallet.address().to_string(),
                          "admin_address": wallet.address().to_string()}),
            )
            .send()
    };
    let mut studios = Vec::new();
    for w in &wallets[..2] {
        let r = register_for(w).await.unwrap();
        assert_eq!(r.status(), 201);
        studios.push(
            r.json::<Value>().await.unwrap()["studio_id"]
                .as_u64()
                .unwrap(),
        );
    }
    assert_throttled(register_for(&wallets[2]).await.unwrap()).await;
    // The first studio's admin: two films (its own burst; the global budget's last two).
    let film = |token: &str, studio: u64| {
        app.http
            .post(app.url(&format!("/v1/studios/{studio}/films")))
            .bearer_auth(token)
            .json(&json!({"title": "Spam", "year": 2020}))
            .send()
    };
    for _ in 0..2 {
        let r = film(&tokens[0], studios[0]).await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }
    // The second studio's admin, its own budget untouched: the global budget refuses it.
    assert_throttled(film(&tokens[1], studios[1]).await.unwrap()).await;
    let sent = app
        .chain
        .provider
        .get_transaction_count(operator)
        .await
        .unwrap()
        - sent_before;
    assert_eq!(sent, 4, "operator transactions sent");
    let metrics = app.metrics().await;
    for class in ["operator_tx_wallet", "operator_tx_global"] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("http_requests_throttled_total")
                    && l.contains(&format!("class=\"{class}\""))),
            "no {class} refusal counted in:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn repeated_payment_calls_that_only_read_the_intent_count_as_card_attempts() {
    let app = spawn_app_with(limited(vec![(
        "THROTTLE_CARD_ATTEMPTS_PER_PURCHASE_PER_HOUR",
        "2".to_owned(),
    )]))
    .await;
    let p = app.create_purchase(app.chain.buyer(0).address()).await;
    let path = format!(
        "/v1/purchases/{}/payment-method",
        p["purchase_id"].as_str().unwrap()
    );
    let card = app.stripe.payment_method(crate::purchases::CARD_OK).await;
    let body = json!({"payment_method": card, "client_secret": p["client_secret"]});
    let r = app
        .http
        .post(app.url(&path))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    // Paid: a repeated call charges nothing but still reads the PaymentIntent from Stripe, so it
    // counts too (else one client secret is one Stripe read per request, for ever).
    let r = app
        .http
        .post(app.url(&path))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    assert_throttled(
        app.http
            .post(app.url(&path))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn fresh_wallets_from_one_address_share_its_signed_in_limit() {
    use alloy::signers::local::PrivateKeySigner;
    // Each wallet may make 3 signed-in writes at once; one address 5, whatever its wallets.
    let app = spawn_app_with(limited(vec![
        ("THROTTLE_SIGNED_IN_PER_ADDRESS_PER_MINUTE", "1".to_owned()),
        ("THROTTLE_SIGNED_IN_PER_ADDRESS_BURST", "5".to_owned()),
    ]))
    .await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        // Signing in costs nothing: a new wallet, a new per-wallet budget.
        let token = sign_in(&app, &PrivateKeySigner::random()).await;
        for _ in 0..3 {
            let r = app
                .http
                .post(app.url("/v1/licences/1/key"))
                .bearer_auth(&token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            answers.push(r);
        }
    }
    let mut passed = 0;
    for r in answers {
        if r.status() == 429 {
            assert_throttled(r).await;
        } else {
            passed += 1;
        }
    }
    assert!(
        (1..=6).contains(&passed),
        "{passed} of 9 signed-in writes from one address passed"
    );
    // Another address is not refused.
    let token = sign_in(&app, &PrivateKeySigner::random()).await;
    let r = client_from(Ipv4Addr::new(127, 0, 0, 4))
        .post(app.url("/v1/licences/1/key"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 429);
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("http_requests_throttled_total")
                && l.contains("class=\"signed_in_address\"")),
        "no refusal counter in:\n{metrics}"
    );
}

#[tokio::test]
async fn a_proxy_header_from_a_peer_that_is_not_a_trusted_proxy_is_ignored() {
    // The header is configured, but the API is reached directly (its port left open): the
    // peer, 127.0.0.1, is not one of the trusted proxies, so the header names nobody.
    let app = spawn_app_with(limited(vec![
        ("THROTTLE_CLIENT_IP_HEADER", "x-forwarded-for".to_owned()),
        (
            "THROTTLE_TRUSTED_PROXIES",
            "10.0.0.0/8, 192.0.2.1".to_owned(),
        ),
    ]))
    .await;
    let mut statuses = Vec::new();
    for i in 0..2 * BURST {
        // A new address per request, as a spoofer would send.
        let r = app
            .http
            .post(app.url("/v1/auth/nonce"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .json(&json!({"address": app.chain.buyer(0).address().to_string()}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    let ok = statuses.iter().filter(|s| **s == 200).count() as u64;
    assert_eq!(ok, BURST, "{statuses:?}");
}
