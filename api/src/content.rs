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

use std::collections::HashSet;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use sha2::{Digest, Sha256};
use tangible_content::p2p::{ContentTicket, Provider, ProviderAddr, endpoint_builder};
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
#[derive(Debug)]
pub struct ContentNode {
    store: ContentStore,
    provider: Provider,
    public_url: Option<String>,
    uploading: Mutex<HashSet<EditionId>>,
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

impl ContentNode {
    /// Opens the store in `dir` and starts the P2P provider (bound to `p2p_bind`, or every
    /// interface on a random port).
    pub async fn start(
        dir: &Path,
        p2p_bind: Option<SocketAddr>,
        public_url: Option<String>,
    ) -> Result<Self, ContentError> {
        let store = ContentStore::open(dir).await?;
        let builder = match p2p_bind {
            Some(addr) => endpoint_builder()
                .clear_ip_transports()
                .bind_addr(addr)
                .map_err(|e| ContentError::Bind {
                    source: Box::new(e),
                })?,
            None => endpoint_builder(),
        };
        let provider = Provider::spawn(&store, builder).await?;
        Ok(Self {
            store,
            provider,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            uploading: Mutex::new(HashSet::new()),
        })
    }

    /// The store.
    pub const fn store(&self) -> &ContentStore {
        &self.store
    }

    /// The provider's address (what clients dial).
    pub fn provider_addr(&self) -> ProviderAddr {
        self.provider.addr()
    }

    /// A P2P ticket for `hash` on this node.
    pub fn ticket(&self, hash: ContentHash) -> ContentTicket {
        self.provider.ticket(hash)
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

    /// Stops the provider and flushes the store.
    pub async fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown().await {
            tracing::warn!(target: TARGET, error = %e, "stopping the P2P provider");
        }
        if let Err(e) = self.store.shutdown().await {
            tracing::warn!(target: TARGET, error = %e, "closing the content store");
        }
    }
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
