//! The stack on free ports: every component up, the demo film mirrored and served, then stopped
//! with no process and no port left behind.

use std::time::Duration;

use tangible_devstack::{Binaries, DemoFilms, Stack, StackOptions, check_port_free, films};
use tangible_domain::Quality;

fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

fn alive(pid: i32) -> bool {
    // A zombie (exited, not yet reaped) counts as gone: /proc shows state Z.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Every process whose parent chain leads to `pid` (postgres backends, …).
fn descendants(pid: i32) -> Vec<i32> {
    let mut all = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        let children =
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
            all.push(c);
            frontier.push(c);
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stack_starts_serves_the_demo_film_and_stops_without_leftovers() {
    let binaries = Binaries::build(false).expect("building tangible-api and tangible-indexer");
    let stack = Stack::start(StackOptions {
        binaries: Some(binaries),
        ..StackOptions::default()
    })
    .await
    .expect("the stack starts");

    // The API is ready and reads the film the indexer mirrored.
    let http = reqwest::Client::new();
    let ready = http
        .get(format!("{}/readyz", stack.api_url))
        .send()
        .await
        .unwrap();
    assert!(ready.status().is_success());
    let film: serde_json::Value = http
        .get(format!("{}/v1/films/{}", stack.api_url, stack.demo.film_id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(film["title"], stack.demo.film_title, "{film}");
    let text = film.to_string();
    for e in &stack.demo.editions {
        assert!(
            text.contains(&e.price.get().to_string()),
            "price {} of {} missing in {film}",
            e.price,
            e.quality
        );
    }
    assert_eq!(
        stack.demo.edition(Quality::Uhd4k).map(|e| e.price.get()),
        Some(1300)
    );

    // The demo masters were uploaded: each edition's content is published, and the master hash
    // registered on chain is the SHA-256 of the generated file.
    for e in &stack.demo.editions {
        assert!(e.uploaded, "{} master not uploaded", e.quality);
        let master = std::fs::read(e.master_file.as_ref().unwrap()).unwrap();
        let sha = sha256(&master);
        assert_eq!(e.master_hash.0, sha, "{} master hash", e.quality);
        let id = format!("{}-{}", stack.demo.film_id, e.quality);
        let content: serde_json::Value = http
            .get(format!("{}/v1/editions/{id}/content", stack.api_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let size = content["size"].as_u64().unwrap_or(0);
        assert!(size > master.len() as u64, "encrypted size {content}");
        // The encrypted file is served over HTTP at its announced URL, whole.
        let url = content["http_url"].as_str().expect("http_url");
        let blob = http.get(url).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(blob.len() as u64, size);
        assert!(
            !blob
                .windows(4096)
                .any(|w| master.windows(4096).next() == Some(w)),
            "the served file contains the plaintext"
        );
    }
    // The masters are the demo films: HD and 4K video of their size and length.
    for e in &stack.demo.editions {
        let path = e.master_file.as_ref().unwrap();
        let p = films::probe(path.to_str().unwrap()).unwrap();
        assert_eq!(
            (p.width, p.height),
            films::dimensions(e.quality),
            "{}: {p:?}",
            e.quality
        );
        let seconds = DemoFilms::default().seconds(e.quality);
        assert!((p.duration - f64::from(seconds)).abs() < 0.1, "{p:?}");
        assert_eq!(
            (p.video_codec.as_str(), p.audio_codec.as_str()),
            ("h264", "aac")
        );
    }
    assert!(stack.demo.edition(Quality::Uhd4k).is_some());

    // The chain the stack reports is the one the deployment file names.
    let deployment = tangible_chain::Deployment::load(&stack.deployment_file).unwrap();
    assert_eq!(deployment, stack.deployment);
    assert_eq!(deployment.chain_id, stack.chain_id);

    // Postgres was given children (backends, background workers): they must go too.
    let mut pids: Vec<i32> = stack.pids().into_iter().map(|(_, p)| p).collect();
    assert_eq!(pids.len(), 5, "{:?}", stack.pids());
    let nested: Vec<i32> = pids.iter().flat_map(|p| descendants(*p)).collect();
    assert!(!nested.is_empty(), "postgres has no child process?");
    pids.extend(nested);
    assert!(pids.iter().all(|p| alive(*p)));
    let ports = stack.ports;
    let data_dir = stack.data_dir.clone();

    tokio::task::spawn_blocking(move || stack.stop())
        .await
        .unwrap();
    // Exited children of exited parents are reaped by init, asynchronously.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|p| alive(*p)) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left: Vec<i32> = pids.iter().copied().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "processes left behind: {left:?}");
    for (name, port) in ports.named() {
        check_port_free(name, port).expect("port released");
    }
    assert!(!data_dir.exists(), "the temporary data folder is removed");
}
