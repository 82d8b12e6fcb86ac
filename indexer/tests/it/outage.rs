//! An RPC node that goes away and comes back is survived; a node that refuses large log
//! ranges is handled by shrinking them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use alloy::providers::Provider;
use alloy::rpc::types::Log;
use tangible_db::testing::TestDatabase;
use tangible_indexer::rpc::{BlockRef, HttpRpc, Rpc, RpcError};
use tangible_indexer::{Indexer, IndexerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::fixture::{self, checkpoint};

/// A TCP proxy to an RPC node that can be taken down and brought back on the same address:
/// it binds its port once (no port picked, released and bound again later, which another
/// process could take in between) and keeps it; while down it cuts the open connections and
/// closes every new one at once, counting them.
struct Proxy {
    port: u16,
    up: watch::Sender<bool>,
    refused: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("proxy binds");
        let port = listener.local_addr().unwrap().port();
        let (up, mut state) = watch::channel(true);
        let refused = Arc::new(AtomicUsize::new(0));
        let counter = refused.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    changed = state.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        if !*state.borrow_and_update() {
                            conns.abort_all(); // the node went away: its connections with it
                        }
                    }
                    accepted = listener.accept() => {
                        let Ok((mut client, _)) = accepted else { continue };
                        if !*state.borrow() {
                            counter.fetch_add(1, Ordering::SeqCst);
                            drop(client);
                            continue;
                        }
                        let upstream = upstream.clone();
                        conns.spawn(async move {
                            if let Ok(mut server) = TcpStream::connect(upstream).await {
                                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            }
                        });
                    }
                }
                while conns.try_join_next().is_some() {}
            }
        });
        Self {
            port,
            up,
            refused,
            task,
        }
    }

    fn set_up(&self, up: bool) {
        self.up.send(up).unwrap();
    }

    /// Connections turned away while down.
    fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

async fn wait_for(db: &TestDatabase, block: i64, limit: Duration) {
    let start = Instant::now();
    while checkpoint(db.pool()).await < block {
        assert!(
            start.elapsed() < limit,
            "indexer stuck at {} < {block}",
            checkpoint(db.pool()).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_rpc_node_that_disappears_and_returns_is_survived() {
    let c = fixture::chain().await;
    let px = Proxy::start(format!("127.0.0.1:{}", c.anvil.port())).await;

    let db = TestDatabase::new().await.unwrap();
    let rpc = HttpRpc::new(
        &format!("http://127.0.0.1:{}", px.port),
        Duration::from_secs(2),
    )
    .unwrap();
    let cfg = IndexerConfig {
        poll_interval: Duration::from_millis(50),
        ..fixture::config()
    };
    let ix = Indexer::new(rpc, db.pool().clone(), &c.deployment, cfg)
        .await
        .unwrap();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(ix.run(shutdown));

    c.buy(c.buyers[0]).await;
    let head = c.provider.get_block_number().await.unwrap() as i64;
    wait_for(&db, head, Duration::from_secs(30)).await;

    // The node goes away while the chain moves on.
    px.set_up(false);
    for _ in 0..5 {
        c.buy(c.buyers[1]).await;
    }
    // The indexer has since tried the node (and been turned away) three times, so whatever
    // those attempts could have written is written.
    let tried = px.refused();
    let start = Instant::now();
    while px.refused() < tried + 3 {
        assert!(
            !run.is_finished(),
            "the indexer must keep retrying, not exit"
        );
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the indexer stopped calling the node ({} attempts)",
            px.refused() - tried
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        checkpoint(db.pool()).await,
        head,
        "nothing can be indexed while the node is away"
    );
    assert!(
        !run.is_finished(),
        "the indexer must keep retrying, not exit"
    );

    // It comes back on the same address.
    px.set_up(true);
    let head = c.provider.get_block_number().await.unwrap() as i64;
    wait_for(&db, head, Duration::from_secs(60)).await;
    stop.send(true).unwrap();
    run.await.unwrap().expect("graceful stop");
    px.task.abort();

    let reference = fixture::reference(&c).await;
    fixture::assert_same_mirror(db.pool(), reference.pool(), "after the outage").await;
}

/// A node that refuses `eth_getLogs` over more than `max` blocks, like hosted RPCs do.
struct Refusing {
    inner: HttpRpc,
    max: u64,
    refusals: Arc<AtomicUsize>,
}

impl Rpc for Refusing {
    async fn chain_id(&self) -> Result<u64, RpcError> {
        self.inner.chain_id().await
    }
    async fn head(&self) -> Result<u64, RpcError> {
        self.inner.head().await
    }
    async fn block(&self, number: u64) -> Result<Option<BlockRef>, RpcError> {
        self.inner.block(number).await
    }
    async fn logs(&self, from: u64, to: u64, addresses: &[Address]) -> Result<Vec<Log>, RpcError> {
        if to - from + 1 > self.max {
            self.refusals.fetch_add(1, Ordering::SeqCst);
            return Err(RpcError::RangeTooLarge(format!(
                "block range is too wide (max {})",
                self.max
            )));
        }
        self.inner.logs(from, to, addresses).await
    }
}

#[tokio::test]
async fn a_node_refusing_large_ranges_gets_smaller_ones_and_nothing_is_missed() {
    let c = fixture::chain().await;
    for _ in 0..20 {
        c.buy(c.buyers[0]).await;
    }
    let db = TestDatabase::new().await.unwrap();
    let refusals = Arc::new(AtomicUsize::new(0));
    let rpc = Refusing {
        inner: HttpRpc::new(&c.url(), Duration::from_secs(10)).unwrap(),
        max: 3,
        refusals: refusals.clone(),
    };
    let cfg = IndexerConfig {
        confirmations: 0,
        initial_range: 64,
        max_range: 64,
        ..IndexerConfig::default()
    };
    let mut ix = Indexer::new(rpc, db.pool().clone(), &c.deployment, cfg)
        .await
        .unwrap();
    ix.sync().await.unwrap();
    assert!(refusals.load(Ordering::SeqCst) > 0);
    assert!(
        ix.range() <= 6,
        "range must have adapted, is {}",
        ix.range()
    );
    let reference = fixture::reference(&c).await;
    fixture::assert_same_mirror(db.pool(), reference.pool(), "with range refusals").await;
}
