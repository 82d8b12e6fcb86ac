//! Tangible's local stack as a library: [`Stack::start`] runs anvil, a private PostgreSQL
//! cluster, the `localstripe` Stripe emulator, the contracts with the demo catalogue, the indexer
//! and the API, each (but the one-shot deployment) as a supervised child process; [`Stack::stop`]
//! (or dropping the [`Stack`]) stops them all, in order, and leaves no process behind.
//!
//! `make up` runs it through the `tangible-stack up` binary with fixed ports
//! ([`Ports::MAKE_UP`]); tests use free ports ([`StackOptions::default`]).
//!
//! Children run in their own process groups and receive a "parent death" signal, so they go
//! even when the process that started them is killed with SIGKILL.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use anyhow::{Context, Result, bail};
use tangible_chain::Deployment;
use tangible_db::sqlx;
use tangible_domain::{Cents, Quality};

mod binaries;
pub mod chain;
mod localstripe;
pub mod masters;
mod ports;
mod postgres;
mod process;

pub use binaries::{BIN_DIR_ENV, Binaries, build_bins, workspace_root};
pub use ports::{Ports, check_port_free};

use ports::{PORT_ATTEMPTS, free_port, port_in_use, resolve, was_free};
use process::Managed;

/// The Stripe secret key the stack's API uses against localstripe (which accepts any key).
pub const STRIPE_SECRET_KEY: &str = "sk_test_tangible_devstack";
/// The webhook signing secret registered in localstripe and configured in the API.
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_tangible_devstack";
/// The database the indexer and the API share.
pub const DATABASE_NAME: &str = "tangible";

/// What to start and how.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Ports (0 = free port).
    pub ports: Ports,
    /// anvil's block time in seconds; `None` mines a block per transaction (instant).
    pub block_time: Option<u64>,
    /// Generate the demo masters and upload them through the API (HD and 4K).
    pub upload_demo_masters: bool,
    /// Size of the generated HD master in bytes; the 4K master is twice as large.
    pub demo_master_bytes: usize,
    /// Folder for the cluster, logs, masters and deployment file; emptied parts are recreated
    /// on every start. `None`: a temporary folder removed when the stack stops.
    pub data_dir: Option<PathBuf>,
    /// Also write the deployment file into this folder (`deployments/` for `make up`).
    pub deployments_dir: Option<PathBuf>,
    /// The programs to run; `None`: [`Binaries::locate`] (tests call [`Binaries::build`]).
    pub binaries: Option<Binaries>,
    /// Extra or overriding `TANGIBLE_API_*` variables of the API (e.g.
    /// `("TANGIBLE_API_CERTIFICATE_VALIDITY_DAYS", "1")`).
    pub api_env: Vec<(String, String)>,
    /// Extra arguments of the indexer.
    pub indexer_args: Vec<String>,
}

impl Default for StackOptions {
    /// Free ports, instant mining, demo masters of 2 MiB, a temporary data folder.
    fn default() -> Self {
        StackOptions {
            ports: Ports::FREE,
            block_time: None,
            upload_demo_masters: true,
            demo_master_bytes: 2 << 20,
            data_dir: None,
            deployments_dir: None,
            binaries: None,
            api_env: Vec::new(),
            indexer_args: Vec::new(),
        }
    }
}

/// A development account of anvil (well-known key, local chain only). `Debug` shows the
/// address only.
#[derive(Clone, PartialEq, Eq)]
pub struct DevAccount {
    /// Its index among anvil's default accounts.
    pub index: usize,
    /// The address.
    pub address: Address,
    /// The private key, `0x` + 64 hex characters.
    pub private_key: String,
}

impl std::fmt::Debug for DevAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevAccount")
            .field("index", &self.index)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// One demo edition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoEdition {
    /// HD or 4K.
    pub quality: Quality,
    /// The on-chain price (HD 9.00 €, 4K 13.00 €).
    pub price: Cents,
    /// The master hash registered on chain.
    pub master_hash: B256,
    /// The generated plaintext master, when generated.
    pub master_file: Option<PathBuf>,
    /// Whether the master was uploaded through the API (its content is served).
    pub uploaded: bool,
}

