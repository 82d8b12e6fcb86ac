//! Who can hold a licence (audit M-1a): a licence's film key is released only to an owner that
//! signs in with its key, and a contract's control can change hands with no sale. So the API
//! mints no licence to a contract: a card purchase or a credit purchase naming one is refused
//! before anything is charged or sent. An EIP-7702 account (its code only a delegation
//! designator, a private key still in control) is a wallet and is served.

use alloy::primitives::{Address, Bytes};
use alloy::providers::Provider;
use serde_json::{Value, json};

use crate::helpers::{QUALITY, TestApp, spawn_app};

async fn set_code(app: &TestApp, who: Address, code: Bytes) {
    let _: Value = app
        .chain
        .provider
        .raw_request("anvil_setCode".into(), (who, code))
        .await
        .unwrap();
}

async fn card_purchase(app: &TestApp, buyer: Address) -> (u16, Value) {
    let (status, body) = app
        .post_json(
            "/v1/purchases",
            &json!({"film_id": app.chain.film_id, "quality": "4k", "buyer_address": buyer.to_string()}),
        )
        .await;
    (status.as_u16(), body)
}

/// A 422 `invalid_field` whose message names `what`.
fn assert_refused(status: u16, err: &Value, what: &str) {
    assert_eq!(
        (status, &err["error"]["code"]),
        (422, &json!("invalid_field")),
        "{err}"
    );
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains(what), "{err}");
}

#[tokio::test]
async fn no_licence_is_sold_to_a_contract_and_an_eip7702_account_is_a_wallet() {
    let app = spawn_app().await;
    assert_eq!(QUALITY, 2, "the fixture's edition is 4K");

    // The market itself, and any account with contract code: refused, nothing created.
    let market = app.chain.deployment.contracts.market;
    let (status, err) = card_purchase(&app, market).await;
    assert_refused(status, &err, "is a contract");
    let vault = Address::repeat_byte(0x5a);
    set_code(
        &app,
        vault,
        Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0xfd]),
    )
    .await;
    let (status, err) = card_purchase(&app, vault).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(app.count("SELECT count(*) FROM api_purchases").await, 0);

    // An EIP-7702 account: 0xef0100 followed by its delegate's address.
    let delegated = Address::repeat_byte(0x7d);
    let mut designator = vec![0xef, 0x01, 0x00];
    designator.extend_from_slice(market.as_slice());
    set_code(&app, delegated, Bytes::from(designator)).await;
    let (status, created) = card_purchase(&app, delegated).await;
    assert_eq!(status, 201, "{created}");

    // A credit purchase for a contract recipient: refused before the signature is even read.
    let buyer = app.chain.buyer(0).address();
    let (status, err) = app
        .post_json(
            &format!("/v1/accounts/{buyer}/purchases"),
            &json!({"edition_id": format!("{}-4k", app.chain.film_id), "price_cents": 1300,
                "recipient_address": vault.to_string(), "deadline": 4_000_000_000u64,
                "signature": format!("0x{}", "11".repeat(65))}),
        )
        .await;
    assert_refused(status.as_u16(), &err, "recipient_address");
}
