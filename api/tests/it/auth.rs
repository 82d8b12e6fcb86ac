//! Wallet sign-in: a signed EIP-4361 message for a bearer token; nonces are single use.

use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn nonce_message(app: &TestApp, signer: &PrivateKeySigner) -> (String, String) {
    let (status, body) = app
        .post_json(
            "/v1/auth/nonce",
            &json!({"address": signer.address().to_string()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["chain_id"], 31337);
    assert_eq!(body["domain"], "tangible.test");
    let message = body["message"].as_str().unwrap().to_owned();
    assert!(message.contains(body["nonce"].as_str().unwrap()));
    let sig = signer.sign_message_sync(message.as_bytes()).unwrap();
    (message, format!("0x{}", hex::encode(sig.as_bytes())))
}

async fn login(app: &TestApp, message: &str, signature: &str) -> (reqwest::StatusCode, Value) {
    app.post_json(
        "/v1/auth/login",
        &json!({"message": message, "signature": signature}),
    )
    .await
}

/// Signs in `signer` and returns the bearer token.
pub(crate) async fn sign_in(app: &TestApp, signer: &PrivateKeySigner) -> String {
    let (message, signature) = nonce_message(app, signer).await;
    let (status, body) = login(app, &message, &signature).await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sign_in_once_and_refuse_a_replayed_nonce() {
    let mut app = spawn_app().await;
    let signer = app.chain.buyer(0).clone();
    let (message, signature) = nonce_message(&app, &signer).await;
    let (status, body) = login(&app, &message, &signature).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["address"], signer.address().to_checksum(None));
    assert!(body["token"].as_str().unwrap().starts_with("v1."));

    // The same signed message again: the nonce is spent.
    let (status, body) = login(&app, &message, &signature).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "nonce_invalid");

    // Still spent after a restart of the API (the nonce lives in Postgres).
    let (message2, signature2) = nonce_message(&app, &signer).await;
    app.stop().await;
    app.start(&Default::default()).await;
    let (status, body) = login(&app, &message, &signature).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "nonce_invalid");
    // A nonce issued before the restart and never used still works.
    let (status, body) = login(&app, &message2, &signature2).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.count("SELECT count(*) FROM api_login_nonces WHERE consumed_at IS NOT NULL")
            .await,
        2
    );
}

#[tokio::test]
async fn refuse_bad_signatures_wrong_domain_chain_and_unknown_nonces() {
    let app = spawn_app().await;
    let alice = app.chain.buyer(0).clone();
    let mallory = app.chain.buyer(1).clone();

    // Signed by someone else than the message's address.
    let (message, _) = nonce_message(&app, &alice).await;
    let forged = mallory.sign_message_sync(message.as_bytes()).unwrap();
    let (status, body) = login(
        &app,
        &message,
        &format!("0x{}", hex::encode(forged.as_bytes())),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "invalid_login");
    // That failure did not burn the nonce: alice can still use it.
    let good = alice.sign_message_sync(message.as_bytes()).unwrap();
    let (status, body) = login(
        &app,
        &message,
        &format!("0x{}", hex::encode(good.as_bytes())),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Wrong domain and wrong chain, correctly signed.
    for (from, to) in [
        ("tangible.test wants", "evil.test wants"),
        ("Chain ID: 31337", "Chain ID: 1"),
    ] {
        let (message, _) = nonce_message(&app, &alice).await;
        let altered = message.replacen(from, to, 1);
        assert_ne!(altered, message);
        let sig = alice.sign_message_sync(altered.as_bytes()).unwrap();
        let (status, body) = login(
            &app,
            &altered,
            &format!("0x{}", hex::encode(sig.as_bytes())),
        )
        .await;
        assert_eq!(status, 401, "{altered}: {body}");
        assert_eq!(body["error"]["code"], "invalid_login");
    }

    // A well-formed message with a nonce the API never issued.
    let (message, _) = nonce_message(&app, &alice).await;
    let nonce_line = message
        .lines()
        .find(|l| l.starts_with("Nonce: "))
        .unwrap()
        .to_owned();
    let invented = message.replace(&nonce_line, "Nonce: NeverIssued12345");
    let sig = alice.sign_message_sync(invented.as_bytes()).unwrap();
    let (status, body) = login(
        &app,
        &invented,
        &format!("0x{}", hex::encode(sig.as_bytes())),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "nonce_invalid");

    // Garbage.
    let (status, body) = login(&app, "hello", "0x00").await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = app
        .post_json("/v1/auth/login", &json!({"message": 5}))
        .await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn concurrent_logins_with_one_nonce_yield_one_token() {
    let app = spawn_app().await;
    let signer = app.chain.buyer(0).clone();
    let (message, signature) = nonce_message(&app, &signer).await;
    let attempts = (0..8).map(|_| login(&app, &message, &signature));
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    let refused = results
        .iter()
        .filter(|(s, b)| *s == 401 && b["error"]["code"] == "nonce_invalid")
        .count();
    assert_eq!((ok, refused), (1, 7), "{results:?}");
}

#[tokio::test]
async fn an_expired_nonce_is_refused_even_without_an_expiration_time_in_the_message() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        extra: vec![("NONCE_TTL_SECS", "1".to_owned())],
        ..Default::default()
    })
    .await;
    let signer = app.chain.buyer(0).clone();
    let (message, _) = nonce_message(&app, &signer).await;
    // Without its `Expiration Time` line the message itself never expires: only the
    // nonce's expiry in the database refuses it.
    let expiry_line = message
        .lines()
        .find(|l| l.starts_with("Expiration Time: "))
        .expect("the API's message names its expiry")
        .to_owned();
    let timeless = message.replace(&format!("\n{expiry_line}"), "");
    assert!(!timeless.contains("Expiration Time"), "{timeless}");
    let sig = signer.sign_message_sync(timeless.as_bytes()).unwrap();
    let sig = format!("0x{}", hex::encode(sig.as_bytes()));
    // The nonce is in the database and outlives its lifetime by a second.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let (status, body) = login(&app, &timeless, &sig).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "nonce_invalid", "{body}");
    assert_eq!(
        app.count("SELECT count(*) FROM api_login_nonces WHERE consumed_at IS NULL")
            .await,
        1
    );
}
