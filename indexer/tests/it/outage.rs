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
use tokio::task::JoinHandle;

use crate::fixture::{self, count};

/// A TCP proxy to `upstream` on `port`; aborting the task closes it and its connections.
async fn proxy(port: u16, upstream: String) -> JoinHandle<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("proxy binds");
    tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                continue;
            };
            let upstream = upstream.clone();
            conns.spawn(async move {
                if let Ok(mut server) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    })
}

async fn checkpoint(db: &TestDatabase) -> i64 {
    count(
        db.pool(),
        "SELECT coalesce(max(block_number), -1) FROM checkpoints",
    )
    .await
}

async fn wait_for(db: &TestDatabase, block: i64, limit: Duration) {
    let start = Instant::now();
    while checkpoint(db).await < block {
        assert!(
            start.elapsed() < limit,
            "indexer stuck at {} < {block}",
            checkpoint(db).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_rpc_node_that_disappears_and_returns_is_survived() {
    let c = fixture::chain().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let upstream = format!("127.0.0.1:{}", c.anvil.port());
    let mut px = proxy(port, upstream.clone()).await;

    let db = TestDatabase::new().await.unwrap();
    let rpc = HttpRpc::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2)).unwrap();
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
    px.abort();
    let _ = px.await;
    for _ in 0..5 {
        c.buy(c.buyers[1]).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        checkpoint(&db).await,
        head,
        "nothing can be indexed while the node is away"
    );
    assert!(
        !run.is_finished(),
        "the indexer must keep retrying, not exit"
    );

    // It comes back on the same address.
    px = proxy(port, upstream).await;
    let head = c.provider.get_block_number().await.unwrap() as i64;
    wait_for(&db, head, Duration::from_secs(60)).await;
    stop.send(true).unwrap();
    run.await.unwrap().expect("graceful stop");
    px.abort();

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
