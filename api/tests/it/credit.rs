//! Credit spent and withdrawn without ETH (issue 12 item 2): a seller whose wallet holds 0 ETH
//! resells, buys an offer with its proceeds and withdraws the rest to another address, each
//! by a signed credit order the operator relays; replayed, tampered, stale-priced and
//! uncovered orders are refused before anything is sent; a studio's admin collects its
//! earnings through the API.

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use reqwest::Method;
use serde_json::{Value, json};
use tangible_chain::bindings::{TangibleMarket, TestEuro};
use tangible_chain::orders::{CreditAction, CreditOrder, Order, OrderAction, domain};
use tangible_testkit::roles;

use crate::auth::sign_in;
use crate::catalogue::index;
use crate::helpers::{PRICE, QUALITY, TestApp, mined, spawn_app};
use crate::orders::{in_an_hour, nonce, seller_with_licence, send, signed};

pub(crate) fn signed_credit(app: &TestApp, key: &PrivateKeySigner, order: &CreditOrder) -> String {
    let d = domain(
        app.chain.deployment.chain_id,
        app.chain.deployment.contracts.market,
    );
    let sig = key.sign_hash_sync(&order.digest(&d)).unwrap();
    alloy::hex::encode_prefixed(sig.as_bytes())
}

async fn stablecoin(app: &TestApp, who: Address) -> U256 {
    TestEuro::new(
        app.chain.deployment.contracts.stablecoin,
        app.chain.provider.clone(),
    )
    .balanceOf(who)
    .call()
    .await
    .unwrap()
}

fn code(v: &Value) -> &Value {
    &v["error"]["code"]
}

