//! The indexer does not migrate: on a database the deploy's migrate step has not run on, it
//! refuses to start, naming the missing migration and the command; once migrated it starts.

use tangible_db::testing::{TestDatabase, shared_cluster};
use tangible_indexer::{Args, Settings};

#[tokio::test]
async fn refuses_an_unmigrated_database_naming_the_migration_and_the_command() {
    let db = TestDatabase::in_cluster(shared_cluster().unwrap(), false)
        .await
        .unwrap();
    let settings = Settings::from_sources(
        None,
        [(
            "TANGIBLE_INDEXER_DATABASE_URL".to_owned(),
            db.url().to_owned(),
        )],
        &Args::default(),
    )
    .unwrap();

    let err = tangible_indexer::open_database(&settings)
        .await
        .unwrap_err();
    let message = format!("{err:#}");
    let first = tangible_db::MIGRATOR.iter().next().unwrap();
    assert!(
        message.contains(&first.version.to_string()) && message.contains("tangible-api migrate"),
        "{message}"
    );
    // Nothing was created behind the operator's back.
    let tables: i64 = tangible_db::sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(tables, 0);

    tangible_db::migrate(db.pool()).await.unwrap();
    tangible_indexer::open_database(&settings).await.unwrap();
}
