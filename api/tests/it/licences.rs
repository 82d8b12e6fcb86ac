//! Key release and certificates: ownership and revocation read from the chain.

use alloy::primitives::U256;
use alloy::signers::local::PrivateKeySigner;
use serde_json::Value;
use tangible_chain::bindings::TangibleMarket;
use tangible_crypto::certificate::{Expectations, SignedCertificate};
use tangible_crypto::ecies::{KeyReleaseContext, WrappedKey};
use tangible_crypto::envelope::Kek;
use tangible_crypto::film::{self, Header};
use tangible_crypto::wallet::Wallet;
use tangible_crypto::{EditionId, FilmKey};

use crate::auth::sign_in;
use crate::helpers::{KEK_HEX, PRICE, QUALITY, TestApp, mined, spawn_app};
use crate::purchases::buy_and_pay;

/// Stores a fresh key for the test edition, as the master upload does; returns it.
async fn store_key(app: &TestApp) -> FilmKey {
    let kek = Kek::from_hex("kek-1", KEK_HEX).unwrap();
    let key = FilmKey::generate();
    let edition = EditionId::new(app.chain.film_id, QUALITY);
    assert!(
        tangible_api::keys::store_edition_key(app.db.pool(), &kek, edition, &key)
            .await
            .unwrap()
    );
    assert!(
        !tangible_api::keys::store_edition_key(app.db.pool(), &kek, edition, &FilmKey::generate())
            .await
            .unwrap(),
        "an edition key is never replaced"
    );
    key
}

