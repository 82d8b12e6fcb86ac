//! Two API instances behind one database (issue 17, item 4): each serves an edition uploaded
//! through the other, over HTTP and P2P, after fetching it from the other over iroh; content
//! tickets name only nodes that hold the file; an operator can stop an instance's P2P serving.

use serde_json::{Value, json};
use tangible_content::ContentStore;
use tangible_content::p2p::{ContentTicket, Downloader, loopback_endpoint_builder};

use crate::auth::sign_in;
use crate::helpers::{Options, TestApp, spawn_app};
use crate::studios::{approved_studio, master_bytes, post, upload};

/// A second instance of `app`'s API (same database, chain and Stripe; its own content folder).
async fn second_instance(app: &TestApp) -> (String, tokio::sync::oneshot::Sender<()>) {
    let mut config = app.config(&Options::default());
    config.listen_addr = "127.0.0.1:0".parse().unwrap();
    let built = tangible_api::Application::build(config).await.unwrap();
    let url = format!("http://{}", built.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(built.run_until_stopped(async {
        let _ = stopped.await;
    }));
    (url, stop)
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let r = http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The whole file at `base` + `path`, over HTTP.
async fn http_file(http: &reqwest::Client, base: &str, path: &str) -> (u16, Vec<u8>) {
    let r = http.get(format!("{base}{path}")).send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

/// Fetches `hash` over P2P from the node named by `ticket` into a scratch store.
async fn p2p_fetch(ticket: &str) -> u64 {
    let ticket: ContentTicket = ticket.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path()).await.unwrap();
    let d = Downloader::bind(store.clone(), loopback_endpoint_builder())
        .await
        .unwrap();
    let got = d.fetch_ticket(&ticket, |_| {}).await.unwrap();
    d.close().await;
    store.shutdown().await.unwrap();
    got.size
}

#[tokio::test]
async fn two_instances_behind_one_database_each_serve_an_edition_uploaded_through_the_other() {
    let app = spawn_app().await;
    let a = format!("http://{}", app.addr);
    let (b, stop_b) = second_instance(&app).await;
    let http = &app.http;
    let admin = app.chain.keys[6].clone();
    let token = sign_in(&app, &admin).await;
    let studio = approved_studio(
        &app,
        &token,
        &json!({"name": "Deux Salles", "royalty_address": app.chain.keys[7].address().to_string()}),
    )
    .await;
    let (s, film) = post(
        &app,
        &format!("/v1/studios/{}/films", studio["studio_id"]),
        Some(&token),
        &json!({"title": "Two Rooms", "year": 2026,
                "editions": [{"quality": "hd", "price_cents": 900}, {"quality": "sd", "price_cents": 500}]}),
    )
    .await;
    assert_eq!(s, 201, "{film}");
    let film_id = film["film_id"].as_u64().unwrap();

    // HD uploaded through A, SD through B (the token is good on both: one secret).
    let hd = master_bytes(3 * 1024 * 1024 + 7);
    let (s, hd_pub) = upload(&app, &format!("{film_id}-hd"), &token, &hd, "").await;
    assert_eq!(s, 200, "{hd_pub}");
    let sd = master_bytes(2 * 1024 * 1024 + 11);
    let (s, sd_pub) = {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            sd.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
        let r = http
            .put(format!("{b}/v1/editions/{film_id}-sd/master"))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .header("content-length", sd.len())
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(s, 200, "{sd_pub}");

    // B was asked nothing about HD yet: its content ticket names A's node, the one holding it.
    let (s, hd_on_b) = get(http, &format!("{b}/v1/editions/{film_id}-hd/content")).await;
    assert_eq!(s, 200, "{hd_on_b}");
    let (_, hd_on_a) = get(http, &format!("{a}/v1/editions/{film_id}-hd/content")).await;
    assert_eq!(hd_on_b["provider"], hd_on_a["provider"], "{hd_on_b:#}");
    assert_eq!(
        hd_on_b["providers"],
        json!([hd_on_a["provider"]]),
        "{hd_on_b:#}"
    );

    // Each instance serves over HTTP the edition uploaded through the other, whole and intact.
    for (base, published) in [(&b, &hd_pub), (&a, &sd_pub)] {
        let hash = published["blob_hash"].as_str().unwrap();
        let (s, bytes) = http_file(http, base, &format!("/v1/content/{hash}")).await;
        assert_eq!(s, 200, "{base} serves {hash}");
        assert_eq!(
            bytes.len() as u64,
            published["encrypted_size"].as_u64().unwrap()
        );
        assert_eq!(
            blake3::hash(&bytes).to_hex().to_string(),
            hash,
            "the bytes {base} served are the published file"
        );
    }

    // Now both hold both: each lists itself first, then the other, and serves over P2P.
    for (base, edition) in [(&b, "hd"), (&a, "sd")] {
        let (_, c) = get(
            http,
            &format!("{base}/v1/editions/{film_id}-{edition}/content"),
        )
        .await;
        assert_eq!(c["providers"].as_array().unwrap().len(), 2, "{c:#}");
        assert_eq!(c["providers"][0], c["provider"], "{c:#}");
        assert_eq!(
            p2p_fetch(c["ticket"].as_str().unwrap()).await,
            c["size"].as_u64().unwrap()
        );
    }
    assert_eq!(
        app.count("SELECT count(*) FROM api_content_holdings").await,
        4,
        "two nodes hold two files"
    );

    // The operator stops A's P2P serving: only B is listed (A still serves HTTP). Not for a
    // buyer; and without a reason nothing happens.
    let operator = sign_in(&app, &app.chain.keys[0].clone()).await;
    let buyer = sign_in(&app, &app.chain.buyer(0).clone()).await;
    let switch = |token: String, body: Value| {
        let url = format!("{a}/v1/admin/content/p2p");
        async move {
            let r = http
                .put(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (s, body) = switch(buyer, json!({"serving": false, "reason": "not mine"})).await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (403, &json!("not_platform_admin")),
        "{body}"
    );
    let (s, body) = switch(operator.clone(), json!({"serving": false, "reason": ""})).await;
    assert_eq!(s, 422, "{body}");
    let (s, off) = switch(
        operator.clone(),
        json!({"serving": false, "reason": "drain A"}),
    )
    .await;
    assert_eq!((s, &off["serving"]), (200, &json!(false)), "{off}");
    let (_, c) = get(http, &format!("{a}/v1/editions/{film_id}-hd/content")).await;
    let (_, on_b) = get(http, &format!("{b}/v1/editions/{film_id}-hd/content")).await;
    assert_eq!(c["providers"], json!([on_b["provider"]]), "only B: {c:#}");
    assert_eq!(c["provider"], on_b["provider"], "{c:#}");
    let (s, _) = http_file(
        http,
        &a,
        &format!("/v1/content/{}", hd_pub["blob_hash"].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, 200, "HTTP still served");
    let (s, on) = switch(operator, json!({"serving": true, "reason": "back"})).await;
    assert_eq!((s, &on["serving"]), (200, &json!(true)), "{on}");
    assert_eq!(
        app.count("SELECT count(*) FROM api_operator_actions WHERE action = 'content_p2p'")
            .await,
        2
    );
    let _ = stop_b.send(());
}
