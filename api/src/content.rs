//! The content node inside the API: a [`ContentStore`] of encrypted films, served over P2P by
//! a [`Provider`] (iroh-blobs) and over HTTP with range requests (`/v1/content/{hash}`), and the
//! master upload pipeline that fills it.
//!
//! Upload data flow ([`ingest_master`]), all streaming, nothing held whole in memory and no
//! plaintext written to disk: request body → (blocking thread) SHA-256 of the plaintext (the
//! master hash) and the film format's streaming encryptor (`tangible_crypto::film::encrypt`,
//! one 1 MiB segment in memory) → a bounded in-memory pipe → [`ContentStore::import_reader`]
//! (BLAKE3 while writing to the store). Memory is bounded by the pipe (4 MiB), one segment and
//! the store's import buffers, whatever the master's size.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use bytes::Bytes;
use futures::future::{BoxFuture, Shared};
use futures::{FutureExt, Stream, TryStreamExt};
use sha2::{Digest, Sha256};
use tangible_content::iroh::SecretKey;
use tangible_content::p2p::{
    ContentTicket, Downloader, Provider, ProviderAddr, ProviderOptions, endpoint_builder,
};
use tangible_content::swarm::SwarmOptions;
use tangible_content::{BlobInfo, ContentError, ContentHash, ContentStore};
use tangible_crypto::film::{self, FilmError, Header};
use tangible_crypto::{EditionId, FilmKey};
use tokio_util::io::{StreamReader, SyncIoBridge};

const TARGET: &str = "tangible::api::content";
/// Capacity of the pipe between the encryptor and the store import.
const PIPE_BYTES: usize = 4 << 20;
/// Upload progress is logged every this many plaintext bytes (and at most every few seconds).
const PROGRESS_EVERY: u64 = 256 << 20;

/// The content store and the P2P provider serving it.
///
/// The provider's key is kept in the content folder (`p2p-node.key`), so the node id, which
/// other instances and the holdings table (`crate::content_nodes`) name, survives restarts. An
/// operator may pause the P2P provider ([`ContentNode::set_p2p`]); HTTP keeps serving.
#[derive(Debug)]
pub struct ContentNode {
    store: ContentStore,
    provider: RwLock<Option<Arc<Provider>>>,
    key: SecretKey,
    p2p_bind: Option<SocketAddr>,
    public_url: Option<String>,
    uploading: Mutex<HashSet<EditionId>>,
    replicating: Mutex<HashMap<ContentHash, Replication>>,
    switching: tokio::sync::Mutex<()>,
}

/// A fetch of a blob from other nodes, shared by every request waiting for it.
type Replication = Shared<BoxFuture<'static, Result<u64, String>>>;

/// The longest a fetch from other nodes may take (then the next request starts another).
const REPLICATION_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Removes a replication's entry when it ends or is dropped.
struct ReplicationDone {
    node: Arc<ContentNode>,
    hash: ContentHash,
}

impl Drop for ReplicationDone {
    fn drop(&mut self) {
        if let Ok(mut running) = self.node.replicating.lock() {
            running.remove(&self.hash);
        }
    }
}

/// An upload slot for one edition, released on drop.
#[derive(Debug)]
pub struct UploadSlot {
    node: Arc<ContentNode>,
    edition: EditionId,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        if let Ok(mut set) = self.node.uploading.lock() {
            set.remove(&self.edition);
        }
    }
}

