//! Seeding: serving the encrypted films of the library to other owners over iroh-blobs, and
//! announcing them to the API so that downloads come from owners' clients before the API's node.
//!
//! A [`Seeder`] runs inside `seed` (in the foreground, until Ctrl-C or `--for`) and, unless
//! `--no-seed`, while `download`, `play` and `sync` run. The files are served in place (the
//! content store references the library's files; no second copy), under an optional upload cap
//! (`--max-upload`). The node's key is kept in the home, so its id is stable across runs and
//! commands. Each film is announced with a signed, expiring announcement
//! (`tangible_content::announce`), renewed before it expires and withdrawn when seeding stops.
//! `seed` looks at the library every few seconds: a film erased by `sync` (resold, charged back)
//! stops being served and announced at once, and a newly downloaded one starts.
//!
//! The content store allows one process at a time: when another `tangible` process of the same
//! home holds it (a running `seed`), a command does not seed itself (the other one does) and
//! downloads into a private store.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use tangible_api_types::content::{ProviderAnnounced, ProviderAnnouncement};
use tangible_content::iroh::SecretKey;
use tangible_content::p2p::{Provider, ProviderAddr, ProviderOptions, ServeSet, endpoint_builder};
use tangible_content::{ContentHash, ContentStore, announce};
use tangible_domain::Quality;

use super::Ctx;
use crate::api::Api;
use crate::cli::SeedArgs;
use crate::home::write_private;
use crate::library::Entry;
use crate::output;

/// How long each announcement is listed; it is renewed at half of it.
const TTL_SECS: u64 = 10 * 60;
/// How often announcements are renewed.
pub(super) const RENEW_EVERY: Duration = Duration::from_secs(TTL_SECS / 2);
/// How often `seed` looks at the library for films added or erased.
const RESCAN: Duration = Duration::from_secs(3);

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

/// Opens the home's content store; `None` when it cannot be opened, typically because another
/// process of this home holds it (its database is locked): the caller then neither seeds nor
/// keeps partial downloads there.
pub(super) async fn open_home_store(ctx: &Ctx) -> Option<ContentStore> {
    match ContentStore::open(ctx.home.store_dir()).await {
        Ok(store) => Some(store),
        Err(e) => {
            tracing::info!(target: "tangible::cli", error = %e, "the home's content store is not available (another tangible process of this home holds it?)");
            None
        }
    }
}

/// One film being served.
#[derive(Debug, Clone)]
pub(super) struct Seeded {
    pub(super) licence_id: String,
    pub(super) edition: String,
    pub(super) hash: ContentHash,
    pub(super) size: u64,
}

impl Seeded {
    fn json(&self) -> serde_json::Value {
        json!({
            "licence_id": self.licence_id, "edition": self.edition,
            "hash": self.hash.to_hex(), "size": self.size,
        })
    }
}

/// Announces this node's films to the API, signed by the node key.
struct Announcer {
    api: Api,
    key: SecretKey,
    wallet: String,
    /// The node's address, as signed and announced.
    address: ProviderAddr,
}

impl Announcer {
    /// Announces `film` for `ttl` seconds (1 s withdraws it). Failures are logged: the film is
    /// still served to whoever knows the node, and listed again at the next round.
    async fn announce(&self, film: &Seeded, ttl: u64) {
        let expires_at = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0) + ttl;
        let body = ProviderAnnouncement {
            licence_id: film.licence_id.clone(),
            provider: self.address.to_string(),
            expires_at,
            signature: announce::sign(
                &self.key,
                &self.address,
                &film.edition,
                &self.wallet,
                expires_at,
            ),
        };
        let announced: Result<ProviderAnnounced, _> = self
            .api
            .post(&format!("/v1/editions/{}/providers", film.edition), &body)
            .await;
        if let Err(e) = announced {
            tracing::warn!(target: "tangible::cli", edition = %film.edition, error = %e, "announcing a seeded film failed");
        }
    }
}

/// What changed at a [`Seeder::rescan`].
#[derive(Debug, Default)]
pub(super) struct Changes {
    pub(super) started: Vec<Seeded>,
    pub(super) stopped: Vec<Seeded>,
}

/// Serves the library's downloaded films from the home's content store while it lives.
pub(super) struct Seeder {
    store: ContentStore,
    provider: Provider,
    serving: ServeSet,
    films: BTreeMap<String, Seeded>,
    announcer: Option<Announcer>,
    /// Whether the library's films are announced (`seed`, `play` online), not only served.
    announces_library: bool,
    /// A film being downloaded (served as its verified pieces arrive), announced on its own.
    downloading: Option<Seeded>,
}

