//! anvil, the contracts and the demo catalogue.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, bail, ensure};
use tangible_chain::Deployment;
use tangible_chain::bindings::{TangibleMarket, TestEuro};
use tangible_chain::deploy::{self, DemoCatalogue, DeployConfig};
use tangible_domain::Cents;

use crate::process::{Managed, SpawnOptions};

/// The private keys of anvil's ten default accounts (mnemonic "test test … junk"): public,
/// well-known development keys, for a local chain only. Checked against the node at start.
pub const ANVIL_KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// Index in [`ANVIL_KEYS`] of the deployer, admin and operator (the API's settlement key).
pub const OPERATOR: usize = 0;
/// Index of the demo studio's admin, also its royalty recipient.
pub const STUDIO: usize = 1;
/// Index of the platform treasury.
pub const PLATFORM: usize = 2;
/// Indexes of the buyers.
pub const BUYERS: std::ops::RangeInclusive<usize> = 3..=8;
/// Index of the attestation key signing licence certificates.
pub const ATTESTATION: usize = 9;

/// TestEuro minted to every anvil account: 10,000.00 €.
pub const FUNDING: Cents = Cents(1_000_000);
/// The operator's float deposited in the market for card settlements: 5,000.00 €.
pub const FLOAT: Cents = Cents(500_000);

/// Starts anvil on `port` and waits for its RPC.
pub(crate) async fn start_anvil(
    anvil: &Path,
    port: u16,
    block_time: Option<u64>,
    log: &Path,
) -> Result<(Managed, u64)> {
    let mut cmd = Command::new(anvil);
    cmd.args(["--port", &port.to_string(), "--host", "127.0.0.1"]);
    if let Some(secs) = block_time {
        cmd.args(["--block-time", &secs.to_string()]);
    }
    let node = Managed::spawn("anvil", cmd, log, SpawnOptions::default())?;
    let url = format!("http://127.0.0.1:{port}");
    let provider = ProviderBuilder::new().connect_http(url.parse()?);
    let chain_id = node
        .probe_own_port(
            port,
            Duration::from_millis(50),
            Duration::from_secs(30),
            || provider.get_chain_id(),
        )
        .await
        .context("anvil did not answer in 30 s")?;
    Ok((node, chain_id))
}

/// The signers of [`ANVIL_KEYS`].
pub(crate) fn signers() -> Vec<PrivateKeySigner> {
    ANVIL_KEYS
        .iter()
        .map(|k| k.parse().expect("the anvil keys are valid"))
        .collect()
}

/// Clearance period of card money on the local chain, seconds: 10 minutes instead of the
/// contract's 120 days, so that a walkthrough sees a card sale's shares go from pending to
/// available (the API's maintenance loop clears them once due).
pub const DEV_CLEARANCE_PERIOD: u32 = 600;

/// Deploys Tangible, registers the demo catalogue, funds every account and deposits the
/// operator's float.
pub(crate) async fn deploy_demo(rpc_url: &str) -> Result<(Deployment, DemoCatalogue)> {
    let keys = signers();
    let mut wallet = EthereumWallet::from(keys[OPERATOR].clone());
    for k in &keys {
        wallet.register_signer(k.clone());
    }
    let provider: DynProvider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(rpc_url.parse()?)
        .erased();
    let accounts = provider.get_accounts().await.context("eth_accounts")?;
    let expected: Vec<Address> = keys.iter().map(|k| k.address()).collect();
    ensure!(
        accounts.get(..expected.len()) == Some(&expected[..]),
        "the node's accounts are not anvil's default ones (started with another mnemonic?)"
    );
    let operator = keys[OPERATOR].address();
    let deployment = deploy::deploy_all(
        &provider,
        &DeployConfig {
            stablecoin: None,
            admin: operator,
            operator,
            platform: keys[PLATFORM].address(),
            clearance_period: Some(DEV_CLEARANCE_PERIOD),
        },
    )
    .await
    .context("deploying the contracts")?;
    let studio = keys[STUDIO].address();
    let demo = deploy::register_demo(&provider, &deployment, studio, studio, &[])
        .await
        .context("registering the demo catalogue")?;
    for k in &keys {
        deploy::mint_test_euro(&provider, &deployment, k.address(), FUNDING)
            .await
            .context("funding the accounts")?;
    }
    let float = U256::from(FLOAT.to_token_units(6)?);
    let token = TestEuro::new(deployment.contracts.stablecoin, &provider);
    let market = TangibleMarket::new(deployment.contracts.market, &provider);
    let receipt = token
        .approve(deployment.contracts.market, float)
        .send()
        .await?
        .get_receipt()
        .await?;
    ensure!(receipt.status(), "approving the operator float reverted");
    let receipt = market.deposit(float).send().await?.get_receipt().await?;
    ensure!(receipt.status(), "depositing the operator float reverted");
    if demo.editions.len() != 2 {
        bail!("the demo catalogue has {} editions", demo.editions.len());
    }
    Ok((deployment, demo))
}
