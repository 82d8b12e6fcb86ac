//! Helpers of Tangible's end-to-end tests: the `tangible` binary run as a user runs it, one
//! home directory per user, on a stack started by `tangible-devstack`.
//!
//! Locating the binary: `CARGO_BIN_EXE_tangible` only exists inside the `tangible-cli` package,
//! so [`tangible_bin`] runs `cargo build -p tangible-cli --bin tangible --features test-clock`
//! once per test process (a no-op when up to date, so the tests never run a stale client) and
//! takes the path cargo reports. `TANGIBLE_CLI_BIN` overrides it (the expiry test needs the feature).
//! The stack's `tangible-api` and `tangible-indexer` are built the same way, unless
//! `TANGIBLE_BIN_DIR` names a folder holding them (`tangible_devstack::BIN_DIR_ENV`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Environment variable naming a prebuilt `tangible` binary.
pub const CLI_BIN_ENV: &str = "TANGIBLE_CLI_BIN";

/// Password of every test wallet.
pub const PASSWORD: &str = "e2e-password-not-secret";

/// The `tangible` binary (built on first call).
pub fn tangible_bin() -> Result<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| build().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(CLI_BIN_ENV) {
        return Ok(PathBuf::from(p));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(tangible_devstack::workspace_root())
        .args(["build", "--message-format=json-render-diagnostics"])
        .args(["-p", "tangible-cli", "--bin", "tangible"])
        // The expiry test moves the client's clock (TANGIBLE_TEST_NOW), compiled in only here.
        .args(["--features", "test-clock"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo build -p tangible-cli")?;
    if !out.status.success() {
        bail!("cargo build -p tangible-cli failed");
    }
    for line in out.stdout.split(|b| *b == b'\n') {
        let Ok(msg) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        if msg["target"]["name"] == "tangible"
            && let Some(exe) = msg["executable"].as_str()
        {
            return Ok(PathBuf::from(exe));
        }
    }
    bail!("cargo did not report the tangible executable")
}

/// The endpoints a user's client is configured with. Nothing else: the client learns the
/// chain, the contracts and the certificate signer from the API (`GET /v1/config`).
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// API base URL.
    pub api_url: String,
    /// Chain RPC URL.
    pub rpc_url: String,
    /// Stripe (localstripe) base URL.
    pub stripe_url: String,
    /// Stripe key.
    pub stripe_key: String,
}

/// One user of the client: a home directory of their own.
#[derive(Debug)]
pub struct User {
    /// A name for messages.
    pub name: String,
    home: tempfile::TempDir,
    endpoints: Endpoints,
    bin: PathBuf,
}

/// A finished command.
#[derive(Debug)]
pub struct Run {
    /// Exit success.
    pub ok: bool,
    /// Stdout.
    pub stdout: String,
    /// Stderr.
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Self {
            ok: o.status.success(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl User {
    /// A user with an empty home.
    pub fn new(name: &str, endpoints: &Endpoints) -> Result<Self> {
        Ok(Self {
            name: name.to_owned(),
            home: tempfile::Builder::new()
                .prefix(&format!("tangible-e2e-{name}-"))
                .tempdir()?,
            endpoints: endpoints.clone(),
            bin: tangible_bin()?,
        })
    }

    /// The user's home directory.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The command with the user's environment; `extra` adds variables.
    pub fn command(&self, args: &[&str], extra: &[(&str, &str)]) -> Command {
        let e = &self.endpoints;
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TANGIBLE_HOME", self.home.path())
            .env("TANGIBLE_PASSWORD", PASSWORD)
            .env("TANGIBLE_API_URL", &e.api_url)
            .env("TANGIBLE_RPC_URL", &e.rpc_url)
            .env("TANGIBLE_STRIPE_URL", &e.stripe_url)
            .env("TANGIBLE_STRIPE_KEY", &e.stripe_key)
            .stdin(Stdio::null());
        for (k, v) in extra {
            c.env(k, v);
        }
        c
    }

    /// Runs `tangible args…`.
    pub fn run(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let out = self
            .command(args, extra)
            .output()
            .expect("the tangible binary runs");
        Run::from(out)
    }

    /// Runs `tangible --json args…`, expects success and returns the JSON printed.
    pub fn json(&self, args: &[&str]) -> Value {
        self.json_with(args, &[])
    }

    /// Like [`User::json`] with extra environment variables.
    pub fn json_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let r = self.run(&all, extra);
        assert!(
            r.ok,
            "{}: `tangible {}` failed\nstdout: {}\nstderr: {}",
            self.name,
            all.join(" "),
            r.stdout,
            r.stderr
        );
        let last = r.stdout.lines().last().unwrap_or_default();
        serde_json::from_str(last).unwrap_or_else(|e| {
            panic!(
                "{}: `tangible {}` printed no JSON ({e}): {}",
                self.name,
                all.join(" "),
                r.stdout
            )
        })
    }

    /// Runs `tangible args…` and expects a failure; returns stderr.
    pub fn fails(&self, args: &[&str], extra: &[(&str, &str)]) -> String {
        let r = self.run(args, extra);
        assert!(
            !r.ok,
            "{}: `tangible {}` should have failed\nstdout: {}",
            self.name,
            args.join(" "),
            r.stdout
        );
        r.stderr
    }

    /// Imports a private key as the user's wallet (read from stdin, as a user pastes it).
    pub fn import_key(&self, private_key: &str) -> Value {
        use std::io::Write;
        let mut child = self
            .command(&["--json", "wallet", "import", "--private-key"], &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tangible binary runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(private_key.as_bytes())
            .expect("writing the key");
        let r = Run::from(child.wait_with_output().expect("tangible exits"));
        assert!(r.ok, "{}: wallet import failed: {}", self.name, r.stderr);
        serde_json::from_str(r.stdout.trim()).expect("wallet import prints JSON")
    }

    /// The library folder of licence `id`.
    pub fn licence_dir(&self, id: &str) -> PathBuf {
        self.home.path().join("library").join(id)
    }
}