/// The demo catalogue and the accounts of the local chain.
#[derive(Debug, Clone)]
pub struct DemoInfo {
    /// The studio's id ("Studio Méliès").
    pub studio_id: u32,
    /// The studio's name.
    pub studio_name: String,
    /// The film's id ("Le Voyage dans la Lune", 1902).
    pub film_id: u64,
    /// The film's title.
    pub film_title: String,
    /// The film's year.
    pub film_year: u16,
    /// HD and 4K.
    pub editions: Vec<DemoEdition>,
    /// Deployer, admin and operator (the API's settlement key; holds the card float).
    pub operator: DevAccount,
    /// The studio's admin and royalty recipient.
    pub studio: DevAccount,
    /// The platform treasury.
    pub platform: DevAccount,
    /// Accounts for buyers, each with 10,000 tEUR and 10,000 ETH.
    pub buyers: Vec<DevAccount>,
    /// The key signing licence certificates (the API's attestation key).
    pub attestation: DevAccount,
}

impl DemoInfo {
    /// The edition of a quality.
    pub fn edition(&self, quality: Quality) -> Option<&DemoEdition> {
        self.editions.iter().find(|e| e.quality == quality)
    }
}

/// The running stack. Dropping it stops everything (like [`Stack::stop`]).
#[derive(Debug)]
pub struct Stack {
    /// The API's base URL (`http://127.0.0.1:<port>`).
    pub api_url: String,
    /// anvil's JSON-RPC URL.
    pub rpc_url: String,
    /// The chain id (31337).
    pub chain_id: u64,
    /// localstripe's base URL (the API's `STRIPE_API_BASE`).
    pub stripe_url: String,
    /// The Stripe secret key the API uses (localstripe accepts it; pay with it too).
    pub stripe_secret_key: String,
    /// The PostgreSQL URL of the database shared by the indexer and the API.
    pub database_url: String,
    /// The deployed contracts.
    pub deployment: Deployment,
    /// The deployment file the indexer and the API read.
    pub deployment_file: PathBuf,
    /// The demo catalogue and accounts.
    pub demo: DemoInfo,
    /// The data folder (cluster, logs, masters, deployment file).
    pub data_dir: PathBuf,
    /// The folder of the components' logs.
    pub log_dir: PathBuf,
    /// The ports in use.
    pub ports: Ports,
    /// Children in start order; stopped in reverse.
    children: Vec<Managed>,
    temp: Option<tempfile::TempDir>,
}

fn account(i: usize) -> DevAccount {
    let signer = &chain::signers()[i];
    DevAccount {
        index: i,
        address: signer.address(),
        private_key: chain::ANVIL_KEYS[i].to_owned(),
    }
}

/// A started stack, before it owns its temporary folder.
struct Started {
    api_url: String,
    rpc_url: String,
    chain_id: u64,
    stripe_url: String,
    database_url: String,
    deployment: Deployment,
    deployment_file: PathBuf,
    demo: DemoInfo,
    log_dir: PathBuf,
    ports: Ports,
    children: Vec<Managed>,
}

impl Stack {
    /// Starts every component and returns once the API is ready and the indexer has mirrored the
    /// demo film. On error, whatever was started is stopped again.
    ///
    /// A free port (0 in [`StackOptions::ports`]) is picked before its component starts, so
    /// another process may take it in between: the component then fails to bind it and the
    /// whole stack is started again on newly picked ports (up to 3 times in all). A port given
    /// explicitly is never replaced.
    pub async fn start(options: StackOptions) -> Result<Stack> {
        Self::start_picking(options, free_port).await
    }

