//! Configuration: an optional TOML file (`TANGIBLE_API_CONFIG`) overlaid by `TANGIBLE_API_*`
//! environment variables (one per field, upper-cased: `listen_addr` → `TANGIBLE_API_LISTEN_ADDR`),
//! read by the service shell's loader ([`tangible_service::config`]), as the indexer's is.
//!
//! Secrets (operator key, Stripe keys, token secret) are [`SecretString`]s and the database and
//! node URLs [`SecretUrl`]s: they never appear in `Debug` output or logs.

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
pub use tangible_service::ConfigError;
use tangible_service::{ConfigLoader, SecretUrl};

/// The service name of the API's variables (`TANGIBLE_API_*`).
pub const SERVICE: &str = "api";
/// Environment variable naming the optional TOML file.
pub const CONFIG_FILE_ENV: &str = "TANGIBLE_API_CONFIG";
/// Prefix of the per-field environment variables.
pub const ENV_PREFIX: &str = "TANGIBLE_API_";

/// What `tangible-api migrate` reads of the API's configuration (same file and variables):
/// the database only, so the migrate step needs none of the other secrets.
#[derive(Debug, Clone, Deserialize)]
pub struct MigrateConfig {
    /// PostgreSQL URL (`TANGIBLE_API_DATABASE_URL`).
    pub database_url: SecretUrl,
    /// JSON log lines instead of human-readable ones.
    #[serde(default = "defaults::yes")]
    pub json_logs: bool,
}

impl MigrateConfig {
    /// Loads the database fields of the API's configuration (other fields are ignored).
    pub fn load() -> Result<Self, ConfigError> {
        ConfigLoader::from_env(SERVICE)?.extract()
    }
}

/// Shortest accepted certificate validity (the offline lease), seconds.
pub const MIN_CERTIFICATE_VALIDITY_SECS: u64 = 60;
/// Longest accepted certificate validity, seconds (366 days).
pub const MAX_CERTIFICATE_VALIDITY_SECS: u64 = 366 * 86_400;
/// Certificate validity when neither setting is given, seconds (30 days).
pub const DEFAULT_CERTIFICATE_VALIDITY_SECS: u64 = 30 * 86_400;

