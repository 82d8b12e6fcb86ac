//! The service skeleton: health, readiness, metrics, OpenAPI, CORS, request ids, error bodies
//! for malformed and oversized input, and the graceful stop.

use serde_json::{Value, json};

use crate::helpers::{Options, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_readiness_metrics_and_openapi() {
    let app = spawn_app().await;
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );

    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"]["status"], "ok");
    assert_eq!(body["rpc"]["status"], "ok");
    assert_eq!(body["stripe"]["status"], "ok");
    assert_eq!(
        body["operator_float_cents"], 100_000,
        "the 1,000 € float deposited by the fixture"
    );

    // RPC down: not ready, and says which dependency.
    app.rpc.set_down(true);
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["rpc"]["status"], "error");
    assert_eq!(body["database"]["status"], "ok");
    app.rpc.set_down(false);

    let metrics = app.metrics().await;
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("operator_float_cents"), "{metrics}");

    let (status, doc) = app.get_json("/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/auth/nonce",
        "/v1/auth/login",
        "/v1/purchases",
        "/v1/purchases/{id}",
        "/v1/offers/{id}/purchases",
        "/v1/webhooks/stripe",
        "/v1/licences/{id}/key",
        "/v1/licences/{id}/certificate",
        "/v1/licences/{id}/history",
        "/v1/licences",
        "/v1/films",
        "/v1/films/{id}",
        "/v1/offers",
        "/v1/sales",
        "/v1/studios/{id}/statement",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_a_4xx_with_the_error_shape_never_a_5xx() {
    let app = spawn_app_with(Options {
        body_limit: 1024,
        ..Options::default()
    })
    .await;
    let check = |status: reqwest::StatusCode, body: &Value, want_status: u16, want_code: &str| {
        assert_eq!(status.as_u16(), want_status, "{body}");
        assert_eq!(body["error"]["code"], want_code, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    };
    let send = |body: Vec<u8>, content_type: &'static str| {
        let app = &app;
        async move {
            let r = app
                .http
                .post(app.url("/v1/purchases"))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, b) = send(b"{\"film_id\": 1, ".to_vec(), "application/json").await;
    check(s, &b, 400, "invalid_json");
    let (s, b) = send(
        b"{\"film_id\": \"one\", \"quality\": \"4k\", \"buyer_address\": \"0x0\"}".to_vec(),
        "application/json",
    )
    .await;
    check(s, &b, 422, "invalid_body");
    let (s, b) = send(b"{}".to_vec(), "text/plain").await;
    check(s, &b, 415, "unsupported_media_type");
    let big = format!(
        "{{\"film_id\": 1, \"quality\": \"{}\", \"buyer_address\": \"x\"}}",
        "a".repeat(4096)
    );
    let (s, b) = send(big.into_bytes(), "application/json").await;
    check(s, &b, 413, "payload_too_large");
    let (s, b) = app
        .post_json("/v1/purchases", &json!({"film_id": 1, "quality": "8k", "buyer_address": "0x0000000000000000000000000000000000000001"}))
        .await;
    check(s, &b, 422, "invalid_field");
    let (s, b) = app
        .post_json(
            "/v1/purchases",
            &json!({"film_id": 1, "quality": "4k", "buyer_address": "nope"}),
        )
        .await;
    check(s, &b, 422, "invalid_field");
    // Oversized webhook bodies are refused before any signature work.
    let r = app
        .http
        .post(app.url("/v1/webhooks/stripe"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let (s, b) = app.get_json("/v1/nothing-here").await;
    check(s, &b, 404, "not_found");
    let r = app
        .http
        .delete(app.url("/v1/purchases"))
        .send()
        .await
        .unwrap();
    let s = r.status();
    check(s, &r.json().await.unwrap(), 405, "method_not_allowed");
    let (s, b) = app.get_json("/v1/purchases/not-a-uuid").await;
    check(s, &b, 404, "not_found");
    assert_eq!(
        app.count("SELECT count(*) FROM api_purchases").await,
        0,
        "nothing stored for bad input"
    );
}

#[tokio::test]
async fn cors_allows_the_configured_origin_only() {
    let app = spawn_app().await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/v1/purchases"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let ok = preflight("https://shop.example").await.unwrap();
    assert_eq!(
        ok.headers().get("access-control-allow-origin").unwrap(),
        "https://shop.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}
