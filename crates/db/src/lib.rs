//! Tangible's database: the PostgreSQL schema that mirrors the chain, shared by the indexer
//! (which writes it) and the API (which reads it).
//!
//! Data flows one way: the indexer decodes the contracts' events, appends them to the raw
//! `events` log and applies them to the derived tables (`studios`, `films`, `editions`,
//! `licences`, `resale_offers`, `sales`, `withdrawals`, `users`) in the same transaction as
//! its checkpoint. The schema is in `migrations/` and applied with [`migrate`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), tangible_db::DbError> {
//! let pool = tangible_db::connect("postgres://postgres@127.0.0.1:5432/tangible", 8).await?;
//! tangible_db::migrate(&pool).await?;
//! # Ok(()) }
//! ```
//!
//! With the `test-utils` feature, [`testing`] starts a private PostgreSQL cluster from the
//! system binaries and hands out one fresh, migrated database per test.

use std::time::Duration;

pub use sqlx;
pub use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

#[cfg(feature = "test-utils")]
pub mod testing;

/// The schema migrations (`crates/db/migrations`), embedded at compile time.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database URL could not be parsed.
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    /// Connecting or querying failed.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// Applying the migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Result alias of this crate.
pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// Opens a connection pool of at most `max_connections` to `url` (`postgres://…`).
///
/// TCP connections get `TCP_NODELAY` (see [`disable_nagle`]): sqlx 0.9 leaves Nagle's
/// algorithm on, and a `COPY` (data, then a small `CopyDone` message in a second write) then
/// waits for the server's delayed ACK, about 40 ms per `COPY` on Linux.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool> {
    let options: PgConnectOptions = url.parse().map_err(DbError::InvalidUrl)?;
    let port = options.get_port();
    let pool = PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |_conn, _meta| {
            Box::pin(async move {
                disable_nagle(port);
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Sets `TCP_NODELAY` on this process's TCP sockets connected to a peer on `port` (the
/// database's); returns how many. sqlx does not expose its sockets, so they are found among
/// the process's open file descriptors (Linux `/proc/self/fd`; elsewhere nothing happens).
pub fn disable_nagle(port: u16) -> usize {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::BorrowedFd;
        let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
            return 0;
        };
        let mut set = 0;
        for entry in dir.flatten() {
            let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let is_socket = std::fs::read_link(entry.path())
                .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"));
            if !is_socket {
                continue;
            }
            // SAFETY: `fd` was open when listed and is only borrowed for two socket calls. Were
            // it closed and reused meanwhile, the calls fail or touch another socket, where
            // TCP_NODELAY only changes when small segments are sent: never memory unsafety.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            let sock = socket2::SockRef::from(&fd);
            let to_db = sock
                .peer_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .is_some_and(|a| a.port() == port);
            if to_db && sock.set_tcp_nodelay(true).is_ok() {
                set += 1;
            }
        }
        set
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = port;
        0
    }
}

/// Applies every pending migration (idempotent; safe to call at each start).
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Every table the indexer derives from the raw event log, in an order in which they can be
/// emptied and refilled (dependents after their parents).
pub const DERIVED_TABLES: &[&str] = &[
    "studios",
    "films",
    "editions",
    "licences",
    "resale_offers",
    "sales",
    "withdrawals",
    "deposits",
];
