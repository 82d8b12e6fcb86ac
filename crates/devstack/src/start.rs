//! One start of every component on given ports, in order: PostgreSQL, anvil (with the contracts
//! and the demo catalogue) and localstripe concurrently; the schema migration; the indexer and
//! the API with their command lines and environment; then the demo masters. A start that fails
//! half-way stops whatever it started.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tangible_chain::Deployment;
use tangible_db::sqlx;

use crate::demo::{self, DemoEdition, DemoInfo};
use crate::process::Managed;
use crate::progress::Progress;
use crate::ready::{api_has_route, wait_master_hashes, wait_mirrored, wait_ready};
use crate::{
    Binaries, DATABASE_NAME, Ports, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, StackOptions, chain,
    films, localstripe, masters, postgres, workspace_root,
};
use films::FilmSpec;

/// A started stack, before it owns its temporary folder.
pub(crate) struct Started {
    pub(crate) api_url: String,
    pub(crate) rpc_url: String,
    pub(crate) chain_id: u64,
    pub(crate) stripe_url: String,
    pub(crate) database_url: String,
    pub(crate) deployment: Deployment,
    pub(crate) deployment_file: PathBuf,
    pub(crate) demo: DemoInfo,
    pub(crate) log_dir: PathBuf,
    pub(crate) ports: Ports,
    pub(crate) children: Vec<Managed>,
}

/// One start of every component on `ports`, in `data_dir` (see [`crate::Stack::start`]).
pub(crate) async fn start_on(
    options: &StackOptions,
    binaries: &Binaries,
    data_dir: &Path,
    ports: Ports,
) -> Result<Started> {
    let progress = Progress(options.progress);
    let log_dir = data_dir.join("logs");
    for sub in ["logs", "masters", "deployments", "content"] {
        let d = data_dir.join(sub);
        if d.exists() {
            std::fs::remove_dir_all(&d)?;
        }
        std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
    }
    let rpc_url = format!("http://127.0.0.1:{}", ports.anvil);
    let api_url = format!("http://127.0.0.1:{}", ports.api);
    let stripe_url = format!("http://127.0.0.1:{}", ports.stripe);
    let database_url = format!(
        "postgres://postgres@127.0.0.1:{}/{DATABASE_NAME}",
        ports.postgres
    );

    // The cluster, the chain and the emulator start concurrently.
    let (pg_dir, pg_log) = (data_dir.join("pg"), log_dir.join("postgres.log"));
    let pg = postgres::start(&pg_dir, ports.postgres, DATABASE_NAME, &pg_log, progress);
    let node = async {
        let (anvil, chain_id) = progress
            .waiting_for(
                &format!("anvil to answer on port {}", ports.anvil),
                chain::start_anvil(
                    &binaries.anvil,
                    ports.anvil,
                    options.block_time,
                    &log_dir.join("anvil.log"),
                ),
            )
            .await?;
        let (deployment, demo) = progress
            .waiting_for(
                "the contracts and the demo catalogue to be deployed on anvil",
                chain::deploy_demo(&rpc_url),
            )
            .await?;
        anyhow::Ok((anvil, chain_id, deployment, demo))
    };
    let stripe_wait = format!("localstripe to listen on port {}", ports.stripe);
    let stripe = progress.waiting_for(
        &stripe_wait,
        localstripe::start(&binaries.localstripe, ports.stripe, &log_dir),
    );
    let (pg, node, stripe) = tokio::join!(pg, node, stripe);
    let mut children = Vec::new();
    // Keep whatever started, so that an error below stops it.
    let (pg, node, stripe) = (
        pg.context("starting PostgreSQL"),
        node.context("starting anvil and deploying"),
        stripe.context("starting localstripe"),
    );
    let mut errors = Vec::new();
    match pg {
        Ok(p) => children.push(p),
        Err(e) => errors.push(e),
    }
    let mut chain_info = None;
    match node {
        Ok((anvil, chain_id, deployment, demo)) => {
            children.push(anvil);
            chain_info = Some((chain_id, deployment, demo));
        }
        Err(e) => errors.push(e),
    }
    match stripe {
        Ok(s) => children.push(s),
        Err(e) => errors.push(e),
    }
    let mut stack_children = Guard(children);
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    let (chain_id, deployment, catalogue) = chain_info.expect("no error, so the chain started");

    let deployment_file = Deployment::file_in(&data_dir.join("deployments"), chain_id);
    deployment.save(&deployment_file)?;
    if let Some(dir) = &options.deployments_dir {
        std::fs::create_dir_all(dir)?;
        deployment.save(&Deployment::file_in(dir, chain_id))?;
    }

    // The deploy's migrate step (`tangible-api migrate`), before the services start: they only
    // check the schema.
    let pool = progress
        .waiting_for("the database schema to be migrated", async {
            migrate_command(binaries, &database_url).await?;
            let pool = tangible_db::connect(&database_url, 2)
                .await
                .context("connecting to the stack's database")?;
            anyhow::Ok(pool)
        })
        .await?;

    let indexer = indexer_command(
        options,
        binaries,
        &rpc_url,
        &database_url,
        &deployment_file,
        ports,
    );
    stack_children
        .0
        .push(Managed::spawn_logged("indexer", indexer, &log_dir)?);

    let api_env = ApiEnv {
        api_url: &api_url,
        rpc_url: &rpc_url,
        stripe_url: &stripe_url,
        database_url: &database_url,
        deployment_file: &deployment_file,
        content_dir: &data_dir.join("content"),
        port: ports.api,
    };
    let api = api_command(options, binaries, &api_env);
    stack_children
        .0
        .push(Managed::spawn_logged("api", api, &log_dir)?);
    localstripe::register_webhook(&stripe_url, &format!("{api_url}/v1/webhooks/stripe")).await?;

    let deadline = Instant::now() + Duration::from_secs(120);
    progress
        .waiting_for(
            &format!(
                "the indexer to mirror the demo film (#{}) from anvil",
                catalogue.film_id
            ),
            wait_mirrored(&pool, catalogue.film_id, &stack_children.0, deadline),
        )
        .await?;
    progress
        .waiting_for(
            &format!("the API to answer {api_url}/readyz"),
            wait_ready((&api_url, ports.api), &stack_children.0, deadline),
        )
        .await?;

    let mut editions = demo::registered_editions(&catalogue);
    if options.upload_demo_masters {
        upload_demo_masters(
            options,
            data_dir,
            &api_url,
            &pool,
            catalogue.film_id,
            &mut editions,
            &stack_children.0,
        )
        .await?;
    }
    pool.close().await;

    Ok(Started {
        api_url,
        rpc_url,
        chain_id,
        stripe_url,
        database_url,
        deployment,
        deployment_file,
        demo: DemoInfo::new(&catalogue, editions),
        log_dir,
        ports,
        children: std::mem::take(&mut stack_children.0),
    })
}

