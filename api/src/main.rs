//! `tangible-api`: loads the configuration and runs the API and its settlement worker until
//! SIGINT/SIGTERM; `tangible-api migrate` applies the database migrations (the deploy's
//! migrate step, before the services start).

use tangible_api::{Application, Config, MigrateConfig};

const USAGE: &str = "usage: tangible-api [migrate]

  (no command)  serve the API (and its settlement worker) until SIGINT/SIGTERM
  migrate       apply the pending database migrations, then exit; run it before starting the
                API or the indexer after an upgrade (they check the schema and refuse an old one)

Configuration: TANGIBLE_API_<FIELD> variables over the TOML file named by TANGIBLE_API_CONFIG
(api/README.md); migrate reads TANGIBLE_API_DATABASE_URL only.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tangible_service::install_crypto_provider();
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (None, _) => serve().await,
        (Some("migrate"), None) => {
            let config = MigrateConfig::load()?;
            tangible_service::init_tracing(config.json_logs);
            tangible_api::migrate(&config).await
        }
        (Some("-h" | "--help" | "help"), _) => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::load()?;
    tangible_service::init_tracing(config.json_logs);
    let app = Application::build(config).await?;
    tracing::info!(target: "tangible::api", addr = %app.local_addr(), "listening");
    app.run_until_stopped(tangible_service::shutdown_signal())
        .await
}
