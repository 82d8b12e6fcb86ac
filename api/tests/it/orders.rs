//! Signed resale orders relayed by the operator (issue 12 item 1): a seller whose wallet holds
//! 0 ETH lists, reprices and cancels through the API; replayed, forged and expired orders are
//! refused before anything is sent; a flood from one wallet gets 429.

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use serde_json::{Value, json};
use tangible_chain::orders::{Order, OrderAction, domain};

use crate::helpers::{Options, PRICE, QUALITY, TestApp, mined, spawn_app, spawn_app_with};

/// A fresh wallet (no ETH) owning a licence bought in stablecoin by buyer 0 as a gift.
pub(crate) async fn seller_with_licence(app: &TestApp) -> (PrivateKeySigner, U256) {
    let seller = PrivateKeySigner::random();
    let payer = app.chain.buyer(0).address();
    let market = app.chain.market();
    let r = mined(
        market
            .buyPrimary(app.chain.film_id, QUALITY, PRICE, seller.address())
            .from(payer),
    )
    .await;
    let licence = r
        .decoded_log::<tangible_chain::bindings::TangibleMarket::LicenceMinted>()
        .unwrap()
        .licenceId;
    (seller, licence)
}

pub(crate) fn signed(app: &TestApp, key: &PrivateKeySigner, order: &Order) -> String {
    let d = domain(
        app.chain.deployment.chain_id,
        app.chain.deployment.contracts.market,
    );
    let sig = key.sign_hash_sync(&order.digest(&d)).unwrap();
    alloy::hex::encode_prefixed(sig.as_bytes())
}

pub(crate) fn in_an_hour() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap() + 3600
}

/// Transactions the operator (anvil's account 0) has sent.
async fn operator_sent(app: &TestApp) -> u64 {
    let operator = app.chain.keys[0].address();
    app.chain
        .provider
        .get_transaction_count(operator)
        .await
        .unwrap()
}

pub(crate) async fn nonce(app: &TestApp, who: Address) -> u32 {
    app.chain.market().orderNonce(who).call().await.unwrap()
}

