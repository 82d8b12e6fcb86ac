//! `GET /v1/config`: the public facts a client needs to trust this deployment, read against
//! the chain the test deployed; and a certificate validity set in seconds.

use serde_json::Value;
use tangible_chain::Deployment;
use tangible_chain::bindings::TestEuro;
use tangible_crypto::certificate::SignedCertificate;

use crate::auth::sign_in;
use crate::helpers::{Options, spawn_app_with};
use crate::purchases::buy_and_pay;

#[tokio::test]
async fn public_config_names_the_deployment_signer_and_lease() {
    let app = spawn_app_with(Options {
        extra: vec![
            ("CERTIFICATE_VALIDITY_SECS", "120".to_owned()),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_tangible".to_owned()),
        ],
        ..Options::default()
    })
    .await;

    // Before the stablecoin was ever read, an unreachable node is a 503 with the error shape.
    app.rpc.set_down(true);
    let (status, body) = app.get_json("/v1/config").await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"]["code"].is_string(), "{body}");
    app.rpc.set_down(false);

    let (status, body) = app.get_json("/v1/config").await;
    assert_eq!(status, 200, "{body}");
    let chain = &app.chain;
    // The deployment object has the deployment file's shape and the deployed addresses.
    let deployment: Deployment = serde_json::from_value(body["deployment"].clone()).unwrap();
    assert_eq!(deployment, chain.deployment);
    assert_eq!(body["chain_id"], chain.deployment.chain_id);
    let token = TestEuro::new(chain.deployment.contracts.stablecoin, &chain.provider);
    let decimals = token.decimals().call().await.unwrap();
    assert_eq!(body["stablecoin"]["decimals"], decimals);
    assert_eq!(
        body["stablecoin"]["address"],
        format!("{:#x}", chain.deployment.contracts.stablecoin)
    );
    let per_cent = chain.market().unitsPerCent().call().await.unwrap();
    assert_eq!(body["stablecoin"]["units_per_cent"], per_cent.to_string());
    assert_eq!(
        body["attestation_address"],
        format!("{:#x}", chain.keys[8].address()),
        "the key the test API signs certificates with"
    );
    assert_eq!(body["certificate_validity_secs"], 120);
    assert_eq!(body["stripe_publishable_key"], "pk_test_tangible");
    assert_eq!(body["currency"], "eur");
    assert_eq!(body["api_version"], "v1");
    assert_eq!(body["siwe"]["domain"], "tangible.test");
    let text = body.to_string();
    for secret in ["sk_test", "whsec_", "test-token-secret"] {
        assert!(
            !text.contains(secret),
            "a secret in the public config: {text}"
        );
    }

    // Cached once read: the config still answers while the node is down.
    app.rpc.set_down(true);
    let (status, again) = app.get_json("/v1/config").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, body);
    app.rpc.set_down(false);

    let (status, doc) = app.get_json("/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["paths"].get("/v1/config").is_some());

    // A certificate issued under a two-minute lease says so.
    let (created, _) = buy_and_pay(&app, 0).await;
    let view: Value = app
        .wait_fulfilled(created["purchase_id"].as_str().unwrap())
        .await;
    let licence = view["licence_id"].as_str().unwrap();
    let bearer = sign_in(&app, app.chain.buyer(0)).await;
    let r = app
        .http
        .get(app.url(&format!("/v1/licences/{licence}/certificate")))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cert: SignedCertificate = r.json().await.unwrap();
    assert_eq!(cert.certificate.validUntil - cert.certificate.issuedAt, 120);
}
