//! `GET /v1/config`: what a client needs to trust this deployment (public, no secrets).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use tangible_chain::Deployment;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// The version of the HTTP API (the `/v1` prefix).
pub const API_VERSION: &str = "v1";

/// The stablecoin settlements are made in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StablecoinInfo {
    /// ERC-20 address (0x, lower case).
    pub address: String,
    /// ERC-20 `decimals()`, read from the chain.
    pub decimals: u8,
    /// Token units per euro cent (the market's `unitsPerCent`), decimal string.
    pub units_per_cent: String,
}

/// Sign-in (EIP-4361) parameters this API checks.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SiweInfo {
    /// The `domain` a sign-in message must name.
    pub domain: String,
    /// The `URI` a sign-in message names.
    pub uri: String,
}

/// Public configuration of this deployment: chain, contracts, certificate signer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicConfig {
    /// API version (`v1`).
    pub api_version: String,
    /// Version of the server build (its crate version).
    pub server_version: String,
    /// EIP-155 chain id (same as `deployment.chain_id`).
    pub chain_id: u64,
    /// The deployment, in exactly the shape of a `deployments/<chain-id>.json` file:
    /// `chain_id`, `deployment_block`, `contracts` {`registry`, `licence`, `market`,
    /// `stablecoin`}, `operator`, `platform`.
    #[schema(value_type = Object)]
    pub deployment: Deployment,
    /// The stablecoin and its decimals.
    pub stablecoin: StablecoinInfo,
    /// Address of the key signing licence certificates (EIP-712); `null` when this API issues
    /// no certificates. A player must verify certificates against this address.
    pub attestation_address: Option<String>,
    /// Validity of a certificate (the offline lease), seconds.
    pub certificate_validity_secs: u64,
    /// Currency of card payments (lower-case ISO code).
    pub currency: String,
    /// Stripe publishable key for confirming card payments in a client; `null` if not set.
    pub stripe_publishable_key: Option<String>,
    /// Sign-in parameters.
    pub siwe: SiweInfo,
    /// The Stripe.js URL a web client loads (the only script origin besides this API's own).
    pub stripe_js_url: String,
}

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
