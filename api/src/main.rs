//! `tangible-api`: loads the configuration and runs the API and its settlement worker until
//! SIGINT/SIGTERM.

use tangible_api::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load()?;
    tangible_api::telemetry::init_tracing(config.json_logs);
    let app = Application::build(config).await?;
    tracing::info!(target: "tangible::api", addr = %app.local_addr(), "listening");
    app.run_until_stopped(tangible_api::shutdown_signal()).await
}
