//! `download`, `sync`: getting a licence's encrypted film, key and certificate; refreshing
//! certificates and erasing what is no longer owned. `verify` is in `verify.rs`, `play` in
//! `play.rs`.

use std::path::Path;
use std::time::Duration;

use alloy::primitives::U256;
use anyhow::Context;
use serde_json::json;
use tangible_api_types::catalogue::{LicenceQuery, LicenceView, Page};
use tangible_api_types::content::EditionContent;
use tangible_api_types::error::codes;
use tangible_api_types::licences::KeyRelease;
use tangible_content::p2p::{Downloader, ProviderAddr, endpoint_builder};
use tangible_content::swarm::{ProviderReport, SwarmOptions};
use tangible_content::{ContentHash, ContentStore};
use tangible_crypto::certificate::SignedCertificate;
use tangible_crypto::ecies::{KeyReleaseContext, WrappedKey};

use super::trust::{accept_certificate, online_signer};
use super::verify::hash_file;
use super::{Ctx, seed};
use crate::api::{Api, ApiError};
use crate::chain::parse_id;
use crate::cli::SeedArgs;
use crate::library::{ContentInfo, LocalLicence, StoredKey};
use crate::output;

/// Where to fetch an edition's encrypted file, as the API describes it.
#[derive(Debug)]
struct ContentLocation {
    hash: ContentHash,
    size: Option<u64>,
    providers: Vec<ProviderAddr>,
    /// The API's nodes among the providers: asked only for pieces no client holds.
    api_nodes: Vec<tangible_content::iroh::EndpointId>,
    http_url: Option<String>,
}

fn parse_location(c: &EditionContent, api: &Api) -> anyhow::Result<ContentLocation> {
    let hash: ContentHash = c
        .blob_hash
        .trim_start_matches("0x")
        .parse()
        .context("the API's content hash is not a BLAKE3 hash")?;
    // The API's list, owners' seeding clients first, then its own node; older APIs give only
    // the ticket and the provider.
    let mut providers: Vec<ProviderAddr> =
        c.providers.iter().filter_map(|p| p.parse().ok()).collect();
    for t in [&c.ticket, &c.provider] {
        if let Ok(ticket) = t.parse::<tangible_content::p2p::ContentTicket>() {
            providers.push(ticket.provider);
        } else if let Ok(p) = t.parse::<ProviderAddr>() {
            providers.push(p);
        }
    }
    let mut seen = std::collections::HashSet::new();
    providers.retain(|p| seen.insert(p.0.id));
    let mut api_nodes: Vec<_> = c
        .api_providers
        .iter()
        .filter_map(|p| p.parse::<ProviderAddr>().ok())
        .map(|p| p.0.id)
        .collect();
    // An API that does not name its nodes: the one of its ticket.
    if let Ok(p) = c.provider.parse::<ProviderAddr>() {
        api_nodes.push(p.0.id);
    }
    let u = c.http_url.as_str();
    let http_url = (!u.is_empty()).then(|| {
        if u.starts_with('/') {
            api.url(u)
        } else {
            u.to_owned()
        }
    });
    Ok(ContentLocation {
        hash,
        size: Some(c.size),
        providers,
        api_nodes,
        http_url,
    })
}

/// Explains API refusals about a licence in user terms.
pub(super) fn licence_refusal(e: ApiError, id: U256) -> anyhow::Error {
    match e.code() {
        Some(codes::NOT_OWNER) => {
            anyhow::anyhow!("licence {id} is not owned by this wallet ({e})")
        }
        Some(codes::LICENCE_REVOKED) => {
            anyhow::anyhow!("licence {id} was revoked (resold or charged back) ({e})")
        }
        _ => anyhow::Error::new(e),
    }
}