    /// [`Stack::start`], with free ports taken from `free`.
    async fn start_picking(
        options: StackOptions,
        mut free: impl FnMut() -> Result<u16>,
    ) -> Result<Stack> {
        let binaries = match &options.binaries {
            Some(b) => b.clone(),
            None => Binaries::locate(None)?,
        };
        let (temp, data_dir) = match &options.data_dir {
            Some(d) => (None, d.clone()),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("tangible-stack-")
                    .tempdir()
                    .context("creating a temporary data folder")?;
                let p = t.path().to_owned();
                (Some(t), p)
            }
        };
        let mut attempt = 1;
        let s = loop {
            let ports = resolve(options.ports, &mut free)?;
            match start_on(&options, &binaries, &data_dir, ports).await {
                Ok(s) => break s,
                Err(e) => match port_in_use(&e, &data_dir.join("logs")) {
                    Some(name) if attempt < PORT_ATTEMPTS && was_free(options.ports, name) => {
                        eprintln!(
                            "tangible-devstack: the port picked for {name} was taken before it \
                             bound it; starting again on other ports"
                        );
                        attempt += 1;
                    }
                    _ => return Err(e),
                },
            }
        };
        Ok(Stack {
            api_url: s.api_url,
            rpc_url: s.rpc_url,
            chain_id: s.chain_id,
            stripe_url: s.stripe_url,
            stripe_secret_key: STRIPE_SECRET_KEY.to_owned(),
            database_url: s.database_url,
            deployment: s.deployment,
            deployment_file: s.deployment_file,
            demo: s.demo,
            data_dir,
            log_dir: s.log_dir,
            ports: s.ports,
            children: s.children,
            temp,
        })
    }

    /// `(component, pid)` of every child process (postgres, anvil, localstripe, indexer, api).
    pub fn pids(&self) -> Vec<(String, i32)> {
        self.children
            .iter()
            .map(|c| (c.name().to_owned(), c.pid()))
            .collect()
    }

    /// An error if a component has exited, naming it and quoting the end of its log.
    pub fn check(&self) -> Result<()> {
        self.children.iter().try_for_each(Managed::ensure_running)
    }

    /// Stops one component (`"api"`, `"indexer"`, `"localstripe"`, `"anvil"`, `"postgres"`),
    /// e.g. to test a client without the API. Unknown names are an error.
    pub fn stop_component(&mut self, name: &str) -> Result<()> {
        let Some(i) = self.children.iter().position(|c| c.name() == name) else {
            bail!("no running component {name:?}");
        };
        let mut child = self.children.remove(i);
        child.stop(Duration::from_secs(10));
        Ok(())
    }

    /// Stops every component, the API first and PostgreSQL last, and waits for each to exit
    /// (killing it after a grace period); removes a temporary data folder.
    pub fn stop(mut self) {
        self.stop_all();
    }

    fn stop_all(&mut self) {
        while let Some(mut child) = self.children.pop() {
            child.stop(Duration::from_secs(10));
        }
        if let Some(t) = self.temp.take() {
            let _ = t.close();
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// One start of every component on `ports`, in `data_dir` (see [`Stack::start`]).
async fn start_on(
    options: &StackOptions,
    binaries: &Binaries,
    data_dir: &Path,
    ports: Ports,
) -> Result<Started> {
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
    let pg = postgres::start(&pg_dir, ports.postgres, DATABASE_NAME, &pg_log);
    let node = async {
        let (anvil, chain_id) = chain::start_anvil(
            &binaries.anvil,
            ports.anvil,
            options.block_time,
            &log_dir.join("anvil.log"),
        )
        .await?;
        let (deployment, demo) = chain::deploy_demo(&rpc_url).await?;
        anyhow::Ok((anvil, chain_id, deployment, demo))
    };
    let stripe = localstripe::start(&binaries.localstripe, ports.stripe, &log_dir);
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
    let (chain_id, deployment, demo) = chain_info.expect("no error, so the chain started");

    let deployment_file = Deployment::file_in(&data_dir.join("deployments"), chain_id);
    deployment.save(&deployment_file)?;
    if let Some(dir) = &options.deployments_dir {
        std::fs::create_dir_all(dir)?;
        deployment.save(&Deployment::file_in(dir, chain_id))?;
    }

    // Migrate once here, so the indexer and the API never race on the schema.
    let pool = tangible_db::connect(&database_url, 2)
        .await
        .context("connecting to the stack's database")?;
    tangible_db::migrate(&pool).await.context("migrating")?;

    let mut indexer = Command::new(&binaries.indexer);
    indexer
        .args(["--rpc-url", &rpc_url])
        .args(["--database-url", &database_url])
        .arg("--deployment")
        .arg(&deployment_file)
        .args(["--confirmations", "0", "--poll-interval-ms", "100"])
        .args([
            "--metrics-addr",
            &format!("127.0.0.1:{}", ports.indexer_metrics),
        ])
        .args(&options.indexer_args);
    scrub_env(&mut indexer);
    stack_children
        .0
        .push(Managed::spawn_logged("indexer", indexer, &log_dir)?);

    let mut api = Command::new(&binaries.api);
    scrub_env(&mut api);
    let attestation = account(chain::ATTESTATION);
    let operator = account(chain::OPERATOR);
    let token_secret = hex::encode(rand::random::<[u8; 32]>());
    let kek = hex::encode(rand::random::<[u8; 32]>());
    let host = format!("127.0.0.1:{}", ports.api);
    let content_dir = data_dir.join("content");
    for (k, v) in [
        ("LISTEN_ADDR", host.clone()),
        ("DATABASE_URL", database_url.clone()),
        ("DB_MAX_CONNECTIONS", "8".to_owned()),
        ("RPC_URL", rpc_url.clone()),
        ("DEPLOYMENT_FILE", deployment_file.display().to_string()),
        ("OPERATOR_KEY", operator.private_key.clone()),
        ("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY.to_owned()),
        ("STRIPE_API_BASE", stripe_url.clone()),
        ("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET.to_owned()),
        ("TOKEN_SECRET", token_secret),
        ("KEK_HEX", kek),
        ("ATTESTATION_KEY", attestation.private_key.clone()),
        ("SIWE_DOMAIN", host.clone()),
        ("SIWE_URI", api_url.clone()),
        ("WORKER_POLL_MS", "100".to_owned()),
        ("RETRY_BASE_MS", "200".to_owned()),
        ("RETRY_MAX_MS", "2000".to_owned()),
        ("SHUTDOWN_GRACE_SECS", "3".to_owned()),
        ("JSON_LOGS", "false".to_owned()),
        ("CONTENT_DIR", content_dir.display().to_string()),
        ("P2P_BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("PUBLIC_URL", api_url.clone()),
        // The web storefront (web/dist, `make web`) and its card checkout: localstripe takes
        // any publishable key and serves its fake Stripe.js.
        (
            "STRIPE_PUBLISHABLE_KEY",
            "pk_test_tangible_devstack".to_owned(),
        ),
        ("STRIPE_JS_URL", format!("{stripe_url}/js.stripe.com/v3/")),
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
    stack_children
        .0
        .push(Managed::spawn_logged("api", api, &log_dir)?);
    localstripe::register_webhook(&stripe_url, &format!("{api_url}/v1/webhooks/stripe")).await?;

    let deadline = Instant::now() + Duration::from_secs(120);
    wait_mirrored(&pool, demo.film_id, &stack_children.0, deadline).await?;
    wait_ready((&api_url, ports.api), &stack_children.0, deadline).await?;

    let mut editions = Vec::new();
    for (quality, hash, price) in &demo.editions {
        editions.push(DemoEdition {
            quality: *quality,
            price: *price,
            master_hash: *hash,
            master_file: None,
            uploaded: false,
        });
    }
    if options.upload_demo_masters {
        for e in &mut editions {
            let len = match e.quality {
                Quality::Uhd4k => options.demo_master_bytes * 2,
                _ => options.demo_master_bytes,
            };
            let path = data_dir
                .join("masters")
                .join(format!("film-{}-{}.bin", demo.film_id, e.quality));
            masters::generate_master(&path, demo.film_id, e.quality, len)?;
            e.master_file = Some(path);
        }
        if api_has_route(&api_url, masters::is_master_route).await? {
            let http = reqwest::Client::new();
            let studio = &chain::signers()[chain::STUDIO];
            let token = masters::login(&http, &api_url, studio).await?;
            for e in &mut editions {
                let path = e.master_file.as_ref().expect("generated above");
                let up =
                    masters::upload_master(&http, &api_url, &token, demo.film_id, e.quality, path)
                        .await?;
                e.master_hash = up.master_hash;
                e.uploaded = true;
            }
            let deadline = Instant::now() + Duration::from_secs(60);
            wait_master_hashes(&pool, demo.film_id, &editions, &stack_children.0, deadline).await?;
        }
    }
    pool.close().await;

    let demo = DemoInfo {
        studio_id: demo.studio_id,
        studio_name: "Studio Méliès".to_owned(),
        film_id: demo.film_id,
        film_title: "Le Voyage dans la Lune".to_owned(),
        film_year: 1902,
        editions,
        operator,
        studio: account(chain::STUDIO),
        platform: account(chain::PLATFORM),
        buyers: chain::BUYERS.map(account).collect(),
        attestation,
    };
    Ok(Started {
        api_url,
        rpc_url,
        chain_id,
        stripe_url,
        database_url,
        deployment,
        deployment_file,
        demo,
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

/// Removes inherited `TANGIBLE_API_*` variables (a developer's own configuration must not leak
/// into the stack's processes).
fn scrub_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("TANGIBLE_API_") {
            cmd.env_remove(k);
        }
    }
    if std::env::var_os("RUST_LOG").is_none() {
        cmd.env("RUST_LOG", "info");
    }
}

async fn wait_mirrored(
    pool: &sqlx::PgPool,
    film_id: u64,
    children: &[Managed],
    deadline: Instant,
) -> Result<()> {
    loop {
        children.iter().try_for_each(Managed::ensure_running)?;
        let editions: Option<i64> =
            sqlx::query_scalar("SELECT count(*) FROM editions WHERE film_id = $1")
                .bind(film_id as i64)
                .fetch_one(pool)
                .await
                .ok();
        if editions == Some(2) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the indexer did not mirror the demo film in time (see its log)");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the API's OpenAPI document lists a path matching `route` (features landing one
/// after another).
async fn api_has_route(api_url: &str, route: impl Fn(&str) -> bool) -> Result<bool> {
    let doc: serde_json::Value = reqwest::get(format!("{api_url}/v1/openapi.json"))
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(doc["paths"]
        .as_object()
        .is_some_and(|paths| paths.keys().any(|p| route(p))))
}

/// Waits until the indexer mirrored the uploaded masters' hashes.
async fn wait_master_hashes(
    pool: &sqlx::PgPool,
    film_id: u64,
    editions: &[DemoEdition],
    children: &[Managed],
    deadline: Instant,
) -> Result<()> {
    loop {
        children.iter().try_for_each(Managed::ensure_running)?;
        let rows: Vec<(i16, String)> =
            sqlx::query_as("SELECT quality, master_hash FROM editions WHERE film_id = $1")
                .bind(film_id as i64)
                .fetch_all(pool)
                .await
                .unwrap_or_default();
        let mirrored = editions.iter().all(|e| {
            rows.iter().any(|(q, h)| {
                *q == i16::from(e.quality.code())
                    && h.eq_ignore_ascii_case(&e.master_hash.to_string())
            })
        });
        if mirrored {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the indexer did not mirror the uploaded masters' hashes in time");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_ready(
    (api_url, port): (&str, u16),
    children: &[Managed],
    deadline: Instant,
) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let api = children
        .iter()
        .find(|c| c.name() == "api")
        .context("the API was not started")?;
    loop {
        children.iter().try_for_each(Managed::ensure_running)?;
        // Only our API is asked (another process may have taken a port picked free).
        if !api.listens_on(port) {
            if Instant::now() > deadline {
                bail!("the API did not listen on port {port} in time");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let last = match http.get(format!("{api_url}/readyz")).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => format!("{}: {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => e.to_string(),
        };
        if Instant::now() > deadline {
            bail!("the API was not ready in time: {last}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;
    use std::net::TcpListener;

    use super::*;

    /// Two ports picked free are taken by another process before their components bind them
    /// (anvil's on the first start, the API's on the second): the stack starts on the third
    /// try, on other ports, and no probe ever connected to the processes holding the taken
    /// ports.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_free_port_taken_before_it_is_bound_is_picked_again() {
        let binaries = Binaries::build(false).expect("building tangible-api and tangible-indexer");
        let thieves = [
            TcpListener::bind("127.0.0.1:0").unwrap(),
            TcpListener::bind("127.0.0.1:0").unwrap(),
        ];
        let taken = thieves.each_ref().map(|l| l.local_addr().unwrap().port());
        // `resolve` picks anvil, API, localstripe, PostgreSQL and indexer metrics, in order.
        let mut picks = 0;
        let stack = Stack::start_picking(
            StackOptions {
                binaries: Some(binaries),
                upload_demo_masters: false,
                ..StackOptions::default()
            },
            || {
                picks += 1;
                match picks {
                    1 => Ok(taken[0]),
                    7 => Ok(taken[1]),
                    _ => free_port(),
                }
            },
        )
        .await
        .expect("the stack starts on other ports");
        assert_eq!(picks, 15, "three starts of five free ports each");
        let ports = stack.ports.named().map(|(_, p)| p);
        assert!(
            taken.iter().all(|t| !ports.contains(t)),
            "{:?} avoids {taken:?}",
            stack.ports
        );
        let ready = reqwest::get(format!("{}/readyz", stack.api_url))
            .await
            .unwrap();
        assert!(ready.status().is_success());
        stack.check().unwrap();
        stack.stop();
        for thief in &thieves {
            thief.set_nonblocking(true).unwrap();
            let accepted = thief.accept().map(|(_, peer)| peer);
            assert!(
                accepted
                    .as_ref()
                    .is_err_and(|e| e.kind() == ErrorKind::WouldBlock),
                "a probe connected to the process holding a taken port: {accepted:?}"
            );
        }
    }
}
