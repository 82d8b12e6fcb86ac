//! Where an edition's encrypted file is served: `GET /v1/editions/{id}/content`.

use serde::{Deserialize, Serialize};

/// How to fetch an edition's encrypted file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditionContent {
    /// `<film_id>-<quality>`.
    pub edition_id: String,
    /// Film.
    pub film_id: u64,
    /// `sd`, `hd` or `4k`.
    pub quality: String,
    /// SHA-256 of the plaintext master (0x…), as registered on chain.
    pub master_hash: String,
    /// BLAKE3 hash of the encrypted file (64 hex): its address over P2P and HTTP.
    pub blob_hash: String,
    /// Size of the encrypted file, bytes.
    pub size: u64,
    /// iroh-blobs ticket (`blob…`): the provider's address and the hash.
    pub ticket: String,
    /// The provider's address alone (iroh endpoint ticket, `endpoint…`).
    pub provider: String,
    /// HTTP URL of the file (range requests); a path when no public URL is configured.
    pub http_url: String,
}