pub(crate) async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let r = app
        .http
        .request(method, app.url(path))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_seller_without_eth_lists_reprices_and_cancels_by_signed_orders() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let (key, licence) = seller_with_licence(&app).await;
    let seller = key.address();
    let eth = |a| app.chain.provider.get_balance(a);
    assert_eq!(
        eth(seller).await.unwrap(),
        U256::ZERO,
        "the seller holds no ETH"
    );
    let (_, account) = app.get_json(&format!("/v1/accounts/{seller}")).await;
    assert_eq!(account["order_nonce"], 0, "{account}");

    // List at 8.00 €.
    let deadline = in_an_hour();
    let order = Order::new(seller, OrderAction::List, licence, 800, 0, deadline);
    let body = json!({"seller_address": seller.to_string(), "licence_id": licence.to_string(),
        "price_cents": 800, "deadline": deadline, "signature": signed(&app, &key, &order)});
    let (status, listed) = send(&app, reqwest::Method::POST, "/v1/offers", &body).await;
    assert_eq!(status, 201, "{listed}");
    let offer: U256 = listed["offer_id"].as_str().unwrap().parse().unwrap();
    let on_chain = market.offer(offer).call().await.unwrap();
    assert_eq!(
        (on_chain.seller, on_chain.priceCents, on_chain.active),
        (seller, 800, true)
    );
    assert_eq!(listed["nonce"], 0);

    // The same body again: its nonce is spent, refused before sending anything.
    let (status, err) = send(&app, reqwest::Method::POST, "/v1/offers", &body).await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (422, &json!("invalid_signature")),
        "{err}"
    );
    assert_eq!(nonce(&app, seller).await, 1);

    // Someone else's signature over the seller's order: refused.
    let mallory = PrivateKeySigner::random();
    let reprice = Order::new(seller, OrderAction::Reprice, offer, 20, 1, deadline);
    let forged = json!({"seller_address": seller.to_string(), "price_cents": 20, "deadline": deadline,
        "signature": signed(&app, &mallory, &reprice)});
    let path = format!("/v1/offers/{offer}");
    let (status, err) = send(&app, reqwest::Method::PATCH, &path, &forged).await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (422, &json!("invalid_signature")),
        "{err}"
    );
    // Signed at 6.50 €, submitted at 0.20 €: refused too.
    let fair = Order::new(seller, OrderAction::Reprice, offer, 650, 1, deadline);
    let tampered = json!({"seller_address": seller.to_string(), "price_cents": 20, "deadline": deadline,
        "signature": signed(&app, &key, &fair)});
    let (status, err) = send(&app, reqwest::Method::PATCH, &path, &tampered).await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (422, &json!("invalid_signature")),
        "{err}"
    );
    // Expired.
    let past = deadline - 7200;
    let late = Order::new(seller, OrderAction::Reprice, offer, 650, 1, past);
    let expired = json!({"seller_address": seller.to_string(), "price_cents": 650, "deadline": past,
        "signature": signed(&app, &key, &late)});
    let (status, err) = send(&app, reqwest::Method::PATCH, &path, &expired).await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (422, &json!("order_expired")),
        "{err}"
    );
    assert_eq!(nonce(&app, seller).await, 1, "nothing reached the chain");
    assert_eq!(market.offer(offer).call().await.unwrap().priceCents, 800);

    // A fair reprice, then a cancellation.
    let body = json!({"seller_address": seller.to_string(), "price_cents": 650, "deadline": deadline,
        "signature": signed(&app, &key, &fair)});
    let (status, repriced) = send(&app, reqwest::Method::PATCH, &path, &body).await;
    assert_eq!(status, 200, "{repriced}");
    assert_eq!(market.offer(offer).call().await.unwrap().priceCents, 650);
    let cancel = Order::new(seller, OrderAction::Cancel, offer, 0, 2, deadline);
    let body = json!({"seller_address": seller.to_string(), "deadline": deadline,
        "signature": signed(&app, &key, &cancel)});
    let (status, cancelled) = send(&app, reqwest::Method::DELETE, &path, &body).await;
    assert_eq!(status, 200, "{cancelled}");
    assert!(!market.offer(offer).call().await.unwrap().active);
    assert_eq!(
        eth(seller).await.unwrap(),
        U256::ZERO,
        "still no ETH: the operator paid"
    );

    // A licence the signer does not own: the chain refuses, 403.
    let (other_key, _) = seller_with_licence(&app).await;
    let order = Order::new(
        other_key.address(),
        OrderAction::List,
        licence,
        800,
        0,
        deadline,
    );
    let body = json!({"seller_address": other_key.address().to_string(), "licence_id": licence.to_string(),
        "price_cents": 800, "deadline": deadline, "signature": signed(&app, &other_key, &order)});
    let (status, err) = send(&app, reqwest::Method::POST, "/v1/offers", &body).await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (403, &json!("not_owner")),
        "{err}"
    );
    // Garbage is refused at the door.
    let (status, _) = send(&app, reqwest::Method::POST, "/v1/offers",
        &json!({"seller_address": "0x0", "licence_id": "1", "price_cents": 800, "deadline": deadline, "signature": "zz"})).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn a_flood_of_orders_from_one_wallet_is_refused_with_429_and_costs_no_gas() {
    let opts = Options {
        extra: vec![
            ("THROTTLE_OPERATOR_TX_PER_WALLET_PER_HOUR", "2".to_owned()),
            ("THROTTLE_OPERATOR_TX_PER_WALLET_BURST", "2".to_owned()),
        ],
        ..Options::default()
    };
    let app = spawn_app_with(opts).await;
    let (key, licence) = seller_with_licence(&app).await;
    let seller = key.address();
    let deadline = in_an_hour();
    let order = Order::new(seller, OrderAction::List, licence, 800, 0, deadline);
    let body = json!({"seller_address": seller.to_string(), "licence_id": licence.to_string(),
        "price_cents": 800, "deadline": deadline, "signature": signed(&app, &key, &order)});
    let (status, listed) = send(&app, reqwest::Method::POST, "/v1/offers", &body).await;
    assert_eq!(status, 201, "{listed}");
    let offer = listed["offer_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/offers/{offer}");
    // Orders the chain refuses (an offer that does not exist) cost no budget: the simulation
    // refuses them before the budget is taken, so a flood of them cannot use it up.
    for _ in 0..3 {
        let o = Order::new(
            seller,
            OrderAction::Reprice,
            U256::from(999),
            900,
            1,
            deadline,
        );
        let body = json!({"seller_address": seller.to_string(), "price_cents": 900, "deadline": deadline,
            "signature": signed(&app, &key, &o)});
        let (status, err) = send(&app, reqwest::Method::PATCH, "/v1/offers/999", &body).await;
        assert_eq!(status, 404, "{err}");
    }
    let mut statuses = Vec::new();
    for n in 1..=4u32 {
        let price = 800 + u64::from(n);
        let o = Order::new(
            seller,
            OrderAction::Reprice,
            offer.parse().unwrap(),
            price,
            n.min(2),
            deadline,
        );
        let body = json!({"seller_address": seller.to_string(), "price_cents": price, "deadline": deadline,
            "signature": signed(&app, &key, &o)});
        statuses.push(send(&app, reqwest::Method::PATCH, &path, &body).await.0);
    }
    assert_eq!(
        statuses,
        [200, 429, 429, 429],
        "two transactions per hour for this wallet"
    );
    assert_eq!(
        nonce(&app, seller).await,
        2,
        "the refused orders never reached the chain"
    );
}

