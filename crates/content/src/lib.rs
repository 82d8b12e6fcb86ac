//! Storage and distribution of Tangible's encrypted film files.
//!
//! Films are encrypted by `tangible-crypto`; to this crate they are opaque byte files named
//! by their BLAKE3 hash ([`ContentHash`]). Data flows like this:
//!
//! 1. The content node imports an encrypted file into its [`store::ContentStore`] (streamed
//!    from disk, hashed on the way).
//! 2. A [`p2p::Provider`] serves the store over iroh (QUIC, `iroh_blobs::ALPN`); the API hands
//!    buyers a [`p2p::ContentTicket`] (provider address + hash) as a string.
//! 3. The buyer's client fetches the hash with a [`p2p::Downloader`] into its own store:
//!    BLAKE3-verified while streaming, resumable after an interruption, with a progress
//!    callback. Every client that holds a file can run a provider too;
//!    [`swarm`] fetches one file from several providers at once, piece by piece, dropping a
//!    provider that sends bad data or stalls.
//! 4. If P2P fails, the client falls back to HTTP range requests against
//!    [`http::router`] on the content node, with [`http::download_to_file`] /
//!    [`http::download_into_store`], which resume partial files and verify the hash at the end.
//! 5. A client that seeds announces its node to the API with an [`announce`] message signed by
//!    the node's key; the API lists live announcements beside its own node as providers.

pub mod announce;
pub mod error;
pub mod hash;
pub mod http;
pub mod p2p;
pub mod store;
pub mod swarm;

pub use error::{ContentError, Result};
pub use hash::ContentHash;
pub use store::{BlobInfo, ContentStore, LocalState, StoreOptions};

/// Re-export of the iroh version this crate is built on (endpoint builders, relay modes).
pub use iroh;
/// Re-export of the iroh-blobs version this crate is built on.
pub use iroh_blobs;
