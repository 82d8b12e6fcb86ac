//! Shared fixtures.

use std::{path::Path, time::Duration};

use rand::{RngCore, SeedableRng, rngs::StdRng};
use tangible_content::{ContentStore, StoreOptions};
use tempfile::TempDir;

/// Deterministic pseudo-random bytes (incompressible, so no transport can shortcut them).
pub(crate) fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut data = vec![0u8; len];
    StdRng::seed_from_u64(seed).fill_bytes(&mut data);
    data
}

/// Logs to the test output when `RUST_LOG` is set.
pub(crate) fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A fresh store in a temporary directory (GC disabled unless asked).
pub(crate) async fn temp_store() -> (TempDir, ContentStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), None).await;
    (dir, store)
}

/// Opens a store at `path` with the given GC interval.
pub(crate) async fn open_store(path: &Path, gc_interval: Option<Duration>) -> ContentStore {
    ContentStore::open_with(path.join("store"), StoreOptions { gc_interval })
        .await
        .unwrap()
}

/// Writes `data` to a file in `dir` and returns its path.
pub(crate) fn write_file(dir: &Path, name: &str, data: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

/// Flips one byte at each offset of `path` (again to undo it): a provider serving the file then
/// sends bytes that do not match its hash tree there.
pub(crate) fn flip_bytes(path: &Path, offsets: &[u64]) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    for &at in offsets {
        let mut b = [0u8; 1];
        f.seek(SeekFrom::Start(at)).unwrap();
        f.read_exact(&mut b).unwrap();
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(&[b[0] ^ 0x80]).unwrap();
    }
    f.sync_all().unwrap();
}
