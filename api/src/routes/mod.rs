//! HTTP routes under `/v1`, plus `/healthz`, `/readyz` and `/metrics`.
//!
//! - [`config`]: the public configuration of this deployment (chain, contracts, certificate
//!   signer) a client needs to trust it.
//! - [`health`]: liveness, readiness (database, RPC, Stripe, operator float), metrics.
//! - [`auth`]: wallet sign-in (EIP-4361).
//! - [`purchases`]: card purchases (primary and resale), their state, and the erasure of a
//!   buyer's receipt address.
//! - [`webhooks`]: the Stripe webhook.
//! - [`catalogue`]: films, offers, licences, sales and royalty statements from the indexer's mirror.
//! - [`licences`]: key release and offline certificates (owner's token, checked on chain).
//! - [`accounts`]: an account's withdrawable credit, pending shares and money moves.
//! - [`orders`]: sellers' signed resale orders (list, reprice, cancel), relayed by the operator.
//! - [`studios`]: studios, films, editions and master uploads (studio admin's token).
//! - [`admin`]: the operator console: dead jobs, refunds by hand, failed refunds, the float,
//!   alerts and the money reconciliation report (platform admins).
//! - [`providers`]: owners' clients announcing that they seed an edition.
//! - [`content`]: where an edition's encrypted file is served (P2P ticket, HTTP URL); the file
//!   itself under `/v1/content/{blob_hash}` (range requests).
//!
//! Every route is in one table, [`routes`], from which both the router and [`endpoints`] (what
//! the OpenAPI document [`ApiDoc`] must list, checked by a test) are made; the table also names
//! the routes that are rate-limited per client, and under which limit ([`crate::throttle`]).
//! Every error, the router's own (no route, wrong method) and the extractors' included,
//! answers the JSON error body ([`crate::error::json_error_bodies`]).

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod catalogue;
pub mod checkout;
pub mod config;
pub mod content;
pub mod credit;
pub mod editions;
pub mod health;
pub mod licences;
mod order_lock;
pub mod orders;
pub mod providers;
pub mod purchases;
pub mod studios;
pub mod webhooks;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ApiError, codes};
use crate::state::AppState;
use crate::throttle::{Class, Throttle};

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
        health::metrics,
        openapi,
        config::public_config,
        auth::nonce,
        auth::login,
        purchases::create_primary,
        purchases::create_resale,
        purchases::get_purchase,
        checkout::pay_with_card,
        checkout::erase_email,
        webhooks::stripe_webhook,
        licences::release_key,
        licences::certificate,
        catalogue::films::list_films,
        catalogue::films::get_film,
        catalogue::offers::list_offers,
        catalogue::offers::get_offer,
        catalogue::licences::list_licences,
        catalogue::licences::licence_history,
        catalogue::sales::list_sales,
        catalogue::statement::statement,
        accounts::account,
        credit::purchase,
        credit::withdraw,
        credit::studio_withdraw,
        orders::list,
        orders::reprice,
        orders::cancel,
        studios::register_studio,
        studios::studio_applications,
        studios::register_film,
        studios::upload_master,
        editions::set_resale_floor,
        editions::withdraw_edition,
        editions::reactivate_edition,
        content::edition_content,
        content::blob,
        providers::announce,
        admin::reconciliation,
        admin::jobs,
        admin::retry_job,
        admin::refund_purchase,
        admin::failed_refunds,
        admin::float,
        admin::alerts,
        admin::content_p2p,
        admin::approve_studio,
        admin::reject_studio,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&BearerScheme)
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The name of the security scheme the authenticated operations name (`security(("bearer" =
/// []))`): the token `POST /v1/auth/login` returns, as `Authorization: Bearer <token>`.
pub const BEARER: &str = "bearer";

/// Parses the address a request names in `field`; the zero address is refused (422).
pub(crate) fn parse_address(
    field: &str,
    s: &str,
) -> crate::error::ApiResult<alloy::primitives::Address> {
    let a: alloy::primitives::Address = s.trim().parse().map_err(|_| {
        crate::error::ApiError::invalid_field(format!("{field} {s:?} is not an address"))
    })?;
    if a.is_zero() {
        return Err(crate::error::ApiError::invalid_field(format!(
            "{field} must not be the zero address"
        )));
    }
    Ok(a)
}

