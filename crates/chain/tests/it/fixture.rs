//! A fresh anvil with Tangible deployed, a studio and a film, and funded buyers.

use alloy::network::EthereumWallet;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use tangible_chain::Deployment;
use tangible_chain::bindings::{TangibleMarket, TestEuro};
use tangible_chain::deploy::{DeployConfig, deploy_all};

/// anvil's accounts used by the tests, by role.
pub(crate) struct Accounts {
    pub(crate) deployer: Address,
    pub(crate) studio_admin: Address,
    pub(crate) royalty: Address,
    pub(crate) buyers: [Address; 2],
    pub(crate) platform: Address,
}

pub(crate) struct Chain {
    pub(crate) _anvil: AnvilInstance,
    pub(crate) provider: DynProvider,
    pub(crate) deployment: Deployment,
    pub(crate) accounts: Accounts,
    pub(crate) studio_id: u32,
    pub(crate) film_id: u64,
}

impl Chain {
    pub(crate) fn market(&self) -> TangibleMarket::TangibleMarketInstance<DynProvider> {
        TangibleMarket::new(self.deployment.contracts.market, self.provider.clone())
    }
}

/// Sends a call and returns its successful receipt.
pub(crate) async fn mined<P: Provider, D: alloy::contract::CallDecoder>(
    call: alloy::contract::CallBuilder<P, D>,
) -> TransactionReceipt {
    let receipt = call
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(
        receipt.status(),
        "transaction {} reverted",
        receipt.transaction_hash
    );
    receipt
}

/// anvil, Tangible deployed, one studio with one film in quality 2 (4K), two funded buyers
/// who approved the market.
pub(crate) async fn chain() -> Chain {
    let anvil = tangible_chain::anvil::spawn().expect("anvil starts (run `make tools` first)");
    let keys: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| k.clone().into()).collect();
    let mut wallet = EthereumWallet::from(keys[0].clone());
    for k in &keys[1..] {
        wallet.register_signer(k.clone());
    }
    let accounts = Accounts {
        deployer: keys[0].address(),
        studio_admin: keys[1].address(),
        royalty: keys[2].address(),
        buyers: [keys[3].address(), keys[4].address()],
        platform: keys[9].address(),
    };
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(anvil.endpoint_url())
        .erased();

    let deployment = deploy_all(
        &provider,
        &DeployConfig {
            stablecoin: None,
            admin: accounts.deployer,
            operator: accounts.deployer,
            platform: accounts.platform,
        },
    )
    .await
    .expect("deploy");

    let market = TangibleMarket::new(deployment.contracts.market, &provider);
    mined(market.registerStudio(accounts.studio_admin, accounts.royalty, "Studio".into())).await;
    let studio_id = market.studioCount().call().await.unwrap();
    mined(
        market
            .registerFilm(studio_id, "Film".into(), 2024)
            .from(accounts.studio_admin),
    )
    .await;
    let film_id = market.filmCount().call().await.unwrap();
    mined(
        market
            .registerEdition(film_id, 2, keccak256("master"), 1300)
            .from(accounts.studio_admin),
    )
    .await;

    let token = TestEuro::new(deployment.contracts.stablecoin, &provider);
    for buyer in accounts.buyers {
        mined(token.mint(buyer, U256::from(1u128 << 120))).await;
        mined(
            token
                .approve(deployment.contracts.market, U256::MAX)
                .from(buyer),
        )
        .await;
    }
    Chain {
        _anvil: anvil,
        provider,
        deployment,
        accounts,
        studio_id,
        film_id,
    }
}
