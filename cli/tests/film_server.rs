//! The loopback film server on a real film file: the token, ranges across segments, HEAD, 416,
//! the bound address, and a tampered segment (500 for a request starting in it, a cut
//! connection for one reaching it, never its bytes).

use std::io::Write;
use std::os::unix::fs::FileExt;

use tangible_cli::film_server::FilmServer;
use tangible_crypto::film::{self, EditionId, FilmKey, Header};

const SEG: u32 = 4096;

/// A film of `len` bytes (an MP4-looking start, then a counter), 4 KiB segments.
fn film(len: usize) -> (FilmKey, std::fs::File, Vec<u8>) {
    let mut plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    plain[..12].copy_from_slice(b"\0\0\0\x18ftypmp42");
    let key = FilmKey::generate();
    let header = Header::with_segment_size(EditionId::new(1, 2), SEG, len as u64).unwrap();
    let mut bytes = Vec::new();
    film::encrypt(&key, &header, &plain[..], &mut bytes).unwrap();
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(&bytes).unwrap();
    (key, f, plain)
}

async fn get(url: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn serves_ranges_to_the_token_holder_only() {
    let len = 5 * SEG as usize + 123;
    let (key, file, plain) = film(len);
    let server = FilmServer::start(key, file).await.unwrap();
    let url = server.url();
    assert!(server.local_addr().ip().is_loopback(), "{url}");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/film.mp4"),
        "{url}"
    );
    let token = url.split('/').nth(3).unwrap();
    assert_eq!(token.len(), 32, "128 bits in hex");

    // The whole film.
    let r = get(&url, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(r.headers()["content-length"], len.to_string().as_str());
    assert!(r.bytes().await.unwrap() == plain);

    // One range across three segments; an open range; a suffix.
    let (a, b) = (SEG as usize - 10, 3 * SEG as usize + 9);
    let r = get(&url, Some(&format!("bytes={a}-{b}"))).await;
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes {a}-{b}/{len}").as_str()
    );
    assert!(r.bytes().await.unwrap() == plain[a..=b]);
    let r = get(&url, Some(&format!("bytes={}-", len - 200))).await;
    assert_eq!(r.status(), 206);
    assert!(r.bytes().await.unwrap() == plain[len - 200..]);
    let r = get(&url, Some("bytes=-5")).await;
    assert!(r.bytes().await.unwrap() == plain[len - 5..]);

    // Unsatisfiable, several ranges, garbage.
    for bad in [
        format!("bytes={len}-"),
        "bytes=0-1,5-9".into(),
        "lines=1-2".into(),
    ] {
        let r = get(&url, Some(&bad)).await;
        assert_eq!(r.status(), 416, "{bad}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes */{len}").as_str()
        );
    }

    // HEAD: the length, no body.
    let r = reqwest::Client::new().head(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], len.to_string().as_str());
    assert!(r.bytes().await.unwrap().is_empty());

    // Without the token, with another one, elsewhere: 403.
    let base = format!("http://{}", server.local_addr());
    let wrong = format!("{base}/{}/film.mp4", "0".repeat(32));
    for u in [
        format!("{base}/film.mp4"),
        wrong,
        format!("{base}/"),
        format!("{base}/{token}"),
    ] {
        assert_eq!(get(&u, None).await.status(), 403, "{u}");
    }
    assert_eq!(server.served().0, 4, "four GETs carried the film");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_tampered_segment_is_never_served() {
    let len = 4 * SEG as usize;
    let (key, file, plain) = film(len);
    // Segment 2's ciphertext, one bit flipped.
    let header = Header::with_segment_size(EditionId::new(1, 2), SEG, len as u64).unwrap();
    let at = header.segment_offset(2) + 100;
    let mut b = [0u8; 1];
    file.read_exact_at(&mut b, at).unwrap();
    file.write_all_at(&[b[0] ^ 1], at).unwrap();
    let mut server = FilmServer::start(key, file).await.unwrap();
    let url = server.url();

    // Segments 0 and 1 still play.
    let r = get(&url, Some(&format!("bytes=0-{}", 2 * SEG - 1))).await;
    assert!(r.bytes().await.unwrap() == plain[..2 * SEG as usize]);
    // A request starting in segment 2: 500.
    let r = get(&url, Some(&format!("bytes={}-", 2 * SEG + 5))).await;
    assert_eq!(r.status(), 500);
    // A request reaching it: the connection is cut (before the headers are flushed, or in
    // the body), never a complete answer, never a byte of segment 2.
    let mut body = Vec::new();
    let cut = match reqwest::Client::new().get(&url).send().await {
        Err(_) => true,
        Ok(mut r) => {
            assert_eq!(r.status(), 200);
            loop {
                match r.chunk().await {
                    Ok(Some(c)) => body.extend_from_slice(&c),
                    Ok(None) => break false,
                    Err(_) => break true,
                }
            }
        }
    };
    assert!(cut, "the connection is cut, not ended as if complete");
    assert!(body.len() <= 2 * SEG as usize && body == plain[..body.len()]);
    let failure = server.failures().recv().await.unwrap();
    assert!(
        failure.message.contains("segment 2") && failure.message.contains("authenticate"),
        "{}",
        failure.message
    );
    server.shutdown().await.unwrap();
}

/// Seeks as a player makes them: many range requests at once, some abandoned after their first
/// chunk. Every answer carries exactly its own bytes (chunk buffers are reused between requests:
/// a buffer given back too early, or shared, would mix them up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_and_abandoned_ranges_get_their_own_bytes() {
    let len = 40 * SEG as usize + 777;
    let (key, file, plain) = film(len);
    let server = FilmServer::start(key, file).await.unwrap();
    let url = server.url();
    let plain = std::sync::Arc::new(plain);
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..24usize {
        let (url, plain, client) = (url.clone(), plain.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            let a = rand::random_range(0..len);
            let b = rand::random_range(a..len);
            let range = format!("bytes={a}-{b}");
            let mut r = client
                .get(&url)
                .header("range", &range)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 206, "{range}");
            if i % 3 == 0 {
                // A seek: the player reads a little and drops the answer.
                let first = r.chunk().await.unwrap().unwrap_or_default();
                assert!(first == plain[a..a + first.len()], "{range}");
                drop(r);
                let r = client.get(&url).header("range", &range).send().await;
                let body = r.unwrap().bytes().await.unwrap();
                assert!(body == plain[a..=b], "{range} after a seek");
            } else {
                assert!(r.bytes().await.unwrap() == plain[a..=b], "{range}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    server.shutdown().await.unwrap();
}
