//! The content store: encrypted film files on the local file system, addressed by BLAKE3.
//!
//! The store *is* an iroh-blobs [`FsStore`] with a thin policy layer on top, so the bytes the
//! provider serves over P2P, the bytes the HTTP handler streams and the bytes a download
//! writes are the same files, with no copy or re-hash between the store and the network.
//! What the wrapper adds:
//!
//! - **membership by tag**: a file is "in the store" when the named tag
//!   `tangible/blob/<hex>` points at it and its data is complete. `list` and `contains` only
//!   ever see complete files; half-imported or half-downloaded data is never listed.
//! - **resumable partial data**: an interrupted download keeps its verified ranges under the
//!   tag `tangible/partial/<hex>`, so garbage collection does not throw them away and the next
//!   download resumes from them.
//! - **removal**: [`ContentStore::remove`] drops the tags at once (the file disappears from
//!   `list`, `contains`, HTTP); the bytes are reclaimed by the store's garbage collector on its
//!   next run ([`StoreOptions::gc_interval`]).
//!
//! Crash safety comes from iroh-blobs: an import streams the source into a temporary file
//! under `<root>/temp`, hashes it and computes the BLAKE3 outboard, then renames it into
//! `<root>/data` and commits the entry in its redb database. A crash before the commit
//! leaves no entry (and no tag), so nothing half-written becomes visible.

use std::{
    io,
    ops::Range,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use iroh_blobs::{
    BlobFormat, HashAndFormat,
    api::{
        blobs::{AddPathOptions, BlobStatus, ImportMode},
        proto::{AddProgressItem, ExportRangesItem},
    },
    store::{
        GcConfig,
        fs::{FsStore, options::Options},
    },
};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncRead;
use tokio_util::io::ReaderStream;
use tracing::{debug, info};

use crate::{
    error::{ContentError, Result},
    hash::ContentHash,
};

const BLOB_TAG_PREFIX: &str = "tangible/blob/";
const PARTIAL_TAG_PREFIX: &str = "tangible/partial/";
const TARGET: &str = "tangible::content::store";

/// A reader over one stored file: implements [`tokio::io::AsyncRead`] and
/// [`tokio::io::AsyncSeek`]; obtained from [`ContentStore::open_reader`].
pub type ContentReader = iroh_blobs::api::blobs::BlobReader;

/// Options for [`ContentStore::open_with`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How often the garbage collector reclaims the space of removed files (and of partial
    /// data whose download was abandoned with [`ContentStore::remove`]). `None` disables it.
    pub gc_interval: Option<Duration>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            gc_interval: Some(Duration::from_secs(300)),
        }
    }
}

/// A stored file: its hash and size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobInfo {
    /// BLAKE3 hash of the file (its address).
    pub hash: ContentHash,
    /// Size in bytes.
    pub size: u64,
}

/// What the store holds for a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalState {
    /// Nothing.
    Absent,
    /// Some verified ranges (an interrupted download).
    Partial {
        /// Verified bytes held.
        have: u64,
        /// Size of the whole file, once verified.
        size: Option<u64>,
    },
    /// The whole file, verified.
    Complete {
        /// Size in bytes.
        size: u64,
    },
}

/// Content-addressed store of encrypted files on the local file system.
///
/// Cheap to clone (all clones share one store). Call [`ContentStore::shutdown`] before the
/// process exits so the database is flushed.
#[derive(Debug, Clone)]
pub struct ContentStore {
    inner: FsStore,
    root: Arc<PathBuf>,
}

fn blob_tag(hash: ContentHash) -> String {
    format!("{BLOB_TAG_PREFIX}{hash}")
}

fn partial_tag(hash: ContentHash) -> String {
    format!("{PARTIAL_TAG_PREFIX}{hash}")
}

fn raw(hash: ContentHash) -> HashAndFormat {
    HashAndFormat::raw(hash.into())
}

impl ContentStore {
    /// Opens (or creates) the store rooted at `root` with default options.
    pub async fn open(root: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(root, StoreOptions::default()).await
    }

