//! Endpoints the client talks to: file `<home>/config.toml`, overridden by flags and
//! environment variables (`TANGIBLE_API_URL`, …), with local-stack defaults.

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use tangible_chain::Deployment;

use crate::home::Home;

/// The stored configuration. Every field is optional; see [`Settings`] for the defaults.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigFile {
    /// Base URL of the Tangible API.
    pub api_url: Option<String>,
    /// JSON-RPC URL of the chain (stablecoin payments, resale listings).
    pub rpc_url: Option<String>,
    /// Base URL of the Stripe API (localstripe in the local stack).
    pub stripe_url: Option<String>,
    /// Stripe key used to confirm card payments in the test flow.
    pub stripe_key: Option<String>,
    /// Deployment file (`deployments/<chain-id>.json`) naming the contracts; when unset, the
    /// deployment the API publishes at `GET /v1/config` is used.
    pub deployment: Option<PathBuf>,
    /// The platform's certificate attestation address; when unset, the signer the API
    /// publishes at `GET /v1/config` is pinned in `trust.json` on first use.
    pub attestation_address: Option<Address>,
}

impl ConfigFile {
    /// Reads `<home>/config.toml`; a missing file is an empty configuration.
    pub fn load(home: &Home) -> anyhow::Result<Self> {
        let path = home.config_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("reading {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes `<home>/config.toml`.
    pub fn save(&self, home: &Home) -> anyhow::Result<()> {
        let text = toml::to_string_pretty(self).context("serializing the configuration")?;
        crate::home::write_private(&home.config_file(), text.as_bytes())
    }

    /// `self` with every field set in `over` replaced.
    pub fn merged(mut self, over: &Self) -> Self {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f.clone(); } )* };
        }
        take!(
            api_url,
            rpc_url,
            stripe_url,
            stripe_key,
            deployment,
            attestation_address
        );
        self
    }
}

/// The effective settings of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// API base URL (default `http://127.0.0.1:8080`).
    pub api_url: String,
    /// Chain RPC URL (default `http://127.0.0.1:8545`).
    pub rpc_url: String,
    /// Stripe base URL (default `http://127.0.0.1:8420`, localstripe).
    pub stripe_url: String,
    /// Stripe key (default `sk_test_local`, accepted by localstripe). Never printed.
    #[serde(skip)]
    pub stripe_key: String,
    /// Deployment file, if any.
    pub deployment: Option<PathBuf>,
    /// Configured attestation address, if any.
    pub attestation_address: Option<Address>,
}

impl Settings {
    /// Resolves the settings from the file and the overrides.
    pub fn resolve(file: &ConfigFile) -> Self {
        let trim = |s: &Option<String>, d: &str| {
            s.as_deref()
                .map(|s| s.trim().trim_end_matches('/').to_owned())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| d.to_owned())
        };
        Self {
            api_url: trim(&file.api_url, "http://127.0.0.1:8080"),
            rpc_url: trim(&file.rpc_url, "http://127.0.0.1:8545"),
            stripe_url: trim(&file.stripe_url, "http://127.0.0.1:8420"),
            stripe_key: file
                .stripe_key
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "sk_test_local".to_owned()),
            deployment: file.deployment.clone(),
            attestation_address: file.attestation_address,
        }
    }

    /// The deployment file given, if any (else the API's `/v1/config` names the contracts).
    pub fn deployment_path(&self) -> Option<&Path> {
        self.deployment.as_deref()
    }
}

/// What the API publishes at `GET /v1/config`: its wire type, with the deployment read as a
/// `deployments/<chain-id>.json` file.
pub type PlatformConfig = tangible_api_types::config::PublicConfig<Deployment>;
