//! Issue 17's two P2P targets, on loopback, with the project's store, provider and downloader:
//!
//! 1. Download from two seeding peers against one, each peer capped at the same upload rate
//!    (two peers ≥ 1.5× one peer, same file, same run).
//! 2. A swarm: five clients fetch one film at the same time from the API's node and from each
//!    other (each client serves the pieces it has verified, as `tangible download` does), the
//!    API's node being a last resort; the API's node must upload ≤ 1.2× the film in total.
//!
//! ```text
//! cargo run --release -p tangible-content --example swarm_bench -- --size-mib 256 --cap-mib 32 --rounds 3 --swarm-mib 1024
//! ```
//!
//! Two provider stores hold the same random file and serve it with
//! `ProviderOptions::max_upload_bytes_per_sec` = the cap. Each round downloads the file into a
//! fresh client store with `Downloader::fetch_swarm`, from one peer, then from both; rounds
//! alternate the order. Every round is printed, with what each peer sent; the summary gives the
//! worst round's ratio.

use std::time::{Duration, Instant};

use anyhow::ensure;
use clap::Parser;
use rand::{RngCore, SeedableRng, rngs::StdRng};
use tangible_content::{
    ContentHash, ContentStore, StoreOptions,
    p2p::{Downloader, Provider, ProviderAddr, ProviderOptions, loopback_endpoint_builder},
    swarm::SwarmOptions,
};

#[derive(Debug, Parser)]
#[command(about = "Two capped seeding peers against one")]
struct Args {
    /// File size in MiB.
    #[arg(long, default_value_t = 256)]
    size_mib: u64,
    /// Upload cap of each peer, MiB/s.
    #[arg(long, default_value_t = 32)]
    cap_mib: u64,
    /// Rounds (one-peer and two-peer download each).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Film size of the swarm part, MiB (0 skips it).
    #[arg(long, default_value_t = 1024)]
    swarm_mib: u64,
    /// Clients in the swarm.
    #[arg(long, default_value_t = 5)]
    clients: usize,
}

async fn round(
    dir: &std::path::Path,
    hash: ContentHash,
    size: u64,
    peers: &[ProviderAddr],
) -> anyhow::Result<(Duration, Vec<u64>)> {
    let _ = std::fs::remove_dir_all(dir);
    let store = ContentStore::open_with(dir, StoreOptions { gc_interval: None }).await?;
    let d = Downloader::bind(store.clone(), loopback_endpoint_builder()).await?;
    let t = Instant::now();
    let outcome = d
        .fetch_swarm(hash, peers, SwarmOptions::default(), |_| {})
        .await?;
    let elapsed = t.elapsed();
    ensure!(outcome.size == size, "size {}", outcome.size);
    d.close().await;
    store.shutdown().await?;
    let _ = std::fs::remove_dir_all(dir);
    Ok((elapsed, outcome.providers.iter().map(|p| p.bytes).collect()))
}

fn mibps(size: u64, d: Duration) -> f64 {
    size as f64 / d.as_secs_f64() / f64::from(1 << 20)
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
    let cap = args.cap_mib << 20;
    let tmp = tempfile::tempdir()?;
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "machine: {nproc} cores; file {} MiB; each peer capped at {} MiB/s; {} rounds",
        args.size_mib, args.cap_mib, args.rounds
    );
    let mut data = vec![0u8; usize::try_from(size)?];
    StdRng::seed_from_u64(17).fill_bytes(&mut data);
    let mut peers = Vec::new();
    let mut stores = Vec::new();
    let mut hash = None;
    for i in 0..2 {
        let store = ContentStore::open_with(
            tmp.path().join(format!("peer{i}")),
            StoreOptions { gc_interval: None },
        )
        .await?;
        hash = Some(store.import_bytes(data.clone()).await?.hash);
        let options = ProviderOptions {
            max_upload_bytes_per_sec: Some(cap),
            count_upload: true,
            ..ProviderOptions::default()
        };
        peers.push(Provider::spawn_with(&store, loopback_endpoint_builder(), options).await?);
        stores.push(store);
    }
    drop(data);
    let hash = hash.expect("two peers");
    let addrs: Vec<ProviderAddr> = peers.iter().map(Provider::addr).collect();
    let client = tmp.path().join("client");
    let mut ratios = Vec::new();
    for r in 1..=args.rounds {
        let (one, two) = if r % 2 == 1 {
            let one = round(&client, hash, size, &addrs[..1]).await?;
            (one, round(&client, hash, size, &addrs).await?)
        } else {
            let two = round(&client, hash, size, &addrs).await?;
            (round(&client, hash, size, &addrs[..1]).await?, two)
        };
        let ratio = one.0.as_secs_f64() / two.0.as_secs_f64();
        let per_peer: Vec<String> = two
            .1
            .iter()
            .map(|b| {
                format!(
                    "{:.1} MiB at {:.1} MiB/s",
                    *b as f64 / f64::from(1 << 20),
                    mibps(*b, two.0)
                )
            })
            .collect();
        println!(
            "round {r}: one peer {:.1} MiB/s ({:.2} s) | two peers {:.1} MiB/s ({:.2} s; {}) | ratio {ratio:.2}",
            mibps(size, one.0),
            one.0.as_secs_f64(),
            mibps(size, two.0),
            two.0.as_secs_f64(),
            per_peer.join(", "),
        );
        ratios.push(ratio);
    }
    let worst = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "two peers / one peer, worst round: {worst:.2}× (target ≥ 1.5×: {})",
        if worst >= 1.5 { "met" } else { "NOT met" }
    );
    println!(
        "bytes sent by the peers, all rounds: {:?}",
        peers.iter().map(Provider::uploaded).collect::<Vec<_>>()
    );
    for p in &peers {
        p.shutdown().await?;
    }
    for s in stores {
        s.shutdown().await?;
    }
    if args.swarm_mib > 0 {
        swarm(tmp.path(), args.swarm_mib << 20, args.clients).await?;
    }
    Ok(())
}