/// Declares the [`BEARER`] security scheme.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("the token of `POST /v1/auth/login`"))
                    .build(),
            ),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json",
    responses((status = 200, description = "the OpenAPI 3.1 document", body = Object)))]
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

/// One route of the router: a method, a path, its handler, and its rate limit if any.
struct Route {
    method: Method,
    path: &'static str,
    handler: MethodRouter<AppState>,
    throttle: Option<Class>,
}

impl Route {
    /// The route, rate-limited per client under `class`'s limits.
    const fn throttled(mut self, class: Class) -> Self {
        self.throttle = Some(class);
        self
    }
}

fn route<H, T>(method: Method, path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method axum routes");
    Route {
        method,
        path,
        handler: axum::routing::on(filter, handler),
        throttle: None,
    }
}

/// Every route of the API's own handlers, in one table.
fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET, "/healthz", health::healthz),
        route(M::GET, "/readyz", health::readyz),
        route(M::GET, "/metrics", health::metrics),
        route(M::GET, "/v1/openapi.json", openapi),
        route(M::GET, "/v1/config", config::public_config),
        route(M::POST, "/v1/auth/nonce", auth::nonce).throttled(Class::Anonymous),
        route(M::POST, "/v1/auth/login", auth::login).throttled(Class::Anonymous),
        route(M::POST, "/v1/purchases", purchases::create_primary).throttled(Class::Anonymous),
        route(M::GET, "/v1/purchases/{id}", purchases::get_purchase).throttled(Class::Polling),
        route(
            M::POST,
            "/v1/purchases/{id}/payment-method",
            checkout::pay_with_card,
        )
        .throttled(Class::Anonymous),
        route(M::DELETE, "/v1/purchases/{id}/email", checkout::erase_email)
            .throttled(Class::Anonymous),
        route(
            M::POST,
            "/v1/offers/{id}/purchases",
            purchases::create_resale,
        )
        .throttled(Class::Anonymous),
        route(M::POST, "/v1/webhooks/stripe", webhooks::stripe_webhook),
        route(M::GET, "/v1/films", catalogue::films::list_films),
        route(M::GET, "/v1/films/{id}", catalogue::films::get_film),
        route(M::GET, "/v1/offers", catalogue::offers::list_offers),
        route(M::GET, "/v1/offers/{id}", catalogue::offers::get_offer),
        route(M::POST, "/v1/offers", orders::list).throttled(Class::Anonymous),
        route(M::PATCH, "/v1/offers/{id}", orders::reprice).throttled(Class::Anonymous),
        route(M::DELETE, "/v1/offers/{id}", orders::cancel).throttled(Class::Anonymous),
        route(M::GET, "/v1/licences", catalogue::licences::list_licences),
        route(
            M::GET,
            "/v1/licences/{id}/history",
            catalogue::licences::licence_history,
        ),
        route(M::GET, "/v1/sales", catalogue::sales::list_sales),
        route(M::GET, "/v1/accounts/{address}", accounts::account).throttled(Class::Anonymous),
        route(
            M::POST,
            "/v1/accounts/{address}/purchases",
            credit::purchase,
        )
        .throttled(Class::Anonymous),
        route(
            M::POST,
            "/v1/accounts/{address}/withdrawals",
            credit::withdraw,
        )
        .throttled(Class::Anonymous),
        route(
            M::POST,
            "/v1/studios/{id}/withdrawals",
            credit::studio_withdraw,
        )
        .throttled(Class::SignedIn),
        route(
            M::GET,
            "/v1/studios/{id}/statement",
            catalogue::statement::statement,
        ),
        route(M::POST, "/v1/licences/{id}/key", licences::release_key).throttled(Class::SignedIn),
        route(
            M::GET,
            "/v1/licences/{id}/certificate",
            licences::certificate,
        ),
        route(M::POST, "/v1/studios", studios::register_studio).throttled(Class::SignedIn),
        route(
            M::GET,
            "/v1/studios/applications",
            studios::studio_applications,
        )
        .throttled(Class::SignedIn),
        route(M::POST, "/v1/studios/{id}/films", studios::register_film).throttled(Class::SignedIn),
        route(M::PUT, "/v1/editions/{id}/master", studios::upload_master)
            .throttled(Class::SignedIn),
        route(
            M::PUT,
            "/v1/editions/{id}/resale-floor",
            editions::set_resale_floor,
        )
        .throttled(Class::SignedIn),
        route(
            M::POST,
            "/v1/editions/{id}/withdraw",
            editions::withdraw_edition,
        )
        .throttled(Class::SignedIn),
        route(
            M::POST,
            "/v1/editions/{id}/reactivate",
            editions::reactivate_edition,
        )
        .throttled(Class::SignedIn),
        route(
            M::GET,
            "/v1/editions/{id}/content",
            content::edition_content,
        )
        // It may start fetching the file from the other instances.
        .throttled(Class::Polling),
        route(M::POST, "/v1/editions/{id}/providers", providers::announce)
            .throttled(Class::SignedIn),
        route(M::GET, "/v1/admin/reconciliation", admin::reconciliation).throttled(Class::SignedIn),
        route(M::GET, "/v1/admin/jobs", admin::jobs).throttled(Class::SignedIn),
        route(M::POST, "/v1/admin/jobs/{id}/retry", admin::retry_job).throttled(Class::SignedIn),
        route(
            M::POST,
            "/v1/admin/purchases/{id}/refund",
            admin::refund_purchase,
        )
        .throttled(Class::SignedIn),
        route(M::GET, "/v1/admin/refunds/failed", admin::failed_refunds).throttled(Class::SignedIn),
        route(M::GET, "/v1/admin/float", admin::float).throttled(Class::SignedIn),
        route(M::GET, "/v1/admin/alerts", admin::alerts).throttled(Class::SignedIn),
        route(M::PUT, "/v1/admin/content/p2p", admin::content_p2p).throttled(Class::SignedIn),
        route(
            M::POST,
            "/v1/admin/studio-applications/{id}/approve",
            admin::approve_studio,
        )
        .throttled(Class::SignedIn),
        route(
            M::POST,
            "/v1/admin/studio-applications/{id}/reject",
            admin::reject_studio,
        )
        .throttled(Class::SignedIn),
    ]
}

