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
    /// iroh-blobs ticket (`blob…`) of an API node that holds the file: its address and the
    /// hash. Empty while no API node holding it serves P2P (the `providers` may still list
    /// seeders; HTTP serves it).
    pub ticket: String,
    /// That API node's address alone (iroh endpoint ticket, `endpoint…`); empty likewise.
    pub provider: String,
    /// HTTP URL of the file (range requests); a path when no public URL is configured.
    pub http_url: String,
    /// Every live provider of the file (iroh endpoint tickets), to fetch from at once: owners'
    /// clients that announced they seed it (latest announcement first), then the API nodes
    /// (instances behind the same database) that hold it and serve P2P (`provider` first). The
    /// HTTP URL is the last resort.
    #[serde(default)]
    pub providers: Vec<String>,
    /// The API nodes among `providers`: a downloader asks them only for the pieces no client
    /// holds, so that a swarm of downloaders costs the platform about one copy.
    #[serde(default)]
    pub api_providers: Vec<String>,
}

/// `POST /v1/editions/{id}/providers`: a client seeding the edition's encrypted file announces
/// its iroh node (see `tangible_content::announce` for the message the node signs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderAnnouncement {
    /// A licence of the edition the signed-in wallet owns (checked on chain).
    pub licence_id: String,
    /// The node's address (iroh endpoint ticket, `endpoint…`).
    pub provider: String,
    /// Until when (Unix seconds; at most 15 minutes ahead): announce again before then.
    pub expires_at: u64,
    /// The node's ed25519 signature of the announcement, hex.
    pub signature: String,
}

/// An announcement recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderAnnounced {
    /// `<film_id>-<quality>`.
    pub edition_id: String,
    /// The node's id.
    pub node_id: String,
    /// Listed until then (Unix seconds).
    pub expires_at: u64,
}