/// The API's configuration. Every field has a default except the connections and secrets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds (`127.0.0.1:8080`; port 0 picks a free port).
    #[serde(default = "defaults::listen_addr")]
    pub listen_addr: SocketAddr,
    /// PostgreSQL URL (`postgres://user:pass@host/db`).
    pub database_url: SecretUrl,
    /// Size of the database pool.
    #[serde(default = "defaults::db_max_connections")]
    pub db_max_connections: u32,
    /// JSON-RPC URL of the chain node (secret: provider URLs often embed an API key).
    pub rpc_url: SecretUrl,
    /// The deployment file (`deployments/<chain-id>.json`) naming the market contract.
    pub deployment_file: PathBuf,
    /// Private key (hex) of the operator account: card settlement, revocation.
    pub operator_key: SecretString,
    /// Stripe secret API key.
    pub stripe_secret_key: SecretString,
    /// Base URL of the Stripe API; unset means Stripe itself. Set it to a `localstripe` URL
    /// (e.g. `http://127.0.0.1:8420`) for local runs.
    #[serde(default)]
    pub stripe_api_base: Option<String>,
    /// Secret of the Stripe webhook endpoint (`whsec_…`): signs `Stripe-Signature`.
    pub stripe_webhook_secret: SecretString,
    /// Largest accepted age (and future skew) of a webhook signature timestamp, seconds.
    #[serde(default = "defaults::webhook_tolerance_secs")]
    pub webhook_tolerance_secs: u64,
    /// ISO currency of card payments (lower case).
    #[serde(default = "defaults::currency")]
    pub currency: String,
    /// Server secret signing bearer tokens (at least 32 bytes).
    pub token_secret: SecretString,
    /// Lifetime of a bearer token, seconds.
    #[serde(default = "defaults::token_ttl_secs")]
    pub token_ttl_secs: u64,
    /// Lifetime of a login nonce, seconds.
    #[serde(default = "defaults::nonce_ttl_secs")]
    pub nonce_ttl_secs: u64,
    /// The domain sign-in messages must name (EIP-4361 `domain`).
    #[serde(default = "defaults::siwe_domain")]
    pub siwe_domain: String,
    /// The URI sign-in messages name (EIP-4361 `URI`).
    #[serde(default = "defaults::siwe_uri")]
    pub siwe_uri: String,
    /// Folder of the built web storefront (`web/dist`, `make web`), served at `/`; relative to
    /// the working directory. Without an `index.html` in it, the API serves its routes only.
    #[serde(default = "defaults::web_dir")]
    pub web_dir: PathBuf,
    /// URL of Stripe.js the web storefront loads (`https://js.stripe.com/v3/`; locally
    /// localstripe's fake one). Its origin is the only foreign one the pages' CSP allows.
    #[serde(default = "defaults::stripe_js_url")]
    pub stripe_js_url: String,
    /// Origins allowed by CORS, comma separated; `*` allows any; empty disables CORS headers.
    #[serde(default)]
    pub cors_origins: String,
    /// Largest accepted request body, bytes.
    #[serde(default = "defaults::body_limit_bytes")]
    pub body_limit_bytes: usize,
    /// Run the settlement worker in this process.
    #[serde(default = "defaults::yes")]
    pub run_worker: bool,
    /// Number of concurrent worker tasks.
    #[serde(default = "defaults::workers")]
    pub workers: usize,
    /// Idle poll interval of a worker, milliseconds.
    #[serde(default = "defaults::worker_poll_ms")]
    pub worker_poll_ms: u64,
    /// Attempts of a job before it is given up (marked dead). A settlement (or reinstatement)
    /// given up is refunded, as one past `settlement_deadline_secs` is.
    #[serde(default = "defaults::settle_max_attempts")]
    pub settle_max_attempts: i32,
    /// Longest time a paid purchase may wait for its settlement on chain (a paused market, an
    /// exhausted float, an RPC outage), seconds from the payment: past it, the next failed
    /// attempt gives up and the payment is refunded, with the reason recorded
    /// (`failure_code = settlement_deadline_exceeded`). The same bound applies to a
    /// reinstatement after a dispute closed won, from the dispute's closing.
    #[serde(default = "defaults::settlement_deadline_secs")]
    pub settlement_deadline_secs: u64,
    /// First retry delay, milliseconds (doubles per attempt).
    #[serde(default = "defaults::retry_base_ms")]
    pub retry_base_ms: u64,
    /// Longest retry delay, milliseconds.
    #[serde(default = "defaults::retry_max_ms")]
    pub retry_max_ms: u64,
    /// Seconds the API waits for a transaction's receipt before answering that it was sent and
    /// is not mined yet (`transaction_pending`, with its hash).
    #[serde(default = "defaults::receipt_timeout_secs")]
    pub receipt_timeout_secs: u64,
    /// Operator float (cents) under which `/readyz` warns, the float metric is flagged low and
    /// an operator alert is raised (`operator_alerts_total{reason="float_low"}`, an error log
    /// line), before the float runs out and settlements wait. Set it above a few sales.
    #[serde(default = "defaults::float_warning_cents")]
    pub float_warning_cents: u64,
    /// Longest wait for in-flight requests and jobs at shutdown, seconds.
    #[serde(default = "defaults::shutdown_grace_secs")]
    pub shutdown_grace_secs: u64,
    /// Key-encryption key sealing edition keys at rest: 64 hex characters. Without it, key
    /// release answers 503.
    #[serde(default)]
    pub kek_hex: Option<SecretString>,
    /// Id recorded with every key sealed under `kek_hex`.
    #[serde(default = "defaults::kek_id")]
    pub kek_id: String,
    /// Private key (hex) of the platform's attestation key signing licence certificates.
    /// Without it, certificates answer 503.
    #[serde(default)]
    pub attestation_key: Option<SecretString>,
    /// Validity of a licence certificate (the offline lease), whole days. Kept for existing
    /// deployments; set either this or `certificate_validity_secs`, not both. Unset (both):
    /// 30 days. Read the resolved value with [`Config::certificate_validity`].
    #[serde(default)]
    pub certificate_validity_days: Option<u64>,
    /// Validity of a licence certificate (the offline lease), seconds: between
    /// [`MIN_CERTIFICATE_VALIDITY_SECS`] and [`MAX_CERTIFICATE_VALIDITY_SECS`].
    #[serde(default)]
    pub certificate_validity_secs: Option<u64>,
    /// Commit each key-release record durably (WAL flushed to disk) before the key is returned
    /// (default). `false` commits it with `synchronous_commit = off`: the record is committed
    /// before the key is returned and survives a crash of the API, but a crash of PostgreSQL
    /// or of its machine may lose the records of the last few hundred milliseconds; in exchange
    /// a key release no longer waits for a disk flush (see the README's benchmark).
    #[serde(default = "defaults::yes")]
    pub key_release_sync_commit: bool,
    /// Stripe publishable key (`pk_test_…`/`pk_live_…`) handed to clients by `GET /v1/config`
    /// so a frontend can confirm card payments. Never a secret key (refused at startup).
    #[serde(default)]
    pub stripe_publishable_key: Option<String>,
    /// Folder of the content store (iroh-blobs `FsStore`) holding the encrypted films this
    /// process serves over P2P and HTTP, plus uploads in progress. Without it, master upload and
    /// content answer 503.
    #[serde(default)]
    pub content_dir: Option<PathBuf>,
    /// UDP address of the P2P (iroh) endpoint serving the content store; unset = every
    /// interface on a random port. Fix it (e.g. `0.0.0.0:4433`) to open a firewall port.
    #[serde(default)]
    pub p2p_bind_addr: Option<SocketAddr>,
    /// Public base URL of this API (e.g. `https://api.tangible.example`), used to build the
    /// absolute `http_url` of content; unset = `http_url` is a path (`/v1/content/<hash>`).
    #[serde(default)]
    pub public_url: Option<String>,
    /// Largest accepted master upload, bytes (default 64 GiB).
    #[serde(default = "defaults::max_master_bytes")]
    pub max_master_bytes: u64,
    /// Requests per minute one client may make to each anonymous endpoint that creates state or
    /// a Stripe object (`POST /v1/purchases`, `/v1/offers/{id}/purchases`,
    /// `/v1/purchases/{id}/payment-method`, `DELETE /v1/purchases/{id}/email`,
    /// `/v1/auth/nonce`, `/v1/auth/login`), sustained;
    /// above it the endpoint answers 429 with `Retry-After` (see [`crate::throttle`]).
    #[serde(default = "defaults::throttle_anonymous_per_minute")]
    pub throttle_anonymous_per_minute: u32,
    /// Requests one client may make at once to each of those endpoints before the sustained
    /// rate applies.
    #[serde(default = "defaults::throttle_anonymous_burst")]
    pub throttle_anonymous_burst: u32,
    /// Requests per minute one signed-in wallet may make to each signed-in write (key release,
    /// studio and film registration, master upload, withdraw, reactivate), sustained.
    #[serde(default = "defaults::throttle_signed_in_per_minute")]
    pub throttle_signed_in_per_minute: u32,
    /// Signed-in writes one wallet may make at once to each endpoint before the sustained rate
    /// applies.
    #[serde(default = "defaults::throttle_signed_in_burst")]
    pub throttle_signed_in_burst: u32,
    /// Signed-in writes per minute one client address may make to each signed-in write, all
    /// its wallets together, sustained: fresh wallets cost nothing, so the per-wallet limit
    /// alone does not hold.
    #[serde(default = "defaults::throttle_signed_in_per_address_per_minute")]
    pub throttle_signed_in_per_address_per_minute: u32,
    /// Signed-in writes one address may make at once to each endpoint, all its wallets together.
    #[serde(default = "defaults::throttle_signed_in_per_address_burst")]
    pub throttle_signed_in_per_address_burst: u32,
    /// Reads per minute one client may make of `GET /v1/purchases/{id}` (a polling page) and of
    /// `GET /v1/editions/{id}/content`, each, sustained; a read may cost a database query and a
    /// Stripe read, or start fetching a film from the other instances.
    #[serde(default = "defaults::throttle_polling_per_minute")]
    pub throttle_polling_per_minute: u32,
    /// Reads of each of those one client may make at once before the sustained rate applies.
    #[serde(default = "defaults::throttle_polling_burst")]
    pub throttle_polling_burst: u32,
    /// PaymentIntents this instance may create per minute for all clients together (primary and
    /// resale purchases), at most that many at once: the cap that holds when many addresses
    /// (a botnet, an IPv6 block of many /64s) each stay under their own limit.
    #[serde(default = "defaults::throttle_payment_intents_per_minute")]
    pub throttle_payment_intents_per_minute: u32,
    /// Card payments (`POST /v1/purchases/{id}/payment-method`) one purchase may attempt per hour,
    /// at most that many at once: a purchase is not a card-testing machine.
    #[serde(default = "defaults::throttle_card_attempts_per_purchase_per_hour")]
    pub throttle_card_attempts_per_purchase_per_hour: u32,
    /// Operator transactions (paid with the operator's gas) one signed-in wallet may cause per
    /// hour, sustained: registering studios and films, uploading masters, withdrawing and
    /// reactivating editions, all routes together.
    #[serde(default = "defaults::throttle_operator_tx_per_wallet_per_hour")]
    pub throttle_operator_tx_per_wallet_per_hour: u32,
    /// Operator transactions one wallet may cause at once before the hourly rate applies.
    #[serde(default = "defaults::throttle_operator_tx_per_wallet_burst")]
    pub throttle_operator_tx_per_wallet_burst: u32,
    /// Operator transactions all signed-in wallets together may cause per hour (at most that
    /// many at once): fresh wallets cost nothing, the operator's gas does. Settlements of paid
    /// purchases are not counted (they are paid for).
    #[serde(default = "defaults::throttle_operator_tx_per_hour")]
    pub throttle_operator_tx_per_hour: u32,
    /// Reads of PaymentIntents this instance may make from Stripe per second (at most that many
    /// at once), for `GET /v1/purchases/{id}` and the reconciliation sweeper together: a read
    /// over the cap is skipped by a GET (it answers the stored state) and waited for by the
    /// sweeper, so polling cannot spend Stripe's rate limit that purchases need.
    #[serde(default = "defaults::throttle_stripe_reads_per_second")]
    pub throttle_stripe_reads_per_second: u32,
    /// Header holding the client's IP address, set by a reverse proxy in front of the API
    /// (`x-real-ip`, `cf-connecting-ip`, or `x-forwarded-for`, of which the last address, the
    /// one the nearest proxy appended, is used). Unset (default): the client is the TCP peer,
    /// and no header is trusted — set it only when every request comes through that proxy,
    /// or clients could name any address.
    #[serde(default)]
    pub throttle_client_ip_header: Option<String>,
    /// The peers whose `throttle_client_ip_header` is believed, comma separated: addresses or
    /// CIDR blocks (`10.0.0.0/8, 2001:db8::/32`). A request from any other peer (the API's port
    /// reached directly, bypassing the proxy) is keyed by the peer's own address, whatever the
    /// header says. Default: loopback and private networks, where a reverse proxy usually is;
    /// set the proxy's public ranges (e.g. a CDN's) when it connects from them.
    #[serde(default = "defaults::throttle_trusted_proxies")]
    pub throttle_trusted_proxies: String,
    /// How often the reconciliation sweeper (run with the workers, `run_worker`) looks for
    /// open purchases to re-read from Stripe, seconds.
    #[serde(default = "defaults::reconcile_interval_secs")]
    pub reconcile_interval_secs: u64,
    /// Age of a purchase's last read from Stripe (its creation counts as one) after which the
    /// sweeper reads its PaymentIntent again, seconds; later reads are spaced by the larger of
    /// this and a quarter of the purchase's age. A paid card whose webhook was lost is found
    /// within about this plus `reconcile_interval_secs` when it was paid soon after creation.
    #[serde(default = "defaults::reconcile_after_secs")]
    pub reconcile_after_secs: u64,
    /// Shortest interval between two reads of one purchase's PaymentIntent caused by
    /// `GET /v1/purchases/{id}`, seconds (polling clients ask Stripe at most this often).
    #[serde(default = "defaults::reconcile_on_read_secs")]
    pub reconcile_on_read_secs: u64,
    /// How often the maintenance loop runs, seconds: the operator float's gauge and alert, the
    /// clearance of card sales that became due, the cleanup of spent login nonces.
    #[serde(default = "defaults::maintenance_interval_secs")]
    pub maintenance_interval_secs: u64,
    /// Largest amount of one card purchase, cents (default 500 €): a stolen card buys at most
    /// this much in one payment, whatever the price of the edition or offer (422
    /// `card_amount_over_limit` above it).
    #[serde(default = "defaults::card_max_purchase_cents")]
    pub card_max_purchase_cents: u64,
    /// Most a buyer's wallet may buy by card over `card_buyer_period_secs`, cents (default
    /// 1,000 €): purchases that failed, expired or were refunded do not count (422
    /// `card_buyer_limit_reached` over it).
    #[serde(default = "defaults::card_buyer_limit_cents")]
    pub card_buyer_limit_cents: u64,
    /// The period of `card_buyer_limit_cents`, seconds (default 7 days).
    #[serde(default = "defaults::card_buyer_period_secs")]
    pub card_buyer_period_secs: u64,
    /// Age after which a purchase still awaiting its payment is abandoned: its PaymentIntent
    /// is cancelled at Stripe and the purchase `expired`, seconds (default 24 h, the lifetime
    /// Stripe gives its own Checkout Sessions).
    #[serde(default = "defaults::abandon_after_secs")]
    pub abandon_after_secs: u64,
    /// SMTP server of the purchase receipts (secret: it may carry a password):
    /// `smtp://host:25` (plain; loopback or a trusted relay only), `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host:465` (TLS). Unset: receipts are disabled (logged at
    /// startup); buyers' addresses are still stored and passed to Stripe.
    #[serde(default)]
    pub smtp_url: Option<SecretUrl>,
    /// Sender of the receipts, `Name <address@domain>` or `address@domain`; required with
    /// `smtp_url`.
    #[serde(default)]
    pub smtp_from: Option<String>,
    /// JSON log lines (production) instead of human-readable ones.
    #[serde(default = "defaults::yes")]
    pub json_logs: bool,
}

