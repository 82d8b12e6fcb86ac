//! Key release for licence owners: `POST /v1/licences/{id}/key`. (The offline certificate of
//! `GET /v1/licences/{id}/certificate` is `tangible_crypto::certificate::SignedCertificate`.)

use serde::{Deserialize, Serialize};

/// A released edition key.
// `K` is the wrapped key (`tangible_crypto::ecies::WrappedKey` in the API and the CLI), a
// parameter so that this crate needs no cryptography (a `//` comment: the `///` text is the
// OpenAPI one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(bound = ""))]
pub struct KeyRelease<K> {
    /// The licence (decimal).
    pub licence_id: String,
    /// Film.
    pub film_id: u64,
    /// Quality code.
    pub quality: u8,
    /// Chain id bound into the wrapping.
    pub chain_id: u64,
    /// The edition key, ECIES-wrapped to the caller's public key for this licence
    /// (`version`, `ephemeral_public_key`, `nonce`, `ciphertext`, hex).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub wrapped_key: K,
}
