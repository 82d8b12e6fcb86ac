//! `tangible-stack up`: the whole local stack in the foreground (what `make up` runs). Prints
//! the URLs and a walkthrough, stops everything on Ctrl-C (or SIGTERM/SIGHUP), and refuses to
//! start a second stack beside a running one.

use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use tangible_devstack::{
    Binaries, DemoFilms, Ports, Postgres, Stack, StackOptions, check_port_free, films,
};
use tangible_domain::Quality;
use tokio::signal::unix::{SignalKind, signal};

/// Tangible's local development stack.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Start anvil, PostgreSQL, localstripe, the contracts with the demo film, the indexer and
    /// the API; print the URLs and a walkthrough; stop everything on Ctrl-C.
    Up(UpArgs),
    /// Start only the private PostgreSQL cluster `make up` uses (a fresh one, in
    /// `<run dir>/pg`), print its URL and keep it until Ctrl-C: for running the indexer or the
    /// API by hand (`tangible-api migrate` creates the schema).
    Postgres(PostgresArgs),
    /// Write a demo film (the one `up` uploads, from the film cache; encoded and cached the
    /// first time) and say how long it took and how large it is.
    Film(FilmArgs),
}

#[derive(Debug, clap::Args)]
struct FilmArgs {
    /// The edition: sd, hd or 4k.
    #[arg(long, default_value = "hd")]
    quality: Quality,
    /// Length in seconds (default: the demo film's for that edition).
    #[arg(long)]
    seconds: Option<u32>,
    /// The title burned in.
    #[arg(long, default_value = "Le Voyage dans la Lune")]
    title: String,
    /// Where to write the film.
    #[arg(short, long, default_value = "film.mp4")]
    output: PathBuf,
}

