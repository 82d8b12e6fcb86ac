//! The settlement job queue shared by several workers and several API instances: every job
//! claimed by one worker at a time, every payment settled once.

use std::time::{Duration, Instant};

use alloy::primitives::keccak256;
use serde_json::Value;

use crate::helpers::{Options, TestApp, spawn_app_with};
use crate::purchases::{CARD_OK, settlements_on_chain};
use crate::recovery::attempt_outcomes;

/// Waits until `n` jobs are running at once, and returns their workers.
async fn running_workers(app: &TestApp, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let workers: Vec<String> = sqlx::query_scalar(
            "SELECT locked_by FROM api_jobs WHERE state = 'running' ORDER BY locked_by",
        )
        .fetch_all(app.db.pool())
        .await
        .unwrap();
        if workers.len() >= n {
            return workers;
        }
        assert!(
            Instant::now() < deadline,
            "never {n} jobs running at once: {workers:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts each purchase has exactly one recorded attempt, and one settlement on chain.
/// Six card purchases, by the first three buyers in turn, awaiting payment.
async fn six_purchases(app: &TestApp) -> Vec<Value> {
    let mut created = Vec::new();
    for i in 0..6 {
        created.push(app.create_purchase(app.chain.buyer(i % 3).address()).await);
    }
    created
}

async fn settled_once_each(app: &TestApp, created: &[Value]) {
    for c in created {
        let view = app.wait_fulfilled(c["purchase_id"].as_str().unwrap()).await;
        assert_eq!(
            attempt_outcomes(&view),
            [("settle".to_owned(), "fulfilled".to_owned())],
            "{view:#}"
        );
        let pi = c["payment_intent_id"].as_str().unwrap();
        assert_eq!(settlements_on_chain(app, keccak256(pi.as_bytes())).await, 1);
    }
    assert_eq!(
        app.count("SELECT count(DISTINCT tx_hash) FROM api_purchases WHERE state = 'fulfilled'")
            .await,
        created.len() as i64
    );
}

#[tokio::test]
async fn concurrent_card_payments_each_settle_once() {
    let app = spawn_app_with(Options {
        workers: 4,
        ..Options::default()
    })
    .await;
    let created = six_purchases(&app).await;
    // With the node stalled, each worker holds the job it claimed: all four must claim one,
    // each a different job, and the other two wait.
    app.rpc.set_stalled(true);
    let pays = created.iter().map(|c| {
        app.stripe
            .pay(c["payment_intent_id"].as_str().unwrap(), CARD_OK)
    });
    for status in futures::future::join_all(pays).await {
        assert_eq!(status, 200);
    }
    let workers = running_workers(&app, 4).await;
    let mut distinct = workers.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{workers:?}");
    app.rpc.set_stalled(false);
    settled_once_each(&app, &created).await;
}

#[tokio::test]
async fn two_api_instances_share_the_queue_and_settle_each_payment_once() {
    // Instance A (one worker) reaches the node through the test's proxy, instance B
    // directly. A's worker is held mid-settlement by a stalled node, so the other payments
    // can only be settled by B: both instances claim jobs from one queue, and neither
    // takes the job the other holds.
    let app = spawn_app_with(Options {
        workers: 1,
        ..Options::default()
    })
    .await;
    let created = six_purchases(&app).await;
    app.rpc.set_stalled(true);
    assert_eq!(
        app.stripe
            .pay(created[0]["payment_intent_id"].as_str().unwrap(), CARD_OK)
            .await,
        200
    );
    let held = running_workers(&app, 1).await;
    let a_instance = held[0].split("-worker-").next().unwrap().to_owned();

    let mut config = app.config(&Options {
        workers: 2,
        ..Options::default()
    });
    config.listen_addr = "127.0.0.1:0".parse().unwrap();
    config.rpc_url = app.chain.anvil.endpoint().into();
    let second = tangible_api::Application::build(config).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(second.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let pays = created[1..].iter().map(|c| {
        app.stripe
            .pay(c["payment_intent_id"].as_str().unwrap(), CARD_OK)
    });
    for status in futures::future::join_all(pays).await {
        assert_eq!(status, 200);
    }
    for c in &created[1..] {
        app.wait_fulfilled(c["purchase_id"].as_str().unwrap()).await;
    }
    // A still holds the first one.
    let (_, first) = app
        .get_json(&format!(
            "/v1/purchases/{}",
            created[0]["purchase_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(first["state"], "settling", "{first:#}");
    app.rpc.set_stalled(false);
    settled_once_each(&app, &created).await;

    let claims: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.payment_intent_id, j.locked_by FROM api_jobs j JOIN api_purchases p USING (purchase_id)",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(claims.len(), 6);
    for (pi, worker) in &claims {
        let by_a = worker.starts_with(&format!("{a_instance}-worker-"));
        assert_eq!(
            by_a,
            pi == created[0]["payment_intent_id"].as_str().unwrap(),
            "{claims:?}"
        );
    }
    let _ = stop.send(());
    handle.await.unwrap().unwrap();
}
