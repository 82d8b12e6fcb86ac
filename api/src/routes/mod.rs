//! HTTP routes under `/v1`, plus `/healthz`, `/readyz` and `/metrics`.
//!
//! - [`config`]: the public configuration of this deployment (chain, contracts, certificate
//!   signer) a client needs to trust it.
//! - [`health`]: liveness, readiness (database, RPC, Stripe, operator float), metrics.
//! - [`auth`]: wallet sign-in (EIP-4361).
//! - [`purchases`]: card purchases (primary and resale) and their state.
//! - [`webhooks`]: the Stripe webhook.
//! - [`catalogue`]: films, offers, licences, sales and royalty statements from the indexer's mirror.
//! - [`licences`]: key release and offline certificates (owner's token, checked on chain).
//! - [`studios`]: studios, films, editions and master uploads (studio admin's token).
//! - [`content`]: where an edition's encrypted file is served (P2P ticket, HTTP URL); the file
//!   itself under `/v1/content/{blob_hash}` (range requests).

pub mod auth;
pub mod catalogue;
pub mod config;
pub mod content;
pub mod health;
pub mod licences;
pub mod purchases;
pub mod studios;
pub mod webhooks;

use axum::Router;
use axum::routing::{get, post, put};
use utoipa::OpenApi;

use crate::error::{ApiError, codes};
use crate::state::AppState;

/// The OpenAPI document, generated from the handlers and types.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tangible API",
        description = "Films sold as on-chain licences: sign-in, card purchases settled on chain, key release."
    ),
    paths(
        health::healthz,
        health::readyz,
        config::public_config,
        auth::nonce,
        auth::login,
        purchases::create_primary,
        purchases::create_resale,
        purchases::get_purchase,
        purchases::pay_with_card,
        webhooks::stripe_webhook,
        licences::release_key,
        licences::certificate,
        catalogue::films::list_films,
        catalogue::films::get_film,
        catalogue::offers::list_offers,
        catalogue::licences::list_licences,
        catalogue::licences::licence_history,
        catalogue::sales::list_sales,
        catalogue::statement::statement,
        studios::register_studio,
        studios::register_film,
        studios::upload_master,
        studios::withdraw_edition,
        studios::reactivate_edition,
        content::edition_content,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail))
)]
pub struct ApiDoc;

async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::client(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        "method not allowed on this route",
    )
}

/// The routes (without the middleware, which `startup::with_middleware` adds).
pub fn router(state: AppState) -> Router {
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/config", get(config::public_config))
        .route("/v1/auth/nonce", post(auth::nonce))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/purchases", post(purchases::create_primary))
        .route("/v1/purchases/{id}", get(purchases::get_purchase))
        .route(
            "/v1/purchases/{id}/payment-method",
            post(purchases::pay_with_card),
        )
        .route("/v1/offers/{id}/purchases", post(purchases::create_resale))
        .route("/v1/webhooks/stripe", post(webhooks::stripe_webhook))
        .route("/v1/films", get(catalogue::films::list_films))
        .route("/v1/films/{id}", get(catalogue::films::get_film))
        .route("/v1/offers", get(catalogue::offers::list_offers))
        .route("/v1/licences", get(catalogue::licences::list_licences))
        .route(
            "/v1/licences/{id}/history",
            get(catalogue::licences::licence_history),
        )
        .route("/v1/sales", get(catalogue::sales::list_sales))
        .route(
            "/v1/studios/{id}/statement",
            get(catalogue::statement::statement),
        )
        .route("/v1/licences/{id}/key", post(licences::release_key))
        .route("/v1/licences/{id}/certificate", get(licences::certificate))
        .route("/v1/studios", post(studios::register_studio))
        .route("/v1/studios/{id}/films", post(studios::register_film))
        .route("/v1/editions/{id}/master", put(studios::upload_master))
        .route(
            "/v1/editions/{id}/withdraw",
            post(studios::withdraw_edition),
        )
        .route(
            "/v1/editions/{id}/reactivate",
            post(studios::reactivate_edition),
        )
        .route("/v1/editions/{id}/content", get(content::edition_content));
    let router = match state.content() {
        // The encrypted files themselves: GET/HEAD with single ranges, ETag = the hash.
        Some(node) => router.nest(
            "/v1/content",
            tangible_content::http::router(node.store().clone()).with_state(()),
        ),
        None => router,
    };
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}