    /// Opens (or creates) the store rooted at `root`.
    ///
    /// Layout: `<root>/blobs.db` (redb index and tags), `<root>/data` (files and BLAKE3
    /// outboards), `<root>/temp` (imports in progress), `<root>/http-partial` (HTTP
    /// fallback downloads in progress).
    pub async fn open_with(root: impl AsRef<Path>, options: StoreOptions) -> Result<Self> {
        let root = std::path::absolute(root.as_ref()).map_err(ContentError::io(root.as_ref()))?;
        tokio::fs::create_dir_all(&root)
            .await
            .map_err(ContentError::io(&root))?;
        let mut opts = Options::new(&root);
        opts.gc = options.gc_interval.map(|interval| GcConfig {
            interval,
            add_protected: None,
        });
        let inner = FsStore::load_with_opts(root.join("blobs.db"), opts)
            .await
            .map_err(|e| ContentError::Store {
                context: "opening the store",
                source: e.into(),
            })?;
        // The store holds its database lock now, so nothing else writes to `temp`: whatever is
        // there was left by a crash mid-import and can go.
        let leftovers = remove_dir_contents(&root.join("temp")).await;
        info!(target: TARGET, root = %root.display(), leftovers, "content store opened");
        Ok(Self {
            inner,
            root: Arc::new(root),
        })
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The underlying iroh-blobs store (for the P2P provider and downloader).
    pub fn blobs_store(&self) -> &iroh_blobs::api::Store {
        &self.inner
    }

    /// Imports a file by streaming it from disk (copied into the store, hashed on the way; the
    /// file is never held in memory). Importing a file that is already stored is a no-op that
    /// returns the same hash.
    pub async fn import_file(&self, path: impl AsRef<Path>) -> Result<BlobInfo> {
        self.import_path(path.as_ref(), ImportMode::Copy).await
    }

    /// Imports a file the store then serves **in place** (iroh-blobs keeps only its hash tree
    /// beside; the data is read from `path`), for a client that seeds the films of its library
    /// without a second copy on disk. The file must not change afterwards; remove it from the
    /// store ([`Self::remove`]) before deleting it. Falls back to a copy where the store cannot
    /// reference the file.
    pub async fn import_file_in_place(&self, path: impl AsRef<Path>) -> Result<BlobInfo> {
        self.import_path(path.as_ref(), ImportMode::TryReference)
            .await
    }

    /// Imports the file at `path`, copied or referenced (`mode`).
    async fn import_path(&self, path: &Path, mode: ImportMode) -> Result<BlobInfo> {
        let path = std::path::absolute(path).map_err(ContentError::io(path))?;
        // Fail early with a clear error instead of an opaque one from the store actor.
        tokio::fs::metadata(&path)
            .await
            .map_err(ContentError::io(&path))?;
        let progress = self.inner.blobs().add_path_with_opts(AddPathOptions {
            path: path.clone(),
            format: BlobFormat::Raw,
            mode,
        });
        let tt = progress
            .temp_tag()
            .await
            .map_err(ContentError::store("importing a file"))?;
        let hash = ContentHash::from(tt.hash());
        let info = self.commit(hash).await?;
        drop(tt);
        info!(target: TARGET, %hash, size = info.size, path = %path.display(), ?mode, "file imported");
        Ok(info)
    }

    /// Imports from any async reader (a network stream, an encryptor's output), streaming in
    /// 1 MiB pieces.
    pub async fn import_reader<R>(&self, reader: R) -> Result<BlobInfo>
    where
        R: AsyncRead + Send + Sync + Unpin + 'static,
    {
        let stream = ReaderStream::with_capacity(reader, 1 << 20);
        let progress = self.inner.blobs().add_stream(stream).await;
        let mut items = progress.stream().await;
        let mut tt = None;
        while let Some(item) = items.next().await {
            match item {
                AddProgressItem::Done(t) => {
                    tt = Some(t);
                    break;
                }
                AddProgressItem::Error(e) => {
                    return Err(ContentError::Store {
                        context: "importing a stream",
                        source: Box::new(e),
                    });
                }
                _ => {}
            }
        }
        let tt = tt.ok_or_else(|| ContentError::Store {
            context: "importing a stream",
            source: "import ended without a result".into(),
        })?;
        let hash = ContentHash::from(tt.hash());
        let info = self.commit(hash).await?;
        drop(tt);
        info!(target: TARGET, %hash, size = info.size, "stream imported");
        Ok(info)
    }

    /// Imports an in-memory buffer (small files and tests).
    pub async fn import_bytes(&self, data: impl Into<Bytes>) -> Result<BlobInfo> {
        let tt = self
            .inner
            .blobs()
            .add_bytes(data)
            .temp_tag()
            .await
            .map_err(ContentError::store("importing bytes"))?;
        let hash = ContentHash::from(tt.hash());
        let info = self.commit(hash).await?;
        drop(tt);
        Ok(info)
    }

    /// Marks a complete blob as a member of the store (named tag) and drops any partial tag.
    pub(crate) async fn commit(&self, hash: ContentHash) -> Result<BlobInfo> {
        let size = match self.raw_status(hash).await? {
            BlobStatus::Complete { size } => size,
            _ => {
                return Err(ContentError::Store {
                    context: "committing a blob",
                    source: format!("blob {hash} is not complete").into(),
                });
            }
        };
        let tags = self.inner.tags();
        tags.set(blob_tag(hash), raw(hash))
            .await
            .map_err(ContentError::store("setting a tag"))?;
        tags.delete(partial_tag(hash))
            .await
            .map_err(ContentError::store("deleting a tag"))?;
        Ok(BlobInfo { hash, size })
    }

    /// Protects the partial data of a download in progress from garbage collection.
    pub(crate) async fn pin_partial(&self, hash: ContentHash) -> Result<()> {
        self.inner
            .tags()
            .set(partial_tag(hash), raw(hash))
            .await
            .map_err(ContentError::store("setting a tag"))
    }

    async fn raw_status(&self, hash: ContentHash) -> Result<BlobStatus> {
        self.inner
            .blobs()
            .status(iroh_blobs::Hash::from(hash))
            .await
            .map_err(ContentError::store("reading blob status"))
    }

    /// Size of the stored file, or `None` if the store does not hold it completely.
    pub async fn size(&self, hash: ContentHash) -> Result<Option<u64>> {
        let tagged = self
            .inner
            .tags()
            .get(blob_tag(hash))
            .await
            .map_err(ContentError::store("reading a tag"))?
            .is_some();
        if !tagged {
            return Ok(None);
        }
        match self.raw_status(hash).await? {
            BlobStatus::Complete { size } => Ok(Some(size)),
            _ => Ok(None),
        }
    }

    /// Whether the store holds the complete file.
    pub async fn contains(&self, hash: ContentHash) -> Result<bool> {
        Ok(self.size(hash).await?.is_some())
    }

    /// What the store holds for `hash`, including partial downloads.
    pub async fn local_state(&self, hash: ContentHash) -> Result<LocalState> {
        let bitfield = self
            .inner
            .blobs()
            .observe(iroh_blobs::Hash::from(hash))
            .await
            .map_err(ContentError::store("observing a blob"))?;
        Ok(if bitfield.is_complete() {
            LocalState::Complete {
                size: bitfield.size(),
            }
        } else if bitfield.is_empty() {
            LocalState::Absent
        } else {
            LocalState::Partial {
                have: bitfield.total_bytes(),
                size: bitfield.validated_size(),
            }
        })
    }

    /// Lists the complete files in the store, ordered by hash.
    pub async fn list(&self) -> Result<Vec<BlobInfo>> {
        let tags: Vec<_> = self
            .inner
            .tags()
            .list_prefix(BLOB_TAG_PREFIX)
            .await
            .map_err(ContentError::store("listing tags"))?
            .collect()
            .await;
        let mut out = Vec::with_capacity(tags.len());
        for tag in tags {
            let tag = tag.map_err(ContentError::store("listing tags"))?;
            let hash = ContentHash::from(tag.hash);
            if let BlobStatus::Complete { size } = self.raw_status(hash).await? {
                out.push(BlobInfo { hash, size });
            }
        }
        out.sort_by_key(|b| b.hash);
        Ok(out)
    }

    /// Removes a file (and any partial download of it). Returns whether anything was removed.
    ///
    /// The file leaves `list`, `contains` and the HTTP handler at once; its disk space is
    /// reclaimed by the next garbage-collection run.
    pub async fn remove(&self, hash: ContentHash) -> Result<bool> {
        let tags = self.inner.tags();
        let a = tags
            .delete(blob_tag(hash))
            .await
            .map_err(ContentError::store("deleting a tag"))?;
        let b = tags
            .delete(partial_tag(hash))
            .await
            .map_err(ContentError::store("deleting a tag"))?;
        let removed = a + b > 0;
        info!(target: TARGET, %hash, removed, "file removed");
        Ok(removed)
    }

    /// Opens a stored file for reading (seekable).
    pub async fn open_reader(&self, hash: ContentHash) -> Result<ContentReader> {
        self.require(hash).await?;
        Ok(self.inner.blobs().reader(iroh_blobs::Hash::from(hash)))
    }

    /// Reads `range` (clipped to the file size) into memory. Meant for small ranges (headers,
    /// single segments); use [`ContentStore::range_stream`] for large ones.
    pub async fn read_range(&self, hash: ContentHash, range: Range<u64>) -> Result<Bytes> {
        let size = self.require(hash).await?;
        let range = range.start.min(size)..range.end.min(size);
        let mut out = Vec::with_capacity((range.end.saturating_sub(range.start)) as usize);
        let stream = self.range_stream(hash, range);
        futures::pin_mut!(stream);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ContentError::Store {
                context: "reading a range",
                source: Box::new(e),
            })?;
            out.extend_from_slice(&chunk);
        }
        Ok(out.into())
    }

    /// Streams the bytes of `range` (clipped to the file size) straight from disk.
    ///
    /// The caller is expected to have checked that the file is stored (a missing file yields
    /// an error item).
    pub fn range_stream(
        &self,
        hash: ContentHash,
        range: Range<u64>,
    ) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
        let ranges = range;
        self.inner
            .blobs()
            .export_ranges(iroh_blobs::Hash::from(hash), ranges)
            .stream()
            .filter_map(|item| async move {
                match item {
                    ExportRangesItem::Size(_) => None,
                    ExportRangesItem::Data(leaf) => Some(Ok(leaf.data)),
                    ExportRangesItem::Error(e) => Some(Err(io::Error::other(e))),
                }
            })
    }

    /// Copies a stored file to `dest`, atomically: written to a temporary file next to `dest`,
    /// then renamed over it. Returns the size.
    pub async fn export(&self, hash: ContentHash, dest: impl AsRef<Path>) -> Result<u64> {
        self.require(hash).await?;
        let dest = std::path::absolute(dest.as_ref()).map_err(ContentError::io(dest.as_ref()))?;
        let tmp = temp_sibling(&dest);
        let res = self
            .inner
            .blobs()
            .export(iroh_blobs::Hash::from(hash), &tmp)
            .finish()
            .await;
        let size = match res {
            Ok(size) => size,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(ContentError::Store {
                    context: "exporting a file",
                    source: Box::new(e),
                });
            }
        };
        tokio::fs::rename(&tmp, &dest)
            .await
            .map_err(ContentError::io(&dest))?;
        debug!(target: TARGET, %hash, size, dest = %dest.display(), "file exported");
        Ok(size)
    }

    /// Moves a stored file out to `dest` and keeps serving it from there: the store's data file
    /// is renamed to `dest` (copied when that is another filesystem) and the store references
    /// it, so the file exists once on disk and a provider of this store serves it in place.
    /// `dest` must not exist. Returns the size.
    pub async fn export_in_place(&self, hash: ContentHash, dest: impl AsRef<Path>) -> Result<u64> {
        self.require(hash).await?;
        let dest = std::path::absolute(dest.as_ref()).map_err(ContentError::io(dest.as_ref()))?;
        let size = self
            .inner
            .blobs()
            .export_with_opts(iroh_blobs::api::proto::ExportPathRequest {
                hash: iroh_blobs::Hash::from(hash),
                mode: iroh_blobs::api::proto::ExportMode::TryReference,
                target: dest.clone(),
            })
            .finish()
            .await
            .map_err(|e| ContentError::Store {
                context: "exporting a file in place",
                source: Box::new(e),
            })?;
        debug!(target: TARGET, %hash, size, dest = %dest.display(), "file exported in place");
        Ok(size)
    }

    async fn require(&self, hash: ContentHash) -> Result<u64> {
        self.size(hash)
            .await?
            .ok_or(ContentError::NotFound { hash })
    }

    /// Flushes and stops the store. Other clones become unusable.
    pub async fn shutdown(&self) -> Result<()> {
        self.inner
            .shutdown()
            .await
            .map_err(ContentError::store("shutting down"))
    }
}

/// `dir/.name.tmp-<random>` next to `dest`, on the same file system so a rename is atomic.
pub(crate) fn temp_sibling(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nonce: u64 = {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(std::time::SystemTime::now())
    };
    dest.with_file_name(format!(".{name}.tmp-{nonce:016x}"))
}

/// Deletes the files in `dir` (not recursive); returns how many were removed.
async fn remove_dir_contents(dir: &Path) -> usize {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return 0;
    };
    let mut removed = 0;
    while let Ok(Some(entry)) = entries.next_entry().await {
        let path = entry.path();
        match tokio::fs::remove_file(&path).await {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(target: TARGET, path = %path.display(), error = %e, "could not remove a leftover temp file")
            }
        }
    }
    removed
}
