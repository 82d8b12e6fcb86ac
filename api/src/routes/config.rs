//! `GET /v1/config`: what a client needs to trust this deployment (public, no secrets).

use axum::extract::State;
use tangible_api_types::config::{SiweInfo, StablecoinInfo};
use tangible_chain::Deployment;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// The version of the HTTP API (the `/v1` prefix).
pub const API_VERSION: &str = "v1";

/// The body of `GET /v1/config`: the shared wire type, with this API's deployment.
pub type PublicConfig = tangible_api_types::config::PublicConfig<Deployment>;

/// Public configuration: chain id, contracts and deployment block, stablecoin and decimals,
/// the certificate signer and validity, the Stripe publishable key, the API version.
#[utoipa::path(get, path = "/v1/config", responses(
    (status = 200, body = PublicConfig),
    (status = 503, description = "the chain node is unreachable (stablecoin decimals not read yet)", body = ErrorBody)))]
pub async fn public_config(State(state): State<AppState>) -> ApiResult<axum::Json<PublicConfig>> {
    let chain = state.chain();
    let deployment = chain.deployment().clone();
    let coin = chain
        .stablecoin()
        .await
        .map_err(|e| ApiError::unavailable("chain node", e))?;
    let config = state.config();
    Ok(axum::Json(PublicConfig {
        api_version: API_VERSION.to_owned(),
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        chain_id: deployment.chain_id,
        stablecoin: StablecoinInfo {
            address: format!("{:#x}", deployment.contracts.stablecoin),
            decimals: coin.decimals,
            units_per_cent: coin.units_per_cent.to_string(),
        },
        deployment,
        attestation_address: state.attestation().map(|s| format!("{:#x}", s.address())),
        certificate_validity_secs: config.certificate_validity().as_secs(),
        currency: config.currency.clone(),
        stripe_publishable_key: config.stripe_publishable_key.clone(),
        siwe: SiweInfo {
            domain: config.siwe_domain.clone(),
            uri: config.siwe_uri.clone(),
        },
        stripe_js_url: config.stripe_js_url.clone(),
    }))
}
