//! The service shell of Tangible's API and indexer: what both binaries do the same way before
//! and around their own work.
//!
//! A binary starts in this order: [`ConfigLoader`] reads its configuration (an optional TOML
//! file under `TANGIBLE_<SERVICE>_*` variables, see [`config`]) into its own serde struct,
//! whose database and node URLs are [`SecretUrl`]s that never print their credentials;
//! [`init_tracing`] installs the logs; [`install_crypto_provider`] picks the one TLS provider;
//! the service runs until [`shutdown_signal`] resolves.
//!
//! ```no_run
//! # #[derive(serde::Deserialize)]
//! # struct Settings { database_url: tangible_service::SecretUrl, json_logs: bool }
//! # async fn demo() -> Result<(), tangible_service::ConfigError> {
//! let settings: Settings = tangible_service::ConfigLoader::from_env("indexer")?.extract()?;
//! tangible_service::init_tracing(settings.json_logs);
//! tracing::info!(database = %settings.database_url, "starting"); // password printed as ***
//! tangible_service::shutdown_signal().await;
//! # Ok(()) }
//! ```

pub mod config;
pub mod secret_url;
pub mod shutdown;
pub mod telemetry;
pub mod tls;

pub use config::{ConfigError, ConfigLoader};
pub use secret_url::SecretUrl;
pub use shutdown::shutdown_signal;
pub use telemetry::init_tracing;
pub use tls::install_crypto_provider;