mod defaults;

impl Config {
    /// Loads the file named by `TANGIBLE_API_CONFIG` (if set) and overlays the environment.
    pub fn load() -> Result<Self, ConfigError> {
        Self::validated(ConfigLoader::from_env(SERVICE)?.extract()?)
    }

    /// Builds a configuration from an optional TOML file and `(name, value)` variables.
    pub fn from_sources(
        file: Option<PathBuf>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let loader = ConfigLoader::from_sources(SERVICE, file.as_deref(), vars)?;
        Self::validated(loader.extract()?)
    }

    fn validated(config: Self) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.token_secret.expose_secret().len() < 32 {
            return Err(ConfigError::Invalid(
                "token_secret must be at least 32 bytes".into(),
            ));
        }
        if self.stripe_webhook_secret.expose_secret().is_empty() {
            return Err(ConfigError::Invalid(
                "stripe_webhook_secret is empty".into(),
            ));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(ConfigError::Invalid(format!(
                "currency {:?} is not a lower-case ISO code",
                self.currency
            )));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid(format!(
                "public_url {url:?} must start with http:// or https://"
            )));
        }
        self.resolve_certificate_validity()?;
        if crate::web::stripe_origin(&self.stripe_js_url).is_none() {
            return Err(ConfigError::Invalid(format!(
                "stripe_js_url {:?} must be an absolute http:// or https:// URL",
                self.stripe_js_url
            )));
        }
        if let Some(pk) = &self.stripe_publishable_key
            && !(pk.starts_with("pk_test_") || pk.starts_with("pk_live_"))
        {
            // Never echo the value: it may be a secret key pasted in the wrong field.
            return Err(ConfigError::Invalid(
                "stripe_publishable_key must be a publishable key (pk_test_… or pk_live_…); \
                 it is served to every client, so a secret or restricted key is refused"
                    .into(),
            ));
        }
        for (name, value) in [
            (
                "throttle_anonymous_per_minute",
                self.throttle_anonymous_per_minute,
            ),
            ("throttle_anonymous_burst", self.throttle_anonymous_burst),
            (
                "throttle_signed_in_per_minute",
                self.throttle_signed_in_per_minute,
            ),
            ("throttle_signed_in_burst", self.throttle_signed_in_burst),
            (
                "throttle_signed_in_per_address_per_minute",
                self.throttle_signed_in_per_address_per_minute,
            ),
            (
                "throttle_signed_in_per_address_burst",
                self.throttle_signed_in_per_address_burst,
            ),
            (
                "throttle_polling_per_minute",
                self.throttle_polling_per_minute,
            ),
            ("throttle_polling_burst", self.throttle_polling_burst),
            (
                "throttle_payment_intents_per_minute",
                self.throttle_payment_intents_per_minute,
            ),
            (
                "throttle_card_attempts_per_purchase_per_hour",
                self.throttle_card_attempts_per_purchase_per_hour,
            ),
            (
                "throttle_operator_tx_per_wallet_per_hour",
                self.throttle_operator_tx_per_wallet_per_hour,
            ),
            (
                "throttle_operator_tx_per_wallet_burst",
                self.throttle_operator_tx_per_wallet_burst,
            ),
            (
                "throttle_operator_tx_per_hour",
                self.throttle_operator_tx_per_hour,
            ),
            (
                "throttle_stripe_reads_per_second",
                self.throttle_stripe_reads_per_second,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        if let Some(header) = &self.throttle_client_ip_header
            && axum::http::HeaderName::try_from(header.as_str()).is_err()
        {
            return Err(ConfigError::Invalid(format!(
                "throttle_client_ip_header {header:?} is not a header name"
            )));
        }
        crate::throttle::parse_trusted_proxies(&self.throttle_trusted_proxies)
            .map_err(|e| ConfigError::Invalid(format!("throttle_trusted_proxies: {e}")))?;
        for (name, value) in [
            ("reconcile_interval_secs", self.reconcile_interval_secs),
            ("reconcile_after_secs", self.reconcile_after_secs),
            ("reconcile_on_read_secs", self.reconcile_on_read_secs),
            ("abandon_after_secs", self.abandon_after_secs),
            ("maintenance_interval_secs", self.maintenance_interval_secs),
            ("card_max_purchase_cents", self.card_max_purchase_cents),
            ("card_buyer_limit_cents", self.card_buyer_limit_cents),
            ("card_buyer_period_secs", self.card_buyer_period_secs),
            ("settlement_deadline_secs", self.settlement_deadline_secs),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        match (&self.smtp_url, &self.smtp_from) {
            (Some(url), Some(from)) => {
                crate::receipts::Mailer::check(url, from)
                    .map_err(|e| ConfigError::Invalid(e.to_string()))?;
            }
            (Some(_), None) => {
                return Err(ConfigError::Invalid(
                    "smtp_url is set without smtp_from: receipts need a sender".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::Invalid(
                    "smtp_from is set without smtp_url: set both to send receipts, or neither"
                        .into(),
                ));
            }
            (None, None) => {}
        }
        if self.workers == 0 && self.run_worker {
            return Err(ConfigError::Invalid("workers must be at least 1".into()));
        }
        Ok(())
    }

    /// Validity of a licence certificate (the offline lease), resolved from
    /// `certificate_validity_secs` or `certificate_validity_days` (validated at load).
    pub fn certificate_validity(&self) -> std::time::Duration {
        std::time::Duration::from_secs(
            self.resolve_certificate_validity()
                .unwrap_or(DEFAULT_CERTIFICATE_VALIDITY_SECS),
        )
    }

    fn resolve_certificate_validity(&self) -> Result<u64, ConfigError> {
        let secs = match (
            self.certificate_validity_secs,
            self.certificate_validity_days,
        ) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid(
                    "certificate_validity_secs and certificate_validity_days are both set: \
                     set one (secs is the precise one)"
                        .into(),
                ));
            }
            (Some(secs), None) => secs,
            (None, Some(days)) => days.saturating_mul(86_400),
            (None, None) => DEFAULT_CERTIFICATE_VALIDITY_SECS,
        };
        if !(MIN_CERTIFICATE_VALIDITY_SECS..=MAX_CERTIFICATE_VALIDITY_SECS).contains(&secs) {
            return Err(ConfigError::Invalid(format!(
                "certificate validity {secs} s is out of bounds: between \
                 {MIN_CERTIFICATE_VALIDITY_SECS} s and {MAX_CERTIFICATE_VALIDITY_SECS} s (366 days)"
            )));
        }
        Ok(secs)
    }
}

#[cfg(test)]
mod tests;