async fn ask_key(app: &TestApp, token: Option<&str>, licence: &str) -> (u16, Value) {
    let mut req = app
        .http
        .post(app.url(&format!("/v1/licences/{licence}/key")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn ask_certificate(app: &TestApp, token: &str, licence: &str) -> (u16, Value) {
    let r = app
        .http
        .get(app.url(&format!("/v1/licences/{licence}/certificate")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn wallet(signer: &PrivateKeySigner) -> Wallet {
    Wallet::from_secret_bytes(&signer.to_bytes().0).unwrap()
}

#[tokio::test]
async fn card_purchase_to_key_release_decryption_and_certificate() {
    let app = spawn_app().await;
    let (created, _) = buy_and_pay(&app, 0).await;
    let view = app
        .wait_fulfilled(created["purchase_id"].as_str().unwrap())
        .await;
    let licence = view["licence_id"].as_str().unwrap();
    let buyer = app.chain.buyer(0).clone();
    let token = sign_in(&app, &buyer).await;
    // No key stored yet: a clear 404, and the miss is not remembered (the key stored next is
    // found by the same process).
    let (status, body) = ask_key(&app, Some(&token), licence).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "key_unavailable", "{body}");
    let key = store_key(&app).await;

    let (status, body) = ask_key(&app, Some(&token), licence).await;
    assert_eq!(status, 200, "{body}");
    let wrapped: WrappedKey = serde_json::from_value(body["wrapped_key"].clone()).unwrap();
    let ctx = KeyReleaseContext {
        licence_id: licence.parse().unwrap(),
        film_id: app.chain.film_id,
        quality: QUALITY,
        chain_id: 31337,
    };
    let unwrapped = wallet(&buyer)
        .unwrap_key(&wrapped, &ctx)
        .expect("the owner unwraps the key");
    assert_eq!(unwrapped, key);
    // Bound to the licence: the same wrapping does not open as another licence.
    let other = KeyReleaseContext {
        licence_id: U256::from(1),
        ..ctx
    };
    assert!(wallet(&buyer).unwrap_key(&wrapped, &other).is_err());
    // Nor by another wallet.
    assert!(
        wallet(app.chain.buyer(1))
            .unwrap_key(&wrapped, &ctx)
            .is_err()
    );
    // The released key decrypts a film encrypted with the edition key.
    let plain: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let header = Header::with_segment_size(
        EditionId::new(app.chain.film_id, QUALITY),
        65_536,
        plain.len() as u64,
    )
    .unwrap();
    let mut encrypted = Vec::new();
    film::encrypt(&key, &header, &plain[..], &mut encrypted).unwrap();
    let mut decrypted = Vec::new();
    film::decrypt(&unwrapped, std::io::Cursor::new(encrypted), &mut decrypted).unwrap();
    assert_eq!(decrypted, plain);
    assert_eq!(app.count("SELECT count(*) FROM api_key_releases").await, 1);
    // Concurrent releases are recorded together (batched inserts), none lost, each answered
    // after its record is committed: once k answers are in, at least k more records are
    // committed (counted as each answer arrives, before the next is read). Recording is
    // slowed down, so that an answer sent before its commit would be seen here.
    sqlx::raw_sql(
        "CREATE FUNCTION slow_release() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$; \
         CREATE TRIGGER slow_release BEFORE INSERT ON api_key_releases \
             FOR EACH STATEMENT EXECUTE FUNCTION slow_release();",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    let mut pending: futures::stream::FuturesUnordered<_> = (0..16)
        .map(|_| ask_key(&app, Some(&token), licence))
        .collect();
    let mut answered = 0;
    while let Some((status, body)) = futures::StreamExt::next(&mut pending).await {
        assert_eq!(status, 200, "{body}");
        answered += 1;
        let recorded = app.count("SELECT count(*) FROM api_key_releases").await;
        assert!(
            recorded > answered,
            "{answered} keys answered, {recorded} releases recorded (1 before)"
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM api_key_releases").await, 17);
    // A release that cannot be recorded hands out no key.
    sqlx::raw_sql(
        "CREATE OR REPLACE FUNCTION slow_release() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'recording refused by the test'; END $$;",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    let (status, body) = ask_key(&app, Some(&token), licence).await;
    assert!(status >= 500, "{status}: {body}");
    assert!(body.get("wrapped_key").is_none(), "{body}");
    sqlx::raw_sql("DROP TRIGGER slow_release ON api_key_releases")
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_eq!(app.count("SELECT count(*) FROM api_key_releases").await, 17);

    // The offline certificate verifies against the attestation key, for this owner.
    let (status, body) = ask_certificate(&app, &token, licence).await;
    assert_eq!(status, 200, "{body}");
    let cert: SignedCertificate = serde_json::from_value(body).unwrap();
    let now = chrono::Utc::now().timestamp() as u64;
    cert.verify(&Expectations {
        signer: app.chain.keys[8].address(),
        owner: buyer.address(),
        now,
    })
    .unwrap();
    assert_eq!(
        cert.certificate.validUntil - cert.certificate.issuedAt,
        30 * 86_400
    );
    assert_eq!(
        cert.certificate.masterHash,
        alloy::primitives::keccak256("master")
    );
    assert!(
        cert.verify(&Expectations {
            signer: app.chain.keys[8].address(),
            owner: buyer.address(),
            now: now + 31 * 86_400
        })
        .is_err()
    );
}

#[tokio::test]
async fn non_owners_former_owners_and_revoked_licences_get_no_key() {
    let app = spawn_app().await;
    store_key(&app).await;
    let market = app.chain.market();
    let (alice, bob) = (app.chain.buyer(0).clone(), app.chain.buyer(1).clone());
    let r = mined(
        market
            .buyPrimary(app.chain.film_id, QUALITY, PRICE, alice.address())
            .from(alice.address()),
    )
    .await;
    let first = r
        .decoded_log::<TangibleMarket::LicenceMinted>()
        .unwrap()
        .licenceId
        .to_string();
    let alice_token = sign_in(&app, &alice).await;
    let bob_token = sign_in(&app, &bob).await;

    assert_eq!(ask_key(&app, None, &first).await.0, 401);
    assert_eq!(ask_key(&app, Some("v1.forged.token"), &first).await.0, 401);
    let (status, body) = ask_key(&app, Some(&bob_token), &first).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_owner")),
        "{body}"
    );
    assert_eq!(ask_key(&app, Some(&alice_token), "12345").await.0, 404);
    assert_eq!(ask_key(&app, Some(&alice_token), &first).await.0, 200);

    // Alice resells to Bob: her licence is revoked, Bob gets a new one.
    let r = mined(
        market
            .list(first.parse().unwrap(), 800)
            .from(alice.address()),
    )
    .await;
    let offer = r
        .decoded_log::<TangibleMarket::OfferListed>()
        .unwrap()
        .offerId;
    let r = mined(
        market
            .buyOffer(offer, 800, bob.address())
            .from(bob.address()),
    )
    .await;
    let second = r
        .decoded_log::<TangibleMarket::SaleSettled>()
        .unwrap()
        .licenceId
        .to_string();
    let (status, body) = ask_key(&app, Some(&alice_token), &first).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("licence_revoked")),
        "former owner: {body}"
    );
    let (status, _) = ask_key(&app, Some(&alice_token), &second).await;
    assert_eq!(status, 403, "former owner asking for the new licence");
    assert_eq!(ask_key(&app, Some(&bob_token), &second).await.0, 200);

    // The operator revokes Bob's licence (fraud): no key, no certificate.
    mined(market.revoke(second.parse().unwrap(), 2)).await;
    let (status, body) = ask_key(&app, Some(&bob_token), &second).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("licence_revoked")),
        "{body}"
    );
    assert_eq!(ask_certificate(&app, &bob_token, &second).await.0, 410);
    assert_eq!(ask_certificate(&app, &alice_token, &second).await.0, 403);
    assert_eq!(
        app.count("SELECT count(*) FROM api_key_releases").await,
        2,
        "only the two releases that were allowed"
    );
}
