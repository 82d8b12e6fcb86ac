//! Tangible's HTTP API.
//!
//! Data flow of a card purchase: `POST /v1/purchases` reads the price on chain, stores a
//! purchase and creates a Stripe PaymentIntent ([`stripe`]); Stripe calls
//! `POST /v1/webhooks/stripe` ([`routes::webhooks`]), which checks the signature, stores the
//! event once in the inbox, checks amount and currency and queues a settlement job in Postgres
//! ([`jobs`]); a worker settles on chain through the market with `paymentRef =
//! keccak256(payment intent id)` ([`chain`]), reads the chain to stay idempotent, retries with
//! backoff, and refunds when settlement has become impossible. Every attempt is recorded. Once
//! fulfilled, a purchase whose buyer gave an email address gets its receipt through SMTP from a
//! `receipt` job ([`receipts`]), once.
//!
//! Studio tooling ([`routes::studios`]): studios, films and editions are registered on chain with
//! the operator key after the caller's authority is read from the chain; a master upload
//! ([`masters`]) streams through hashing and encryption into the content store ([`content`]),
//! served over P2P and HTTP ([`routes::content`]).
//!
//! [`Application::build`] wires configuration ([`config`]), the database, the chain client and
//! Stripe; `main.rs` only loads the configuration and runs it.
//!
//! Modules depend one way, bottom to top, and never on a module above them: the clients and
//! plumbing ([`config`], [`chain`], [`stripe`], [`keys`], [`content`], [`error`], [`telemetry`],
//! [`web`], [`receipts`] (buyer addresses and the SMTP mailer), and [`purchase_state`], the purchase lifecycle and its allowed transitions) →
//! [`auth`] (tokens) → [`state`] ([`AppState`]) → [`extract`] (request extractors),
//! [`throttle`] (per-client rate limits), [`jobs`] (the queue and its worker) and
//! [`reconciliation`] (the money report), [`operator`] (the console's reads and actions) and
//! [`card_limits`] (caps on card purchases) →
//! [`masters`]
//! (master publication) → [`routes`] →
//! [`startup`] (wiring) → this file and `main.rs`.

pub mod auth;
pub mod card_limits;
pub mod chain;
pub mod config;
pub mod content;
pub mod content_nodes;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod keys;
pub mod masters;
pub mod operator;
pub mod purchase_state;
pub mod receipts;
pub mod reconciliation;
pub mod routes;
pub mod startup;
pub mod state;
pub mod stripe;
pub mod studio_applications;
pub mod telemetry;
pub mod throttle;
pub mod web;

pub use config::{Config, MigrateConfig};
pub use startup::{Application, migrate};
pub use state::AppState;

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (the service shell's signal, shared with the indexer).
pub use tangible_service::shutdown_signal;
