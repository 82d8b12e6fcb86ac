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
//! refuses to run as root). The command lines, the user switch and the parent-death signal are
//! the test kit's (`tangible_testkit::{postgres, process}`), shared with the development stack.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection, PgPool};
use tangible_testkit::postgres::{self, ServerOptions};
use tangible_testkit::process::{ChildSetup, TiedChild, postgres_user, prepare};
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
    server: TiedChild,
    dir: Option<TempDir>,
}

/// The directory holding `initdb`, `pg_ctl` and `postgres` (see
/// [`tangible_testkit::postgres::pg_bin_dir`]).
pub fn pg_bin_dir() -> Result<PathBuf, HarnessError> {
    postgres::pg_bin_dir().ok_or(HarnessError::BinariesNotFound)
}

/// The server's programs run as the `postgres` system user when we are root; the server
/// itself gets SIGQUIT (immediate shutdown) when this process dies.
fn as_server_user(cmd: &mut Command, user: Option<(u32, u32)>, die_with_parent: bool) {
    prepare(
        cmd,
        ChildSetup {
            own_process_group: false,
            user,
            death_signal: die_with_parent.then_some(libc::SIGQUIT),
        },
    );
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
        let user = postgres_user();
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
        let mut initdb = postgres::initdb(&bin, &data);
        initdb.stdin(Stdio::null());
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
                Ok(server) => match wait_ready(&bin, port, &server, Duration::from_secs(30)) {
                    Ok(()) => {
                        return Ok(Self {
                            port,
                            server,
                            dir: Some(dir),
                        });
                    }
                    Err(e) => {
                        stop_server(&server);
                        last_err = Some(e);
                    }
                },
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or(HarnessError::NotReady(Duration::from_secs(30))))
    }

    /// The TCP port the server listens on (127.0.0.1).
    pub const fn port(&self) -> u16 {
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
        stop_server(&self.server);
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.server.exit_status().is_none() || self.dir.is_some() {
            self.stop();
        }
    }
}

/// Fast shutdown (SIGINT), then SIGKILL after 15 s; waits up to 20 s in all.
fn stop_server(server: &TiedChild) {
    server.signal(libc::SIGINT);
    if !server.wait_timeout(Duration::from_secs(15)) {
        server.signal(libc::SIGKILL);
        server.wait_timeout(Duration::from_secs(5));
    }
}

/// Spawns `postgres` from a thread that lives as long as the server ([`TiedChild`]): the
/// server gets SIGQUIT when that thread (so the test process) dies, even by SIGKILL.
fn spawn_server(
    bin: &Path,
    data: &Path,
    socket_dir: &Path,
    port: u16,
    user: Option<(u32, u32)>,
    options: &ClusterOptions,
) -> Result<TiedChild, HarnessError> {
    let mut cmd = postgres::server(
        bin,
        data,
        &ServerOptions {
            port,
            socket_dir,
            max_connections: options.max_connections,
            fast_unsafe: options.fast_unsafe,
        },
    );
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    as_server_user(&mut cmd, user, true);
    let (server, _) =
        TiedChild::spawn(&format!("postgres-{port}"), cmd).map_err(|e| HarnessError::Process {
            what: "starting postgres",
            detail: e.to_string(),
        })?;
    Ok(server)
}

fn wait_ready(
    bin: &Path,
    port: u16,
    server: &TiedChild,
    timeout: Duration,
) -> Result<(), HarnessError> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if server.exit_status().is_some() {
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
        stop_server(&cluster.server);
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
    pub const fn pool(&self) -> &PgPool {
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
