//! The API sells only editions it serves: a card purchase, a card resale or a credit order of an
//! edition whose master was never uploaded here (or changed on chain since) is refused before
//! anything is charged or sent, and a paid purchase waits until the master is served.

use std::time::{Duration, Instant};

use alloy::primitives::{U256, keccak256};
use serde_json::{Value, json};
use tangible_chain::bindings::TangibleMarket;

use crate::helpers::{PRICE, QUALITY, mined, spawn_app};
use crate::purchases::{CARD_OK, settlements_on_chain};

/// An edition registered on chain whose master this deployment does not serve (never
/// uploaded, or the hash changed on chain since) is not sold through the API, by card or with
/// credit, nor are offers of its licences: the buyer would pay for a film nobody can download.
/// Nothing is recorded and no PaymentIntent is created; once the master is served, it sells.
#[tokio::test]
async fn editions_whose_master_is_not_served_are_not_sold() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let film = app.chain.film_id;
    let admin = app.chain.studio_admin;
    let buyer = app.chain.buyer(1).address().to_string();
    let refused = |(status, body): (reqwest::StatusCode, Value)| {
        assert_eq!(
            (status.as_u16(), &body["error"]["code"]),
            (409, &json!("content_unavailable")),
            "{body}"
        );
    };
    // An HD edition registered on chain only.
    mined(
        market
            .registerEdition(film, 1, keccak256("hd master"), 900)
            .from(admin),
    )
    .await;
    let primary = json!({"film_id": film, "quality": "hd", "buyer_address": buyer});
    refused(app.post_json("/v1/purchases", &primary).await);
    // Its licence, bought on chain in stablecoin, then offered: its resale is not sold either.
    let seller = app.chain.buyer(0).address();
    let r = mined(market.buyPrimary(film, 1, 900, seller).from(seller)).await;
    let licence = r
        .decoded_log::<TangibleMarket::LicenceMinted>()
        .unwrap()
        .licenceId;
    let r = mined(market.list(licence, 800).from(seller)).await;
    let offer = r
        .decoded_log::<TangibleMarket::OfferListed>()
        .unwrap()
        .offerId;
    let resale = json!({"buyer_address": buyer});
    refused(
        app.post_json(&format!("/v1/offers/{offer}/purchases"), &resale)
            .await,
    );
    // Nor with credit, by well-signed orders of an account that holds enough (an edition, an
    // offer): refused after the signature and the chain's simulation, before anything is sent.
    let key = app.chain.buyer(2).clone();
    let account = key.address();
    let units = market.unitsPerCent().call().await.unwrap() * U256::from(2_000);
    let euro = tangible_chain::bindings::TestEuro::new(
        app.chain.deployment.contracts.stablecoin,
        app.chain.provider.clone(),
    );
    mined(
        euro.approve(app.chain.deployment.contracts.market, units)
            .from(account),
    )
    .await;
    mined(market.deposit(units).from(account)).await;
    let deadline = crate::orders::in_an_hour();
    let path = format!("/v1/accounts/{account}/purchases");
    let orders = [
        (
            tangible_chain::orders::CreditAction::BuyPrimary,
            tangible_chain::orders::edition_target(film, 1),
            900,
            json!({"edition_id": format!("{film}-hd")}),
        ),
        (
            tangible_chain::orders::CreditAction::BuyOffer,
            offer,
            800,
            json!({"offer_id": offer.to_string()}),
        ),
    ];
    for (action, target, price, what) in orders {
        let order = tangible_chain::orders::CreditOrder::new(
            account,
            action,
            (target, price, account),
            0,
            deadline,
        );
        let mut body = json!({"price_cents": price, "deadline": deadline,
            "signature": crate::credit::signed_credit(&app, &key, &order)});
        body.as_object_mut()
            .unwrap()
            .extend(what.as_object().unwrap().clone());
        refused(app.post_json(&path, &body).await);
    }
    assert_eq!(
        market.orderNonce(account).call().await.unwrap(),
        0,
        "nothing was sent"
    );
    // The fixture's 4K edition is served, until its master hash changes on chain (allowed
    // before its first sale) and no upload follows. A purchase created before the change and
    // paid after it is not settled meanwhile: its settlement is retried.
    let fourk = json!({"film_id": film, "quality": "4k", "buyer_address": buyer});
    let (status, early) = app.post_json("/v1/purchases", &fourk).await;
    assert_eq!(status, 201, "{early}");
    mined(
        market
            .updateEdition(
                film,
                QUALITY,
                keccak256("other master"),
                PRICE,
                "re-cut".into(),
            )
            .from(admin),
    )
    .await;
    refused(app.post_json("/v1/purchases", &fourk).await);
    assert_eq!(app.count("SELECT count(*) FROM api_purchases").await, 1);
    let early_id = early["purchase_id"].as_str().unwrap();
    let pi = early["payment_intent_id"].as_str().unwrap();
    assert_eq!(app.stripe.pay(pi, CARD_OK).await, 200);
    let retried = Instant::now() + Duration::from_secs(30);
    while app
        .count("SELECT count(*) FROM api_settlement_attempts WHERE outcome = 'retry' AND detail LIKE '%not the one this deployment serves%'")
        .await
        == 0
    {
        assert!(Instant::now() < retried, "the settlement was never retried");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, view) = app.get_json(&format!("/v1/purchases/{early_id}")).await;
    assert_eq!(view["state"], "settling", "{view:#}");
    assert_eq!(
        settlements_on_chain(&app, keccak256(pi.as_bytes())).await,
        0,
        "not settled while the master is not served"
    );
    // The re-cut's upload is recorded: the paid purchase settles.
    sqlx::query(
        "UPDATE api_edition_content SET master_hash = $2 WHERE film_id = $1 AND quality = 2",
    )
    .bind(i64::try_from(film).unwrap())
    .bind(keccak256("other master").to_string())
    .execute(app.db.pool())
    .await
    .unwrap();
    app.wait_fulfilled(early_id).await;

    // Served once its upload is recorded: both sell.
    app.serve_edition(film, 1, keccak256("hd master")).await;
    let (status, body) = app.post_json("/v1/purchases", &primary).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .post_json(&format!("/v1/offers/{offer}/purchases"), &resale)
        .await;
    assert_eq!(status, 201, "{body}");
}
