//! P2P throughput on loopback: the project's store/provider/downloader next to a bare
//! iroh-blobs disk-to-disk transfer of the same bytes, in the same run.
//!
//! ```text
//! cargo run --release -p tangible-content --example p2p_bench -- --size-mib 1024 --rounds 5
//! ```
//!
//! (a) file on disk → `ContentStore::import_file` → `p2p::Provider` → `p2p::Downloader` into a
//!     fresh `ContentStore` (FsStore on disk), with the progress callback active;
//! (b) the yardstick, like for like: the same file → a bare iroh-blobs `FsStore` (`add_path`,
//!     once, untimed, as the project's import) → `BlobsProtocol` → `remote().fetch` into a fresh
//!     bare `FsStore` on the same disk. (An earlier version used `MemStore` on both sides, which
//!     skips the disk the project writes to: ratios above 1 showed it was no ceiling.)
//!
//! Both use `presets::Minimal` endpoints bound to 127.0.0.1, time connect + transfer, and
//! start each round with an empty client store in a directory that was removed. Rounds
//! alternate (a)/(b) so that machine noise hits both alike; every round is printed, and the
//! summary gives the worst (lowest) round ratio next to the median and overall ones.

use std::{
    io::Write,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, ensure};
use clap::Parser;
use iroh::protocol::Router;
use iroh_blobs::{BlobsProtocol, store::fs::FsStore};
use rand::{RngCore, SeedableRng, rngs::StdRng};
use tangible_content::{
    ContentHash, ContentStore, StoreOptions,
    p2p::{Downloader, Provider, loopback_endpoint_builder},
};

#[derive(Debug, Parser)]
#[command(about = "P2P transfer throughput: project store vs bare iroh-blobs FsStore")]
struct Args {
    /// File size in MiB.
    #[arg(long, default_value_t = 1024)]
    size_mib: u64,
    /// Number of alternating rounds.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Working directory (a temporary one by default).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

/// Writes `size` pseudo-random bytes to `path` in 1 MiB pieces; returns their BLAKE3 hash.
fn write_random_file(path: &Path, size: u64) -> anyhow::Result<ContentHash> {
    let mut rng = StdRng::seed_from_u64(0x7a6e);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rng.fill_bytes(&mut buf[..n]);
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])?;
        left -= n as u64;
    }
    file.flush()?;
    Ok(hasher.finalize().into())
}

async fn project_round(
    provider_store: &ContentStore,
    hash: ContentHash,
    size: u64,
    client_dir: &Path,
) -> anyhow::Result<Duration> {
    let _ = std::fs::remove_dir_all(client_dir);
    let provider = Provider::spawn(provider_store, loopback_endpoint_builder()).await?;
    let client_store =
        ContentStore::open_with(client_dir, StoreOptions { gc_interval: None }).await?;
    let downloader = Downloader::bind(client_store.clone(), loopback_endpoint_builder()).await?;
    let addr = provider.addr();
    let mut last = 0;
    let mut events = 0u64;
    let start = Instant::now();
    let outcome = downloader
        .fetch(hash, &addr, |p| {
            last = p.done;
            events += 1;
        })
        .await?;
    let elapsed = start.elapsed();
    ensure!(outcome.size == size && last == size, "incomplete download");
    ensure!(client_store.size(hash).await? == Some(size), "not stored");
    downloader.close().await;
    provider.shutdown().await?;
    client_store.shutdown().await?;
    let _ = std::fs::remove_dir_all(client_dir);
    tracing::debug!(events, "progress events");
    Ok(elapsed)
}

