//! Several API instances sending with one operator key: a burst of card payments settled by
//! two instances at once reaches every buyer without a nonce error reaching a purchase.

use std::time::{Duration, Instant};

use alloy::primitives::{U256, keccak256};
use alloy::providers::Provider;
use serde_json::Value;
use sqlx::Connection;
use tangible_api::chain::card_licence_id;

use crate::helpers::{Options, TestApp, spawn_app, spawn_app_with};
use crate::purchases::{CARD_OK, buy_and_pay, settlements_on_chain};
use crate::recovery::attempt_outcomes;

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
        .count(
            "SELECT count(*) FROM api_purchases WHERE state IN ('fulfilled', 'failed', 'refunded')",
        )
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

/// Calls an anvil RPC method on the test chain.
async fn anvil(app: &TestApp, method: &'static str, params: Value) -> Value {
    app.chain
        .provider
        .raw_request::<_, Value>(method.into(), params)
        .await
        .unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// The operator's nonce the node counts, pending transactions included.
async fn pending_nonce(app: &TestApp) -> u64 {
    app.chain
        .provider
        .get_transaction_count(app.chain.keys[0].address())
        .pending()
        .await
        .unwrap()
}

/// Waits until the operator has recorded a transaction for `purpose` under a nonce of at
/// least `from`, and returns that nonce and its hash.
async fn recorded_tx(app: &TestApp, purpose: &str, from: i64) -> (i64, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT nonce, tx_hash FROM api_operator_txs WHERE purpose = $1 AND nonce >= $2 ORDER BY nonce LIMIT 1",
        )
        .bind(purpose)
        .bind(from)
        .fetch_optional(app.db.pool())
        .await
        .unwrap();
        if let Some(row) = row {
            return row;
        }
        assert!(Instant::now() < deadline, "no {purpose} was sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A settlement broadcast, then lost by the node (dropped from its pool before a block): the
/// operator's next nonce is recorded above what the node counts.
async fn lost_settlement(app: &TestApp) -> (Value, i64, String) {
    anvil(app, "evm_setAutomine", serde_json::json!([false])).await;
    let before = pending_nonce(app).await;
    let (first, _) = buy_and_pay(app, 0).await;
    let (nonce, hash) = recorded_tx(app, "settleCardPrimary", 0).await;
    assert_eq!(u64::try_from(nonce).unwrap(), before);
    assert_eq!(pending_nonce(app).await, before + 1);
    anvil(app, "anvil_dropAllTransactions", serde_json::json!([])).await;
    assert_eq!(pending_nonce(app).await, before, "the node still has it");
    anvil(app, "evm_setAutomine", serde_json::json!([true])).await;
    (first, nonce, hash)
}

#[tokio::test]
async fn a_transaction_the_node_lost_is_sent_again_before_the_next_one() {
    let app = spawn_app().await;
    let (first, nonce, hash) = lost_settlement(&app).await;
    // The next send finds the gap and fills it with the recorded transaction: the first
    // settlement is mined under its own hash and nonce, and its worker's wait ends.
    let (second, _) = buy_and_pay(&app, 1).await;
    for c in [&first, &second] {
        let view = app.wait_fulfilled(c["purchase_id"].as_str().unwrap()).await;
        assert_eq!(
            attempt_outcomes(&view),
            [("settle".to_owned(), "fulfilled".to_owned())],
            "{view:#}"
        );
    }
    let view = app
        .wait_fulfilled(first["purchase_id"].as_str().unwrap())
        .await;
    assert_eq!(view["tx_hash"], hash);
    let receipt = app
        .chain
        .provider
        .get_transaction_receipt(hash.parse().unwrap())
        .await
        .unwrap()
        .expect("the lost transaction is mined");
    assert!(receipt.status());
    let mined = app
        .chain
        .provider
        .get_transaction_by_hash(hash.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        alloy::consensus::Transaction::nonce(&mined),
        u64::try_from(nonce).unwrap()
    );
    assert_eq!(pending_nonce(&app).await, u64::try_from(nonce).unwrap() + 2);
}

#[tokio::test]
async fn a_lost_transaction_the_node_refuses_is_replaced_by_a_no_op() {
    let app = spawn_app().await;
    let (first, nonce, hash) = lost_settlement(&app).await;
    // The recorded bytes no longer pass the node (here: unreadable).
    sqlx::query("UPDATE api_operator_txs SET raw_tx = '\\x00' WHERE nonce = $1")
        .bind(nonce)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (second, second_ref) = buy_and_pay(&app, 1).await;
    let view = app
        .wait_fulfilled(second["purchase_id"].as_str().unwrap())
        .await;
    assert_eq!(
        attempt_outcomes(&view),
        [("settle".to_owned(), "fulfilled".to_owned())],
        "{view:#}"
    );
    assert_eq!(settlements_on_chain(&app, second_ref).await, 1);
    let (purpose, replaced, noop_hash): (String, Option<String>, String) = sqlx::query_as(
        "SELECT purpose, replaced_tx_hash, tx_hash FROM api_operator_txs WHERE nonce = $1",
    )
    .bind(nonce)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(purpose, "noop");
    assert_eq!(replaced.as_deref(), Some(hash.as_str()));
    let noop = app
        .chain
        .provider
        .get_transaction_receipt(noop_hash.parse().unwrap())
        .await
        .unwrap()
        .expect("the no-op is mined");
    assert!(noop.status());
    assert_eq!(noop.to, Some(app.chain.keys[0].address()));
    // The first settlement was never mined: its job retries it after its receipt wait.
    let pi = first["payment_intent_id"].as_str().unwrap();
    assert_eq!(
        settlements_on_chain(&app, keccak256(pi.as_bytes())).await,
        0
    );
    assert_eq!(pending_nonce(&app).await, u64::try_from(nonce).unwrap() + 2);
}

#[tokio::test]
async fn the_nonce_lock_of_an_instance_that_dies_is_released_with_its_connection() {
    let app = spawn_app().await;
    // Another instance, mid-send: it holds the operator's row.
    let mut other = sqlx::PgConnection::connect(app.db.url()).await.unwrap();
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query(
        "INSERT INTO api_operator_nonces (chain_id, operator, next_nonce) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
    )
    .bind(i64::try_from(app.chain.deployment.chain_id).unwrap())
    .bind(app.chain.keys[0].address().to_string())
    .execute(&mut other)
    .await
    .unwrap();
    let locked: i64 = sqlx::query_scalar("SELECT next_nonce FROM api_operator_nonces FOR UPDATE")
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert_eq!(locked, 0);
    let before = pending_nonce(&app).await;
    let (bought, pref) = buy_and_pay(&app, 0).await;
    let id = bought["purchase_id"].as_str().unwrap();
    app.wait_for_state(id, &["settling"]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // This instance waits for the row: nothing sent.
    assert_eq!(pending_nonce(&app).await, before);
    assert_eq!(app.count("SELECT count(*) FROM api_operator_txs").await, 0);
    // The other instance dies: its connection closes without a commit.
    drop(other);
    let view = app.wait_fulfilled(id).await;
    assert_eq!(
        attempt_outcomes(&view),
        [("settle".to_owned(), "fulfilled".to_owned())],
        "{view:#}"
    );
    assert_eq!(settlements_on_chain(&app, pref).await, 1);
    assert_eq!(pending_nonce(&app).await, before + 1);
}
