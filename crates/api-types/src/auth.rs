//! Wallet sign-in (EIP-4361): `POST /v1/auth/nonce`, then `POST /v1/auth/login` with the
//! signed message for a bearer token.

use serde::{Deserialize, Serialize};

/// Optional address the client wants a ready-to-sign message for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NonceRequest {
    /// The wallet address (0x…); with it the response includes the exact message to sign.
    #[serde(default)]
    pub address: Option<String>,
}

/// A fresh nonce and the fields the signed message must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NonceResponse {
    /// The single-use nonce.
    pub nonce: String,
    /// The domain the message must name.
    pub domain: String,
    /// The URI the message should name.
    pub uri: String,
    /// The chain id the message must name.
    pub chain_id: u64,
    /// When the nonce was issued (RFC 3339).
    pub issued_at: String,
    /// After this the nonce is refused (RFC 3339).
    pub expiration_time: String,
    /// The statement the API suggests.
    pub statement: String,
    /// The exact EIP-4361 text to sign, when an address was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A signed sign-in message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The EIP-4361 message text exactly as signed.
    pub message: String,
    /// The 65-byte EIP-191 signature, hex (0x…).
    pub signature: String,
}

/// A bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// The signed-in address (checksummed).
    pub address: String,
    /// Expiry (RFC 3339).
    pub expires_at: String,
}
