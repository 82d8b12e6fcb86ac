//! Deploys Tangible to any chain and registers the local demo catalogue.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::Provider;
use tangible_domain::{Cents, Quality};

use crate::bindings::{TangibleMarket, TangibleMarketAdmin, TestEuro};
use crate::{Contracts, Deployment};

/// Errors while deploying or registering.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A contract call or deployment failed.
    #[error("{step}: {source}")]
    Contract {
        /// What was being done.
        step: &'static str,
        /// The cause.
        #[source]
        source: alloy::contract::Error,
    },
    /// Waiting for a transaction failed.
    #[error("{step}: {source}")]
    Pending {
        /// What was being done.
        step: &'static str,
        /// The cause.
        #[source]
        source: alloy::providers::PendingTransactionError,
    },
    /// A transaction was mined but reverted.
    #[error("{step}: transaction {tx} reverted")]
    Reverted {
        /// What was being done.
        step: &'static str,
        /// The transaction hash.
        tx: B256,
    },
    /// An RPC request failed.
    #[error("{step}: {source}")]
    Rpc {
        /// What was being done.
        step: &'static str,
        /// The cause.
        #[source]
        source: alloy::transports::TransportError,
    },
    /// The chain returned something the deployer did not expect.
    #[error("{0}")]
    Unexpected(String),
}

/// What to deploy and who gets which role.
#[derive(Debug, Clone)]
pub struct DeployConfig {
    /// An existing EUR stablecoin; `None` deploys a [`TestEuro`] owned by the deployer (local use).
    pub stablecoin: Option<Address>,
    /// Holder of the admin role (roles, hold period, platform account).
    pub admin: Address,
    /// Holder of the three platform key roles: `SETTLER_ROLE` (card settlement), `REVOKER_ROLE`
    /// (revocation), `REGISTRAR_ROLE` (registration for studios).
    pub operator: Address,
    /// Account credited with the platform's shares.
    pub platform: Address,
    /// Clearance period of card money to set after deployment, seconds (`setClearancePeriod`,
    /// sent by the admin, which must then be the provider's signer); `None` keeps the
    /// contract's default of 120 days. Local stacks shorten it so that a walkthrough can see
    /// pending money clear.
    pub clearance_period: Option<u32>,
}

/// Sends a prepared contract call and waits for a successful receipt.
macro_rules! send {
    ($step:expr, $call:expr) => {{
        let pending = $call.send().await.map_err(|source| DeployError::Contract {
            step: $step,
            source,
        })?;
        let receipt = pending
            .get_receipt()
            .await
            .map_err(|source| DeployError::Pending {
                step: $step,
                source,
            })?;
        if !receipt.status() {
            return Err(DeployError::Reverted {
                step: $step,
                tx: receipt.transaction_hash,
            });
        }
        receipt
    }};
}

/// Deploys the stablecoin (if none is given) and the market, and returns the deployment.
pub async fn deploy_all<P: Provider + Clone>(
    provider: &P,
    cfg: &DeployConfig,
) -> Result<Deployment, DeployError> {
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|source| DeployError::Rpc {
            step: "reading the chain id",
            source,
        })?;
    let deployer = provider
        .get_accounts()
        .await
        .ok()
        .and_then(|a| a.first().copied())
        .unwrap_or(cfg.admin);

    let mut first_block = None;
    let stablecoin = match cfg.stablecoin {
        Some(addr) => addr,
        None => {
            let builder = TestEuro::deploy_builder(provider, deployer);
            let receipt = send!("deploying TestEuro", builder);
            first_block = receipt.block_number;
            receipt.contract_address.ok_or_else(|| {
                DeployError::Unexpected("TestEuro deployment has no contract address".into())
            })?
        }
    };
    // The admin module first: its code no longer fits in the market's creation code (EIP-3860).
    let builder = TangibleMarketAdmin::deploy_builder(provider, stablecoin);
    let receipt = send!("deploying TangibleMarketAdmin", builder);
    first_block = first_block.or(receipt.block_number);
    let admin_module = receipt.contract_address.ok_or_else(|| {
        DeployError::Unexpected("TangibleMarketAdmin deployment has no contract address".into())
    })?;
    let builder = TangibleMarket::deploy_builder(
        provider,
        stablecoin,
        cfg.admin,
        cfg.operator,
        cfg.platform,
        admin_module,
    );
    let receipt = send!("deploying TangibleMarket", builder);
    let market = receipt.contract_address.ok_or_else(|| {
        DeployError::Unexpected("TangibleMarket deployment has no contract address".into())
    })?;
    let deployment_block = first_block.or(receipt.block_number).unwrap_or_default();
    if let Some(period) = cfg.clearance_period {
        let market = TangibleMarket::new(market, provider);
        send!(
            "setting the clearance period",
            market.setClearancePeriod(period).from(cfg.admin)
        );
    }

    Ok(Deployment {
        chain_id,
        deployment_block,
        // Registry, licences and market are one contract (see `bindings`).
        contracts: Contracts {
            registry: market,
            licence: market,
            market,
            stablecoin,
        },
        operator: cfg.operator,
        platform: cfg.platform,
    })
}

