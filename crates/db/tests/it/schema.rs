use tangible_db::sqlx;
use tangible_db::testing::TestDatabase;

fn hex(byte: char, len: usize) -> String {
    format!("0x{}", byte.to_string().repeat(len))
}

#[tokio::test]
async fn migrations_are_idempotent_and_create_every_table() {
    let db = TestDatabase::new().await.unwrap();
    tangible_db::migrate(db.pool()).await.unwrap();
    for table in
        tangible_db::DERIVED_TABLES
            .iter()
            .chain(&["events", "checkpoints", "blocks", "users"])
    {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(format!("public.{table}"))
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert!(exists, "table {table} missing");
    }
}

#[tokio::test]
async fn an_event_is_unique_on_chain_tx_and_log_index() {
    let db = TestDatabase::new().await.unwrap();
    let insert = "INSERT INTO events (chain_id, block_number, block_hash, tx_hash, tx_index, log_index, contract, data)
                  VALUES ($1, 1, $2, $3, 0, $4, $5, '\\x')";
    let run = |chain: i64, log: i32| {
        sqlx::query(insert)
            .bind(chain)
            .bind(hex('b', 64))
            .bind(hex('c', 64))
            .bind(log)
            .bind(hex('d', 40))
            .execute(db.pool())
    };
    run(1, 0).await.unwrap();
    run(1, 1).await.unwrap();
    run(2, 0).await.unwrap();
    let err = run(1, 0).await.unwrap_err();
    let code = err
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    assert_eq!(
        code.as_deref(),
        Some("23505"),
        "duplicate must violate the unique key: {err}"
    );
}

#[tokio::test]
async fn a_sale_whose_shares_do_not_sum_to_the_price_is_refused() {
    let db = TestDatabase::new().await.unwrap();
    let insert = "INSERT INTO sales (tx_hash, log_index, block_number, kind, licence_id, payer_address,
                    price_cents, seller_cents, studio_address, studio_cents, platform_address, platform_cents)
                  VALUES ($1, $2, 1, 'resale', 7, $3, 800, $4, $3, 120, $3, 40)";
    sqlx::query(insert)
        .bind(hex('1', 64))
        .bind(0)
        .bind(hex('a', 40))
        .bind(640_i64)
        .execute(db.pool())
        .await
        .unwrap();
    let err = sqlx::query(insert)
        .bind(hex('1', 64))
        .bind(1)
        .bind(hex('a', 40))
        .bind(641_i64)
        .execute(db.pool())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("sales_shares_sum"), "{err}");
}

#[tokio::test]
async fn check_migrations_names_what_is_missing_until_migrated() {
    let cluster = tangible_db::testing::shared_cluster().unwrap();
    let db = TestDatabase::in_cluster(cluster, false).await.unwrap();
    let first = tangible_db::MIGRATOR.iter().next().unwrap();
    let last = tangible_db::MIGRATOR.iter().last().unwrap();
    match tangible_db::check_migrations(db.pool()).await {
        Err(tangible_db::DbError::MigrationMissing { version, .. }) => {
            assert_eq!(version, first.version)
        }
        other => panic!("an empty database passed the check: {other:?}"),
    }

    // What a service says: the missing version and the command to run.
    let err = tangible_db::require_current_schema(db.pool())
        .await
        .unwrap_err();
    let message = anyhow_like(&err);
    assert!(
        message.contains(&first.version.to_string())
            && message.contains(tangible_db::MIGRATE_COMMAND),
        "{message}"
    );

    tangible_db::migrate(db.pool()).await.unwrap();
    tangible_db::check_migrations(db.pool()).await.unwrap();
    tangible_db::require_current_schema(db.pool())
        .await
        .unwrap();

    // The latest migration forgotten: named in the message.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(last.version)
        .execute(db.pool())
        .await
        .unwrap();
    let err = tangible_db::check_migrations(db.pool()).await.unwrap_err();
    assert!(err.to_string().contains(&last.version.to_string()), "{err}");
    tangible_db::migrate(db.pool()).await.unwrap();

    // A migration from a newer release.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99990101000000, 'from the future', true, '\\x00', 0)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    assert!(matches!(
        tangible_db::check_migrations(db.pool()).await,
        Err(tangible_db::DbError::MigrationUnknown {
            version: 99990101000000
        })
    ));
}

/// The error and its sources, one after the other (as `anyhow`'s `{:#}` prints them).
fn anyhow_like(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}
