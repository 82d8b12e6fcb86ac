//! P2P transfer over real iroh endpoints on loopback.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};
use std::time::Duration;

use tangible_content::{
    ContentError, ContentHash, LocalState,
    p2p::{
        ContentTicket, Downloader, Provider, ProviderAddr, TransferProgress,
        loopback_endpoint_builder,
    },
};
use tokio::sync::Notify;

use crate::common::{flip_bytes, init_tracing, open_store, random_bytes, temp_store};

const MIB: usize = 1 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_multi_mb_file_verified() {
    init_tracing();
    let (_pdir, pstore) = temp_store().await;
    let data = random_bytes(12 * MIB + 4321, 21);
    let info = pstore.import_bytes(data.clone()).await.unwrap();
    let provider = Provider::spawn(&pstore, loopback_endpoint_builder())
        .await
        .unwrap();

    let (_cdir, cstore) = temp_store().await;
    let downloader = Downloader::bind(cstore.clone(), loopback_endpoint_builder())
        .await
        .unwrap();
    let mut seen: Vec<TransferProgress> = Vec::new();
    let outcome = downloader
        .fetch_ticket(&provider.ticket(info.hash), |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(outcome.hash, info.hash);
    assert_eq!(outcome.size, data.len() as u64);
    assert_eq!(outcome.resumed_from, 0);
    assert!(outcome.transferred >= data.len() as u64);

    // Progress: starts at 0, never goes back, ends at total, total constant.
    assert!(seen.len() > 2, "too few progress events: {}", seen.len());
    assert_eq!(seen.first().unwrap().done, 0);
    assert!(seen.windows(2).all(|w| w[0].done <= w[1].done));
    assert!(seen.iter().all(|p| p.total == data.len() as u64));
    assert_eq!(seen.last().unwrap().done, data.len() as u64);

    assert!(cstore.contains(info.hash).await.unwrap());
    let got = cstore
        .read_range(info.hash, 0..data.len() as u64)
        .await
        .unwrap();
    assert!(got == data, "received bytes differ");

    // A second fetch is a no-op.
    let again = downloader
        .fetch_ticket(&provider.ticket(info.hash), |_| {})
        .await
        .unwrap();
    assert_eq!(again.transferred, 0);
    assert_eq!(again.resumed_from, data.len() as u64);

    downloader.close().await;
    provider.shutdown().await.unwrap();
    // The provider's shutdown leaves its store usable (the HTTP fallback still needs it).
    assert!(pstore.contains(info.hash).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_and_address_string_forms() {
    let (_dir, store) = temp_store().await;
    let provider = Provider::spawn(&store, loopback_endpoint_builder())
        .await
        .unwrap();
    let hash = ContentHash::of(b"film");
    let ticket = provider.ticket(hash);
    let s = ticket.to_string();
    assert!(s.starts_with("blob"), "{s}");
    assert_eq!(s.parse::<ContentTicket>().unwrap(), ticket);
    let json = serde_json::to_string(&ticket).unwrap();
    assert_eq!(json, format!("\"{s}\""));
    assert_eq!(
        serde_json::from_str::<ContentTicket>(&json).unwrap(),
        ticket
    );

    let addr = provider.addr();
    assert!(
        !addr.0.addrs.is_empty(),
        "provider address has no direct address"
    );
    assert_eq!(addr.to_string().parse::<ProviderAddr>().unwrap(), addr);
    let json = serde_json::to_string(&addr).unwrap();
    assert_eq!(serde_json::from_str::<ProviderAddr>(&json).unwrap(), addr);

    assert!(matches!(
        "blobnonsense".parse::<ContentTicket>(),
        Err(ContentError::Parse { .. })
    ));
    assert!("".parse::<ProviderAddr>().is_err());
    provider.shutdown().await.unwrap();
}

/// Spawns a fetch in a task and returns once it has passed `fraction` of the file.
async fn fetch_until(
    downloader: &Arc<Downloader>,
    hash: ContentHash,
    from: ProviderAddr,
    threshold: u64,
) -> (
    tokio::task::JoinHandle<tangible_content::Result<tangible_content::p2p::FetchOutcome>>,
    Arc<AtomicU64>,
) {
    let reached = Arc::new(Notify::new());
    let done = Arc::new(AtomicU64::new(0));
    let task = {
        let downloader = downloader.clone();
        let reached = reached.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut fired = false;
            downloader
                .fetch(hash, &from, |p| {
                    done.store(p.done, Ordering::SeqCst);
                    if !fired && p.done >= threshold {
                        fired = true;
                        reached.notify_one();
                    }
                })
                .await
        })
    };
    tokio::time::timeout(Duration::from_secs(60), reached.notified())
        .await
        .expect("transfer never reached the threshold");
    (task, done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_interruption_and_restart() {
    init_tracing();
    let (_pdir, pstore) = temp_store().await;
    let data = random_bytes(48 * MIB, 31);
    let total = data.len() as u64;
    let hash = pstore.import_bytes(data.clone()).await.unwrap().hash;
    let provider = Provider::spawn(&pstore, loopback_endpoint_builder())
        .await
        .unwrap();

    let cdir = tempfile::tempdir().unwrap();
    let have = {
        let cstore = open_store(cdir.path(), None).await;
        let downloader = Arc::new(
            Downloader::bind(cstore.clone(), loopback_endpoint_builder())
                .await
                .unwrap(),
        );
        let (task, _) = fetch_until(&downloader, hash, provider.addr(), total / 4).await;
        task.abort(); // interrupt: the download future is dropped mid-transfer
        assert!(
            task.await.unwrap_err().is_cancelled(),
            "download finished before the interruption"
        );
        let state = cstore.local_state(hash).await.unwrap();
        let LocalState::Partial { have, .. } = state else {
            panic!("expected partial data after the interruption, got {state:?}");
        };
        assert!(have >= total / 4 && have < total, "have {have} of {total}");
        assert!(
            !cstore.contains(hash).await.unwrap(),
            "partial data must not count as stored"
        );
        assert!(cstore.list().await.unwrap().is_empty());
        downloader.close().await;
        cstore.shutdown().await.unwrap();
        have
    };

    // A new process (store reopened from disk) resumes from the verified ranges.
    let cstore = open_store(cdir.path(), None).await;
    let state = cstore.local_state(hash).await.unwrap();
    assert!(
        matches!(state, LocalState::Partial { have: h, .. } if h == have),
        "{state:?} after reopen, had {have}"
    );
    let downloader = Downloader::bind(cstore.clone(), loopback_endpoint_builder())
        .await
        .unwrap();
    let mut first = None;
    let outcome = downloader
        .fetch(hash, &provider.addr(), |p| {
            first.get_or_insert(p);
        })
        .await
        .unwrap();
    assert_eq!(outcome.resumed_from, have);
    assert_eq!(
        first.unwrap().done,
        have,
        "progress must start from the resumed bytes"
    );
    // Only the missing part travelled (verification may re-send a few boundary chunks).
    assert!(
        outcome.transferred <= total - have + 64 * 1024,
        "transferred {} for {} missing",
        outcome.transferred,
        total - have
    );
    assert!(outcome.transferred >= total - have);
    let got = cstore.read_range(hash, 0..total).await.unwrap();
    assert!(got == data, "resumed file differs");
    downloader.close().await;
    provider.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_disappearing_mid_transfer_gives_clear_error_then_another_finishes() {
    init_tracing();
    let data = random_bytes(48 * MIB, 41);
    let total = data.len() as u64;
    let (_p1dir, p1store) = temp_store().await;
    let hash = p1store.import_bytes(data.clone()).await.unwrap().hash;
    let provider1 = Provider::spawn(&p1store, loopback_endpoint_builder())
        .await
        .unwrap();
    let dead_addr = provider1.addr();

    let (_cdir, cstore) = temp_store().await;
    let downloader = Arc::new(
        Downloader::bind(cstore.clone(), loopback_endpoint_builder())
            .await
            .unwrap()
            .with_connect_timeout(Duration::from_secs(3)),
    );
    let (task, _) = fetch_until(&downloader, hash, dead_addr.clone(), total / 4).await;
    provider1.shutdown().await.unwrap(); // the provider goes away mid-transfer
    let err = tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("download hung after the provider disappeared")
        .unwrap()
        .expect_err("download cannot succeed without its provider");
    let msg = err.to_string();
    match &err {
        ContentError::Transfer {
            hash: h,
            have,
            total: t,
            ..
        } => {
            assert_eq!(*h, hash);
            assert_eq!(*t, total);
            assert!(*have > 0 && *have < total, "have {have}");
        }
        other => panic!("expected a Transfer error, got {other:?}"),
    }
    assert!(
        msg.contains("stopped at") && msg.contains("kept for resume"),
        "{msg}"
    );

    // Another provider holding the same file finishes the job, resuming.
    let (_p2dir, p2store) = temp_store().await;
    p2store.import_bytes(data.clone()).await.unwrap();
    let provider2 = Provider::spawn(&p2store, loopback_endpoint_builder())
        .await
        .unwrap();
    let outcome = downloader
        .fetch_from_any(hash, &[dead_addr, provider2.addr()], |_| {})
        .await
        .unwrap();
    assert!(outcome.resumed_from > 0);
    assert!(cstore.read_range(hash, 0..total).await.unwrap() == data);
    downloader.close().await;
    provider2.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_hash_and_dead_provider_fail_fast() {
    let (_pdir, pstore) = temp_store().await;
    let provider = Provider::spawn(&pstore, loopback_endpoint_builder())
        .await
        .unwrap();
    let (_cdir, cstore) = temp_store().await;
    let downloader = Downloader::bind(cstore.clone(), loopback_endpoint_builder())
        .await
        .unwrap()
        .with_connect_timeout(Duration::from_secs(3));
    let missing = ContentHash::of(b"nobody has this");
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        downloader.fetch(missing, &provider.addr(), |_| {}),
    )
    .await
    .expect("hung on a hash the provider does not have")
    .unwrap_err();
    assert!(
        matches!(err, ContentError::Transfer { have: 0, .. }),
        "{err:?}"
    );
    assert!(!cstore.contains(missing).await.unwrap());

    let addr = provider.addr();
    provider.shutdown().await.unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        downloader.fetch_from_any(missing, &[addr], |_| {}),
    )
    .await
    .expect("hung on a dead provider")
    .unwrap_err();
    assert!(
        matches!(err, ContentError::NoProvider { attempts: 1, .. }),
        "{err:?}"
    );
    downloader.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_data_from_a_provider_is_rejected() {
    init_tracing();
    let (_pdir, pstore) = temp_store().await;
    let data = random_bytes(4 * MIB, 91);
    let total = data.len() as u64;
    let hash = pstore.import_bytes(data.clone()).await.unwrap().hash;
    // Flip one byte of the provider's data file on disk (its BLAKE3 outboard stays intact):
    // the provider now sends bytes that do not match the hash tree.
    let data_file = pstore.root().join("data").join(format!("{hash}.data"));
    flip_bytes(&data_file, &[3 * MIB as u64 + 100]);
    let provider = Provider::spawn(&pstore, loopback_endpoint_builder())
        .await
        .unwrap();
    let (_cdir, cstore) = temp_store().await;
    let downloader = Downloader::bind(cstore.clone(), loopback_endpoint_builder())
        .await
        .unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(30),
        downloader.fetch(hash, &provider.addr(), |_| {}),
    )
    .await
    .expect("hung on corrupted data")
    .unwrap_err();
    match &err {
        ContentError::Transfer { have, .. } => {
            assert!(*have < total, "have {have}");
        }
        other => panic!("expected a Transfer error, got {other:?}"),
    }
    assert!(
        !cstore.contains(hash).await.unwrap(),
        "corrupted file must not be stored"
    );
    assert!(cstore.list().await.unwrap().is_empty());
    // What was kept is only verified data: every byte range the store holds for the hash is
    // read back and compared with the original bytes.
    let kept = kept_bytes(&cstore, hash, &data).await;
    match cstore.local_state(hash).await.unwrap() {
        LocalState::Partial { have, .. } => {
            assert!(have <= 3 * MIB as u64 + 100, "have {have}");
            assert_eq!(kept, have, "compared {kept} bytes, the store holds {have}");
        }
        LocalState::Absent => assert_eq!(kept, 0),
        other => panic!("corrupted file kept as {other:?}"),
    }
    downloader.close().await;
    provider.shutdown().await.unwrap();
}

/// Reads every byte range the store holds for `hash` (complete or not, straight from its
/// verified-ranges bitfield) and asserts it equals the same range of `original`. Returns the
/// number of bytes compared.
async fn kept_bytes(
    store: &tangible_content::ContentStore,
    hash: ContentHash,
    original: &[u8],
) -> u64 {
    use futures::StreamExt;
    use iroh_blobs::api::proto::ExportRangesItem;

    let blobs = store.blobs_store().blobs();
    let bitfield = blobs.observe(iroh_blobs::Hash::from(hash)).await.unwrap();
    // Chunk boundaries (1 KiB chunks) of the held ranges: start, end, start, end, … (an odd
    // count means the last range runs to the end).
    let bounds: Vec<u64> = bitfield
        .ranges
        .boundaries()
        .iter()
        .map(|c| (c.0 * 1024).min(original.len() as u64))
        .collect();
    let mut compared = 0;
    for pair in bounds.chunks(2) {
        let (start, end) = (
            pair[0],
            pair.get(1).copied().unwrap_or(original.len() as u64),
        );
        let mut items = blobs
            .export_ranges(iroh_blobs::Hash::from(hash), start..end)
            .stream();
        let mut next = start;
        while let Some(item) = items.next().await {
            match item {
                ExportRangesItem::Size(_) => {}
                ExportRangesItem::Data(leaf) => {
                    assert_eq!(leaf.offset, next, "ranges come in order");
                    let at = leaf.offset as usize;
                    assert!(
                        leaf.data[..] == original[at..at + leaf.data.len()],
                        "kept bytes at {at}..{} differ from the original",
                        at + leaf.data.len()
                    );
                    next += leaf.data.len() as u64;
                }
                ExportRangesItem::Error(e) => panic!("reading kept range {start}..{end}: {e}"),
            }
        }
        assert_eq!(next, end, "read the whole kept range {start}..{end}");
        compared += end - start;
    }
    compared
}
