//! A private PostgreSQL for tests and benchmarks, started from the system binaries.
//!
//! [`PgCluster::start`] runs `initdb` into a temporary directory and starts `postgres` on a
//! free loopback port; dropping the cluster stops the server and removes the directory.
//! [`TestDatabase::new`] creates a fresh, migrated database in a cluster shared by the whole
//! test binary (started on first use, stopped when the process exits) and drops it again when
//! the [`TestDatabase`] is dropped.
//!
//! The binaries are looked up in `$PG_BIN_DIR`, then `/usr/lib/postgresql/<newest>/bin`, then
//! `PATH`. When the tests run as root, the server runs as the `postgres` system user (PostgreSQL
//! refuses to run as root).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection, PgPool};
use tempfile::TempDir;

/// Errors of the test harness.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// No PostgreSQL server binaries were found.
    #[error("PostgreSQL binaries not found (set PG_BIN_DIR or install postgresql)")]
    BinariesNotFound,
    /// A process could not be run or failed.
    #[error("{what}: {detail}")]
    Process {
        /// What was being done.
        what: &'static str,
        /// Output or OS error.
        detail: String,
    },
    /// The server did not become ready in time.
    #[error("PostgreSQL did not accept connections within {0:?}")]
    NotReady(Duration),
    /// A database operation failed.
    #[error(transparent)]
    Db(#[from] crate::DbError),
}

impl From<sqlx::Error> for HarnessError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Server settings of a [`PgCluster`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Trade durability for speed (`fsync`, `synchronous_commit`, `full_page_writes` off).
    /// Right for tests; benchmarks that compare write paths may keep it on too, as long as
    /// every figure of one run uses the same cluster.
    pub fast_unsafe: bool,
    /// `max_connections` of the server.
    pub max_connections: u32,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            fast_unsafe: true,
            max_connections: 200,
        }
    }
}

/// A running private PostgreSQL cluster; stopped and deleted on drop.
#[derive(Debug)]
pub struct PgCluster {
    port: u16,
    pid: i32,
    exited: Arc<AtomicBool>,
    dir: Option<TempDir>,
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
pub fn pg_bin_dir() -> Result<PathBuf, HarnessError> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .find(|p| p.join("postgres").exists() && p.join("initdb").exists())
        })
        .ok_or(HarnessError::BinariesNotFound)
}

/// `(uid, gid)` of the `postgres` system user when running as root, else `None`.
fn server_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() > 3 && f[0] == "postgres")
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

fn as_server_user(cmd: &mut Command, user: Option<(u32, u32)>, die_with_parent: bool) {
    // SAFETY: only async-signal-safe libc calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if let Some((uid, gid)) = user
                && (libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            if die_with_parent {
                // Set after the uid change, which would clear it. SIGQUIT = immediate shutdown.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT);
            }
            Ok(())
        });
    }
}

fn free_port() -> Result<u16, HarnessError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| HarnessError::Process {
        what: "finding a free port",
        detail: e.to_string(),
    })?;
    Ok(l.local_addr()
        .map_err(|e| HarnessError::Process {
            what: "finding a free port",
            detail: e.to_string(),
        })?
        .port())
}

impl PgCluster {
    /// Starts a cluster with [`ClusterOptions::default`].
    pub fn start() -> Result<Self, HarnessError> {
        Self::start_with(&ClusterOptions::default())
    }

