//! `seed`: serve the encrypted films of the library to other owners over iroh-blobs, and
//! announce them to the API so that downloads come from owners' clients before the API's node.
//!
//! The files are served in place (the content store references the library's files; no second
//! copy); the node's key is kept in the home so that its id is stable across runs; each film is
//! announced with a signed, expiring announcement (`tangible_content::announce`) renewed before it
//! expires, until Ctrl-C or `--for` seconds.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use tangible_api_types::content::{ProviderAnnounced, ProviderAnnouncement};
use tangible_content::iroh::SecretKey;
use tangible_content::p2p::{Provider, endpoint_builder};
use tangible_content::{ContentHash, ContentStore, announce};
use tangible_domain::Quality;

use super::Ctx;
use crate::home::write_private;
use crate::output;

/// How long each announcement is listed; it is renewed at half of it.
const TTL_SECS: u64 = 10 * 60;

/// The node key of this home (created on first use, owner-only).
fn node_key(ctx: &Ctx) -> anyhow::Result<SecretKey> {
    let path = ctx.home.root().join("p2p-node.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .with_context(|| format!("{} is not a 32-byte hex key", path.display()))?;
        return Ok(SecretKey::from_bytes(&bytes));
    }
    let key = SecretKey::generate();
    write_private(&path, hex::encode(key.to_bytes()).as_bytes())?;
    Ok(key)
}

/// One film being served.
struct Seeded {
    licence_id: String,
    edition: String,
    hash: ContentHash,
    size: u64,
}

pub(super) async fn seed(ctx: &mut Ctx, for_secs: Option<u64>) -> anyhow::Result<()> {
    let wallet = ctx.address()?;
    let store = ContentStore::open(ctx.home.store_dir())
        .await
        .context("opening the content store")?;
    let mut films = Vec::new();
    for entry in ctx.library().list()? {
        let Some(content) = entry.licence.content.clone() else {
            continue;
        };
        if !entry.has_film() {
            continue;
        }
        let expected: ContentHash = content.hash.parse().context("a stored content hash")?;
        let info = store
            .import_file_in_place(entry.film_path())
            .await
            .with_context(|| format!("serving {}", entry.film_path().display()))?;
        if info.hash != expected {
            // Not the file the API published (changed on disk): never served.
            let _ = store.remove(info.hash).await;
            eprintln!(
                "warning: licence {}: the film file does not match its published hash; not seeded \
                 (run `tangible download {}` again)",
                entry.licence.licence_id, entry.licence.licence_id
            );
            continue;
        }
        let quality = Quality::from_code(entry.licence.quality)?;
        films.push(Seeded {
            licence_id: entry.licence.licence_id.clone(),
            edition: format!("{}-{}", entry.licence.film_id, quality.as_str()),
            hash: info.hash,
            size: info.size,
        });
    }
    anyhow::ensure!(
        !films.is_empty(),
        "nothing to seed: the library holds no downloaded film (tangible download <licence>)"
    );
    let key = node_key(ctx)?;
    let provider = Provider::spawn(&store, endpoint_builder().secret_key(key.clone()))
        .await
        .context("starting the P2P node")?;
    let api = ctx.authed_api().await?;
    let wallet_text = wallet.to_string().to_lowercase();
    let (films_ref, provider_ref, api_ref, key_ref, wallet_ref) =
        (&films, &provider, &api, &key, &wallet_text);
    let announce_all = move |ttl: u64| async move {
        let expires_at = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0) + ttl;
        for f in films_ref {
            let body = ProviderAnnouncement {
                licence_id: f.licence_id.clone(),
                provider: provider_ref.addr().to_string(),
                expires_at,
                signature: announce::sign(key_ref, &f.edition, wallet_ref, expires_at),
            };
            let announced: Result<ProviderAnnounced, _> = api_ref
                .post(&format!("/v1/editions/{}/providers", f.edition), &body)
                .await;
            if let Err(e) = announced {
                // Still served to whoever knows the node; listed again at the next round.
                eprintln!("warning: announcing {} failed: {e}", f.edition);
            }
        }
    };
    announce_all(TTL_SECS).await;
    let node_id = provider.endpoint().id().to_string();
    if ctx.json {
        output::json(&json!({
            "node_id": node_id,
            "provider": provider.addr().to_string(),
            "seeding": films.iter().map(|f| json!({
                "licence_id": f.licence_id, "edition": f.edition, "hash": f.hash.to_hex(), "size": f.size,
            })).collect::<Vec<_>>(),
        }));
    } else {
        println!("Seeding from node {node_id} (Ctrl-C stops):");
        for f in &films {
            println!(
                "  licence {}  edition {}  {} bytes  {}",
                f.licence_id,
                f.edition,
                f.size,
                f.hash.to_hex()
            );
        }
    }
    let started = Instant::now();
    let until = for_secs.map(Duration::from_secs);
    loop {
        let left = until.map(|u| u.saturating_sub(started.elapsed()));
        let nap = Duration::from_secs(TTL_SECS / 2).min(left.unwrap_or(Duration::MAX));
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tokio::time::sleep(nap) => {}
        }
        if left.is_some_and(|l| l <= nap) {
            break;
        }
        announce_all(TTL_SECS).await;
    }
    // Withdrawn: listed one more second, so that downloaders stop trying this node at once.
    announce_all(1).await;
    provider.shutdown().await.ok();
    store.shutdown().await.ok();
    ctx.say("Stopped seeding.");
    Ok(())
}
