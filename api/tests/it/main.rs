//! Integration tests of tangible-api against real parts: a private PostgreSQL (tangible-db's
//! harness), anvil with the contracts deployed (tangible-chain), the `localstripe` emulator, and
//! aiosmtpd (receipts).

mod auth;
mod catalogue;
mod clearance;
mod config;
mod console;
mod credit;
mod deadline;
mod disputes;
mod errors;
mod helpers;
mod holders;
mod instances;
mod licences;
mod nonces;
mod openapi;
mod orders;
mod payment_method;
mod providers;
mod purchases;
mod queue;
mod receipts;
mod reconcile;
mod reconciliation;
mod recovery;
mod resale_floor;
mod schema;
mod served_masters;
mod service;
mod studio_applications;
mod studios;
mod throttle;
mod webhooks;