/// The demo catalogue `make up` registers: one studio and one film in HD and 4K.
#[derive(Debug, Clone)]
pub struct DemoCatalogue {
    /// The studio's id.
    pub studio_id: u32,
    /// The film's id.
    pub film_id: u64,
    /// The editions: quality, master hash, price.
    pub editions: Vec<(Quality, B256, Cents)>,
}

/// Registers a demo studio (administered by `studio_admin`, royalties to `royalty_recipient`)
/// and a film with an HD edition at 9 € and a 4K edition at 13 €. `master_hashes` gives each
/// edition's master hash; without one, the hash of the edition's name stands in until a master
/// is uploaded.
pub async fn register_demo<P: Provider + Clone>(
    provider: &P,
    deployment: &Deployment,
    studio_admin: Address,
    royalty_recipient: Address,
    master_hashes: &[(Quality, B256)],
) -> Result<DemoCatalogue, DeployError> {
    let market = TangibleMarket::new(deployment.contracts.market, provider);
    send!(
        "registering the demo studio",
        market.registerStudio(studio_admin, royalty_recipient, "Studio Méliès".to_owned())
    );
    let studio_id = market
        .studioCount()
        .call()
        .await
        .map_err(|source| DeployError::Contract {
            step: "reading the studio count",
            source,
        })?;
    send!(
        "registering the demo film",
        market.registerFilm(studio_id, "Le Voyage dans la Lune".to_owned(), 1902)
    );
    let film_id = market
        .filmCount()
        .call()
        .await
        .map_err(|source| DeployError::Contract {
            step: "reading the film count",
            source,
        })?;

    let mut editions = Vec::new();
    for (quality, price) in [(Quality::Hd, Cents(900)), (Quality::Uhd4k, Cents(1300))] {
        let hash = master_hashes
            .iter()
            .find(|(q, _)| *q == quality)
            .map(|(_, h)| *h)
            .unwrap_or_else(|| keccak256(format!("demo master {film_id} {quality}")));
        send!(
            "registering a demo edition",
            market.registerEdition(film_id, quality.code(), hash, price.get())
        );
        editions.push((quality, hash, price));
    }
    Ok(DemoCatalogue {
        studio_id,
        film_id,
        editions,
    })
}

/// Mints `amount_cents` of the local [`TestEuro`] to `to` (the deployer owns it).
pub async fn mint_test_euro<P: Provider + Clone>(
    provider: &P,
    deployment: &Deployment,
    to: Address,
    amount: Cents,
) -> Result<(), DeployError> {
    let token = TestEuro::new(deployment.contracts.stablecoin, provider);
    let units = amount
        .to_token_units(6)
        .map_err(|e| DeployError::Unexpected(e.to_string()))?;
    send!("minting TestEuro", token.mint(to, U256::from(units)));
    Ok(())
}