#[derive(Debug, clap::Args)]
struct PostgresArgs {
    /// PostgreSQL's port.
    #[arg(long, env = "PG_PORT", default_value_t = Ports::MAKE_UP.postgres)]
    port: u16,
    /// Run folder: the cluster, its log and the lock (shared with `up`: one of them at a time).
    #[arg(long, default_value = ".run")]
    run_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct UpArgs {
    /// anvil's JSON-RPC port.
    #[arg(long, env = "ANVIL_PORT", default_value_t = Ports::MAKE_UP.anvil)]
    anvil_port: u16,
    /// The API's port.
    #[arg(long, env = "API_PORT", default_value_t = Ports::MAKE_UP.api)]
    api_port: u16,
    /// localstripe's port.
    #[arg(long, env = "STRIPE_PORT", default_value_t = Ports::MAKE_UP.stripe)]
    stripe_port: u16,
    /// PostgreSQL's port.
    #[arg(long, env = "PG_PORT", default_value_t = Ports::MAKE_UP.postgres)]
    postgres_port: u16,
    /// The indexer's metrics port.
    #[arg(long, env = "INDEXER_METRICS_PORT", default_value_t = Ports::MAKE_UP.indexer_metrics)]
    indexer_metrics_port: u16,
    /// anvil block time in seconds (default: a block per transaction).
    #[arg(long, env = "ANVIL_BLOCK_TIME")]
    block_time: Option<u64>,
    /// Do not generate and upload the demo masters.
    #[arg(long)]
    no_masters: bool,
    /// Length of the HD demo film in seconds (a real film, encoded once and cached).
    #[arg(long, default_value_t = DemoFilms::default().hd_seconds)]
    hd_seconds: u32,
    /// Length of the 4K demo film in seconds (4K costs the most to encode).
    #[arg(long, default_value_t = DemoFilms::default().uhd_seconds)]
    uhd_seconds: u32,
    /// Run folder: the cluster, logs, masters and the lock (`.run/` of the clone).
    #[arg(long, default_value = ".run")]
    run_dir: PathBuf,
    /// Folder to write the deployment file into, for the CLI and the README commands.
    #[arg(long, default_value = "deployments")]
    deployments_dir: PathBuf,
    /// Folder of the built `tangible-api` and `tangible-indexer` (default: next to this binary).
    #[arg(long, env = "TANGIBLE_BIN_DIR")]
    bin_dir: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| {
            rt.block_on(async {
                match cli.command {
                    Cmd::Up(args) => up(args).await,
                    Cmd::Postgres(args) => postgres(args).await,
                    Cmd::Film(args) => film(&args),
                }
            })
        });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The chain of causes, without a backtrace: these are user-facing messages.
            eprintln!("make up: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The single-instance lock: an exclusive `flock` on `<run>/stack.lock`, holding our pid.
/// The kernel releases it when we exit, however we exit: no stale lock.
struct Lock {
    file: std::fs::File,
}

impl Lock {
    fn acquire(run: &Path) -> Result<Self> {
        std::fs::create_dir_all(run).with_context(|| format!("creating {}", run.display()))?;
        let path = run.join("stack.lock");
        let mut file = std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            bail!(
                "a Tangible stack is already running (pid {pid}, run folder {}). Use it, or stop \
                 it with Ctrl-C in its terminal (or: kill {pid}) before starting another.",
                run.display()
            );
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        Ok(Self { file })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

async fn up(args: UpArgs) -> Result<()> {
    let _lock = Lock::acquire(&args.run_dir)?;
    let ports = Ports {
        anvil: args.anvil_port,
        api: args.api_port,
        stripe: args.stripe_port,
        postgres: args.postgres_port,
        indexer_metrics: args.indexer_metrics_port,
    };
    let env_names = [
        "ANVIL_PORT",
        "API_PORT",
        "STRIPE_PORT",
        "PG_PORT",
        "INDEXER_METRICS_PORT",
    ];
    for ((component, port), env) in ports.named().into_iter().zip(env_names) {
        if port != 0 && check_port_free(component, port).is_err() {
            bail!(
                "port {port} ({component}) is already in use by another program; stop it or set \
                 {env} to another port"
            );
        }
    }
    let binaries = Binaries::locate(args.bin_dir.as_deref())?;
    let bin_dir = binaries
        .api
        .parent()
        .map(Path::to_owned)
        .unwrap_or_default();
    let run_dir = std::path::absolute(&args.run_dir)?;
    let options = StackOptions {
        ports,
        block_time: args.block_time,
        upload_demo_masters: !args.no_masters,
        demo_films: DemoFilms {
            hd_seconds: args.hd_seconds,
            uhd_seconds: args.uhd_seconds,
            ..DemoFilms::default()
        },
        data_dir: Some(run_dir.clone()),
        deployments_dir: Some(std::path::absolute(&args.deployments_dir)?),
        binaries: Some(binaries),
        api_env: Vec::new(),
        indexer_args: Vec::new(),
        // One line per wait, so a slow step (a first initdb, a cold build's API) is named.
        progress: Some(|line| eprintln!("make up: {line}")),
    };
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;

    eprintln!(
        "make up: starting anvil, PostgreSQL, localstripe, the contracts, the indexer and the API (logs in {}/logs)…",
        run_dir.display()
    );
    let started = std::time::Instant::now();
    let stack = tokio::select! {
        s = Stack::start(options) => s.context("starting the stack")?,
        _ = sigint.recv() => { eprintln!("\nmake up: interrupted, stopping…"); return Ok(()) }
        _ = sigterm.recv() => { eprintln!("make up: terminated, stopping…"); return Ok(()) }
        _ = sighup.recv() => return Ok(()),
    };
    print_banner(&stack, started.elapsed(), &bin_dir);
    let outcome = loop {
        tokio::select! {
            _ = sigint.recv() => break Ok(()),
            _ = sigterm.recv() => break Ok(()),
            _ = sighup.recv() => break Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(1)) => {
                if let Err(e) = stack.check() {
                    break Err(e.context("a component stopped unexpectedly; stopping the stack"));
                }
            }
        }
    };
    eprintln!("\nmake up: stopping…");
    let stop = tokio::task::spawn_blocking(move || stack.stop());
    let _ = stop.await;
    eprintln!("make up: stopped, no process left");
    outcome
}

/// `tangible-stack film`: one demo film, timed.
fn film(args: &FilmArgs) -> Result<()> {
    let seconds = args
        .seconds
        .unwrap_or_else(|| DemoFilms::default().seconds(args.quality));
    let spec = films::FilmSpec::edition(&args.title, args.quality, seconds);
    let started = std::time::Instant::now();
    films::generate_film(&spec, &args.output, |line| eprintln!("{line}"))?;
    let size = std::fs::metadata(&args.output)?.len();
    println!(
        "{} {} s: {} ({size} bytes) in {:.1} s",
        spec.label,
        seconds,
        args.output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn postgres(args: PostgresArgs) -> Result<()> {
    let _lock = Lock::acquire(&args.run_dir)?;
    if check_port_free("PostgreSQL", args.port).is_err() {
        bail!(
            "port {} (PostgreSQL) is already in use by another program; stop it or set PG_PORT \
             to another port",
            args.port
        );
    }
    let run_dir = std::path::absolute(&args.run_dir)?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let pg = tokio::select! {
        pg = Postgres::start(&run_dir, args.port, Some(|line| eprintln!("postgres: {line}"))) => {
            pg.context("starting PostgreSQL")?
        }
        _ = sigint.recv() => return Ok(()),
        _ = sigterm.recv() => return Ok(()),
    };
    println!(
        "PostgreSQL is up (log in {}/logs/postgres.log); Ctrl-C stops it.\n\n  export DATABASE_URL={}\n",
        run_dir.display(),
        pg.database_url
    );
    tokio::select! {
        _ = sigint.recv() => {}
        _ = sigterm.recv() => {}
    }
    eprintln!("postgres: stopping…");
    tokio::task::spawn_blocking(move || pg.stop(Duration::from_secs(10))).await?;
    Ok(())
}

fn print_banner(stack: &Stack, took: Duration, bin_dir: &Path) {
    let d = &stack.demo;
    let buyer = &d.buyers[0];
    let buyer2 = &d.buyers[1];
    let uploaded: Vec<String> = d
        .editions
        .iter()
        .map(|e| {
            format!(
                "{} {} € ({})",
                e.quality,
                e.price,
                if e.uploaded {
                    "master uploaded"
                } else {
                    "no content yet"
                }
            )
        })
        .collect();
    let api = &stack.api_url;
    let market = stack.deployment.contracts.market;
    let token = stack.deployment.contracts.stablecoin;
    let rpc = &stack.rpc_url;
    println!(
        r#"
Tangible local stack is up ({:.1} s).

  API            {api}   (OpenAPI: {api}/v1/openapi.json, health: {api}/readyz)
  anvil RPC      {rpc}   (chain id {chain})
  localstripe    {stripe}   (Stripe key {stripe_key})
  PostgreSQL     {db}
  indexer        metrics on http://127.0.0.1:{metrics}/metrics
  deployment     {dep}   (market {market}, tEUR {token})
  logs           {logs}/

  Demo: studio #{studio} "{studio_name}", film #{film} "{title}" ({year}): {editions}
  Accounts (anvil's well-known development keys, local use only):
    operator/admin #{op_i}  {op}   platform #{pf_i} {pf}   studio admin #{st_i} {st}
    buyers: #3..#8, e.g. #{b_i} {b_addr}
      export BUYER_KEY={b_key}
      export BUYER2_KEY={b2_key}

Walkthrough (copy-paste in another terminal):

  export API={api} RPC={rpc} PATH=$PWD/.tools/bin:$PATH
  curl -s $API/v1/films | jq                                   # the catalogue, from the indexer
  curl -s "$API/v1/films/{film}" | jq

  # Buy the 4K edition by card (13.00 €): create the purchase, pay in localstripe with the test
  # card 4242 4242 4242 4242, and the API settles it on chain once the webhook arrives.
  BUYER={b_addr}
  P=$(curl -s -XPOST $API/v1/purchases -H 'content-type: application/json' \
        -d '{{"film_id":{film},"quality":"4k","buyer_address":"'$BUYER'"}}')
  echo "$P" | jq
  PI=$(echo "$P" | jq -r .payment_intent_id)
  PM=$(curl -s -u {stripe_key}: {stripe}/v1/payment_methods -d type=card \
        -d 'card[number]=4242424242424242' -d 'card[exp_month]=12' -d 'card[exp_year]=2040' \
        -d 'card[cvc]=123' | jq -r .id)
  curl -s -u {stripe_key}: {stripe}/v1/payment_intents/$PI -d payment_method=$PM >/dev/null
  curl -s -u {stripe_key}: -XPOST {stripe}/v1/payment_intents/$PI/confirm | jq .status
  curl -s $API/v1/purchases/$(echo "$P" | jq -r .purchase_id) | jq   # → settled, licence id
  curl -s "$API/v1/licences?owner=$BUYER" | jq

  # The same purchase in stablecoin, straight on chain (buyer #4 pays 13.00 € in tEUR,
  # BUYER2_KEY exported above):
  cast send {token} "approve(address,uint256)" {market} 13000000 --private-key $BUYER2_KEY --rpc-url $RPC
  cast send {market} "buyPrimary(uint64,uint8,uint64,address)" {film} 2 1300 {b2_addr} \
    --private-key $BUYER2_KEY --rpc-url $RPC
  curl -s "$API/v1/licences?owner={b2_addr}" | jq

  # ── With the `tangible` CLI (built by make up; it learns the chain, the contracts and the
  # certificate signer from the API's /v1/config) ───────────────────────────────────────
  export TANGIBLE_API_URL={api} TANGIBLE_RPC_URL={rpc} TANGIBLE_STRIPE_URL={stripe}
  export TANGIBLE_STRIPE_KEY={stripe_key} TANGIBLE_PASSWORD=demo-password
  export PATH={bin_dir}:$PATH
  ALICE=$(mktemp -d) BOB=$(mktemp -d)
  export TANGIBLE_HOME=$ALICE                                    # buyer #{b_i}
  echo $BUYER_KEY | tangible wallet import --private-key && tangible login
  tangible config && tangible films
  # 13.00 € in tEUR from the wallet (--card pays on the web page it prints, --test-card with
  # a test card from here; a card licence is held 3 days before it can be resold)
  L=$(tangible --get licence_id buy {film} --quality 4k --crypto)
  tangible download $L && tangible verify $L
  tangible play $L        # the 4K film in mpv, vlc or ffplay, from a loopback URL (--no-player)
  tangible export $L -o $ALICE/film.mp4 && cmp $ALICE/film.mp4 {master_4k} && echo identical
  O=$(tangible --get offer_id resell $L --price 8.00)
  export TANGIBLE_HOME=$BOB                                      # buyer #{b2_i}
  echo $BUYER2_KEY | tangible wallet import --private-key && tangible login
  tangible offers
  tangible buy-offer $O --test-card && tangible library           # seller 6.40, studio 1.20, platform 0.40
  TANGIBLE_HOME=$ALICE tangible sync                              # alice's copy is erased

Press Ctrl-C to stop everything.
"#,
        took.as_secs_f64(),
        chain = stack.chain_id,
        stripe = stack.stripe_url,
        stripe_key = stack.stripe_secret_key,
        db = stack.database_url,
        metrics = stack.ports.indexer_metrics,
        dep = stack.deployment_file.display(),
        logs = stack.log_dir.display(),
        studio = d.studio_id,
        studio_name = d.studio_name,
        film = d.film_id,
        title = d.film_title,
        year = d.film_year,
        editions = uploaded.join(", "),
        op_i = d.operator.index,
        op = d.operator.address,
        pf_i = d.platform.index,
        pf = d.platform.address,
        st_i = d.studio.index,
        st = d.studio.address,
        b_i = buyer.index,
        b_addr = buyer.address,
        b_key = buyer.private_key,
        b2_key = buyer2.private_key,
        b2_addr = buyer2.address,
        b2_i = buyer2.index,
        bin_dir = bin_dir.display(),
        master_4k = d
            .edition(Quality::Uhd4k)
            .and_then(|e| e.master_file.as_ref())
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    );
}