/// Part 2: `clients` clients fetch one film of `size` bytes at once.
async fn swarm(dir: &std::path::Path, size: u64, clients: usize) -> anyhow::Result<()> {
    println!(
        "swarm: {clients} clients fetch one {} MiB film at once from the API's node (last resort) and from each other",
        size >> 20
    );
    // The API's node: the film written to disk and imported (as an upload stores it).
    let film = dir.join("film.enc");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&film)?);
        let mut rng = StdRng::seed_from_u64(1017);
        let mut buf = vec![0u8; 1 << 20];
        for _ in 0..(size >> 20) {
            rng.fill_bytes(&mut buf);
            f.write_all(&buf)?;
        }
        f.flush()?;
    }
    let api_store =
        ContentStore::open_with(dir.join("api"), StoreOptions { gc_interval: None }).await?;
    let hash = api_store.import_file(&film).await?.hash;
    std::fs::remove_file(&film)?;
    let count = ProviderOptions {
        max_upload_bytes_per_sec: None,
        count_upload: true,
        ..ProviderOptions::default()
    };
    let api = Provider::spawn_with(&api_store, loopback_endpoint_builder(), count.clone()).await?;
    // Each client: its store, served by its own provider while it downloads.
    let mut homes = Vec::new();
    for i in 0..clients {
        let store = ContentStore::open_with(
            dir.join(format!("client{i}")),
            StoreOptions { gc_interval: None },
        )
        .await?;
        let provider =
            Provider::spawn_with(&store, loopback_endpoint_builder(), count.clone()).await?;
        let downloader = Downloader::bind(store.clone(), loopback_endpoint_builder()).await?;
        homes.push((store, provider, downloader));
    }
    let addrs: Vec<ProviderAddr> = homes.iter().map(|(_, p, _)| p.addr()).collect();
    let t = Instant::now();
    let downloads = homes.iter().enumerate().map(|(i, (_, _, d))| {
        // The others first, the API's node last (as the API lists them).
        let mut providers: Vec<ProviderAddr> = addrs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, a)| a.clone())
            .collect();
        providers.push(api.addr());
        let options = SwarmOptions {
            last_resort: vec![api.addr().0.id],
            shuffle: true,
            ..SwarmOptions::default()
        };
        async move {
            let started = Instant::now();
            let outcome = d.fetch_swarm(hash, &providers, options, |_| {}).await?;
            anyhow::Ok((outcome, started.elapsed()))
        }
    });
    let outcomes = futures::future::try_join_all(downloads).await?;
    let elapsed = t.elapsed();
    let api_sent = api.uploaded();
    for (i, (o, took)) in outcomes.iter().enumerate() {
        let from_api = o
            .providers
            .iter()
            .filter(|p| p.provider == api.addr().0.id)
            .map(|p| p.bytes)
            .sum::<u64>();
        println!(
            "  client {i}: {:.1} s, {:.1} MiB from the API's node, {:.1} MiB from the other clients",
            took.as_secs_f64(),
            from_api as f64 / f64::from(1 << 20),
            (o.transferred() - from_api) as f64 / f64::from(1 << 20),
        );
    }
    let ratio = api_sent as f64 / size as f64;
    println!(
        "swarm: all {clients} done in {:.1} s; the API's node uploaded {:.1} MiB = {ratio:.3}× the film (target ≤ 1.2×: {}); the clients uploaded {:?} MiB",
        elapsed.as_secs_f64(),
        api_sent as f64 / f64::from(1 << 20),
        if ratio <= 1.2 { "met" } else { "NOT met" },
        homes
            .iter()
            .map(|(_, p, _)| p.uploaded() >> 20)
            .collect::<Vec<_>>()
    );
    for (store, provider, downloader) in homes {
        downloader.close().await;
        provider.shutdown().await?;
        store.shutdown().await?;
    }
    api.shutdown().await?;
    api_store.shutdown().await?;
    Ok(())
}