/// Children stopped in reverse order when dropped (a start that fails half-way).
struct Guard(Vec<Managed>);

impl Drop for Guard {
    fn drop(&mut self) {
        while let Some(mut child) = self.0.pop() {
            child.stop(Duration::from_secs(10));
        }
    }
}

/// Runs `tangible-api migrate` on the stack's database, as a deploy does before starting the
/// services.
async fn migrate_command(binaries: &Binaries, database_url: &str) -> Result<()> {
    let mut migrate = Command::new(&binaries.api);
    scrub_env(&mut migrate);
    migrate
        .arg("migrate")
        .env("TANGIBLE_API_DATABASE_URL", database_url)
        .env("TANGIBLE_API_JSON_LOGS", "false");
    let out = tokio::process::Command::from(migrate)
        .output()
        .await
        .context("running tangible-api migrate")?;
    anyhow::ensure!(
        out.status.success(),
        "tangible-api migrate failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// Removes inherited `TANGIBLE_API_*` and `TANGIBLE_INDEXER_*` variables (a developer's own
/// configuration must not leak into the stack's processes).
fn scrub_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k_str = k.to_string_lossy();
        if k_str.starts_with("TANGIBLE_API_") || k_str.starts_with("TANGIBLE_INDEXER_") {
            cmd.env_remove(k);
        }
    }
    if std::env::var_os("RUST_LOG").is_none() {
        cmd.env("RUST_LOG", "info");
    }
}

