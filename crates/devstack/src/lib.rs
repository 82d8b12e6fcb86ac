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
//!
//! Where things are: `start` starts the components in order (the processes themselves in
//! `postgres`, `chain`, `localstripe` and `process`), `ready` waits for the indexer and the
//! API, `progress` says what is being waited for, `demo` holds what the stack hands back
//! about its demo catalogue and accounts, `films` generates the demo films that are uploaded as
//! its masters, and `masters` uploads them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tangible_chain::Deployment;

mod binaries;
pub mod chain;
mod demo;
pub mod films;
mod localstripe;
pub mod masters;
mod ports;
mod postgres;
mod process;
mod progress;
mod ready;
mod start;

pub use binaries::{BIN_DIR_ENV, Binaries, build_bins, workspace_root};
pub use demo::{DemoEdition, DemoInfo, DevAccount};
pub use films::DemoFilms;
pub use ports::{Ports, check_port_free};
pub use postgres::Postgres;

use ports::{PORT_ATTEMPTS, free_port, port_in_use, resolve, was_free};
use process::Managed;
use start::start_on;

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
    /// The demo masters: real films ([`films`]), this long per edition.
    pub demo_films: DemoFilms,
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
    /// Where to say what the start is waiting for: one line per wait (anvil, PostgreSQL, the
    /// deployment, the indexer, the API…), then every 5 s how long it has lasted. `None`:
    /// silent (`tangible-stack up` prints them to stderr).
    pub progress: Option<fn(&str)>,
}

impl Default for StackOptions {
    /// Free ports, instant mining, demo films of 12 s (HD) and 4 s (4K), a temporary data
    /// folder.
    fn default() -> Self {
        Self {
            ports: Ports::FREE,
            block_time: None,
            upload_demo_masters: true,
            demo_films: DemoFilms::default(),
            data_dir: None,
            deployments_dir: None,
            binaries: None,
            api_env: Vec::new(),
            indexer_args: Vec::new(),
            progress: None,
        }
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

impl Stack {
    /// Starts every component and returns once the API is ready and the indexer has mirrored the
    /// demo film. On error, whatever was started is stopped again.
    ///
    /// A free port (0 in [`StackOptions::ports`]) is picked before its component starts, so
    /// another process may take it in between: the component then fails to bind it and the
    /// whole stack is started again on newly picked ports (up to 3 times in all). A port given
    /// explicitly is never replaced.
    pub async fn start(options: StackOptions) -> Result<Self> {
        Self::start_picking(options, free_port).await
    }

    /// [`Stack::start`], with free ports taken from `free`.
    async fn start_picking(
        options: StackOptions,
        mut free: impl FnMut() -> Result<u16>,
    ) -> Result<Self> {
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
        Ok(Self {
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
