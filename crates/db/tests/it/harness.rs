use std::net::TcpStream;

use tangible_db::sqlx;
use tangible_db::testing::{PgCluster, TestDatabase};

#[tokio::test]
async fn each_test_database_is_fresh_and_dropped_afterwards() {
    let a = TestDatabase::new().await.unwrap();
    let b = TestDatabase::new().await.unwrap();
    assert_ne!(a.name(), b.name());
    sqlx::query("INSERT INTO users (address, created_at, first_seen_block) VALUES ($1, now(), 1)")
        .bind(format!("0x{}", "a".repeat(40)))
        .execute(a.pool())
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(b.pool())
        .await
        .unwrap();
    assert_eq!(n, 0, "databases must be isolated");

    let name = a.name().to_owned();
    drop(a);
    let cluster = tangible_db::testing::shared_cluster().unwrap();
    let admin = tangible_db::connect(&cluster.admin_url(), 1).await.unwrap();
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&admin)
            .await
            .unwrap();
    assert!(
        !exists,
        "database {name} must be dropped with its TestDatabase"
    );
}

#[tokio::test]
async fn a_cluster_stops_and_is_removed_on_drop() {
    let cluster = tokio::task::spawn_blocking(PgCluster::start)
        .await
        .unwrap()
        .unwrap();
    let port = cluster.port();
    let db = TestDatabase::in_cluster(&cluster, true).await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(one, 1);
    drop(db);
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .unwrap();
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "server must be stopped"
    );
}
