//! A private PostgreSQL cluster in the stack's data directory, started from the system's
//! server binaries with the test kit's command lines (`tangible_testkit::postgres`, the same as
//! the test cluster's): a fresh `initdb` on every start, one database, trust authentication on
//! 127.0.0.1 only.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tangible_db::sqlx::{Connection, Executor, PgConnection};
use tangible_testkit::postgres;

use crate::DATABASE_NAME;
use crate::process::{Managed, SpawnOptions, postgres_user};
use crate::progress::Progress;

/// The stack's private PostgreSQL cluster alone, for running the indexer or the API by hand
/// (`tangible-stack postgres`): database [`DATABASE_NAME`] on 127.0.0.1, a fresh `initdb` on
/// every start, the server stopped when this is dropped.
#[derive(Debug)]
pub struct Postgres {
    /// The database's URL (user `postgres`, trust authentication on 127.0.0.1).
    pub database_url: String,
    server: Managed,
}

impl Postgres {
    /// Starts the cluster in `<run_dir>/pg` (log in `<run_dir>/logs/postgres.log`) on `port`;
    /// `progress` is told what it waits for.
    pub async fn start(run_dir: &Path, port: u16, progress: Option<fn(&str)>) -> Result<Self> {
        let log_dir = run_dir.join("logs");
        std::fs::create_dir_all(&log_dir)
            .with_context(|| format!("creating {}", log_dir.display()))?;
        let server = start(
            &run_dir.join("pg"),
            port,
            DATABASE_NAME,
            &log_dir.join("postgres.log"),
            Progress(progress),
        )
        .await?;
        Ok(Self {
            database_url: format!("postgres://postgres@127.0.0.1:{port}/{DATABASE_NAME}"),
            server,
        })
    }

    /// Stops the server (fast shutdown, then a kill after `grace`).
    pub fn stop(mut self, grace: Duration) {
        self.server.stop(grace);
    }
}

/// Runs `initdb` into `dir` (emptied first) and starts `postgres` on `port`; returns the
/// server once database `db` exists. Says what it waits for through `progress`.
pub(crate) async fn start(
    dir: &Path,
    port: u16,
    db: &str,
    log: &Path,
    progress: Progress,
) -> Result<Managed> {
    let bin = postgres::pg_bin_dir().context(
        "PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN_DIR)",
    )?;
    let user = postgres_user();
    // Run as root, the server runs as `postgres`, which must be able to walk down to its
    // folder: a stack folder below a private directory (a 0700 home or `mktemp -d`) is out of
    // its reach, so the throwaway cluster goes to the system's temporary directory instead
    // (one per port, replaced at the next start on that port).
    let elsewhere;
    let dir = if user.is_some() && !searchable_by_others(dir) {
        elsewhere = std::env::temp_dir().join(format!("tangible-devstack-pg-{port}"));
        elsewhere.as_path()
    } else {
        dir
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("removing the old cluster {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if let Some((uid, gid)) = user {
        // The server runs as `postgres`: it must own its folder and reach it.
        std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
        if let Some(parent) = dir.parent() {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(parent)?.permissions().mode();
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(mode | 0o711))?;
        }
    }
    let data = dir.join("data");
    let initdb = postgres::initdb(&bin, &data);
    let initdb_log = log.with_file_name("initdb.log");
    let mut child = Managed::spawn(
        "initdb",
        initdb,
        &initdb_log,
        SpawnOptions {
            user,
            ..SpawnOptions::default()
        },
    )?;
    progress
        .waiting_for("initdb to create the PostgreSQL cluster", async {
            let started = Instant::now();
            while child.exit_status().is_none() {
                if started.elapsed() > Duration::from_secs(120) {
                    bail!("initdb did not finish in 120 s");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(())
        })
        .await?;
    if !child.exit_status().is_some_and(|s| s.success()) {
        child.ensure_running()?;
    }
    child.stop(Duration::ZERO);

    let cmd = postgres::server(
        &bin,
        &data,
        &postgres::ServerOptions {
            port,
            socket_dir: dir,
            max_connections: 100,
            // A throwaway development cluster, recreated on every start: durability buys
            // nothing.
            fast_unsafe: true,
        },
    );
    let server = Managed::spawn(
        "postgres",
        cmd,
        log,
        SpawnOptions {
            // SIGINT = fast shutdown; SIGQUIT (if we die) = immediate shutdown. Only the
            // postmaster is signalled: it stops its backends itself.
            stop_signal: libc::SIGINT,
            death_signal: libc::SIGQUIT,
            user,
            signal_group: false,
        },
    )?;
    let admin = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let mut conn = progress
        .waiting_for(
            &format!("PostgreSQL to accept connections on port {port}"),
            server.probe_own_port(
                port,
                Duration::from_millis(100),
                Duration::from_secs(60),
                || PgConnection::connect(&admin),
            ),
        )
        .await
        .context("postgres did not accept connections in 60 s")?;
    if !db.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        bail!("invalid database name {db:?}");
    }
    // The name was checked above: lower-case letters and underscores only.
    conn.execute(tangible_db::sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {db}"
    )))
    .await
    .context("creating the database")?;
    conn.close().await?;
    Ok(server)
}

/// Whether every folder above `dir` lets other users through (the `x` bit for others).
fn searchable_by_others(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    dir.ancestors()
        .skip(1)
        .all(|a| std::fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}