/// The indexer's command line: no confirmations (anvil does not reorg unless asked), a short
/// poll interval, its metrics port, then [`StackOptions::indexer_args`].
fn indexer_command(
    options: &StackOptions,
    binaries: &Binaries,
    rpc_url: &str,
    database_url: &str,
    deployment_file: &Path,
    ports: Ports,
) -> Command {
    let mut indexer = Command::new(&binaries.indexer);
    indexer
        .args(["--rpc-url", rpc_url])
        .args(["--database-url", database_url])
        .arg("--deployment")
        .arg(deployment_file)
        .args(["--confirmations", "0", "--poll-interval-ms", "100"])
        .args([
            "--metrics-addr",
            &format!("127.0.0.1:{}", ports.indexer_metrics),
        ])
        .args(&options.indexer_args);
    scrub_env(&mut indexer);
    indexer
}

/// What the API's environment points at.
struct ApiEnv<'a> {
    api_url: &'a str,
    rpc_url: &'a str,
    stripe_url: &'a str,
    database_url: &'a str,
    deployment_file: &'a Path,
    content_dir: &'a Path,
    port: u16,
}

/// The API's command: every `TANGIBLE_API_*` variable set by the stack (a random token secret
/// and KEK per start), then [`StackOptions::api_env`].
fn api_command(options: &StackOptions, binaries: &Binaries, env: &ApiEnv<'_>) -> Command {
    let mut api = Command::new(&binaries.api);
    scrub_env(&mut api);
    let attestation = demo::account(chain::ATTESTATION);
    let operator = demo::account(chain::OPERATOR);
    let token_secret = hex::encode(rand::random::<[u8; 32]>());
    let kek = hex::encode(rand::random::<[u8; 32]>());
    let host = format!("127.0.0.1:{}", env.port);
    let (api_url, stripe_url) = (env.api_url, env.stripe_url);
    for (k, v) in [
        ("LISTEN_ADDR", host.clone()),
        ("DATABASE_URL", env.database_url.to_owned()),
        ("DB_MAX_CONNECTIONS", "8".to_owned()),
        ("RPC_URL", env.rpc_url.to_owned()),
        ("DEPLOYMENT_FILE", env.deployment_file.display().to_string()),
        ("OPERATOR_KEY", operator.private_key),
        ("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY.to_owned()),
        ("STRIPE_API_BASE", stripe_url.to_owned()),
        ("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET.to_owned()),
        ("TOKEN_SECRET", token_secret),
        ("KEK_HEX", kek),
        ("ATTESTATION_KEY", attestation.private_key),
        ("SIWE_DOMAIN", host),
        ("SIWE_URI", api_url.to_owned()),
        ("WORKER_POLL_MS", "100".to_owned()),
        // Card sales clear a few seconds after their (local, 10-minute) clearance time.
        ("MAINTENANCE_INTERVAL_SECS", "2".to_owned()),
        ("RETRY_BASE_MS", "200".to_owned()),
        ("RETRY_MAX_MS", "2000".to_owned()),
        ("SHUTDOWN_GRACE_SECS", "3".to_owned()),
        ("JSON_LOGS", "false".to_owned()),
        ("CONTENT_DIR", env.content_dir.display().to_string()),
        ("P2P_BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("PUBLIC_URL", api_url.to_owned()),
        // The web storefront (web/dist, `make web`) and its card checkout: localstripe takes
        // any publishable key and serves its fake Stripe.js.
        (
            "STRIPE_PUBLISHABLE_KEY",
            "pk_test_tangible_devstack".to_owned(),
        ),
        ("STRIPE_JS_URL", format!("{stripe_url}/js.stripe.com/v3/")),
        // Every client of a local stack (browser, CLI, the seed-flow and browser tests) is
        // 127.0.0.1, one client for the per-client rate limits, and the seed flow and e2e tests
        // start purchases, studios and films by the dozen: limits and budgets are lifted here,
        // as in the API's own tests (which test them).
        ("THROTTLE_ANONYMOUS_PER_MINUTE", "1000000".to_owned()),
        ("THROTTLE_ANONYMOUS_BURST", "1000000".to_owned()),
        ("THROTTLE_SIGNED_IN_PER_MINUTE", "1000000".to_owned()),
        ("THROTTLE_SIGNED_IN_BURST", "1000000".to_owned()),
        (
            "THROTTLE_SIGNED_IN_PER_ADDRESS_PER_MINUTE",
            "1000000".to_owned(),
        ),
        ("THROTTLE_SIGNED_IN_PER_ADDRESS_BURST", "1000000".to_owned()),
        ("THROTTLE_POLLING_PER_MINUTE", "1000000".to_owned()),
        ("THROTTLE_POLLING_BURST", "1000000".to_owned()),
        ("THROTTLE_PAYMENT_INTENTS_PER_MINUTE", "1000000".to_owned()),
        (
            "THROTTLE_CARD_ATTEMPTS_PER_PURCHASE_PER_HOUR",
            "1000000".to_owned(),
        ),
        (
            "THROTTLE_OPERATOR_TX_PER_WALLET_PER_HOUR",
            "1000000".to_owned(),
        ),
        (
            "THROTTLE_OPERATOR_TX_PER_WALLET_BURST",
            "1000000".to_owned(),
        ),
        ("THROTTLE_OPERATOR_TX_PER_HOUR", "1000000".to_owned()),
        ("THROTTLE_STRIPE_READS_PER_SECOND", "1000000".to_owned()),
        (
            "WEB_DIR",
            workspace_root().join("web/dist").display().to_string(),
        ),
    ] {
        api.env(format!("TANGIBLE_API_{k}"), v);
    }
    for (k, v) in &options.api_env {
        api.env(k, v);
    }
    api
}

/// Where film progress goes when the stack is silent: encoding a film takes seconds, and a
/// test's output should say why it waited.
fn say_on_stderr(line: &str) {
    eprintln!("{line}");
}

/// Generates the demo masters into `<data>/masters/` (real films, [`StackOptions::demo_films`]
/// long, from the film cache; the editions are encoded side by side the first time) and, when
/// the API has the master route, uploads them as the studio admin and waits until the indexer
/// mirrored their hashes.
async fn upload_demo_masters(
    options: &StackOptions,
    data_dir: &Path,
    api_url: &str,
    pool: &sqlx::PgPool,
    film_id: u64,
    editions: &mut [DemoEdition],
    children: &[Managed],
) -> Result<()> {
    let progress = Progress(options.progress);
    let say = options.progress.unwrap_or(say_on_stderr);
    let jobs: Vec<(FilmSpec, PathBuf)> = editions
        .iter()
        .map(|e| {
            let path = data_dir
                .join("masters")
                .join(format!("film-{film_id}-{}.mp4", e.quality));
            (options.demo_films.spec(demo::FILM_TITLE, e.quality), path)
        })
        .collect();
    let paths: Vec<PathBuf> = jobs.iter().map(|(_, p)| p.clone()).collect();
    tokio::task::spawn_blocking(move || {
        std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .iter()
                .map(|(spec, path)| s.spawn(move || films::generate_film(spec, path, say)))
                .collect();
            handles
                .into_iter()
                .try_for_each(|h| h.join().expect("a film encoder thread panicked"))
        })
    })
    .await??;
    for (e, path) in editions.iter_mut().zip(paths) {
        e.master_file = Some(path);
    }
    if !api_has_route(api_url, masters::is_master_route).await? {
        return Ok(());
    }
    let upload = async {
        let http = reqwest::Client::new();
        let studio = &chain::signers()[chain::STUDIO];
        let token = masters::login(&http, api_url, studio).await?;
        for e in editions.iter_mut() {
            let path = e.master_file.as_ref().expect("generated above");
            let up =
                masters::upload_master(&http, api_url, &token, film_id, e.quality, path).await?;
            e.master_hash = up.master_hash;
            e.uploaded = true;
        }
        anyhow::Ok(())
    };
    progress
        .waiting_for("the API to take the demo masters (upload)", upload)
        .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    progress
        .waiting_for(
            "the indexer to mirror the uploaded masters' hashes",
            wait_master_hashes(pool, film_id, editions, children, deadline),
        )
        .await
}
