//! Several API instances sending with one operator key: a burst of card payments settled by
//! two instances at once reaches every buyer without a nonce error reaching a purchase.

use std::time::{Duration, Instant};

use alloy::primitives::{U256, keccak256};
use serde_json::Value;
use tangible_api::chain::card_licence_id;

use crate::helpers::{Options, TestApp, spawn_app_with};
use crate::purchases::{CARD_OK, settlements_on_chain};

/// The burst of the tests: 50 paid purchases.
const BURST: usize = 50;

/// A running API instance of the test's database, chain and key (its own pool, workers and
/// chain client), stopped gracefully by `stop`.
struct Instance {
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Instance {
    async fn start(app: &TestApp, workers: usize) -> Self {
        let mut config = app.config(&Options {
            workers,
            ..Options::default()
        });
        config.listen_addr = "127.0.0.1:0".parse().unwrap();
        let built = tangible_api::Application::build(config).await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(built.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Self { stop, handle }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.handle.await.unwrap().unwrap();
    }
}

/// `BURST` purchases created and paid through an instance without workers, so that their
/// settlement jobs are all queued when the settling instances start.
async fn paid_burst() -> (TestApp, Vec<Value>) {
    let app = spawn_app_with(Options {
        run_worker: false,
        ..Options::default()
    })
    .await;
    let mut created = Vec::new();
    for i in 0..BURST {
        created.push(app.create_purchase(app.chain.buyer(i % 3).address()).await);
    }
    let pays = created.iter().map(|c| {
        app.stripe
            .pay(c["payment_intent_id"].as_str().unwrap(), CARD_OK)
    });
    for status in futures::future::join_all(pays).await {
        assert_eq!(status, 200);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while app
        .count("SELECT count(*) FROM api_jobs WHERE kind = 'settle' AND state = 'queued'")
        .await
        < BURST as i64
    {
        assert!(
            Instant::now() < deadline,
            "the webhooks never queued {BURST} settlements"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (app, created)
}

/// Settles the queued burst with `instances` API instances of 2 workers each, and checks the
/// outcome: every purchase fulfilled at its first attempt, its licence on chain with the buyer,
/// and no attempt anywhere that failed on the operator's nonce. Returns the time taken.
async fn settle_burst(instances: usize) -> Duration {
    let (app, created) = paid_burst().await;
    let started = Instant::now();
    let mut running = Vec::new();
    for _ in 0..instances {
        running.push(Instance::start(&app, 2).await);
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    while app
        .count("SELECT count(*) FROM api_purchases WHERE state IN ('fulfilled', 'failed', 'refunded')")
        .await
        < BURST as i64
    {
        assert!(Instant::now() < deadline, "the burst never settled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    eprintln!("{BURST} settlements with {instances} instance(s): {took:?}");

    let nonce_errors: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT outcome, detail FROM api_settlement_attempts WHERE detail ILIKE '%nonce%' ORDER BY attempt_id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(
        nonce_errors.is_empty(),
        "{} attempt(s) failed on the nonce, first: {:?}",
        nonce_errors.len(),
        nonce_errors.first()
    );
    let not_first_time: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT outcome, detail FROM api_settlement_attempts WHERE outcome <> 'fulfilled' OR attempt <> 1 ORDER BY attempt_id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(not_first_time.is_empty(), "{not_first_time:?}");
    assert_eq!(
        app.count("SELECT count(*) FROM api_settlement_attempts")
            .await,
        BURST as i64
    );
    let market = app.chain.market();
    for (i, c) in created.iter().enumerate() {
        let view = app.wait_fulfilled(c["purchase_id"].as_str().unwrap()).await;
        let pi = c["payment_intent_id"].as_str().unwrap();
        let pref = keccak256(pi.as_bytes());
        assert_eq!(settlements_on_chain(&app, pref).await, 1, "{view:#}");
        let id = card_licence_id(pref);
        assert_eq!(view["licence_id"], id.to_string());
        let licence = market.licence(id).call().await.unwrap();
        assert_eq!(licence.owner, app.chain.buyer(i % 3).address());
        assert!(!licence.revoked);
    }
    assert_eq!(
        market
            .balanceOf(app.chain.buyer(0).address())
            .call()
            .await
            .unwrap()
            + market
                .balanceOf(app.chain.buyer(1).address())
                .call()
                .await
                .unwrap()
            + market
                .balanceOf(app.chain.buyer(2).address())
                .call()
                .await
                .unwrap(),
        U256::from(BURST)
    );
    // Every instance took part.
    let settled_by: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT split_part(locked_by, '-worker-', 1)) FROM api_jobs WHERE kind = 'settle'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(settled_by, instances as i64);
    for instance in running {
        instance.stop().await;
    }
    took
}

#[tokio::test]
async fn two_instances_settle_a_burst_concurrently_without_a_nonce_error() {
    settle_burst(2).await;
}
