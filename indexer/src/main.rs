//! `tangible-indexer`: mirrors Tangible's contract events into Postgres. See `--help`.

use anyhow::Context;
use clap::Parser;
use tangible_chain::Deployment;
use tangible_indexer::rpc::HttpRpc;
use tangible_indexer::{Args, Indexer, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tangible_service::install_crypto_provider();
    let settings = Settings::load(&Args::parse())?;
    tangible_service::init_tracing(settings.json_logs);

    // Signals are handled from the start, so a stop during start-up is graceful too.
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        tangible_service::shutdown_signal().await;
        let _ = stop.send(true);
    });
    let deployment = Deployment::load(&settings.deployment_file)?;
    if let Some(addr) = settings.metrics_addr()? {
        tangible_indexer::metrics::install(addr)
            .with_context(|| format!("metrics listener on {addr}"))?;
    }
    let pool = tangible_indexer::open_database(&settings).await?;
    let rpc = HttpRpc::new(
        settings.rpc_url.expose(),
        std::time::Duration::from_millis(settings.rpc_timeout_ms),
    )
    .with_context(|| format!("node {}", settings.rpc_url))?;

    // The node may not be up yet (e.g. `make up` starts everything at once): wait for it.
    let mut delay = std::time::Duration::from_millis(200);
    let indexer = loop {
        match Indexer::new(
            rpc.clone(),
            pool.clone(),
            &deployment,
            settings.indexer_config(),
        )
        .await
        {
            Ok(i) => break i,
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "waiting for the node and the database");
                if *shutdown.borrow() {
                    return Ok(());
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(10));
            }
            Err(e) => return Err(e.into()),
        }
    };

    indexer.run(shutdown).await?;
    Ok(())
}