/// Where the content crate's router (the encrypted files, `GET`/`HEAD /{hash}`) is mounted
/// when this deployment serves content.
const CONTENT_PREFIX: &str = "/v1/content";

/// Method and path (axum's `{param}` syntax) of every route the router answers, the content
/// files included: what the OpenAPI document must list.
pub fn endpoints() -> Vec<(Method, String)> {
    routes()
        .into_iter()
        .map(|r| (r.method, r.path.to_owned()))
        .chain(
            content::BLOB_METHODS
                .iter()
                .map(|m| (m.clone(), format!("{CONTENT_PREFIX}{}", content::BLOB_PATH))),
        )
        .collect()
}

/// The routes, the throttled ones behind their limiter, and every error body made JSON (the
/// rest of the middleware is `startup::with_middleware`'s).
pub fn router(state: AppState) -> Router {
    let throttle = Throttle::new(state.config(), state.tokens().clone());
    let router = routes().into_iter().fold(Router::new(), |router, r| {
        let handler = match r.throttle {
            // Per wallet, and (checked first) per address for all its wallets together.
            Some(Class::SignedIn) => r
                .handler
                .route_layer(throttle.layer(Class::SignedIn, &r.method, r.path))
                .route_layer(throttle.layer(Class::SignedInAddress, &r.method, r.path)),
            Some(class) => r
                .handler
                .route_layer(throttle.layer(class, &r.method, r.path)),
            None => r.handler,
        };
        router.route(r.path, handler)
    });
    throttle.spawn_cleanup(std::sync::Arc::downgrade(state.budgets()));
    let router = match state.content() {
        // The encrypted files themselves: GET/HEAD with single ranges, ETag = the hash.
        Some(node) => router.nest(
            CONTENT_PREFIX,
            tangible_content::http::router(node.store().clone())
                .with_state(())
                .layer(axum::middleware::from_fn_with_state(
                    (state.db().clone(), node.clone()),
                    crate::content_nodes::fetch_missing,
                )),
        ),
        None => router,
    };
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(
            crate::error::json_error_bodies,
        ))
        .with_state(state)
}