pub(super) async fn download(
    ctx: &mut Ctx,
    licence: &str,
    http_only: bool,
    seed_args: &SeedArgs,
) -> anyhow::Result<()> {
    let id = parse_id(licence, "licence")?;
    let api = ctx.authed_api().await?;
    // 1. The key, wrapped to this wallet (the API checks ownership on chain).
    let release: KeyRelease<WrappedKey> = api
        .post(&format!("/v1/licences/{id}/key"), &json!({}))
        .await
        .map_err(|e| licence_refusal(e, id))
        .context("asking for the film key")?;
    let lib = ctx.library();
    let mut local = lib
        .get(id)?
        .map(|e| e.licence)
        .unwrap_or_else(|| LocalLicence {
            licence_id: id.to_string(),
            film_id: release.film_id,
            quality: release.quality,
            chain_id: release.chain_id,
            content: None,
        });
    local.film_id = release.film_id;
    local.quality = release.quality;
    local.chain_id = release.chain_id;
    let entry = lib.upsert(local)?;
    let context = KeyReleaseContext {
        licence_id: id,
        film_id: release.film_id,
        quality: release.quality,
        chain_id: release.chain_id,
    };
    entry.save_key(&StoredKey {
        context,
        wrapped_key: release.wrapped_key,
    })?;
    // 2. The certificate for offline play.
    let cert: SignedCertificate = api
        .get(&format!("/v1/licences/{id}/certificate"), &[])
        .await
        .map_err(|e| licence_refusal(e, id))
        .context("fetching the certificate")?;
    let signer = online_signer(ctx, cert.recover_signer()?).await?;
    accept_certificate(ctx, &entry, &cert, signer)?;
    // 3. The encrypted film.
    let quality = tangible_domain::Quality::from_code(release.quality)?;
    let content_path = format!(
        "/v1/editions/{}-{}/content",
        release.film_id,
        quality.as_str()
    );
    let described: EditionContent = api
        .get(&content_path, &[])
        .await
        .context("asking the API where the film is served")?;
    let location = parse_location(&described, &api)?;
    let dest = entry.film_path();
    let mut entry = entry;
    let (source, reports) = if dest.is_file() && hash_file(&dest)? == location.hash {
        ctx.say(format!("Film already downloaded: {}", dest.display()));
        ("local", Vec::new())
    } else {
        // The home's store holds partial downloads (resumed by the next run) and is what the
        // seeder serves; when another process of this home holds it, download aside.
        let store = if http_only {
            None
        } else {
            match seed::open_home_store(ctx).await {
                Some(s) => Some((s, None)),
                None => aside_store(ctx).await.map(|(s, dir)| (s, Some(dir))),
            }
        };
        let mut seeder = match &store {
            Some((s, None)) => seed::beside(ctx, Some(s), seed_args, false).await,
            _ => None,
        };
        // Serve the pieces as they arrive: other owners downloading now fetch them from here.
        if let Some(s) = seeder.as_mut() {
            let film = seed::Seeded {
                licence_id: id.to_string(),
                edition: format!("{}-{}", release.film_id, quality.as_str()),
                hash: location.hash,
                size: location.size.unwrap_or(0),
            };
            s.announce_download(ctx, film).await;
        }
        let fetched = fetch(ctx, &api, &location, &dest, store.as_ref().map(|(s, _)| s)).await;
        if let Some(s) = seeder {
            s.stop().await;
        }
        if let Some((s, aside)) = store {
            let _ = s.shutdown().await;
            if let Some(dir) = aside {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        let (source, reports) = fetched?;
        let from: Vec<String> = reports
            .iter()
            .filter(|r| r.bytes > 0)
            .map(|r| {
                format!(
                    "{} ({:.1} MB)",
                    r.provider.fmt_short(),
                    r.bytes as f64 / 1e6
                )
            })
            .collect();
        if from.is_empty() {
            ctx.say(format!("Downloaded over {source}: {}", dest.display()));
        } else {
            ctx.say(format!(
                "Downloaded over {source} from {}: {}",
                from.join(", "),
                dest.display()
            ));
        }
        for r in reports.iter().filter(|r| r.dropped.is_some()) {
            ctx.say(format!(
                "  node {} was dropped: {}",
                r.provider.fmt_short(),
                r.dropped.as_deref().unwrap_or_default()
            ));
        }
        (source, reports)
    };
    // The node that delivered the most (older clients read this field).
    let provider = reports
        .iter()
        .filter(|r| r.bytes > 0)
        .max_by_key(|r| r.bytes)
        .map(|r| r.provider.to_string());
    let size = std::fs::metadata(&dest)?.len();
    entry.licence.content = Some(ContentInfo {
        hash: location.hash.to_hex(),
        size,
    });
    entry.save()?;
    if ctx.json {
        output::json(&json!({
            "licence_id": id.to_string(),
            "file": dest,
            "hash": location.hash.to_hex(),
            "size": size,
            "source": source,
            "provider": provider,
            "providers": reports,
            "certificate_valid_until": cert.certificate.validUntil,
        }));
    } else {
        println!("Licence {id}: ready to play, offline too (tangible play {id})");
    }
    Ok(())
}

/// A private store for a download while another process of this home holds the home's store
/// (`None` when that one is taken too: the download goes over HTTP).
async fn aside_store(ctx: &Ctx) -> Option<(ContentStore, std::path::PathBuf)> {
    let dir = ctx
        .home
        .root()
        .join(format!("store-aside-{}", std::process::id()));
    ContentStore::open(&dir).await.ok().map(|s| (s, dir))
}

/// Fetches the file over P2P from every provider at once (into `store`), falling back to HTTP
/// last; returns which one delivered and what each P2P provider did.
async fn fetch(
    ctx: &Ctx,
    api: &Api,
    location: &ContentLocation,
    dest: &Path,
    store: Option<&ContentStore>,
) -> anyhow::Result<(&'static str, Vec<ProviderReport>)> {
    let bar = output::bytes_bar(location.size.unwrap_or(0), "downloading");
    if ctx.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let progress = |p: tangible_content::p2p::TransferProgress| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let mut reports = Vec::new();
    if let Some(store) = store.filter(|_| !location.providers.is_empty()) {
        let outcome = async {
            let downloader = Downloader::bind(store.clone(), endpoint_builder())
                .await?
                .with_connect_timeout(Duration::from_secs(10));
            let r = downloader
                .fetch_swarm(
                    location.hash,
                    &location.providers,
                    SwarmOptions {
                        last_resort: location.api_nodes.clone(),
                        shuffle: true,
                        ..SwarmOptions::default()
                    },
                    progress,
                )
                .await;
            downloader.close().await;
            r
        }
        .await;
        match outcome {
            Ok(outcome) => {
                // The store's file moves into the library and stays referenced by the store:
                // one copy on disk, served in place by the seeder.
                if dest.exists() {
                    std::fs::remove_file(dest)
                        .with_context(|| format!("replacing {}", dest.display()))?;
                }
                store
                    .export_in_place(location.hash, dest)
                    .await
                    .context("writing the film into the library")?;
                bar.finish_and_clear();
                return Ok(("P2P", outcome.providers));
            }
            Err(e) => {
                if let tangible_content::ContentError::Swarm { providers, .. } = &e {
                    reports.clone_from(providers);
                }
                tracing::warn!(target: "tangible::cli", error = %e, "P2P download failed, falling back to HTTP");
                if !ctx.json {
                    bar.suspend(|| eprintln!("P2P download failed ({e}); trying HTTP…"));
                }
            }
        }
    }
    let url = location
        .http_url
        .clone()
        .context("no HTTP URL for this film and P2P did not deliver it")?;
    tangible_content::http::download_to_file(api.http(), &url, location.hash, dest, progress)
        .await
        .context("downloading the film over HTTP")?;
    bar.finish_and_clear();
    Ok(("HTTP", reports))
}

pub(super) async fn sync(ctx: &mut Ctx, seed_args: &SeedArgs) -> anyhow::Result<()> {
    let api = ctx.authed_api().await?;
    // Films erased below leave the store too; a `seed` running in another process (holding the
    // store) notices within seconds and stops serving them.
    let store = seed::open_home_store(ctx).await;
    let mut seeder = seed::beside(ctx, store.as_ref(), seed_args, false).await;
    let lib = ctx.library();
    let owner = ctx.address()?;
    let mut report = Vec::new();
    for entry in lib.list()? {
        let id: U256 = entry.licence.licence_id.parse()?;
        match api
            .get::<SignedCertificate>(&format!("/v1/licences/{id}/certificate"), &[])
            .await
        {
            Ok(cert) => {
                let signer = online_signer(ctx, cert.recover_signer()?).await?;
                accept_certificate(ctx, &entry, &cert, signer)?;
                let until = chrono::DateTime::from_timestamp(cert.certificate.validUntil as i64, 0)
                    .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default();
                ctx.say(format!("licence {id}: certificate renewed until {until}"));
                report.push(json!({"licence_id": id.to_string(), "action": "renewed", "valid_until": cert.certificate.validUntil}));
            }
            Err(e) if matches!(e.status(), Some(403 | 404 | 410)) => {
                let why = match e.code() {
                    Some(codes::LICENCE_REVOKED) => "revoked",
                    Some(codes::NOT_OWNER) => "no longer owned by this wallet",
                    _ => "unknown to the chain",
                };
                let held = entry
                    .licence
                    .content
                    .as_ref()
                    .and_then(|c| c.hash.parse().ok());
                lib.erase(id)?;
                if let (Some(store), Some(hash)) = (&store, held) {
                    let _ = store.remove(hash).await;
                }
                // Not served a moment longer by this process.
                if let Some(s) = seeder.as_mut() {
                    let _ = s.rescan(ctx).await;
                }
                ctx.say(format!(
                    "licence {id}: {why} — local film, key and certificate erased"
                ));
                report
                    .push(json!({"licence_id": id.to_string(), "action": "erased", "reason": why}));
            }
            Err(e) => return Err(e).context(format!("refreshing licence {id}")),
        }
    }
    // Licences the wallet owns that this device does not know yet.
    if let Ok(page) = api
        .get_with::<Page<LicenceView>, _>(
            "/v1/licences",
            &LicenceQuery {
                owner: owner.to_string(),
                include_revoked: None,
                limit: Some(100),
                cursor: None,
            },
        )
        .await
    {
        for l in page.items.iter().filter(|l| !l.revoked) {
            let Ok(id) = l.licence_id.parse::<U256>() else {
                continue;
            };
            if lib.get(id)?.is_none() {
                ctx.say(format!(
                    "licence {id}: owned (film #{} {}), not on this device: tangible download {id}",
                    l.film_id, l.quality
                ));
                report.push(json!({"licence_id": id.to_string(), "action": "not_downloaded"}));
            }
        }
    }
    if let Some(s) = seeder {
        s.stop().await;
    }
    if let Some(store) = store {
        let _ = store.shutdown().await;
    }
    if ctx.json {
        output::json(&report);
    }
    Ok(())
}