#[tokio::test]
async fn a_seller_without_eth_spends_and_withdraws_its_proceeds_by_signed_orders() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let per_cent = market.unitsPerCent().call().await.unwrap();
    let (key, licence) = seller_with_licence(&app).await;
    let seller = key.address();
    let eth = |a| app.chain.provider.get_balance(a);
    assert_eq!(eth(seller).await.unwrap(), U256::ZERO);

    // The seller lists at 8.00 € by a signed order; buyer 1 buys in stablecoin (clears at
    // once): 6.40 € of credit.
    let deadline = in_an_hour();
    let list = Order::new(seller, OrderAction::List, licence, 800, 0, deadline);
    let body = json!({"seller_address": seller.to_string(), "licence_id": licence.to_string(),
        "price_cents": 800, "deadline": deadline, "signature": signed(&app, &key, &list)});
    let (status, listed) = send(&app, Method::POST, "/v1/offers", &body).await;
    assert_eq!(status, 201, "{listed}");
    let offer: U256 = listed["offer_id"].as_str().unwrap().parse().unwrap();
    let bob = app.chain.buyer(1).address();
    mined(market.buyOffer(offer, 800, bob).from(bob)).await;
    assert_eq!(
        market.balanceOfCredit(seller).call().await.unwrap(),
        U256::from(640) * per_cent
    );

    // Bob lists the licence he bought at 5.00 €; the seller buys it back with its credit.
    let r = mined(market.list(licence_of_bob(&app, bob).await, 500).from(bob)).await;
    let bobs_offer = r
        .decoded_log::<TangibleMarket::OfferListed>()
        .unwrap()
        .offerId;
    let path = format!("/v1/accounts/{seller}/purchases");
    // Signed at a stale price (4.00 €): refused on chain's simulation, nothing sent.
    let stale = CreditOrder::new(
        seller,
        CreditAction::BuyOffer,
        (bobs_offer, 400, seller),
        1,
        deadline,
    );
    let body = json!({"offer_id": bobs_offer.to_string(), "price_cents": 400, "deadline": deadline,
        "signature": signed_credit(&app, &key, &stale)});
    let (status, err) = send(&app, Method::POST, &path, &body).await;
    assert_eq!(
        (status, code(&err)),
        (409, &json!("price_changed")),
        "{err}"
    );
    // Signed for the seller, submitted for Mallory's wallet: not the seller's signature.
    let mallory = PrivateKeySigner::random().address();
    let buy = CreditOrder::new(
        seller,
        CreditAction::BuyOffer,
        (bobs_offer, 500, seller),
        1,
        deadline,
    );
    let signature = signed_credit(&app, &key, &buy);
    let body = json!({"offer_id": bobs_offer.to_string(), "price_cents": 500, "deadline": deadline,
        "recipient_address": mallory.to_string(), "signature": signature});
    let (status, err) = send(&app, Method::POST, &path, &body).await;
    assert_eq!(
        (status, code(&err)),
        (422, &json!("invalid_signature")),
        "{err}"
    );
    assert_eq!(nonce(&app, seller).await, 1, "nothing reached the chain");
    // The fair order.
    let body = json!({"offer_id": bobs_offer.to_string(), "price_cents": 500, "deadline": deadline,
        "signature": signature});
    let (status, bought) = send(&app, Method::POST, &path, &body).await;
    assert_eq!(status, 201, "{bought}");
    let new_licence: U256 = bought["licence_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(market.ownerOf(new_licence).call().await.unwrap(), seller);
    assert_eq!(
        bought["amount_units"],
        (U256::from(500) * per_cent).to_string()
    );
    assert_eq!(
        market.balanceOfCredit(seller).call().await.unwrap(),
        U256::from(140) * per_cent,
        "6.40 € - 5.00 €"
    );
    // Replayed: its nonce is spent.
    let (status, err) = send(&app, Method::POST, &path, &body).await;
    assert_eq!(
        (status, code(&err)),
        (422, &json!("invalid_signature")),
        "{err}"
    );

    // Withdraw 1.00 € to a fresh address; the tampered and the uncovered orders are refused.
    let wpath = format!("/v1/accounts/{seller}/withdrawals");
    let bank = PrivateKeySigner::random().address();
    let out = CreditOrder::new(
        seller,
        CreditAction::Withdraw,
        (U256::ZERO, 100, bank),
        2,
        deadline,
    );
    let signature = signed_credit(&app, &key, &out);
    let tampered = json!({"to_address": mallory.to_string(), "amount_cents": 100,
        "deadline": deadline, "signature": signature});
    let (status, err) = send(&app, Method::POST, &wpath, &tampered).await;
    assert_eq!(
        (status, code(&err)),
        (422, &json!("invalid_signature")),
        "{err}"
    );
    let more = json!({"to_address": bank.to_string(), "amount_cents": 140,
        "deadline": deadline, "signature": signature});
    let (status, err) = send(&app, Method::POST, &wpath, &more).await;
    assert_eq!(
        (status, code(&err)),
        (422, &json!("invalid_signature")),
        "{err}"
    );
    // To one of Tangible's own contracts (signed so): refused, the money would be lost.
    let market = app.chain.deployment.contracts.market;
    let into_market = CreditOrder::new(
        seller,
        CreditAction::Withdraw,
        (U256::ZERO, 100, market),
        2,
        deadline,
    );
    let lost = json!({"to_address": market.to_string(), "amount_cents": 100, "deadline": deadline,
        "signature": signed_credit(&app, &key, &into_market)});
    let (status, err) = send(&app, Method::POST, &wpath, &lost).await;
    assert_eq!(
        (status, code(&err)),
        (403, &json!("invalid_recipient")),
        "{err}"
    );
    let body = json!({"to_address": bank.to_string(), "amount_cents": 100,
        "deadline": deadline, "signature": signature});
    let (status, paid) = send(&app, Method::POST, &wpath, &body).await;
    assert_eq!(status, 201, "{paid}");
    assert!(paid.get("licence_id").is_none(), "{paid}");
    assert_eq!(stablecoin(&app, bank).await, U256::from(100) * per_cent);
    // 0.40 € left: a signed order for 1.00 € more is refused before it is sent.
    let over = CreditOrder::new(
        seller,
        CreditAction::Withdraw,
        (U256::ZERO, 100, bank),
        3,
        deadline,
    );
    let body = json!({"to_address": bank.to_string(), "amount_cents": 100,
        "deadline": deadline, "signature": signed_credit(&app, &key, &over)});
    let (status, err) = send(&app, Method::POST, &wpath, &body).await;
    assert_eq!(
        (status, code(&err)),
        (409, &json!("insufficient_credit")),
        "{err}"
    );
    assert_eq!(
        nonce(&app, seller).await,
        3,
        "the refused order was never sent"
    );
    assert_eq!(
        eth(seller).await.unwrap(),
        U256::ZERO,
        "the seller never held ETH"
    );
    // An order expiring within a minute of the chain's clock could expire between its
    // simulation and its block, at the operator's cost: refused.
    let head = app
        .chain
        .provider
        .get_block(alloy::eips::BlockId::latest())
        .await
        .unwrap();
    let soon = head.unwrap().header.timestamp + 30;
    let order = CreditOrder::new(
        seller,
        CreditAction::Withdraw,
        (U256::ZERO, 10, bank),
        3,
        soon,
    );
    let body = json!({"to_address": bank.to_string(), "amount_cents": 10,
        "deadline": soon, "signature": signed_credit(&app, &key, &order)});
    let (status, err) = send(&app, Method::POST, &wpath, &body).await;
    assert_eq!(
        (status, code(&err)),
        (422, &json!("order_expired")),
        "{err}"
    );
    // A credit order may not live for days (a refused one stays valid until its deadline).
    let later = in_an_hour() + 24 * 3600;
    let order = CreditOrder::new(
        seller,
        CreditAction::Withdraw,
        (U256::ZERO, 10, bank),
        3,
        later,
    );
    let body = json!({"to_address": bank.to_string(), "amount_cents": 10,
        "deadline": later, "signature": signed_credit(&app, &key, &order)});
    let (status, err) = send(&app, Method::POST, &wpath, &body).await;
    assert_eq!(
        (status, code(&err)),
        (422, &json!("invalid_field")),
        "{err}"
    );

    // The account's history: the sale, the purchase with credit and the withdrawal.
    index(&app).await;
    let (_, account) = app.get_json(&format!("/v1/accounts/{seller}")).await;
    assert_eq!(
        account["credit_units"],
        (U256::from(40) * per_cent).to_string()
    );
    let kinds: Vec<&str> = account["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["withdrawal", "credit_purchase", "sale"],
        "{account}"
    );
    assert_eq!(account["history"][1]["licence_id"], new_licence.to_string());
    assert_eq!(
        account["history"][0]["to_address"],
        bank.to_string().to_lowercase()
    );
}

