//! Tangible's test kit, shared by the integration tests of the chain, indexer and API crates,
//! the benchmarks and the development stack:
//! - [`TestChain`] (feature `chain`): a fresh anvil with Tangible deployed and seeded
//!   (catalogue, funded accounts, operator float, from `tangible_chain::deploy`'s own
//!   functions), and [`mined`], which sends a call and insists on a successful receipt;
//! - [`localstripe`] (feature `stripe`): the Stripe emulator, one per test process, each test
//!   with its own [`StripeEndpoint`];
//! - [`smtp`] (feature `smtp`): aiosmtpd, a real SMTP server storing what it receives in a
//!   Maildir the test reads ([`SmtpSink`]);
//! - [`postgres`]: the private PostgreSQL server's command lines;
//! - [`process`]: child processes that die with their parent.
//!
//! Test-only: use it as a dev-dependency, from a benchmark example or from the development
//! stack, never from a library or binary that ships.

#[cfg(feature = "chain")]
mod chain;
#[cfg(feature = "stripe")]
pub mod localstripe;
pub mod postgres;
pub mod process;
#[cfg(feature = "smtp")]
pub mod smtp;

#[cfg(feature = "chain")]
pub use chain::{Film, TestChain, mined, roles};
#[cfg(feature = "stripe")]
pub use localstripe::{LocalStripe, StripeEndpoint};
#[cfg(feature = "smtp")]
pub use smtp::SmtpSink;
#[cfg(feature = "chain")]
pub use tangible_domain::{Cents, Quality};