#[tokio::test]
async fn copies_of_one_signed_order_posted_together_reach_the_chain_once() {
    let app = spawn_app().await;
    let (key, licence) = seller_with_licence(&app).await;
    let seller = key.address();
    let sent_before = operator_sent(&app).await;
    let deadline = in_an_hour();
    let order = Order::new(seller, OrderAction::List, licence, 800, 0, deadline);
    let body = json!({"seller_address": seller.to_string(), "licence_id": licence.to_string(),
        "price_cents": 800, "deadline": deadline, "signature": signed(&app, &key, &order)});
    // A double click, or a client retrying a slow answer: the copies overlap.
    let answers = futures::future::join_all(
        (0..4).map(|_| send(&app, reqwest::Method::POST, "/v1/offers", &body)),
    )
    .await;
    let listed = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(listed, 1, "one copy lists: {answers:?}");
    for (status, err) in answers.iter().filter(|(s, _)| *s != 201) {
        let code = err["error"]["code"].as_str().unwrap_or_default();
        assert!(
            (*status, code) == (409, "order_in_flight")
                || (*status, code) == (422, "invalid_signature"),
            "a copy is refused before anything is sent (in flight, or its nonce spent): {answers:?}"
        );
    }
    let sent = operator_sent(&app).await;
    assert_eq!(
        sent - sent_before,
        1,
        "the operator sent one transaction, not one per copy"
    );
    assert_eq!(nonce(&app, seller).await, 1);
}

#[tokio::test]
async fn an_order_sent_and_not_mined_in_time_is_named_and_its_copies_are_refused() {
    let opts = Options {
        extra: vec![("RECEIPT_TIMEOUT_SECS", "2".to_owned())],
        ..Options::default()
    };
    let app = spawn_app_with(opts).await;
    let (key, licence) = seller_with_licence(&app).await;
    let seller = key.address();
    let sent_before = operator_sent(&app).await;
    // The node stops mining on its own: the relayed transaction waits in its pool.
    let _: Value = app
        .chain
        .provider
        .raw_request("evm_setAutomine".into(), [false])
        .await
        .unwrap();
    let deadline = in_an_hour();
    let order = Order::new(seller, OrderAction::List, licence, 800, 0, deadline);
    let body = json!({"seller_address": seller.to_string(), "licence_id": licence.to_string(),
        "price_cents": 800, "deadline": deadline, "signature": signed(&app, &key, &order)});
    let (status, err) = send(&app, reqwest::Method::POST, "/v1/offers", &body).await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (503, &json!("transaction_pending")),
        "{err}"
    );
    let message = err["error"]["message"].as_str().unwrap();
    let hash: alloy::primitives::B256 = message
        .split_whitespace()
        .find(|w| w.starts_with("0x"))
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("the answer names the transaction: {message}"));
    // A copy while it waits: refused, nothing more sent.
    let (status, err) = send(&app, reqwest::Method::POST, "/v1/offers", &body).await;
    assert!(
        [409, 422].contains(&status),
        "the copy is refused: {status} {err}"
    );
    let _: Value = app
        .chain
        .provider
        .raw_request("evm_mine".into(), ())
        .await
        .unwrap();
    let receipt = app
        .chain
        .provider
        .get_transaction_receipt(hash)
        .await
        .unwrap()
        .expect("the named transaction is mined");
    assert!(receipt.status(), "and it listed the licence");
    let sent = operator_sent(&app).await;
    assert_eq!(
        sent - sent_before,
        1,
        "one transaction for the order and its copy"
    );
    assert_eq!(nonce(&app, seller).await, 1);
}
