//! Delivery by owners' clients (issue 17) on the stack, with three client homes: the first owner
//! seeds; with the API's P2P node stopped, a second owner downloads the whole film from the first
//! owner alone; a peer serving corrupted data is dropped while a third downloads; a former owner's
//! client stops seeding after `sync`.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tangible_content::ContentStore;
use tangible_content::p2p::{Downloader, ProviderAddr, endpoint_builder};
use tangible_e2e::User;

use super::{World, money};

/// A `tangible --json seed` running in the background, and the JSON lines it prints.
pub(super) struct Seeding {
    child: Child,
    /// What it printed first: its node id, its address and the films it serves.
    pub(super) started: Value,
    lines: mpsc::Receiver<Value>,
}

impl Seeding {
    /// Starts `user`'s seeding and waits for its first line.
    pub(super) fn start(user: &User) -> Self {
        let mut child = user
            .command(&["--json", "seed", "--for", "1200"], &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tangible seed starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let v = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("seed printed {line:?}: {e}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let started = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("seed prints what it serves");
        Self {
            child,
            started,
            lines,
        }
    }

    pub(super) fn node_id(&self) -> &str {
        self.started["node_id"].as_str().unwrap()
    }

    pub(super) fn provider(&self) -> &str {
        self.started["provider"].as_str().unwrap()
    }

    /// Waits (up to 30 s) for a line that `matches`.
    pub(super) fn wait_for(&self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) if matches(&v) => return v,
                Ok(_) => {}
                Err(e) => panic!("seed never printed {what}: {e}"),
            }
        }
    }
}

impl Drop for Seeding {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET /v1/editions/{film}-{quality}/content`.
pub(super) async fn content(w: &World, quality: &str) -> Value {
    money::get_json(
        reqwest::Client::new().get(format!(
            "{}/v1/editions/{}-{quality}/content",
            w.endpoints.api_url, w.film
        )),
        "the edition's providers",
    )
    .await
}

/// The bytes each provider delivered in a `download --json` report, by node id.
pub(super) fn bytes_by_node(download: &Value) -> Vec<(String, u64)> {
    download["providers"]
        .as_array()
        .unwrap_or_else(|| panic!("no providers in {download}"))
        .iter()
        .map(|p| {
            (
                p["provider"].as_str().unwrap().to_owned(),
                p["bytes"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Flips one byte in every MiB of `file` (again to undo it).
pub(super) fn flip_every_mib(file: &Path) {
    let len = std::fs::metadata(file).unwrap().len();
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
        .unwrap();
    let mut at = 4096;
    while at < len {
        let mut b = [0u8; 1];
        f.seek(SeekFrom::Start(at)).unwrap();
        f.read_exact(&mut b).unwrap();
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(&[b[0] ^ 0x55]).unwrap();
        at += 1 << 20;
    }
    f.sync_all().unwrap();
}

/// Whether the node at `provider` still serves `blob_hash`: a verified fetch into a scratch store.
pub(super) async fn serves(provider: &str, blob_hash: &str) -> bool {
    let addr: ProviderAddr = provider.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path()).await.unwrap();
    let d = Downloader::bind(store.clone(), endpoint_builder())
        .await
        .unwrap()
        .with_connect_timeout(Duration::from_secs(5));
    let r = tokio::time::timeout(
        Duration::from_secs(20),
        d.fetch(blob_hash.parse().unwrap(), &addr, |_| {}),
    )
    .await;
    d.close().await;
    let _ = store.shutdown().await;
    matches!(r, Ok(Ok(_)))
}
