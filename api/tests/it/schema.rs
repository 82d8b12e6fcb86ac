//! The API does not migrate: on a database the deploy's migrate step (`tangible-api migrate`,
//! [`tangible_api::migrate`]) has not run on, it refuses to start, naming the missing migration
//! and the command; after the migrate step it starts.

use tangible_api::{Application, MigrateConfig};
use tangible_db::testing::{TestDatabase, shared_cluster};

use crate::helpers::{Options, spawn_app_with};

#[tokio::test]
async fn refuses_an_unmigrated_database_until_the_migrate_step_ran() {
    let app = spawn_app_with(Options {
        run_worker: false,
        ..Options::default()
    })
    .await;
    let fresh = TestDatabase::in_cluster(shared_cluster().unwrap(), false)
        .await
        .unwrap();
    let mut config = app.config(&Options::default());
    config.database_url = fresh.url().into();

    let err = Application::build(config.clone()).await.unwrap_err();
    let message = format!("{err:#}");
    let first = tangible_db::MIGRATOR.iter().next().unwrap();
    assert!(
        message.contains(&first.version.to_string()) && message.contains("tangible-api migrate"),
        "{message}"
    );
    // The database is named by its printable (redacted) URL.
    assert!(
        message.contains(&format!("database {}", config.database_url)),
        "{message}"
    );

    // The operator's command, as the deploy runs it.
    let status = tokio::process::Command::new(env!("CARGO_BIN_EXE_tangible-api"))
        .arg("migrate")
        .env("TANGIBLE_API_DATABASE_URL", fresh.url())
        .env("TANGIBLE_API_JSON_LOGS", "false")
        .status()
        .await
        .unwrap();
    assert!(status.success());
    tangible_db::check_migrations(fresh.pool()).await.unwrap();
    let started = Application::build(config).await.unwrap();
    drop(started);
    // Idempotent, also through the library call.
    tangible_api::migrate(&MigrateConfig {
        database_url: fresh.url().into(),
        json_logs: false,
    })
    .await
    .unwrap();
}
