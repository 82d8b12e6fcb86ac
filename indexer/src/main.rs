//! `tangible-indexer`: mirrors Tangible's contract events into Postgres. See `--help`.

use anyhow::Context;
use clap::Parser;
use tangible_chain::Deployment;
use tangible_indexer::rpc::HttpRpc;
use tangible_indexer::{Args, Indexer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if args.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }

    // Signals are handled from the start, so a stop during start-up is graceful too.
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    use tokio::signal::unix::{SignalKind, signal};
    let (mut term, mut int) = (
        signal(SignalKind::terminate())?,
        signal(SignalKind::interrupt())?,
    );
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("shutdown requested");
        let _ = stop.send(true);
    });
    let deployment = Deployment::load(&args.deployment)?;
    if let Some(addr) = args.metrics_addr()? {
        tangible_indexer::metrics::install(addr)
            .with_context(|| format!("metrics listener on {addr}"))?;
    }
    let pool = tangible_db::connect(&args.database_url, args.db_connections)
        .await
        .context("database")?;
    tangible_db::migrate(&pool).await.context("migrations")?;
    let rpc = HttpRpc::new(
        &args.rpc_url,
        std::time::Duration::from_millis(args.rpc_timeout_ms),
    )?;

    // The node may not be up yet (e.g. `make up` starts everything at once): wait for it.
    let mut delay = std::time::Duration::from_millis(200);
    let indexer = loop {
        match Indexer::new(
            rpc.clone(),
            pool.clone(),
            &deployment,
            args.indexer_config(),
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
