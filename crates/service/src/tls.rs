//! The process's one rustls crypto provider.
//!
//! aws-lc-rs: it is what reqwest 0.13 (the HTTP client of alloy's transport, of the content
//! fetcher and of the tests) and async-stripe are built with, so every TLS connection the
//! services open uses it. ring stays linked in the API only as a part of iroh's QUIC stack (iroh,
//! noq and irpc turn it on themselves, with a provider of their own), which also turns on rustls'
//! `ring` feature; with both features on, rustls refuses to guess the process default, hence the
//! explicit install here.

/// Installs aws-lc-rs as the process-wide rustls provider. Idempotent: a provider already
/// installed (by an earlier call or an embedding program) is kept.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
