//! Errors of the content crate: one enum for the store, P2P and HTTP paths.

use std::{io, path::PathBuf};

use crate::hash::ContentHash;

/// Boxed cause from a lower layer (iroh, iroh-blobs, reqwest).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias for this crate.
pub type Result<T, E = ContentError> = std::result::Result<T, E>;

/// Everything that can go wrong while storing, serving or fetching a content file.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The store has no complete file with this hash.
    #[error("content {hash} is not in the store")]
    NotFound {
        /// The requested hash.
        hash: ContentHash,
    },
    /// A local file could not be read or written.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The underlying iroh-blobs store failed.
    #[error("content store: {context}: {source}")]
    Store {
        /// What the store was doing.
        context: &'static str,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// The received bytes do not hash to the expected BLAKE3 hash.
    #[error("hash mismatch: expected {expected}, the received bytes hash to {actual}")]
    HashMismatch {
        /// The hash that was asked for.
        expected: ContentHash,
        /// The hash of what was received.
        actual: ContentHash,
    },
    /// The local iroh endpoint could not be bound.
    #[error("could not bind the iroh endpoint: {source}")]
    Bind {
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// No connection could be made to a provider.
    #[error("could not connect to provider {provider}: {source}")]
    Connect {
        /// Endpoint id of the provider.
        provider: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// A P2P transfer stopped before the file was complete (provider gone, connection lost,
    /// bad data). What was received and verified is kept in the store; the next download of the
    /// same hash resumes from it.
    #[error(
        "transfer of {hash} from provider {provider} stopped at {have} of {total} bytes \
         (verified bytes kept for resume): {source}"
    )]
    Transfer {
        /// The hash being downloaded.
        hash: ContentHash,
        /// Endpoint id of the provider.
        provider: String,
        /// Verified bytes held locally when the transfer stopped.
        have: u64,
        /// Size of the file (0 if it was never learnt).
        total: u64,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// Every provider tried failed; the last error is kept.
    #[error("no provider could deliver {hash} ({attempts} tried); last error: {last}")]
    NoProvider {
        /// The hash being downloaded.
        hash: ContentHash,
        /// How many providers were tried.
        attempts: usize,
        /// The last provider's error.
        #[source]
        last: Box<Self>,
    },
    /// A download from several providers ended with every provider dropped before the file was
    /// whole. Verified pieces stay in the store; the next download resumes from them.
    #[error(
        "no provider could finish {hash}: {have} of {total} bytes held (kept for resume); {}",
        crate::swarm::describe(providers)
    )]
    Swarm {
        /// The hash being downloaded.
        hash: ContentHash,
        /// Verified bytes held locally.
        have: u64,
        /// Size of the file (0 if no provider proved it).
        total: u64,
        /// What each provider did and why it was dropped.
        providers: Vec<crate::swarm::ProviderReport>,
    },
    /// An HTTP request failed below the status line (connection, body read).
    #[error("HTTP request to {url} failed: {source}")]
    Http {
        /// The URL requested.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP server answered with a status or headers the downloader cannot use.
    #[error("unexpected HTTP response from {url}: {detail}")]
    HttpResponse {
        /// The URL requested.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// A ticket or provider address string could not be parsed.
    #[error("invalid {kind}: {detail}")]
    Parse {
        /// What was being parsed ("ticket", "provider address").
        kind: &'static str,
        /// Why it failed.
        detail: String,
    },
}

impl ContentError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    pub(crate) fn store<E>(context: &'static str) -> impl FnOnce(E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        move |source| Self::Store {
            context,
            source: Box::new(source),
        }
    }
}
