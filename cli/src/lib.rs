//! The `tangible` command line client.
//!
//! A buyer creates or imports a wallet ([`wallet`], an Ethereum keystore v3 file protected by a
//! password), signs in to the API with it ([`api`], EIP-4361), browses the catalogue, buys an
//! edition by card (a Stripe PaymentIntent confirmed with a test card, [`stripe`]) or in
//! stablecoin from the wallet ([`chain`]), downloads the encrypted film over P2P with an HTTP
//! fallback, and keeps everything in a local [`library`]: the encrypted file exactly as
//! downloaded, the film key wrapped to the wallet's public key, and the signed certificate.
//! Nothing is decrypted at rest: `play` serves the film on a loopback-only HTTP address to a
//! video player ([`film_server`]), decrypting only the segments each request covers, after
//! checking the licence with the API (or, offline, the cached certificate); only `export`
//! writes plaintext to a file, and warns. `sync` refreshes certificates and erases the local copy of
//! a licence that was revoked or resold.
//!
//! Where things live is decided by [`home::Home`] (`--home` / `TANGIBLE_HOME`).

pub mod api;
mod browser;
pub mod chain;
pub mod cli;
mod commands;
pub mod config;
pub mod film_server;
pub mod home;
pub mod library;
pub mod output;
pub mod stripe;
pub mod wallet;

use std::process::ExitCode;

pub use cli::Cli;

/// Runs one command line; errors are printed with their causes and turn into exit code 1.
pub fn run(cli: Cli) -> ExitCode {
    // Workspace builds can enable both of rustls' crypto providers; pick aws-lc-rs, the one
    // reqwest and the services use (tangible_service::install_crypto_provider).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    init_tracing(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json = cli.global.json && cli.global.get.is_none();
    if let Some(path) = &cli.global.get {
        output::select(path);
    }
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(()) => match output::missed() {
            None => ExitCode::SUCCESS,
            Some(path) => {
                eprintln!("error: --get {path}: the output has no such field (see --json)");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            if json {
                let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
                println!(
                    "{}",
                    serde_json::json!({"error": {"message": e.to_string(), "causes": causes}})
                );
            }
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,tangible=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TANGIBLE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
