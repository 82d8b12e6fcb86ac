//! Tangible's database: the PostgreSQL schema that mirrors the chain, shared by the indexer
//! (which writes it) and the API (which reads it).
//!
//! Data flows one way: the indexer decodes the contracts' events, appends them to the raw
//! `events` log and applies them to the derived tables (`studios`, `films`, `editions`,
//! `licences`, `resale_offers`, `sales`, `withdrawals`, `users`) in the same transaction as
//! its checkpoint. The schema is in `migrations/`. It is applied with [`migrate`] by one step of
//! the deploy (`tangible-api migrate`, also run by the development stack before it starts the
//! services); the services only [`check_migrations`] at start and refuse an outdated schema.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tangible_db::DbError> {
//! let pool = tangible_db::connect("postgres://postgres@127.0.0.1:5432/tangible", 8).await?;
//! tangible_db::migrate(&pool).await?; // the deploy's migrate step
//! tangible_db::check_migrations(&pool).await?; // each service at start
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
    /// The database's migrations are not this build's ([`require_current_schema`]); the
    /// source says which.
    #[error(
        "the database schema is not this build's; apply the migrations with `{MIGRATE_COMMAND}` \
         (the deploy's migrate step, TANGIBLE_API_DATABASE_URL naming this database), then start \
         again"
    )]
    SchemaNotCurrent(#[source] Box<Self>),
    /// A migration of this build is not applied to the database ([`check_migrations`]).
    #[error("migration {version} ({description}) is not applied")]
    MigrationMissing {
        /// Version (file name prefix) of the first missing migration.
        version: i64,
        /// Its description (the rest of its file name).
        description: String,
    },
    /// The database has a migration this build does not have: a newer release migrated it.
    #[error(
        "migration {version} is applied but unknown to this build (a newer release migrated the \
         database)"
    )]
    MigrationUnknown {
        /// Version of the unknown migration.
        version: i64,
    },
    /// An applied migration differs from this build's file, or did not finish.
    #[error(
        "migration {version} ({description}) {}",
        if *.finished { "was applied from a different file than this build's (checksum differs)" }
        else { "did not finish" }
    )]
    MigrationChanged {
        /// Version of the migration.
        version: i64,
        /// Its description.
        description: String,
        /// Whether it finished (then its checksum differs).
        finished: bool,
    },
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

/// Applies every pending migration (idempotent). The deploy's migrate step
/// (`tangible-api migrate`) and the test fixtures call it; the services only
/// [`check_migrations`].
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// The deploy's migrate step, named by the services when they refuse an outdated schema (run
/// with the API's configuration, `TANGIBLE_API_DATABASE_URL`).
pub const MIGRATE_COMMAND: &str = "tangible-api migrate";

/// [`check_migrations`], a difference wrapped in [`DbError::SchemaNotCurrent`], which says what
/// to do about it: run [`MIGRATE_COMMAND`]. What a service calls at start.
pub async fn require_current_schema(pool: &PgPool) -> Result<()> {
    check_migrations(pool).await.map_err(|e| match e {
        DbError::MigrationMissing { .. }
        | DbError::MigrationUnknown { .. }
        | DbError::MigrationChanged { .. } => DbError::SchemaNotCurrent(Box::new(e)),
        other => other,
    })
}

/// Checks that the migrations applied to the database are exactly this build's embedded ones
/// ([`MIGRATOR`]), all finished and unchanged; the first difference is the error (a missing
/// one names its version). A database never migrated misses the first migration.
pub async fn check_migrations(pool: &PgPool) -> Result<()> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    let applied: Vec<(i64, bool, Vec<u8>)> = match table {
        Some(_) => {
            sqlx::query_as(
                "SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version",
            )
            .fetch_all(pool)
            .await?
        }
        None => Vec::new(),
    };
    let embedded: Vec<_> = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .collect();
    for m in &embedded {
        match applied.iter().find(|(version, ..)| *version == m.version) {
            None => {
                return Err(DbError::MigrationMissing {
                    version: m.version,
                    description: m.description.to_string(),
                });
            }
            Some((_, success, checksum)) if !*success || **checksum != *m.checksum => {
                return Err(DbError::MigrationChanged {
                    version: m.version,
                    description: m.description.to_string(),
                    finished: *success,
                });
            }
            Some(_) => {}
        }
    }
    if let Some((version, ..)) = applied
        .iter()
        .find(|(version, ..)| !embedded.iter().any(|m| m.version == *version))
    {
        return Err(DbError::MigrationUnknown { version: *version });
    }
    Ok(())
}

/// The raw log and each derived table with the block its rows were last written for (an SQL
/// expression over a row): a reorg whose fork is block `b` may rewrite only the rows for which it
/// is above `b` (the indexer's unwind test and benchmark check it through `ctid` and `xmin`).
pub const ROW_BLOCK: &[(&str, &str)] = &[
    ("events", "block_number"),
    ("users", "first_seen_block"),
    ("studios", "updated_block"),
    ("films", "registered_block"),
    ("editions", "updated_block"),
    ("licences", "greatest(minted_block, revoked_block)"),
    ("resale_offers", "updated_block"),
    ("sales", "block_number"),
    ("withdrawals", "block_number"),
    ("deposits", "block_number"),
    ("sale_clearances", "block_number"),
    ("credit_spends", "block_number"),
];

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
    "sale_clearances",
    "credit_spends",
];