/// The licence Bob owns (the one he bought from the seller): minted by a resale's `SaleSettled`
/// (its `offerId` is not 0, there is no separate fill event) and owned by Bob.
async fn licence_of_bob(app: &TestApp, bob: Address) -> U256 {
    let market = app.chain.market();
    let logs = app
        .chain
        .provider
        .get_logs(
            &alloy::rpc::types::Filter::new()
                .address(app.chain.deployment.contracts.market)
                .event_signature(
                    <TangibleMarket::SaleSettled as alloy::sol_types::SolEvent>::SIGNATURE_HASH,
                )
                .from_block(0),
        )
        .await
        .unwrap();
    let resold: Vec<U256> = logs
        .iter()
        .filter_map(|l| l.log_decode::<TangibleMarket::SaleSettled>().ok())
        .filter(|l| !l.inner.data.offerId.is_zero())
        .map(|l| l.inner.data.licenceId)
        .collect();
    for id in resold {
        if market.ownerOf(id).call().await.ok() == Some(bob) {
            return id;
        }
    }
    panic!("bob bought no offer");
}

#[tokio::test]
async fn a_studio_admin_collects_the_studio_earnings_through_the_api() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let buyer = app.chain.buyer(0).address();
    mined(
        market
            .buyPrimary(app.chain.film_id, QUALITY, PRICE, buyer)
            .from(buyer),
    )
    .await;
    let film = market.film(app.chain.film_id).call().await.unwrap();
    let studio = market.studio(film.studioId).call().await.unwrap();
    assert!(
        studio.creditCents > 0,
        "a crypto sale credits the studio at once"
    );
    let royalty = app.chain.keys[roles::ROYALTY].address();
    let before = stablecoin(&app, royalty).await;
    let path = format!("/v1/studios/{}/withdrawals", film.studioId);

    // POST `path` with `token` (none: anonymous).
    let post = |token: Option<String>| {
        let req = app.http.post(app.url(&path));
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        async move {
            let r = req.send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    // A stranger, signed in, may not.
    let stranger = sign_in(&app, app.chain.buyer(2)).await;
    assert_eq!(post(Some(stranger)).await.0, 403);
    assert_eq!(post(None).await.0, 401, "signed in only");

    let admin = sign_in(&app, &app.chain.keys[roles::STUDIO_ADMIN]).await;
    let (status, done) = post(Some(admin.clone())).await;
    assert_eq!(status, 201, "{done}");
    let per_cent = market.unitsPerCent().call().await.unwrap();
    let paid = U256::from(studio.creditCents) * per_cent;
    assert_eq!(done["amount_units"], paid.to_string());
    assert_eq!(done["to_address"], royalty.to_string().to_lowercase());
    assert_eq!(stablecoin(&app, royalty).await, before + paid);
    assert_eq!(
        market
            .studio(film.studioId)
            .call()
            .await
            .unwrap()
            .creditCents,
        0
    );
    // Nothing left: refused before any transaction.
    let (status, err) = post(Some(admin)).await;
    assert_eq!(status, 409);
    assert_eq!(code(&err), &json!("insufficient_credit"), "{err}");
}

#[tokio::test]
async fn the_operators_float_cannot_buy_with_a_credit_order() {
    let app = spawn_app().await;
    let operator = app.chain.keys[0].clone();
    let d = tangible_chain::orders::edition_target(app.chain.film_id, QUALITY);
    let order = CreditOrder::new(
        operator.address(),
        CreditAction::BuyPrimary,
        (d, PRICE, operator.address()),
        nonce(&app, operator.address()).await,
        in_an_hour(),
    );
    let body = json!({"edition_id": format!("{}-4k", app.chain.film_id), "price_cents": PRICE,
        "deadline": order.deadline.to::<u64>(), "signature": signed_credit(&app, &operator, &order)});
    let path = format!("/v1/accounts/{}/purchases", operator.address());
    let (status, err) = send(&app, Method::POST, &path, &body).await;
    assert_eq!(
        (status, code(&err)),
        (403, &json!("float_account")),
        "{err}"
    );
}