/// The yardstick: a bare iroh-blobs `FsStore` (the one in `server_dir`, holding the file)
/// serving it over `BlobsProtocol` to a fresh bare `FsStore` in `client_dir`, timed like
/// [`project_round`] (connect + transfer). The server store is opened for the round, untimed:
/// `BlobsProtocol` shuts its store down with the router (the project's provider does not).
async fn bare_round(
    server_dir: &Path,
    hash: ContentHash,
    size: u64,
    client_dir: &Path,
) -> anyhow::Result<Duration> {
    let _ = std::fs::remove_dir_all(client_dir);
    let server_store = FsStore::load(server_dir).await?;
    ensure!(
        server_store.has(iroh_blobs::Hash::from(hash)).await?,
        "bare provider lost the file"
    );
    let server_ep = loopback_endpoint_builder()
        .alpns(vec![iroh_blobs::ALPN.to_vec()])
        .bind()
        .await?;
    let router = Router::builder(server_ep)
        .accept(iroh_blobs::ALPN, BlobsProtocol::new(&server_store, None))
        .spawn();
    let addr = router.endpoint().addr();
    let client_store = FsStore::load(client_dir).await?;
    let client_ep = loopback_endpoint_builder().bind().await?;
    let start = Instant::now();
    let conn = client_ep.connect(addr, iroh_blobs::ALPN).await?;
    let stats = client_store
        .remote()
        .fetch(conn.clone(), iroh_blobs::Hash::from(hash))
        .await?;
    let elapsed = start.elapsed();
    ensure!(
        client_store.has(iroh_blobs::Hash::from(hash)).await?,
        "bare transfer incomplete"
    );
    ensure!(
        stats.payload_bytes_read == size,
        "bare transfer read {} payload bytes, expected {size}",
        stats.payload_bytes_read
    );
    conn.close(0u32.into(), b"done");
    client_ep.close().await;
    router.shutdown().await?;
    client_store.shutdown().await?;
    let _ = std::fs::remove_dir_all(client_dir);
    Ok(elapsed)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args = Args::parse();
    let size = args.size_mib << 20;
    let tmp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_owned()
        }
    };
    std::fs::create_dir_all(&dir)?;
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {nproc} cores, {}", cpu_model());
    println!(
        "size: {} MiB ({size} bytes), rounds: {}",
        args.size_mib, args.rounds
    );

    let src = dir.join("film.enc");
    let hash = write_random_file(&src, size).context("writing the test file")?;
    let provider_store =
        ContentStore::open_with(dir.join("provider"), StoreOptions { gc_interval: None }).await?;
    let t = Instant::now();
    let info = provider_store.import_file(&src).await?;
    let import = t.elapsed();
    ensure!(
        info.hash == hash && info.size == size,
        "import hash/size differ"
    );
    println!(
        "import into the project store (copy + BLAKE3 outboard): {:.1} MB/s ({:.2} s)",
        mbps(size, import),
        import.as_secs_f64()
    );
    // The yardstick's provider: a bare FsStore holding the same file, imported the same way.
    let bare_dir = dir.join("bare-provider");
    let bare_store = FsStore::load(&bare_dir).await?;
    let t = Instant::now();
    let tag = bare_store.add_path(&src).await?;
    println!(
        "import into a bare iroh-blobs FsStore (add_path): {:.1} MB/s ({:.2} s)",
        mbps(size, t.elapsed()),
        t.elapsed().as_secs_f64()
    );
    ensure!(
        ContentHash::from(tag.hash) == hash,
        "bare import hash differs"
    );
    bare_store.shutdown().await?;
    std::fs::remove_file(&src)?;

    let mut project = Vec::new();
    let mut bare = Vec::new();
    let mut ratios = Vec::new();
    for round in 1..=args.rounds {
        let p = project_round(&provider_store, hash, size, &dir.join("client")).await?;
        let b = bare_round(&bare_dir, hash, size, &dir.join("bare-client")).await?;
        let ratio = b.as_secs_f64() / p.as_secs_f64();
        println!(
            "round {round}: project store {:.1} MB/s ({:.2} s) | bare iroh-blobs FsStore {:.1} MB/s ({:.2} s) | ratio {ratio:.3}",
            mbps(size, p),
            p.as_secs_f64(),
            mbps(size, b),
            b.as_secs_f64(),
        );
        project.push(p);
        bare.push(b);
        ratios.push(ratio);
    }
    let total_p: Duration = project.iter().sum();
    let total_b: Duration = bare.iter().sum();
    let n = args.rounds as u64;
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    let worst = sorted[0];
    let worst_round = ratios.iter().position(|&r| r == worst).expect("a round") + 1;
    println!(
        "overall: project store {:.1} MB/s, bare iroh-blobs FsStore {:.1} MB/s, ratio project/bare {:.3}",
        mbps(size * n, total_p),
        mbps(size * n, total_b),
        total_b.as_secs_f64() / total_p.as_secs_f64()
    );
    println!(
        "round ratios project/bare: worst {worst:.3} (round {worst_round}), median {:.3}, best {:.3} over {} rounds (target >= 0.9 in the worst round: {})",
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1],
        args.rounds,
        if worst >= 0.9 { "met" } else { "NOT met" }
    );
    provider_store.shutdown().await?;
    Ok(())
}
