//! HTTP range serving and the HTTP fallback downloader, against a real axum server.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Body,
    extract::Request,
    http::{StatusCode, header},
    middleware::{self, Next},
    response::Response,
    routing::get,
};
use tangible_content::{
    ContentError, ContentHash, ContentStore,
    http::{blob_url, download_into_store, download_to_file, part_path, router},
};

use crate::common::{init_tracing, random_bytes, temp_store};

const MIB: usize = 1 << 20;

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The content router mounted under `/content`, recording the `Range` header of each request.
async fn serve_store(store: ContentStore) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = Router::new()
        .nest("/content", router(store))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let log = log.clone();
            async move {
                let range = req
                    .headers()
                    .get(header::RANGE)
                    .map(|v| v.to_str().unwrap().to_owned());
                log.lock().unwrap().push(range);
                next.run(req).await
            }
        }));
    let addr = serve(app).await;
    (format!("http://{addr}/content"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_ranges_etag_head_and_errors() {
    init_tracing();
    let (_dir, store) = temp_store().await;
    let data = random_bytes(3 * MIB + 5, 51);
    let n = data.len();
    let hash = store.import_bytes(data.clone()).await.unwrap().hash;
    let (base, _) = serve_store(store).await;
    let url = blob_url(&base, hash);
    let client = reqwest::Client::new();
    let etag = format!("\"{hash}\"");

    // Whole file.
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::ETAG], etag.as_str());
    assert_eq!(r.headers()[header::ACCEPT_RANGES], "bytes");
    assert_eq!(r.headers()[header::CONTENT_LENGTH], n.to_string().as_str());
    assert!(r.bytes().await.unwrap() == data);

    // HEAD: headers, no body.
    let r = client.head(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CONTENT_LENGTH], n.to_string().as_str());
    assert_eq!(r.headers()[header::ETAG], etag.as_str());
    assert!(r.bytes().await.unwrap().is_empty());

    let ranged = |range: &str| {
        client
            .get(&url)
            .header(header::RANGE, range.to_owned())
            .send()
    };
    // First bytes, middle, suffix, open-ended, end clamped to the size.
    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=1000000-2000000", 1_000_000, 2_000_000),
        ("bytes=-500", n - 500, n - 1),
        (&format!("bytes={}-", n - 10) as &str, n - 10, n - 1),
        (
            &format!("bytes={}-{}", n - 3, n + 1000) as &str,
            n - 3,
            n - 1,
        ),
    ] {
        let r = ranged(range).await.unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            r.headers()[header::CONTENT_RANGE],
            format!("bytes {start}-{end}/{n}").as_str(),
            "{range}"
        );
        assert_eq!(
            r.headers()[header::CONTENT_LENGTH],
            (end - start + 1).to_string().as_str()
        );
        assert!(r.bytes().await.unwrap()[..] == data[start..=end], "{range}");
    }

    // Unsatisfiable and malformed ranges: 416 with the size.
    for range in [
        &format!("bytes={n}-") as &str,
        "bytes=5-2",
        "bytes=-0",
        "bytes=x-1",
        "bytes",
    ] {
        let r = ranged(range).await.unwrap();
        assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(
            r.headers()[header::CONTENT_RANGE],
            format!("bytes */{n}").as_str()
        );
    }
    // Multiple ranges are not supported: the whole file.
    let r = ranged("bytes=0-1,5-6").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().len(), n);

    // Conditional requests.
    let r = client
        .get(&url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = client
        .get(&url)
        .header(header::RANGE, "bytes=0-9")
        .header(header::IF_RANGE, "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a stale If-Range must give the whole file"
    );

    // Unknown and malformed hashes.
    let r = client
        .get(blob_url(&base, ContentHash::of(b"x")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client
        .get(format!("{base}/not-a-hash"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_resumes_a_partial_file_with_a_range_request() {
    init_tracing();
    let (dir, store) = temp_store().await;
    let data = random_bytes(5 * MIB + 77, 61);
    let hash = store.import_bytes(data.clone()).await.unwrap().hash;
    let (base, seen) = serve_store(store).await;
    let client = reqwest::Client::new();

    // Fresh download.
    let dest = dir.path().join("fresh.enc");
    let out = download_to_file(&client, &blob_url(&base, hash), hash, &dest, |_| {})
        .await
        .unwrap();
    assert_eq!(
        (out.size, out.resumed_from, out.transferred),
        (data.len() as u64, 0, data.len() as u64)
    );
    assert!(std::fs::read(&dest).unwrap() == data);
    assert!(!part_path(&dest).exists());

    // A partial file from an earlier attempt: only the rest is requested and received.
    let dest = dir.path().join("resumed.enc");
    let have = 2 * MIB + 3;
    std::fs::write(part_path(&dest), &data[..have]).unwrap();
    seen.lock().unwrap().clear();
    let mut progress = Vec::new();
    let out = download_to_file(&client, &blob_url(&base, hash), hash, &dest, |p| {
        progress.push(p.done)
    })
    .await
    .unwrap();
    assert_eq!(out.resumed_from, have as u64);
    assert_eq!(out.transferred, (data.len() - have) as u64);
    assert_eq!(*seen.lock().unwrap(), vec![Some(format!("bytes={have}-"))]);
    assert_eq!(progress.first(), Some(&(have as u64)));
    assert_eq!(progress.last(), Some(&(data.len() as u64)));
    assert!(std::fs::read(&dest).unwrap() == data);
    assert!(!part_path(&dest).exists());

    // A complete but unrenamed part file: the server says 416, the file is verified as is.
    let dest = dir.path().join("complete-part.enc");
    std::fs::write(part_path(&dest), &data).unwrap();
    let out = download_to_file(&client, &blob_url(&base, hash), hash, &dest, |_| {})
        .await
        .unwrap();
    assert_eq!((out.resumed_from, out.transferred), (data.len() as u64, 0));
    assert!(std::fs::read(&dest).unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_http_download_resumes_into_the_store() {
    init_tracing();
    let (_sdir, server_store) = temp_store().await;
    let data = random_bytes(6 * MIB, 71);
    let hash = server_store.import_bytes(data.clone()).await.unwrap().hash;
    let (base, seen) = serve_store(server_store).await;

    // A server that dies after sending the first 2.5 MiB of the body.
    let cut = 5 * MIB / 2;
    let head = bytes::Bytes::copy_from_slice(&data[..cut]);
    let len = data.len();
    let flaky = Router::new().route(
        "/{hash}",
        get(move || {
            let head = head.clone();
            async move {
                let body = futures::stream::iter(vec![
                    Ok::<_, std::io::Error>(head),
                    Err(std::io::Error::other("server crashed")),
                ]);
                Response::builder()
                    .header(header::CONTENT_LENGTH, len)
                    .body(Body::from_stream(body))
                    .unwrap()
            }
        }),
    );
    let flaky_base = format!("http://{}", serve(flaky).await);

    let (_cdir, client_store) = temp_store().await;
    let client = reqwest::Client::new();
    let err = download_into_store(
        &client,
        &blob_url(&flaky_base, hash),
        hash,
        &client_store,
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            ContentError::Http { .. } | ContentError::HttpResponse { .. }
        ),
        "{err:?}"
    );
    assert!(!client_store.contains(hash).await.unwrap());
    let part = part_path(&client_store.root().join("http-partial").join(hash.to_hex()));
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept > 0 && kept <= cut as u64, "kept {kept}");

    // The real server finishes it with one range request.
    let out = download_into_store(&client, &blob_url(&base, hash), hash, &client_store, |_| {})
        .await
        .unwrap();
    assert_eq!(out.resumed_from, kept);
    assert_eq!(out.transferred, len as u64 - kept);
    assert_eq!(*seen.lock().unwrap(), vec![Some(format!("bytes={kept}-"))]);
    assert!(client_store.contains(hash).await.unwrap());
    assert!(client_store.read_range(hash, 0..len as u64).await.unwrap() == data);
    assert!(!part.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_mismatch_is_detected() {
    init_tracing();
    let (dir, store) = temp_store().await;
    let data = random_bytes(3 * MIB, 81);
    let hash = store.import_bytes(data.clone()).await.unwrap().hash;
    let (base, _) = serve_store(store).await;
    let client = reqwest::Client::new();

    // A corrupted partial file: the resumed download cannot match and is thrown away.
    let dest = dir.path().join("corrupt.enc");
    let mut partial = data[..MIB].to_vec();
    partial[1234] ^= 0x01;
    std::fs::write(part_path(&dest), &partial).unwrap();
    let err = download_to_file(&client, &blob_url(&base, hash), hash, &dest, |_| {})
        .await
        .unwrap_err();
    match err {
        ContentError::HashMismatch { expected, actual } => {
            assert_eq!(expected, hash);
            assert_ne!(actual, hash);
        }
        other => panic!("expected HashMismatch, got {other:?}"),
    }
    assert!(
        !dest.exists(),
        "an unverified file must not be moved into place"
    );
    assert!(
        !part_path(&dest).exists(),
        "a bad partial file must be deleted"
    );
    // The next attempt starts over and succeeds.
    download_to_file(&client, &blob_url(&base, hash), hash, &dest, |_| {})
        .await
        .unwrap();
    assert!(std::fs::read(&dest).unwrap() == data);

    // A server that sends other bytes under the hash.
    let other = random_bytes(3 * MIB, 82);
    let lying = Router::new().route("/{hash}", get(move || async move { other.clone() }));
    let lying_base = format!("http://{}", serve(lying).await);
    let dest = dir.path().join("lied.enc");
    let err = download_to_file(&client, &blob_url(&lying_base, hash), hash, &dest, |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(err, ContentError::HashMismatch { expected, .. } if expected == hash),
        "{err:?}"
    );
    assert!(!dest.exists());

    // Asking for a hash the server does not have.
    let missing = ContentHash::of(b"missing");
    let err = download_to_file(
        &client,
        &blob_url(&base, missing),
        missing,
        &dir.path().join("m"),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ContentError::NotFound { hash } if hash == missing),
        "{err:?}"
    );
}