    /// Runs `initdb` into a fresh temporary directory and starts `postgres` on a free port.
    /// Blocks until the server accepts connections.
    pub fn start_with(options: &ClusterOptions) -> Result<Self, HarnessError> {
        let bin = pg_bin_dir()?;
        let user = server_user();
        let dir = tempfile::Builder::new()
            .prefix("tangible-pg-")
            .tempdir()
            .map_err(|e| HarnessError::Process {
                what: "creating the data directory",
                detail: e.to_string(),
            })?;
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).map_err(|e| {
                HarnessError::Process {
                    what: "chown of the data directory",
                    detail: e.to_string(),
                }
            })?;
        }
        let data = dir.path().join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .stdin(Stdio::null());
        as_server_user(&mut initdb, user, false);
        let out = initdb.output().map_err(|e| HarnessError::Process {
            what: "running initdb",
            detail: e.to_string(),
        })?;
        if !out.status.success() {
            return Err(HarnessError::Process {
                what: "initdb failed",
                detail: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        // A port found free can be taken by a concurrent process before postgres binds it.
        let mut last_err = None;
        for _ in 0..5 {
            let port = free_port()?;
            match spawn_server(&bin, &data, dir.path(), port, user, options) {
                Ok((pid, exited)) => match wait_ready(&bin, port, &exited, Duration::from_secs(30))
                {
                    Ok(()) => {
                        return Ok(Self {
                            port,
                            pid,
                            exited,
                            dir: Some(dir),
                        });
                    }
                    Err(e) => {
                        stop_server(pid, &exited);
                        last_err = Some(e);
                    }
                },
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or(HarnessError::NotReady(Duration::from_secs(30))))
    }

    /// The TCP port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// URL of database `name` as the superuser `postgres` (no password).
    pub fn url_for(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{}", self.port, name)
    }

    /// URL of the `postgres` maintenance database.
    pub fn admin_url(&self) -> String {
        self.url_for("postgres")
    }

    /// Stops the server (fast shutdown, then SIGKILL after 15 s) and removes the data.
    pub fn stop(&mut self) {
        stop_server(self.pid, &self.exited);
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if !self.exited.load(Ordering::SeqCst) || self.dir.is_some() {
            self.stop();
        }
    }
}

fn stop_server(pid: i32, exited: &AtomicBool) {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let start = Instant::now();
    while !exited.load(Ordering::SeqCst) {
        if start.elapsed() > Duration::from_secs(15) {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if start.elapsed() > Duration::from_secs(20) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Spawns `postgres` from a thread that lives as long as the server: the server gets SIGQUIT
/// when that thread (so the test process) dies, even by SIGKILL.
fn spawn_server(
    bin: &Path,
    data: &Path,
    socket_dir: &Path,
    port: u16,
    user: Option<(u32, u32)>,
    options: &ClusterOptions,
) -> Result<(i32, Arc<AtomicBool>), HarnessError> {
    let mut cmd = Command::new(bin.join("postgres"));
    cmd.arg("-D")
        .arg(data)
        .arg("-k")
        .arg(socket_dir)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .args([
            "-c",
            &format!("max_connections={}", options.max_connections),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if options.fast_unsafe {
        cmd.args([
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]);
    }
    as_server_user(&mut cmd, user, true);
    let exited = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let flag = exited.clone();
    std::thread::Builder::new()
        .name(format!("postgres-{port}"))
        .spawn(move || match cmd.spawn() {
            Ok(mut child) => {
                let _ = tx.send(Ok(child.id() as i32));
                let _ = child.wait();
                flag.store(true, Ordering::SeqCst);
            }
            Err(e) => {
                flag.store(true, Ordering::SeqCst);
                let _ = tx.send(Err(e));
            }
        })
        .map_err(|e| HarnessError::Process {
            what: "spawning the server thread",
            detail: e.to_string(),
        })?;
    let pid = rx
        .recv()
        .map_err(|e| HarnessError::Process {
            what: "starting postgres",
            detail: e.to_string(),
        })?
        .map_err(|e| HarnessError::Process {
            what: "starting postgres",
            detail: e.to_string(),
        })?;
    Ok((pid, exited))
}

fn wait_ready(
    bin: &Path,
    port: u16,
    exited: &AtomicBool,
    timeout: Duration,
) -> Result<(), HarnessError> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if exited.load(Ordering::SeqCst) {
            return Err(HarnessError::Process {
                what: "postgres exited at start",
                detail: format!("port {port}"),
            });
        }
        let ok = Command::new(bin.join("pg_isready"))
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
            ])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(HarnessError::NotReady(timeout))
}

static SHARED: OnceLock<Result<PgCluster, String>> = OnceLock::new();

extern "C" fn stop_shared_cluster() {
    if let Some(Ok(cluster)) = SHARED.get() {
        stop_server(cluster.pid, &cluster.exited);
        if let Some(dir) = &cluster.dir {
            let _ = std::fs::remove_dir_all(dir.path());
        }
    }
}

/// The cluster shared by every test of this process: started on first use, stopped and
/// removed when the process exits.
pub fn shared_cluster() -> Result<&'static PgCluster, HarnessError> {
    let result = SHARED.get_or_init(|| {
        let cluster = PgCluster::start().map_err(|e| e.to_string())?;
        // SAFETY: registering a plain `extern "C" fn` with no captured state.
        unsafe { libc::atexit(stop_shared_cluster) };
        Ok(cluster)
    });
    result.as_ref().map_err(|e| HarnessError::Process {
        what: "starting the shared cluster",
        detail: e.clone(),
    })
}

static NEXT_DB: AtomicU64 = AtomicU64::new(0);

/// A fresh database for one test, dropped (with its connections) when this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    pool: PgPool,
    url: String,
    name: String,
    admin_url: String,
}

impl TestDatabase {
    /// A fresh, migrated database in the [`shared_cluster`].
    pub async fn new() -> Result<Self, HarnessError> {
        Self::in_cluster(shared_cluster()?, true).await
    }

    /// A fresh database in `cluster`, migrated if `migrate` is set.
    pub async fn in_cluster(cluster: &PgCluster, migrate: bool) -> Result<Self, HarnessError> {
        let name = format!(
            "test_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::SeqCst)
        );
        let admin_url = cluster.admin_url();
        let mut admin = PgConnection::connect(&admin_url).await?;
        // The name is generated above from digits and underscores only.
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await?;
        admin.close().await?;
        let url = cluster.url_for(&name);
        let pool = crate::connect(&url, 16).await?;
        if migrate {
            crate::migrate(&pool).await?;
        }
        Ok(Self {
            pool,
            url,
            name,
            admin_url,
        })
    }

    /// The pool of this database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The URL of this database (for a process under test, e.g. the indexer binary).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (name, admin_url) = (self.name.clone(), self.admin_url.clone());
        // Drop may run inside a tokio runtime: do the async clean-up on a thread of its own.
        // The pool is driven by the caller's runtime (blocked here), so it is not closed
        // gracefully: `WITH (FORCE)` terminates its connections.
        let handle = std::thread::spawn(move || {
            let Ok(rt) = tokio_rt() else { return };
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = handle.join();
    }
}

fn tokio_rt() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