impl Seeder {
    /// Starts serving every downloaded film of the library from `store` (`options` carry the
    /// upload cap). With `announce`, each film is announced to the API (when it can be reached:
    /// offline, the films are served to whoever knows the node).
    pub(super) async fn start(
        ctx: &mut Ctx,
        store: ContentStore,
        options: &SeedArgs,
        announce: bool,
    ) -> anyhow::Result<Self> {
        let key = node_key(ctx)?;
        // Only the films of the library (and a download in progress) are served: not what the
        // store keeps until garbage collection after `sync` erased a film.
        let serving = ServeSet::default();
        let provider_options = ProviderOptions {
            max_upload_bytes_per_sec: options.max_upload_bytes(),
            count_upload: true,
            serve_only: Some(serving.clone()),
        };
        let provider = Provider::spawn_with(
            &store,
            endpoint_builder().secret_key(key.clone()),
            provider_options,
        )
        .await
        .context("starting the P2P node")?;
        let announcer = if announce {
            match ctx.authed_api().await {
                Ok(api) => Some(Announcer {
                    api,
                    key,
                    wallet: ctx.address()?.to_string().to_lowercase(),
                    address: provider.addr(),
                }),
                Err(e) => {
                    tracing::warn!(target: "tangible::cli", error = %format!("{e:#}"), "not announcing seeded films: the API cannot be reached");
                    None
                }
            }
        } else {
            None
        };
        let mut seeder = Self {
            store,
            provider,
            serving,
            films: BTreeMap::new(),
            announces_library: announcer.is_some(),
            announcer,
            downloading: None,
        };
        seeder.rescan(ctx).await?;
        Ok(seeder)
    }

    /// The node id.
    pub(super) fn node_id(&self) -> String {
        self.provider.endpoint().id().to_string()
    }

    /// The node's address (an iroh endpoint ticket).
    pub(super) fn addr(&self) -> String {
        self.provider.addr().to_string()
    }

    /// The films served now.
    pub(super) fn films(&self) -> impl Iterator<Item = &Seeded> {
        self.films.values()
    }

    /// Payload bytes uploaded to other clients so far.
    pub(super) fn uploaded(&self) -> u64 {
        self.provider.uploaded()
    }

    /// Brings what is served in line with the library: films downloaded since are imported in
    /// place and announced; films no longer there (erased by `sync`) are withdrawn and removed
    /// from the store.
    pub(super) async fn rescan(&mut self, ctx: &Ctx) -> anyhow::Result<Changes> {
        let mut changes = Changes::default();
        let entries: BTreeMap<String, Entry> = ctx
            .library()
            .list()?
            .into_iter()
            .filter(|e| e.has_film() && e.licence.content.is_some())
            .map(|e| (e.licence.licence_id.clone(), e))
            .collect();
        let gone: Vec<String> = self
            .films
            .keys()
            .filter(|id| !entries.contains_key(*id))
            .cloned()
            .collect();
        for id in gone {
            if let Some(film) = self.films.remove(&id) {
                self.serving.remove(film.hash);
                if let Some(a) = self.announcer.as_ref().filter(|_| self.announces_library) {
                    a.announce(&film, 1).await;
                }
                let _ = self.store.remove(film.hash).await;
                changes.stopped.push(film);
            }
        }
        for (id, entry) in entries {
            if self.films.contains_key(&id) {
                continue;
            }
            // One film that cannot be served does not stop the others.
            match self.import(&entry).await {
                Ok(Some(film)) => {
                    self.serving.insert(film.hash);
                    if let Some(a) = self.announcer.as_ref().filter(|_| self.announces_library) {
                        a.announce(&film, TTL_SECS).await;
                    }
                    self.films.insert(id, film.clone());
                    changes.started.push(film);
                }
                Ok(None) => {}
                Err(e) => eprintln!("warning: licence {id}: not seeded: {e:#}"),
            }
        }
        Ok(changes)
    }

    /// References a library film from the store, if it is the file the API published.
    async fn import(&self, entry: &Entry) -> anyhow::Result<Option<Seeded>> {
        let Some(content) = &entry.licence.content else {
            return Ok(None);
        };
        let expected: ContentHash = content.hash.parse().context("a stored content hash")?;
        let quality = Quality::from_code(entry.licence.quality)?;
        let seeded = |size| Seeded {
            licence_id: entry.licence.licence_id.clone(),
            edition: format!("{}-{}", entry.licence.film_id, quality.as_str()),
            hash: expected,
            size,
        };
        // Referenced by an earlier run: not hashed again (a file changed on disk since would
        // fail its downloaders' verification, and `verify` names it).
        if let Some(size) = self.store.size(expected).await? {
            return Ok(Some(seeded(size)));
        }
        let info = self
            .store
            .import_file_in_place(entry.film_path())
            .await
            .with_context(|| format!("serving {}", entry.film_path().display()))?;
        if info.hash != expected {
            // Not the file the API published (changed on disk): never served.
            let _ = self.store.remove(info.hash).await;
            eprintln!(
                "warning: licence {}: the film file does not match its published hash; not seeded \
                 (run `tangible download {}` again)",
                entry.licence.licence_id, entry.licence.licence_id
            );
            return Ok(None);
        }
        Ok(Some(seeded(info.size)))
    }