/// The node key kept in `dir` (created on first start, owner-only).
fn node_key(dir: &Path) -> Result<SecretKey, ContentError> {
    let path = dir.join("p2p-node.key");
    let io = |source| ContentError::Io {
        path: path.clone(),
        source,
    };
    if let Ok(text) = std::fs::read_to_string(&path) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(ContentError::Parse {
                    kind: "node key",
                    detail: format!(
                        "{} is readable by others (mode {:o}): chmod 600 it",
                        path.display(),
                        mode & 0o777
                    ),
                });
            }
        }
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ContentError::Parse {
                kind: "node key",
                detail: format!("{} is not a 32-byte hex key", path.display()),
            })?;
        return Ok(SecretKey::from_bytes(&bytes));
    }
    // Written whole to a temporary file, synced, then renamed: a crash leaves no empty key.
    let key = SecretKey::generate();
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join("p2p-node.key.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp).map_err(io)?;
    std::io::Write::write_all(&mut f, hex::encode(key.to_bytes()).as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(key)
}

impl ContentNode {
    /// Opens the store in `dir` and starts the P2P provider (bound to `p2p_bind`, or every
    /// interface on a random port).
    pub async fn start(
        dir: &Path,
        p2p_bind: Option<SocketAddr>,
        public_url: Option<String>,
    ) -> Result<Self, ContentError> {
        let store = ContentStore::open(dir).await?;
        let key = node_key(dir)?;
        let provider = spawn_provider(&store, &key, p2p_bind).await?;
        Ok(Self {
            store,
            provider: RwLock::new(Some(Arc::new(provider))),
            key,
            p2p_bind,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            uploading: Mutex::new(HashSet::new()),
            replicating: Mutex::new(HashMap::new()),
            switching: tokio::sync::Mutex::new(()),
        })
    }

    /// The store.
    pub const fn store(&self) -> &ContentStore {
        &self.store
    }

    /// The node id (the provider's endpoint id, stable across restarts).
    pub fn node_id(&self) -> String {
        self.key.public().to_string()
    }

    fn provider(&self) -> Option<Arc<Provider>> {
        self.provider.read().ok().and_then(|p| p.clone())
    }

    /// The provider's address (what clients dial); `None` while P2P is paused.
    pub fn provider_addr(&self) -> Option<ProviderAddr> {
        self.provider().map(|p| p.addr())
    }

    /// A P2P ticket for `hash` on this node; `None` while P2P is paused.
    pub fn ticket(&self, hash: ContentHash) -> Option<ContentTicket> {
        self.provider().map(|p| p.ticket(hash))
    }

    /// Payload bytes this node's provider sent over P2P since it (re)started.
    pub fn uploaded(&self) -> u64 {
        self.provider().map_or(0, |p| p.uploaded())
    }

    /// Starts or stops serving over P2P (an operator's switch: shed the delivery load onto
    /// seeders and other instances, or drain this instance). Returns the address served, if any.
    pub async fn set_p2p(&self, serving: bool) -> Result<Option<ProviderAddr>, ContentError> {
        // One switch at a time: two concurrent starts would bind two providers.
        let _one = self.switching.lock().await;
        if serving {
            if let Some(addr) = self.provider_addr() {
                return Ok(Some(addr));
            }
            let provider = spawn_provider(&self.store, &self.key, self.p2p_bind).await?;
            let addr = provider.addr();
            if let Ok(mut slot) = self.provider.write() {
                *slot = Some(Arc::new(provider));
            }
            tracing::info!(target: TARGET, %addr, "P2P serving resumed");
            Ok(Some(addr))
        } else {
            let taken = self.provider.write().ok().and_then(|mut p| p.take());
            if let Some(p) = taken {
                p.shutdown().await?;
                tracing::info!(target: TARGET, "P2P serving paused");
            }
            Ok(None)
        }
    }

    /// The HTTP URL of `hash` (absolute when a public URL is configured, else a path).
    pub fn http_url(&self, hash: ContentHash) -> String {
        let path = format!("/v1/content/{hash}");
        match &self.public_url {
            Some(base) => format!("{base}{path}"),
            None => path,
        }
    }

    /// Claims the upload slot of `edition`; `None` while another upload of it runs here.
    pub fn begin_upload(self: &Arc<Self>, edition: EditionId) -> Option<UploadSlot> {
        let mut set = self.uploading.lock().ok()?;
        set.insert(edition).then(|| UploadSlot {
            node: self.clone(),
            edition,
        })
    }

    /// Fetches `hash` into this node's store from `sources` (other instances, seeders) over
    /// iroh, all at once, verified; concurrent callers for the same hash share one fetch.
    /// Returns the size stored.
    pub async fn replicate(
        self: &Arc<Self>,
        hash: ContentHash,
        sources: Vec<ProviderAddr>,
    ) -> Result<u64, String> {
        if let Ok(Some(size)) = self.store.size(hash).await {
            return Ok(size);
        }
        let fetch = {
            let Ok(mut running) = self.replicating.lock() else {
                return Err("replication registry poisoned".to_owned());
            };
            running
                .entry(hash)
                .or_insert_with(|| {
                    let node = Arc::clone(self);
                    async move {
                        // The entry goes when this ends, finished or dropped.
                        let _done = ReplicationDone {
                            node: node.clone(),
                            hash,
                        };
                        tokio::time::timeout(REPLICATION_LIMIT, node.fetch_from(hash, &sources))
                            .await
                            .unwrap_or_else(|_| {
                                Err(format!(
                                    "not fetched within {} s",
                                    REPLICATION_LIMIT.as_secs()
                                ))
                            })
                    }
                    .boxed()
                    .shared()
                })
                .clone()
        };
        fetch.await
    }

    /// Whether a fetch of `hash` from other nodes is running.
    pub fn replicating(&self, hash: ContentHash) -> bool {
        self.replicating
            .lock()
            .is_ok_and(|running| running.contains_key(&hash))
    }

    async fn fetch_from(&self, hash: ContentHash, sources: &[ProviderAddr]) -> Result<u64, String> {
        if sources.is_empty() {
            return Err(format!("no other node holds {hash}"));
        }
        let started = Instant::now();
        tracing::info!(target: TARGET, %hash, sources = sources.len(), "replicating a blob from other nodes");
        let downloader = Downloader::bind(self.store.clone(), endpoint_builder())
            .await
            .map_err(|e| e.to_string())?
            .with_connect_timeout(Duration::from_secs(10));
        let r = downloader
            .fetch_swarm(hash, sources, SwarmOptions::default(), |_| {})
            .await;
        downloader.close().await;
        let outcome = r.map_err(|e| e.to_string())?;
        tracing::info!(target: TARGET, %hash, size = outcome.size,
            elapsed_ms = started.elapsed().as_millis() as u64,
            from = ?outcome.providers.iter().filter(|p| p.bytes > 0).map(|p| p.provider.fmt_short().to_string()).collect::<Vec<_>>(),
            "blob replicated");
        Ok(outcome.size)
    }

    /// Stops the provider and flushes the store.
    pub async fn shutdown(&self) {
        if let Err(e) = self.set_p2p(false).await {
            tracing::warn!(target: TARGET, error = %e, "stopping the P2P provider");
        }
        if let Err(e) = self.store.shutdown().await {
            tracing::warn!(target: TARGET, error = %e, "closing the content store");
        }
    }
}

/// The provider of `store` under `key`, bound to `p2p_bind` (or every interface, random port).
async fn spawn_provider(
    store: &ContentStore,
    key: &SecretKey,
    p2p_bind: Option<SocketAddr>,
) -> Result<Provider, ContentError> {
    let builder = match p2p_bind {
        Some(addr) => endpoint_builder()
            .clear_ip_transports()
            .bind_addr(addr)
            .map_err(|e| ContentError::Bind {
                source: Box::new(e),
            })?,
        None => endpoint_builder(),
    };
    // Uploads are counted (operators' figures, the swarm benchmark); not capped.
    let options = ProviderOptions {
        max_upload_bytes_per_sec: None,
        count_upload: true,
        ..ProviderOptions::default()
    };
    Provider::spawn_with(store, builder.secret_key(key.clone()), options).await
}

/// What an upload produced.
#[derive(Debug, Clone, Copy)]
pub struct Ingested {
    /// SHA-256 of the plaintext master (registered on chain as the master hash).
    pub master_hash: B256,
    /// Plaintext bytes.
    pub master_size: u64,
    /// The stored encrypted file.
    pub blob: BlobInfo,
}

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The body ended early, carried more than declared, or could not be read (client side).
    #[error("upload body: {0}")]
    Body(String),
    /// The declared size cannot be encrypted (too many segments).
    #[error("master: {0}")]
    Format(#[source] FilmError),
    /// The content store failed.
    #[error("content store: {0}")]
    Store(#[from] ContentError),
    /// The encryption thread failed unexpectedly.
    #[error("encryption task: {0}")]
    Task(String),
}

/// Counts, hashes and reports progress of the plaintext as the encryptor reads it.
struct HashingReader<R> {
    inner: R,
    sha: Sha256,
    done: u64,
    total: u64,
    edition: EditionId,
    next_report: u64,
    last_report: Instant,
    started: Instant,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        self.done += n as u64;
        if self.done >= self.next_report
            || (n > 0 && self.last_report.elapsed() >= Duration::from_secs(5))
        {
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            tracing::info!(
                target: TARGET,
                edition = %self.edition,
                done = self.done,
                total = self.total,
                percent = format!("{:.1}", self.done as f64 * 100.0 / self.total.max(1) as f64),
                mb_per_s = format!("{:.1}", self.done as f64 / secs / 1e6),
                "master upload progress"
            );
            self.next_report = self.done + PROGRESS_EVERY;
            self.last_report = Instant::now();
        }
        Ok(n)
    }
}

/// Hashes, encrypts under `key` and stores a master of exactly `plaintext_len` bytes read from
/// `body`. On failure nothing new stays in the store.
pub async fn ingest_master<S, E>(
    store: &ContentStore,
    key: FilmKey,
    edition: EditionId,
    plaintext_len: u64,
    body: S,
) -> Result<Ingested, IngestError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display,
{
    let header = Header::new(edition, plaintext_len).map_err(IngestError::Format)?;
    let reader = StreamReader::new(body.map_err(|e| io::Error::other(e.to_string())));
    let (pipe_in, pipe_out) = tokio::io::duplex(PIPE_BYTES);
    let handle = tokio::runtime::Handle::current();
    let started = Instant::now();
    let encrypt = tokio::task::spawn_blocking(move || {
        let mut source = HashingReader {
            inner: SyncIoBridge::new_with_handle(reader, handle.clone()),
            sha: Sha256::new(),
            done: 0,
            total: plaintext_len,
            edition,
            next_report: PROGRESS_EVERY,
            last_report: Instant::now(),
            started,
        };
        let mut sink = SyncIoBridge::new_with_handle(pipe_in, handle);
        let written = film::encrypt(&key, &header, &mut source, &mut sink)?;
        sink.shutdown()?;
        let hash: [u8; 32] = source.sha.finalize().into();
        Ok::<_, FilmError>((B256::from(hash), written))
    });
    let imported = store.import_reader(pipe_out).await;
    let encrypted = encrypt
        .await
        .map_err(|e| IngestError::Task(e.to_string()))?;
    let (master_hash, written, blob) = match (encrypted, imported) {
        (Ok((hash, written)), imported) => (hash, written, imported?),
        // The store failed first: the encryptor only saw the pipe close.
        (Err(_), Err(store_err)) => return Err(IngestError::Store(store_err)),
        (Err(e), Ok(blob)) => {
            // The pipe closed early: what was imported is a truncated file.
            let _ = store.remove(blob.hash).await;
            return Err(match e {
                FilmError::InputTooShort { expected, actual } => IngestError::Body(format!(
                    "the body ended after {actual} of the {expected} declared bytes"
                )),
                FilmError::InputTooLong { expected } => IngestError::Body(format!(
                    "the body is longer than the {expected} declared bytes"
                )),
                FilmError::Io(io) => IngestError::Body(io.to_string()),
                other => IngestError::Format(other),
            });
        }
    };
    if blob.size != written {
        let _ = store.remove(blob.hash).await;
        return Err(IngestError::Task(format!(
            "the store imported {} bytes, the encryptor wrote {written}",
            blob.size
        )));
    }
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(
        target: TARGET,
        %edition,
        size = plaintext_len,
        encrypted = blob.size,
        blob = %blob.hash,
        master_hash = %master_hash,
        secs = format!("{secs:.2}"),
        "master encrypted and stored"
    );
    Ok(Ingested {
        master_hash,
        master_size: plaintext_len,
        blob,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(data: &[u8], size: usize) -> Vec<Result<Bytes, io::Error>> {
        data.chunks(size)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect()
    }

    #[tokio::test]
    async fn a_streamed_master_is_hashed_encrypted_and_stored_and_a_short_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path()).await.unwrap();
        let data: Vec<u8> = (0..3_000_123u32).map(|i| (i * 7 + i / 977) as u8).collect();
        let key = FilmKey::generate();
        let edition = EditionId::new(7, 1);
        let body = futures::stream::iter(chunks(&data, 65_537));
        let got = ingest_master(&store, key.clone(), edition, data.len() as u64, body)
            .await
            .unwrap();
        assert_eq!(got.master_hash.0, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(got.master_size, data.len() as u64);
        let stored = store
            .read_range(got.blob.hash, 0..got.blob.size)
            .await
            .unwrap();
        assert_eq!(ContentHash::of(&stored), got.blob.hash);
        let mut plain = Vec::new();
        let header = film::decrypt(&key, std::io::Cursor::new(&stored[..]), &mut plain).unwrap();
        assert_eq!(header.edition, edition);
        assert!(plain == data, "decrypts to the master");

        let before = store.list().await.unwrap().len();
        let short = futures::stream::iter(chunks(&data[..1_000_000], 4096));
        let err = ingest_master(&store, key, edition, data.len() as u64, short)
            .await
            .unwrap_err();
        assert!(matches!(err, IngestError::Body(_)), "{err}");
        assert_eq!(
            store.list().await.unwrap().len(),
            before,
            "nothing new stored"
        );
        store.shutdown().await.unwrap();
    }
}
