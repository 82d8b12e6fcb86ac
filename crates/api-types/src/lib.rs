//! The wire types of Tangible's HTTP API, defined once for the server and its clients.
//!
//! Every request body, view, page, query and the error body the API (`tangible-api`) puts on
//! the wire lives here, one module per area of the API's routes; the API serialises them, the
//! `tangible` CLI deserialises the same types. Their serde attributes *are* the wire format (the
//! web client in `web/src/api-types.ts` declares the same field names), so a change here is a
//! change of the API.
//!
//! - [`error`]: the error body `{"error":{"code","message"}}` and its stable [`error::codes`].
//! - [`config`]: `GET /v1/config`.
//! - [`health`]: `GET /readyz`.
//! - [`auth`]: wallet sign-in.
//! - [`purchases`]: card purchases and their state.
//! - [`webhooks`]: the Stripe webhook's answer.
//! - [`reconciliation`]: the money reconciliation report (platform admins).
//! - [`admin`]: the operator console: dead jobs, refunds by hand, failed refunds, the float,
//!   alerts (platform admins).
//! - [`licences`]: key release.
//! - [`catalogue`]: films, offers, licences, sales, statements, and the [`catalogue::Page`]
//!   every list comes in.
//! - [`studios`]: studios, films, editions and master uploads.
//! - [`content`]: where an edition's encrypted file is served.
//!
//! Light on purpose: serde always, chrono and uuid for the timestamps and purchase ids on the
//! wire, and `utoipa` (the OpenAPI derives) only with the `openapi` feature, which the API
//! turns on. Two fields whose types belong to heavier crates (the deployment of
//! [`config::PublicConfig`], the wrapped key of [`licences::KeyRelease`]) are type parameters.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod catalogue;
pub mod config;
pub mod content;
pub mod error;
pub mod health;
pub mod licences;
pub mod orders;
pub mod purchases;
pub mod reconciliation;
pub mod studios;
pub mod webhooks;

#[cfg(test)]
mod tests;
