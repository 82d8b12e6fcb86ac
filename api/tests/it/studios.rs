//! Studio tooling end to end: a studio and a film registered through the API, a multi-MiB master
//! uploaded as a streamed body, fetched over P2P and HTTP, and decrypted with the released key.

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tangible_chain::bindings::TangibleMarket;
use tangible_content::ContentStore;
use tangible_content::p2p::{ContentTicket, Downloader, loopback_endpoint_builder};
use tangible_crypto::ecies::{KeyReleaseContext, WrappedKey};
use tangible_crypto::film;
use tangible_crypto::wallet::Wallet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::auth::sign_in;
use crate::helpers::{TestApp, mined, spawn_app};

/// Deterministic, incompressible-enough master bytes.
pub(crate) fn master_bytes(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn send(app: &TestApp, req: reqwest::RequestBuilder, token: Option<&str>) -> (u16, Value) {
    let req = match token {
        Some(t) => req.bearer_auth(t),
        None => req,
    };
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let _ = app;
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn post(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    send(app, app.http.post(app.url(path)).json(body), token).await
}

/// `token`'s wallet applies for a studio with `body` (202, no transaction), and the platform
/// admin (anvil account 0) approves it: the approved application, with its `studio_id`.
pub(crate) async fn approved_studio(app: &TestApp, token: &str, body: &Value) -> Value {
    let (s, application) = post(app, "/v1/studios", Some(token), body).await;
    assert_eq!(s, 202, "{application}");
    assert_eq!(application["state"], "pending", "{application}");
    let platform = sign_in(app, &app.chain.keys[0].clone()).await;
    let (s, approved) = post(
        app,
        &format!(
            "/v1/admin/studio-applications/{}/approve",
            application["application_id"]
        ),
        Some(&platform),
        &json!({"reason": "rights verified"}),
    )
    .await;
    assert_eq!(s, 200, "{approved}");
    assert_eq!(approved["state"], "approved", "{approved}");
    approved
}

/// PUTs `data` as a streamed body (64 KiB chunks, explicit Content-Length).
pub(crate) async fn upload(
    app: &TestApp,
    edition: &str,
    token: &str,
    data: &[u8],
    query: &str,
) -> (u16, Value) {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        data.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let req = app
        .http
        .put(app.url(&format!("/v1/editions/{edition}/master{query}")))
        .header("content-type", "application/octet-stream")
        .header("content-length", data.len())
        .body(body);
    send(app, req, Some(token)).await
}

fn assert_error(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

#[tokio::test]
async fn a_studio_uploads_a_master_that_buyers_fetch_over_p2p_and_http_and_decrypt() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let admin: PrivateKeySigner = app.chain.keys[6].clone();
    let royalty = app.chain.keys[7].address();
    let admin_token = sign_in(&app, &admin).await;

    // Register a studio (applied for by the caller, who becomes its admin once a platform admin
    // approves) and a film with an HD edition.
    let studio = approved_studio(
        &app,
        &admin_token,
        &json!({"name": "Studio Lumière", "royalty_address": royalty.to_string()}),
    )
    .await;
    let studio_id = studio["studio_id"].as_u64().unwrap() as u32;
    let on_chain = market.studio(studio_id).call().await.unwrap();
    assert_eq!(on_chain.admin, admin.address());
    assert_eq!(on_chain.royaltyRecipient, royalty);
    assert_eq!(on_chain.name, "Studio Lumière");
    assert_eq!(on_chain.commissionBps, 1000);

    let (s, film) = post(
        &app,
        &format!("/v1/studios/{studio_id}/films"),
        Some(&admin_token),
        &json!({"title": "L'Arrivée d'un train", "year": 1896,
                "editions": [{"quality": "hd", "price_cents": 900}]}),
    )
    .await;
    assert_eq!(s, 201, "{film}");
    let film_id = film["film_id"].as_u64().unwrap();
    assert_eq!(
        market.film(film_id).call().await.unwrap().studioId,
        studio_id
    );
    let edition = format!("{film_id}-hd");
    assert_eq!(film["editions"][0]["edition_id"], edition.as_str());
    assert_eq!(film["editions"][0]["status"], "awaiting_master");

    // Nothing to fetch before the upload.
    let (s, body) = app
        .get_json(&format!("/v1/editions/{edition}/content"))
        .await;
    assert_error(s.as_u16(), &body, 404, "content_unavailable");

    // A buyer is not the studio's admin: no film, no upload, no withdrawal.
    let buyer = app.chain.buyer(0).clone();
    let buyer_token = sign_in(&app, &buyer).await;
    let small = master_bytes(1000);
    let (s, body) = upload(&app, &edition, &buyer_token, &small, "").await;
    assert_error(s, &body, 403, "not_studio_admin");
    let (s, body) = post(
        &app,
        &format!("/v1/studios/{studio_id}/films"),
        Some(&buyer_token),
        &json!({"title": "Pirate", "year": 2000}),
    )
    .await;
    assert_error(s, &body, 403, "not_studio_admin");
    assert_eq!(
        app.count("SELECT count(*) FROM api_master_uploads").await,
        0
    );

    // The studio's admin uploads a 6 MiB + 123 bytes master as a streamed body.
    let data = master_bytes(6 * 1024 * 1024 + 123);
    let (s, published) = upload(&app, &edition, &admin_token, &data, "").await;
    assert_eq!(s, 200, "{published}");
    let sha = B256::from(<[u8; 32]>::from(Sha256::digest(&data)));
    assert_eq!(published["master_hash"], sha.to_string());
    assert_eq!(published["size"], data.len() as u64);
    assert_eq!(published["price_cents"], 900);
    assert_eq!(published["active"], true);
    let blob_hash = published["blob_hash"].as_str().unwrap().to_owned();
    let encrypted_size = published["encrypted_size"].as_u64().unwrap();
    // Film format: 48-byte header + a 16-byte tag per 1 MiB segment.
    assert_eq!(encrypted_size, data.len() as u64 + 48 + 7 * 16);
    // The master hash and price are on chain; the edition is on sale.
    let e = market.edition(film_id, 1).call().await.unwrap();
    assert_eq!(e.masterHash, sha);
    assert_eq!(e.priceCents, 900);
    assert!(e.active);
    assert_eq!(
        app.count("SELECT count(*) FROM api_master_uploads WHERE outcome = 'published'")
            .await,
        1
    );

    // Where to fetch it.
    let (s, content) = app
        .get_json(&format!("/v1/editions/{edition}/content"))
        .await;
    assert_eq!(s, 200, "{content}");
    assert_eq!(content["blob_hash"], blob_hash.as_str());
    assert_eq!(content["size"], encrypted_size);
    assert_eq!(content["master_hash"], sha.to_string());

    // Over P2P, into a client's own store.
    let ticket: ContentTicket = content["ticket"].as_str().unwrap().parse().unwrap();
    assert_eq!(ticket.hash.to_hex(), blob_hash);
    let client_dir = tempfile::tempdir().unwrap();
    let client_store = ContentStore::open(client_dir.path()).await.unwrap();
    let downloader = Downloader::bind(client_store.clone(), loopback_endpoint_builder())
        .await
        .unwrap();
    let fetched = downloader.fetch_ticket(&ticket, |_| {}).await.unwrap();
    assert_eq!(fetched.size, encrypted_size);
    let encrypted = client_store
        .read_range(ticket.hash, 0..encrypted_size)
        .await
        .unwrap();
    assert_eq!(encrypted.len() as u64, encrypted_size);
    downloader.close().await;

    // Over HTTP with a range request: the same bytes.
    let url = app.url(content["http_url"].as_str().unwrap());
    let r = app
        .http
        .get(&url)
        .header("range", "bytes=1000-1048675")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    let part = r.bytes().await.unwrap();
    assert_eq!(&part[..], &encrypted[1000..1_048_676]);

    // A buyer buys the edition (stablecoin, on chain), gets the key and decrypts the download.
    let receipt = mined(
        market
            .buyPrimary(film_id, 1, 900, buyer.address())
            .from(buyer.address()),
    )
    .await;
    let licence = receipt
        .decoded_log::<TangibleMarket::LicenceMinted>()
        .unwrap()
        .licenceId;
    let (s, released) = post(
        &app,
        &format!("/v1/licences/{licence}/key"),
        Some(&buyer_token),
        &json!({}),
    )
    .await;
    assert_eq!(s, 200, "{released}");
    let wrapped: WrappedKey = serde_json::from_value(released["wrapped_key"].clone()).unwrap();
    let key = Wallet::from_secret_bytes(&buyer.to_bytes().0)
        .unwrap()
        .unwrap_key(
            &wrapped,
            &KeyReleaseContext {
                licence_id: licence,
                film_id,
                quality: 1,
                chain_id: app.chain.deployment.chain_id,
            },
        )
        .unwrap();
    let mut plain = Vec::new();
    film::decrypt(&key, std::io::Cursor::new(&encrypted[..]), &mut plain).unwrap();
    assert!(
        plain == data,
        "the released key decrypts the download to the master"
    );

    // Re-uploading a new master with a new price updates the chain, with the studio's reason
    // recorded next to the hashes before and after; the key stays the same.
    let data2 = master_bytes(2 * 1024 * 1024 + 1);
    let (s, body) = upload(&app, &edition, &admin_token, &data2, "?reason=%20%20").await;
    assert_error(s, &body, 422, "invalid_field");
    let query = "?price_cents=1100&reason=audio%20desync%20fixed";
    let (s, second) = upload(&app, &edition, &admin_token, &data2, query).await;
    assert_eq!(s, 200, "{second}");
    let e = market.edition(film_id, 1).call().await.unwrap();
    assert_eq!(
        e.masterHash.to_string(),
        second["master_hash"].as_str().unwrap()
    );
    assert_eq!(e.priceCents, 1100);
    let replaced = market
        .MasterReplaced_filter()
        .from_block(0)
        .query()
        .await
        .unwrap();
    let (ev, _) = replaced.last().expect("a MasterReplaced event");
    assert_eq!(ev.reason, "audio desync fixed");
    assert_eq!(ev.previousMasterHash, sha);
    assert_eq!(
        ev.masterHash.to_string(),
        second["master_hash"].as_str().unwrap()
    );
    let r = app
        .http
        .get(app.url(&format!(
            "/v1/content/{}",
            second["blob_hash"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut plain = Vec::new();
    film::decrypt(
        &key,
        std::io::Cursor::new(r.bytes().await.unwrap()),
        &mut plain,
    )
    .unwrap();
    assert!(plain == data2, "the edition key is kept across masters");
    // The first file is no longer served.
    let r = app
        .http
        .get(app.url(&format!("/v1/content/{blob_hash}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Withdraw and reactivate, checked on chain; a repeated withdrawal is a conflict.
    let (s, body) = post(
        &app,
        &format!("/v1/editions/{edition}/withdraw"),
        Some(&buyer_token),
        &json!({}),
    )
    .await;
    assert_error(s, &body, 403, "not_studio_admin");
    let (s, body) = post(
        &app,
        &format!("/v1/editions/{edition}/withdraw"),
        Some(&admin_token),
        &json!({}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["active"], false);
    assert!(!market.edition(film_id, 1).call().await.unwrap().active);
    let (s, body) = post(
        &app,
        &format!("/v1/editions/{edition}/withdraw"),
        Some(&admin_token),
        &json!({}),
    )
    .await;
    assert_error(s, &body, 409, "edition_status_unchanged");
    let (s, body) = post(
        &app,
        &format!("/v1/editions/{edition}/reactivate"),
        Some(&admin_token),
        &json!({}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(market.edition(film_id, 1).call().await.unwrap().active);

    // The resale floor: the studio admin's, at most half the lowest price the edition ever had
    // (9.00 €: the re-upload raised it to 11.00 €, which does not lift the bound), set on chain.
    let floor_path = app.url(&format!("/v1/editions/{edition}/resale-floor"));
    let put_floor = |body: Value| app.http.put(&floor_path).json(&body);
    let (s, body) = send(
        &app,
        put_floor(json!({"floor_cents": 500})),
        Some(&buyer_token),
    )
    .await;
    assert_error(s, &body, 403, "not_studio_admin");
    let (s, body) = send(
        &app,
        put_floor(json!({"floor_cents": 451})),
        Some(&admin_token),
    )
    .await;
    assert_error(s, &body, 422, "invalid_field");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("450"),
        "{body}"
    );
    for bad in [
        json!({"floor_cents": -1}),
        json!({"floor_cents": "5"}),
        json!({}),
    ] {
        let (s, body) = send(&app, put_floor(bad), Some(&admin_token)).await;
        assert_eq!(s, 422, "{body}");
    }
    assert_eq!(
        market
            .edition(film_id, 1)
            .call()
            .await
            .unwrap()
            .resaleFloorCents,
        0
    );
    let (s, body) = send(
        &app,
        put_floor(json!({"floor_cents": 450})),
        Some(&admin_token),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["floor_cents"], 450);
    assert_eq!(
        market
            .edition(film_id, 1)
            .call()
            .await
            .unwrap()
            .resaleFloorCents,
        450
    );

    // A master upload that cuts the price to 8.99 € would leave that floor above half the
    // lowest price (449): refused before the body is read, nothing uploaded or recorded.
    let uploads = app.count("SELECT count(*) FROM api_master_uploads").await;
    let (s, body) = upload(&app, &edition, &admin_token, &data2, "?price_cents=899").await;
    assert_error(s, &body, 422, "invalid_field");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("450") && message.contains("449"), "{body}");
    assert_eq!(
        app.count("SELECT count(*) FROM api_master_uploads").await,
        uploads
    );
    assert_eq!(
        market.edition(film_id, 1).call().await.unwrap().priceCents,
        1100
    );
}

/// Sends a raw request head (no body) and returns the status line's code and the body.
async fn raw_head_only(app: &TestApp, head: &str) -> (u16, Value) {
    let mut sock = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        sock.read_to_end(&mut buf),
    )
    .await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn bad_studio_input_and_missing_authority_get_4xx_with_the_error_shape() {
    let app = spawn_app().await;
    let studio_admin = app.chain.keys[1].clone();
    let token = sign_in(&app, &studio_admin).await;
    let film = app.chain.film_id;

    // No token.
    let (s, body) = post(
        &app,
        "/v1/studios",
        None,
        &json!({"name": "x", "royalty_address": Address::repeat_byte(1).to_string()}),
    )
    .await;
    assert_error(s, &body, 401, "unauthorized");
    // Bad fields.
    for bad in [
        json!({"name": "", "royalty_address": Address::repeat_byte(1).to_string()}),
        json!({"name": "A", "royalty_address": "0x1234"}),
        json!({"name": "A", "royalty_address": Address::ZERO.to_string()}),
        json!({"name": "A", "royalty_address": Address::repeat_byte(1).to_string(), "commission_bps": 3001}),
    ] {
        let (s, body) = post(&app, "/v1/studios", Some(&token), &bad).await;
        assert_error(s, &body, 422, "invalid_field");
    }
    let (s, body) = post(
        &app,
        "/v1/studios",
        Some(&token),
        &json!({"name": "A", "royalty": "0x"}),
    )
    .await;
    assert_error(s, &body, 422, "invalid_body");
    // A commission or another admin needs the platform's admin role; the platform admin may.
    let (s, body) = post(&app, "/v1/studios", Some(&token), &json!({"name": "A", "royalty_address": Address::repeat_byte(1).to_string(), "commission_bps": 0})).await;
    assert_error(s, &body, 403, "not_platform_admin");
    let platform_token = sign_in(&app, &app.chain.keys[0].clone()).await;
    let (s, body) = post(
        &app,
        "/v1/studios",
        Some(&platform_token),
        &json!({"name": "Partner", "royalty_address": Address::repeat_byte(1).to_string(),
                "commission_bps": 500, "admin_address": studio_admin.address().to_string()}),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let id = body["studio_id"].as_u64().unwrap() as u32;
    let st = app.chain.market().studio(id).call().await.unwrap();
    assert_eq!((st.admin, st.commissionBps), (studio_admin.address(), 500));

    // Films: unknown studio, bad year, quality, price, duplicate edition.
    let (s, body) = post(
        &app,
        "/v1/studios/999/films",
        Some(&token),
        &json!({"title": "T", "year": 2000}),
    )
    .await;
    assert_error(s, &body, 404, "not_found");
    for bad in [
        json!({"title": "T", "year": 1000}),
        json!({"title": "T", "year": 2000, "editions": [{"quality": "8k", "price_cents": 100}]}),
        json!({"title": "T", "year": 2000, "editions": [{"quality": "hd", "price_cents": 0}]}),
        json!({"title": "T", "year": 2000, "editions": [{"quality": "hd", "price_cents": 1}, {"quality": "hd", "price_cents": 2}]}),
    ] {
        let (s, body) = post(&app, "/v1/studios/1/films", Some(&token), &bad).await;
        assert_error(s, &body, 422, "invalid_field");
    }

    // Uploads: malformed edition id, unknown film, undeclared edition without a price,
    // a chunked body without Content-Length, a declared size over the limit.
    let (s, body) = upload(&app, "abc", &token, b"x", "").await;
    assert_error(s, &body, 404, "not_found");
    let (s, body) = upload(&app, "999-hd", &token, b"x", "").await;
    assert_error(s, &body, 404, "not_found");
    let (s, body) = upload(&app, &format!("{film}-sd"), &token, b"x", "").await;
    assert_error(s, &body, 422, "invalid_field");
    let (s, body) = upload(&app, &format!("{film}-sd"), &token, b"x", "?price_cents=0").await;
    assert_error(s, &body, 422, "invalid_field");
    let chunked = reqwest::Body::wrap_stream(futures::stream::iter(vec![Ok::<_, std::io::Error>(
        b"abc".to_vec(),
    )]));
    let (s, body) = send(
        &app,
        app.http
            .put(app.url(&format!("/v1/editions/{film}-4k/master")))
            .body(chunked),
        Some(&token),
    )
    .await;
    assert_error(s, &body, 411, "length_required");
    let (s, body) = raw_head_only(
        &app,
        &format!(
            "PUT /v1/editions/{film}-4k/master HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n",
            1u64 << 40
        ),
    )
    .await;
    assert_error(s, &body, 413, "payload_too_large");
    // Withdrawing an edition that is not on chain.
    let (s, body) = post(
        &app,
        &format!("/v1/editions/{film}-sd/withdraw"),
        Some(&token),
        &json!({}),
    )
    .await;
    assert_error(s, &body, 404, "not_found");
    assert_eq!(
        app.count("SELECT count(*) FROM api_master_uploads").await,
        0
    );
}
