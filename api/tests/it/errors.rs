//! Every error the API answers has the JSON error body `{"error":{"code","message"}}`: the
//! handlers' own, the extractors' rejections (path, query, body), the router's (no route,
//! wrong method), and those of the content files' router mounted under `/v1/content`.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_app;

/// (method, path, content type, body, expected status, expected code).
type Case = (
    Method,
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    u16,
    &'static str,
);

#[tokio::test]
async fn every_error_answers_the_json_error_body() {
    let app = spawn_app().await;
    let cases: Vec<Case> = vec![
        // No route, wrong method.
        (
            Method::GET,
            "/v1/nothing-here",
            None,
            vec![],
            404,
            "not_found",
        ),
        (
            Method::DELETE,
            "/v1/purchases",
            None,
            vec![],
            405,
            "method_not_allowed",
        ),
        // Path rejections: a segment that is not UTF-8 once decoded.
        (
            Method::GET,
            "/v1/purchases/%FF",
            None,
            vec![],
            404,
            "not_found",
        ),
        (
            Method::GET,
            "/v1/films/%C3%28",
            None,
            vec![],
            404,
            "not_found",
        ),
        (
            Method::GET,
            "/v1/licences/%FF/history",
            None,
            vec![],
            404,
            "not_found",
        ),
        (
            Method::GET,
            "/v1/studios/%FF/statement",
            None,
            vec![],
            404,
            "not_found",
        ),
        // Query and body rejections.
        (
            Method::GET,
            "/v1/films?limit=many",
            None,
            vec![],
            400,
            "invalid_query",
        ),
        (
            Method::POST,
            "/v1/purchases",
            Some("text/plain"),
            b"{}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            Method::POST,
            "/v1/purchases",
            Some("application/json"),
            vec![b' '; 128 * 1024],
            413,
            "payload_too_large",
        ),
        (
            Method::POST,
            "/v1/purchases",
            Some("application/json"),
            b"{".to_vec(),
            400,
            "invalid_json",
        ),
        // Bodies of the wrong kind: no content type, JSON of the wrong shape, an oversized
        // webhook, a master upload without a token, a trailing slash, a repeated query field.
        (
            Method::POST,
            "/v1/purchases",
            None,
            b"{}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            Method::POST,
            "/v1/purchases",
            Some("application/json"),
            b"[]".to_vec(),
            422,
            "invalid_body",
        ),
        (
            Method::POST,
            "/v1/auth/nonce",
            Some("application/json; charset=latin1"),
            b"{\"address\": 7}".to_vec(),
            422,
            "invalid_body",
        ),
        (
            Method::POST,
            "/v1/webhooks/stripe",
            Some("application/json"),
            vec![b' '; 128 * 1024],
            413,
            "payload_too_large",
        ),
        (
            Method::PUT,
            "/v1/editions/1-4k/master",
            Some("application/octet-stream"),
            b"xx".to_vec(),
            401,
            "unauthorized",
        ),
        (
            Method::GET,
            "/v1/purchases/",
            None,
            vec![],
            404,
            "not_found",
        ),
        (
            Method::POST,
            "/v1/purchases/00000000-0000-0000-0000-000000000000/payment-method",
            Some("application/x-www-form-urlencoded"),
            b"a=b".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            Method::GET,
            "/v1/sales?limit=1&limit=2&studio_id=x",
            None,
            vec![],
            400,
            "invalid_query",
        ),
        // The content files' router (its own answers were plain text or empty).
        (
            Method::GET,
            "/v1/content/not-a-hash",
            None,
            vec![],
            400,
            "bad_request",
        ),
        (Method::GET, "/v1/content/", None, vec![], 404, "not_found"),
        (
            Method::POST,
            "/v1/content/not-a-hash",
            None,
            vec![],
            405,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/v1/content/abababababababababababababababababababababababababababababababab",
            None,
            vec![],
            404,
            "not_found",
        ),
    ];
    let mut problems = Vec::new();
    for (method, path, content_type, body, want_status, want_code) in cases {
        let mut request = app.http.request(method.clone(), app.url(path)).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = r.text().await.unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let shaped = json["error"]["code"].is_string()
            && json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
            && json.as_object().is_some_and(|o| o.len() == 1);
        if status != want_status
            || !ct.starts_with("application/json")
            || !shaped
            || json["error"]["code"] != want_code
        {
            problems.push(format!(
                "{method} {path}: {status} {ct:?} {text:?} (want {want_status} {want_code})"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
