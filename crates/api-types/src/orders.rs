//! Signed resale orders relayed by the API's operator, for sellers who hold no ETH:
//! `POST /v1/offers` (list), `PATCH /v1/offers/{id}` (reprice), `DELETE /v1/offers/{id}`
//! (cancel). The seller signs the EIP-712 order (`tangible_chain::orders::Order`) with its next
//! order nonce (`order_nonce` of `GET /v1/accounts/{address}`); the contract checks the
//! signature again and consumes the nonce.

use serde::{Deserialize, Serialize};

/// `POST /v1/offers`: list a licence at a price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListOrderRequest {
    /// The licence owner who signed.
    pub seller_address: String,
    /// The licence (decimal).
    pub licence_id: String,
    /// Price, cents (at least 20).
    pub price_cents: u64,
    /// Unix seconds after which the order is refused (at most 30 days ahead).
    pub deadline: u64,
    /// 65-byte signature `r ‖ s ‖ v`, hex (an ERC-1271 wallet's own format for a contract).
    pub signature: String,
}

/// `PATCH /v1/offers/{id}`: reprice an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepriceOrderRequest {
    /// The seller who signed.
    pub seller_address: String,
    /// New price, cents (at least 20).
    pub price_cents: u64,
    /// Unix seconds after which the order is refused.
    pub deadline: u64,
    /// Signature, hex.
    pub signature: String,
}

/// `DELETE /v1/offers/{id}`: cancel an offer (the order's price is 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelOrderRequest {
    /// The seller who signed.
    pub seller_address: String,
    /// Unix seconds after which the order is refused.
    pub deadline: u64,
    /// Signature, hex.
    pub signature: String,
}

/// A relayed order, mined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderRelayed {
    /// The offer listed, repriced or cancelled (decimal).
    pub offer_id: String,
    /// The seller.
    pub seller_address: String,
    /// The nonce the order consumed.
    pub nonce: u32,
    /// The operator's transaction.
    pub tx_hash: String,
}
