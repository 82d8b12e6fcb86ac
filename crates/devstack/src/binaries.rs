//! Where the stack's own binaries (`tangible-api`, `tangible-indexer`) and tools (anvil,
//! localstripe) are, and how tests build the binaries first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

/// The programs the stack runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    /// `tangible-api`.
    pub api: PathBuf,
    /// `tangible-indexer`.
    pub indexer: PathBuf,
    /// anvil (Foundry).
    pub anvil: PathBuf,
    /// The `localstripe` emulator.
    pub localstripe: PathBuf,
}

/// Environment variable naming the folder of the built `tangible-*` binaries.
pub const BIN_DIR_ENV: &str = "TANGIBLE_BIN_DIR";

/// The clone's root: the nearest ancestor holding `.tools/` of the run-time manifest folder
/// (under cargo), then of the current directory (`make up` runs from the clone), then of the
/// compile-time manifest folder; else the compile-time workspace root. Read at run time first
/// because the shared target directory may hold a binary built by another clone.
pub fn workspace_root() -> PathBuf {
    let candidates = [
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        std::env::current_dir().ok(),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
    ];
    for dir in candidates.into_iter().flatten() {
        if let Some(root) = dir.ancestors().find(|d| d.join(".tools").is_dir()) {
            return root.to_owned();
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `$TANGIBLE_ANVIL`, else the clone's `.tools/bin/anvil`, else `tangible_chain`'s guess.
fn anvil_path(root: &Path) -> PathBuf {
    let ours = root.join(".tools/bin/anvil");
    if std::env::var_os("TANGIBLE_ANVIL").is_none() && ours.is_file() {
        return ours;
    }
    tangible_chain::anvil::anvil_path()
}

fn localstripe_path(root: &Path) -> PathBuf {
    std::env::var_os("TANGIBLE_LOCALSTRIPE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".tools/venv/bin/localstripe"))
}

impl Binaries {
    /// The `tangible-*` binaries in `dir` (or, without one: `$TANGIBLE_BIN_DIR`, the folder of
    /// the running executable, its parent — `target/debug` for a test in `target/debug/deps` —
    /// then `$CARGO_TARGET_DIR/release` and `/debug`), anvil from `tangible_chain::anvil`, and
    /// localstripe from `$TANGIBLE_LOCALSTRIPE` or `.tools/venv/bin/localstripe`.
    pub fn locate(dir: Option<&Path>) -> Result<Self> {
        let root = workspace_root();
        let mut dirs: Vec<PathBuf> = Vec::new();
        match dir {
            Some(d) => dirs.push(d.to_owned()),
            None => {
                if let Some(d) = std::env::var_os(BIN_DIR_ENV) {
                    dirs.push(d.into());
                }
                if let Ok(exe) = std::env::current_exe()
                    && let Some(parent) = exe.parent()
                {
                    dirs.push(parent.to_owned());
                    if let Some(up) = parent.parent() {
                        dirs.push(up.to_owned());
                    }
                }
                let target = std::env::var_os("CARGO_TARGET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| root.join("target"));
                dirs.push(target.join("release"));
                dirs.push(target.join("debug"));
            }
        }
        let Some(found) = dirs
            .iter()
            .find(|d| d.join("tangible-api").is_file() && d.join("tangible-indexer").is_file())
        else {
            bail!(
                "tangible-api and tangible-indexer not found in {dirs:?}: build them \
                 (cargo build -p tangible-api -p tangible-indexer) or set {BIN_DIR_ENV}"
            );
        };
        Self::with_tools(found.join("tangible-api"), found.join("tangible-indexer"))
    }

    fn with_tools(api: PathBuf, indexer: PathBuf) -> Result<Self> {
        let root = workspace_root();
        let b = Self {
            api,
            indexer,
            anvil: anvil_path(&root),
            localstripe: localstripe_path(&root),
        };
        for (what, path) in [("anvil", &b.anvil), ("localstripe", &b.localstripe)] {
            if !path.is_file() {
                bail!(
                    "{what} not found at {}: run `bash scripts/bootstrap.sh` (or `make tools`)",
                    path.display()
                );
            }
        }
        Ok(b)
    }

    /// Builds `tangible-api` and `tangible-indexer` with cargo (debug profile, or release) and
    /// returns their exact paths, read from cargo's JSON messages. Cargo does nothing when they
    /// are up to date. Tests call this once (it is memoised per profile and process) so that they
    /// never run stale binaries: `cargo test` only builds the binaries of the tested package.
    pub fn build(release: bool) -> Result<Self> {
        static DEBUG: OnceLock<Result<Binaries, String>> = OnceLock::new();
        static RELEASE: OnceLock<Result<Binaries, String>> = OnceLock::new();
        let cell = if release { &RELEASE } else { &DEBUG };
        cell.get_or_init(|| Self::build_now(release).map_err(|e| format!("{e:#}")))
            .clone()
            .map_err(anyhow::Error::msg)
    }

    fn build_now(release: bool) -> Result<Self> {
        let mut built = build_bins(
            release,
            &[
                ("tangible-api", "tangible-api"),
                ("tangible-indexer", "tangible-indexer"),
            ],
        )?;
        let mut take = |name: &str| {
            built
                .remove(name)
                .with_context(|| format!("cargo did not report {name}"))
        };
        Self::with_tools(take("tangible-api")?, take("tangible-indexer")?)
    }
}

/// Builds binaries with one `cargo build --locked` (`(package, binary)` pairs; debug profile,
/// or release) in the clone's workspace and returns each binary's path by name, read from
/// cargo's JSON messages. Building every binary a test needs in one call (e.g. the API, the
/// indexer and the `tangible` CLI) makes cargo resolve features once for all of them.
pub fn build_bins(release: bool, bins: &[(&str, &str)]) -> Result<BTreeMap<String, PathBuf>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args([
            "build",
            "--locked",
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (package, bin) in bins {
        cmd.args(["-p", package, "--bin", bin]);
    }
    if release {
        cmd.arg("--release");
    }
    let out = cmd.output().context("running cargo build")?;
    if !out.status.success() {
        bail!("cargo build of {bins:?} failed");
    }
    let mut found = BTreeMap::new();
    for line in out.stdout.split(|b| *b == b'\n') {
        let Ok(msg) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if let (Some(exe), Some(name)) =
            (msg["executable"].as_str(), msg["target"]["name"].as_str())
            && bins.iter().any(|(_, b)| *b == name)
        {
            found.insert(name.to_owned(), PathBuf::from(exe));
        }
    }
    Ok(found)
}