    /// Announces the film being downloaded into this seeder's store: other downloaders of the
    /// edition fetch the pieces it has verified so far (a swarm), while the API's nodes are asked
    /// only for what no client holds. Withdrawn at [`Seeder::stop`].
    pub(super) async fn announce_download(&mut self, ctx: &mut Ctx, film: Seeded) {
        if self.announcer.is_none()
            && let (Ok(api), Ok(wallet)) = (ctx.authed_api().await, ctx.address())
        {
            match node_key(ctx) {
                Ok(key) => {
                    self.announcer = Some(Announcer {
                        api,
                        key,
                        wallet: wallet.to_string().to_lowercase(),
                        address: self.provider.addr(),
                    });
                }
                Err(e) => {
                    tracing::warn!(target: "tangible::cli", error = %format!("{e:#}"), "no node key")
                }
            }
        }
        self.serving.insert(film.hash);
        if let Some(a) = &self.announcer {
            a.announce(&film, TTL_SECS).await;
        }
        self.downloading = Some(film);
    }

    /// Announces every film again (before the announcements expire).
    pub(super) async fn renew(&self) {
        if let Some(a) = self.announcer.as_ref().filter(|_| self.announces_library) {
            for film in self.films.values() {
                a.announce(film, TTL_SECS).await;
            }
        }
    }

    /// Withdraws the announcements (listed one more second, so that downloaders stop trying
    /// this node at once) and stops serving. The store stays open for its owner.
    pub(super) async fn stop(self) {
        if let Some(a) = &self.announcer {
            if self.announces_library {
                for film in self.films.values() {
                    a.announce(film, 1).await;
                }
            }
            if let Some(film) = &self.downloading {
                a.announce(film, 1).await;
            }
        }
        let _ = self.provider.shutdown().await;
    }
}

/// Seeds beside another command (`download`, `play`, `sync`) unless `--no-seed`: `None` when
/// turned off or when another process of this home already seeds.
pub(super) async fn beside(
    ctx: &mut Ctx,
    store: Option<&ContentStore>,
    options: &SeedArgs,
    announce: bool,
) -> Option<Seeder> {
    if options.no_seed {
        return None;
    }
    let store = store?.clone();
    match Seeder::start(ctx, store, options, announce).await {
        Ok(s) => {
            let films = s.films().count();
            if films > 0 && !ctx.json {
                eprintln!(
                    "Seeding {films} film(s) from node {} while this runs (--no-seed turns it off).",
                    s.node_id()
                );
            }
            Some(s)
        }
        Err(e) => {
            tracing::warn!(target: "tangible::cli", error = %format!("{e:#}"), "not seeding");
            None
        }
    }
}

pub(super) async fn seed(
    ctx: &mut Ctx,
    for_secs: Option<u64>,
    options: &SeedArgs,
) -> anyhow::Result<()> {
    let store = open_home_store(ctx).await.context(
        "the content store cannot be opened: another tangible process of this home holds it (a `tangible seed` already running?)",
    )?;
    let mut seeder = Seeder::start(ctx, store.clone(), options, true).await?;
    if seeder.films().next().is_none() {
        seeder.stop().await;
        store.shutdown().await.ok();
        anyhow::bail!(
            "nothing to seed: the library holds no downloaded film (tangible download <licence>)"
        );
    }
    let node_id = seeder.node_id();
    if ctx.json {
        output::json(&json!({
            "node_id": node_id,
            "provider": seeder.addr(),
            "max_upload_bytes_per_sec": options.max_upload_bytes(),
            "seeding": seeder.films().map(Seeded::json).collect::<Vec<_>>(),
        }));
    } else {
        let cap = options
            .max_upload_bytes()
            .map(|b| format!("upload capped at {:.1} MB/s", b as f64 / 1e6))
            .unwrap_or_else(|| "upload not capped (--max-upload)".to_owned());
        println!("Seeding from node {node_id}, {cap} (Ctrl-C stops):");
        for f in seeder.films() {
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
    let mut renewed = Instant::now();
    loop {
        let left = until.map(|u| u.saturating_sub(started.elapsed()));
        let nap = RESCAN.min(left.unwrap_or(Duration::MAX));
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tokio::time::sleep(nap) => {}
        }
        if left.is_some_and(|l| l <= nap) {
            break;
        }
        match seeder.rescan(ctx).await {
            Ok(changes) => report(ctx, &changes),
            Err(e) => eprintln!("warning: reading the library: {e:#}"),
        }
        if renewed.elapsed() >= RENEW_EVERY {
            seeder.renew().await;
            renewed = Instant::now();
        }
    }
    let uploaded = seeder.uploaded();
    seeder.stop().await;
    store.shutdown().await.ok();
    if ctx.json {
        output::json(&json!({"event": "stopped", "uploaded": uploaded}));
    } else {
        println!("Stopped seeding ({uploaded} bytes uploaded).");
    }
    Ok(())
}

/// One line per film started or stopped (a JSON line each with `--json`).
fn report(ctx: &Ctx, changes: &Changes) {
    for (event, films) in [("started", &changes.started), ("stopped", &changes.stopped)] {
        for f in films {
            if ctx.json {
                let mut line = f.json();
                line["event"] = json!(event);
                output::json(&line);
            } else if event == "started" {
                println!("  now seeding licence {} ({})", f.licence_id, f.edition);
            } else {
                println!(
                    "  stopped seeding licence {} ({}): no longer in the library",
                    f.licence_id, f.edition
                );
            }
        }
    }
}
