//! `tangible-deploy`: deploys Tangible to any RPC URL and writes `deployments/<chain-id>.json`.

use std::path::PathBuf;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result};
use clap::Parser;
use tangible_chain::Deployment;
use tangible_chain::deploy::{self, DeployConfig};
use tangible_domain::Cents;

/// Deploys the stablecoin (unless one is given) and the Tangible market, grants the roles and
/// writes the deployment file.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "RPC_URL", default_value = "http://127.0.0.1:8545")]
    rpc_url: String,
    /// Deployer's private key (hex). Read it from the environment rather than the command line.
    #[arg(long, env = "DEPLOYER_PRIVATE_KEY", hide_env_values = true)]
    private_key: String,
    /// Existing EUR stablecoin; without it a 6-decimal TestEuro is deployed (local chains).
    #[arg(long, env = "STABLECOIN")]
    stablecoin: Option<Address>,
    /// Admin role holder (default: the deployer).
    #[arg(long, env = "ADMIN_ADDRESS")]
    admin: Option<Address>,
    /// Operator role holder: the API's settlement key (default: the deployer).
    #[arg(long, env = "OPERATOR_ADDRESS")]
    operator: Option<Address>,
    /// Account credited with the platform's shares (default: the deployer).
    #[arg(long, env = "PLATFORM_ADDRESS")]
    platform: Option<Address>,
    /// Clearance period of card money, seconds (at most 180 days; default: the contract's
    /// 120 days). Needs the deployer to be the admin.
    #[arg(long, env = "CLEARANCE_PERIOD_SECS")]
    clearance_period: Option<u32>,
    /// Folder of deployment files.
    #[arg(long, default_value = "deployments")]
    out: PathBuf,
    /// Also register the demo studio and film, and mint 10,000 TestEuro to every node account
    /// (local development only).
    #[arg(long)]
    demo: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_target(false)
        .init();
    let args = Args::parse();
    let signer: PrivateKeySigner = args
        .private_key
        .trim()
        .parse()
        .context("--private-key is not a valid hex private key")?;
    let deployer = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect(&args.rpc_url)
        .await
        .with_context(|| format!("connecting to {}", args.rpc_url))?;

    let cfg = DeployConfig {
        stablecoin: args.stablecoin,
        admin: args.admin.unwrap_or(deployer),
        operator: args.operator.unwrap_or(deployer),
        platform: args.platform.unwrap_or(deployer),
        clearance_period: args.clearance_period,
    };
    let deployment = deploy::deploy_all(&provider, &cfg)
        .await
        .context("deploying Tangible")?;
    let path = Deployment::file_in(&args.out, deployment.chain_id);
    deployment.save(&path)?;
    println!("chain id          {}", deployment.chain_id);
    println!("deployment block  {}", deployment.deployment_block);
    println!(
        "market            {}  (registry + licences + market)",
        deployment.contracts.market
    );
    println!("stablecoin        {}", deployment.contracts.stablecoin);
    println!("operator          {}", deployment.operator);
    println!("platform          {}", deployment.platform);
    println!("deployment file   {}", path.display());

    if args.demo {
        anyhow::ensure!(
            args.stablecoin.is_none(),
            "--demo mints TestEuro and needs the deployed test token"
        );
        let demo = deploy::register_demo(&provider, &deployment, deployer, deployer, &[])
            .await
            .context("registering the demo catalogue")?;
        println!("demo studio       #{} \"Studio Méliès\"", demo.studio_id);
        println!(
            "demo film         #{} \"Le Voyage dans la Lune\" (1902)",
            demo.film_id
        );
        for (quality, hash, price) in &demo.editions {
            println!("  edition {quality:<4} {price} €  master {hash}");
        }
        let accounts = provider.get_accounts().await.unwrap_or_default();
        for account in &accounts {
            deploy::mint_test_euro(&provider, &deployment, *account, Cents(1_000_000)).await?;
        }
        println!(
            "minted 10000.00 tEUR to each of {} node accounts",
            accounts.len()
        );
    }
    Ok(())
}
