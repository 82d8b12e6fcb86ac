//! Seeders' announcements (`POST /v1/editions/{id}/providers`): only a signed-in owner of a live
//! licence of the edition, with the seeding node's own signature, for at most 15 minutes, a
//! bounded number per wallet; the live ones are listed before the API's node.

use serde_json::{Value, json};
use tangible_content::announce;
use tangible_content::iroh::{EndpointAddr, SecretKey};
use tangible_content::p2p::ProviderAddr;

use crate::auth::sign_in;
use crate::helpers::{QUALITY, TestApp, spawn_app};
use crate::purchases::buy_and_pay;

fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap()
}

fn addr(key: &SecretKey) -> String {
    ProviderAddr(EndpointAddr::new(key.public())).to_string()
}

async fn announce_as(
    app: &TestApp,
    token: Option<&str>,
    edition: &str,
    body: &Value,
) -> (u16, Value) {
    let mut r = app
        .http
        .post(app.url(&format!("/v1/editions/{edition}/providers")))
        .json(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn body(
    key: &SecretKey,
    signer: &SecretKey,
    edition: &str,
    wallet: &str,
    licence: &str,
    expires_at: u64,
) -> Value {
    json!({
        "licence_id": licence,
        "provider": addr(key),
        "expires_at": expires_at,
        "signature": announce::sign(signer, &addr(key).parse().unwrap(), edition, wallet, expires_at),
    })
}

#[tokio::test]
async fn only_an_owner_announces_its_own_node_for_a_while_and_is_listed_first() {
    let app = spawn_app().await;
    let film = app.chain.film_id;
    let edition = format!("{film}-4k");
    assert_eq!(QUALITY, 2);
    // The fixture's edition is recorded as served (`spawn_app`), and no API node holds its
    // placeholder file, so none is listed for it.
    let (created, _) = buy_and_pay(&app, 0).await;
    let id = created["purchase_id"].as_str().unwrap();
    let view = app.wait_fulfilled(id).await;
    let licence = view["licence_id"].as_str().unwrap().to_owned();
    let owner = app.chain.buyer(0).clone();
    let wallet = owner.address().to_string();
    let token = sign_in(&app, &owner).await;
    let node = SecretKey::generate();
    let soon = now() + 600;

    // Anonymous, or another wallet with the owner's licence: refused.
    let b = body(&node, &node, &edition, &wallet, &licence, soon);
    let (s, _) = announce_as(&app, None, &edition, &b).await;
    assert_eq!(s, 401);
    let other = sign_in(&app, &app.chain.buyer(1).clone()).await;
    let other_wallet = app.chain.buyer(1).address().to_string();
    let (s, r) = announce_as(
        &app,
        Some(&other),
        &edition,
        &body(&node, &node, &edition, &other_wallet, &licence, soon),
    )
    .await;
    assert_eq!((s, &r["error"]["code"]), (403, &json!("not_owner")), "{r}");
    // Someone else's node (signed by another key), a far expiry, a past one, another edition.
    let (s, r) = announce_as(
        &app,
        Some(&token),
        &edition,
        &body(
            &node,
            &SecretKey::generate(),
            &edition,
            &wallet,
            &licence,
            soon,
        ),
    )
    .await;
    assert_eq!(
        (s, &r["error"]["code"]),
        (422, &json!("invalid_field")),
        "{r}"
    );
    let (s, r) = announce_as(
        &app,
        Some(&token),
        &edition,
        &body(&node, &node, &edition, &wallet, &licence, now() + 3600),
    )
    .await;
    assert_eq!(
        (s, &r["error"]["code"]),
        (422, &json!("invalid_field")),
        "{r}"
    );
    let (s, r) = announce_as(
        &app,
        Some(&token),
        &edition,
        &body(&node, &node, &edition, &wallet, &licence, now() - 1),
    )
    .await;
    assert_eq!(
        (s, &r["error"]["code"]),
        (422, &json!("invalid_field")),
        "{r}"
    );
    let hd = format!("{film}-hd");
    let (s, r) = announce_as(
        &app,
        Some(&token),
        &hd,
        &body(&node, &node, &hd, &wallet, &licence, soon),
    )
    .await;
    assert_eq!(
        (s, &r["error"]["code"]),
        (404, &json!("content_unavailable")),
        "{r}"
    );
    let (_, listed) = app
        .get_json(&format!("/v1/editions/{edition}/content"))
        .await;
    assert_eq!(
        (&listed["providers"], &listed["provider"], &listed["ticket"]),
        (&json!([]), &json!(""), &json!("")),
        "no node holds the file: {listed:#}"
    );

    // The owner's own node is listed (before any API node holding the file).
    let (s, r) = announce_as(&app, Some(&token), &edition, &b).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["node_id"], node.public().to_string());
    let (_, listed) = app
        .get_json(&format!("/v1/editions/{edition}/content"))
        .await;
    assert_eq!(listed["providers"], json!([addr(&node)]), "{listed:#}");

    // A bounded number of nodes per wallet (renewing one is not a new one).
    let (s, _) = announce_as(&app, Some(&token), &edition, &b).await;
    assert_eq!(s, 201);
    for i in 1..16 {
        let k = SecretKey::generate();
        let (s, r) = announce_as(
            &app,
            Some(&token),
            &edition,
            &body(&k, &k, &edition, &wallet, &licence, soon),
        )
        .await;
        assert_eq!(s, 201, "node {i}: {r}");
    }
    let k = SecretKey::generate();
    let (s, r) = announce_as(
        &app,
        Some(&token),
        &edition,
        &body(&k, &k, &edition, &wallet, &licence, soon),
    )
    .await;
    assert_eq!(
        (s, &r["error"]["code"]),
        (409, &json!("too_many_announcements")),
        "{r}"
    );
    let (_, listed) = app
        .get_json(&format!("/v1/editions/{edition}/content"))
        .await;
    assert_eq!(
        listed["providers"].as_array().unwrap().len(),
        2,
        "one wallet's 16 nodes: 2 listed, the latest: {listed:#}"
    );

    // Withdrawn (expiring in a second): no longer listed once expired.
    let (s, _) = announce_as(
        &app,
        Some(&token),
        &edition,
        &body(&node, &node, &edition, &wallet, &licence, now() + 1),
    )
    .await;
    assert_eq!(s, 201);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (_, listed) = app
        .get_json(&format!("/v1/editions/{edition}/content"))
        .await;
    assert!(
        !listed["providers"]
            .as_array()
            .unwrap()
            .contains(&json!(addr(&node))),
        "{listed:#}"
    );
}
