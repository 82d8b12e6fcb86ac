//! `GET /v1/config`: what a client needs to trust a deployment (public, no secrets).

use serde::{Deserialize, Serialize};

/// The stablecoin settlements are made in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StablecoinInfo {
    /// ERC-20 address (0x, lower case).
    pub address: String,
    /// ERC-20 `decimals()`, read from the chain.
    pub decimals: u8,
    /// Token units per euro cent (the market's `unitsPerCent`), decimal string.
    pub units_per_cent: String,
}

/// Sign-in (EIP-4361) parameters this API checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiweInfo {
    /// The `domain` a sign-in message must name.
    pub domain: String,
    /// The `URI` a sign-in message names.
    pub uri: String,
}

/// Public configuration of this deployment: chain, contracts, certificate signer.
// `D` is the deployment (`tangible_chain::Deployment` in the API and the CLI), a parameter so
// that this crate needs no chain bindings (a `//` comment: the `///` text is the OpenAPI one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(bound = ""))]
pub struct PublicConfig<D> {
    /// API version (`v1`).
    pub api_version: String,
    /// Version of the server build (its crate version).
    pub server_version: String,
    /// EIP-155 chain id (same as `deployment.chain_id`).
    pub chain_id: u64,
    /// The deployment, in exactly the shape of a `deployments/<chain-id>.json` file:
    /// `chain_id`, `deployment_block`, `contracts` {`registry`, `licence`, `market`,
    /// `stablecoin`}, `operator`, `platform`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub deployment: D,
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
