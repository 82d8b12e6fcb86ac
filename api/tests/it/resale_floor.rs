//! The resale floor (contracts v2, audit M-1b) through the API: the catalogue shows each
//! edition's floor; a signed listing below it is refused with `price_below_floor` before any
//! gas is spent, and a card purchase of an offer listed before the floor was raised is refused
//! before anyone is charged.

use alloy::primitives::U256;
use alloy::providers::Provider;
use serde_json::json;
use tangible_chain::orders::{Order, OrderAction};
use tangible_testkit::roles;

use crate::catalogue::index;
use crate::helpers::{PRICE, QUALITY, mined, spawn_app};
use crate::orders::{in_an_hour, nonce, seller_with_licence, send, signed};

#[tokio::test]
async fn listings_and_card_purchases_below_the_resale_floor_are_refused_and_the_floor_is_shown() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let operator = app.chain.keys[0].address();
    let film = app.chain.film_id;
    let floor = PRICE / 2; // the largest the contract allows

    // An offer listed at 3.00 € before the studio sets a floor (signed, relayed).
    let (early_key, early_licence) = seller_with_licence(&app).await;
    let early = early_key.address();
    let deadline = in_an_hour();
    let order = Order::new(early, OrderAction::List, early_licence, 300, 0, deadline);
    let body = json!({"seller_address": early.to_string(), "licence_id": early_licence.to_string(),
        "price_cents": 300, "deadline": deadline, "signature": signed(&app, &early_key, &order)});
    let (status, listed) = send(&app, reqwest::Method::POST, "/v1/offers", &body).await;
    assert_eq!(status, 201, "{listed}");
    let early_offer = listed["offer_id"].as_str().unwrap().to_owned();

    // Set by the studio's admin (the operator's key is the API's: its nonces are the API's).
    let studio_admin = app.chain.keys[roles::STUDIO_ADMIN].address();
    mined(
        market
            .setResaleFloor(film, QUALITY, floor)
            .from(studio_admin),
    )
    .await;

    // A signed listing below the floor: refused, the nonce unspent, no transaction sent.
    let (key, licence) = seller_with_licence(&app).await;
    let seller = key.address();
    let sent = app
        .chain
        .provider
        .get_transaction_count(operator)
        .await
        .unwrap();
    let order = Order::new(seller, OrderAction::List, licence, floor - 1, 0, deadline);
    let body = json!({"seller_address": seller.to_string(), "licence_id": licence.to_string(),
        "price_cents": floor - 1, "deadline": deadline, "signature": signed(&app, &key, &order)});
    let (status, err) = send(&app, reqwest::Method::POST, "/v1/offers", &body).await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (422, &json!("price_below_floor")),
        "{err}"
    );
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains(&floor.to_string()), "{message}");
    assert_eq!(nonce(&app, seller).await, 0);
    assert_eq!(
        app.chain
            .provider
            .get_transaction_count(operator)
            .await
            .unwrap(),
        sent,
        "no gas spent on a refused order"
    );
    // At the floor: listed.
    let order = Order::new(seller, OrderAction::List, licence, floor, 0, deadline);
    let body = json!({"seller_address": seller.to_string(), "licence_id": licence.to_string(),
        "price_cents": floor, "deadline": deadline, "signature": signed(&app, &key, &order)});
    let (status, listed) = send(&app, reqwest::Method::POST, "/v1/offers", &body).await;
    assert_eq!(status, 201, "{listed}");
    let at_floor_offer = listed["offer_id"].as_str().unwrap().to_owned();

    // The offer listed before the floor cannot be bought by card: refused before any charge.
    let buyer = app.chain.buyer(1).address();
    let (status, err) = app
        .post_json(
            &format!("/v1/offers/{early_offer}/purchases"),
            &json!({"buyer_address": buyer.to_string()}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), &err["error"]["code"]),
        (409, &json!("price_below_floor")),
        "{err}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM api_purchases").await,
        0,
        "no purchase, no payment intent"
    );
    let on_chain = market
        .offer(early_offer.parse::<U256>().unwrap())
        .call()
        .await
        .unwrap();
    assert!(
        on_chain.active,
        "the offer stays, for its seller to reprice"
    );

    // The catalogue shows the floor of each edition, and which active offers it leaves
    // unbuyable: the one listed before it, not the one listed at it.
    index(&app).await;
    let (status, offers) = app
        .get_json(&format!("/v1/offers?film_id={film}&status=active"))
        .await;
    assert_eq!(status, 200, "{offers}");
    let below: Vec<(String, bool)> = offers["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["offer_id"].as_str().unwrap().to_owned(),
                o["below_floor"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(below.contains(&(early_offer.clone(), true)), "{offers}");
    assert!(below.contains(&(at_floor_offer.clone(), false)), "{offers}");
    let (_, one) = app.get_json(&format!("/v1/offers/{early_offer}")).await;
    assert_eq!(one["below_floor"], json!(true), "{one}");
    let (status, view) = app.get_json(&format!("/v1/films/{film}")).await;
    assert_eq!(status, 200, "{view}");
    let editions = view["editions"].as_array().unwrap();
    let floors: Vec<(String, i64)> = editions
        .iter()
        .map(|e| {
            (
                e["quality"].as_str().unwrap().to_owned(),
                e["resale_floor_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(floors.contains(&("4k".to_owned(), floor as i64)), "{view}");
    assert!(
        floors
            .iter()
            .filter(|(q, _)| q != "4k")
            .all(|(_, f)| *f == 0),
        "{view}"
    );
}
