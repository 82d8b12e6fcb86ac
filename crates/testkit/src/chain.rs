//! A fresh anvil with Tangible deployed, and the seeding steps the fixtures compose: a studio
//! with a film, the demo catalogue, funded buyers, the operator's float.

use alloy::network::EthereumWallet;
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use tangible_chain::Deployment;
use tangible_chain::bindings::{TangibleMarket, TestEuro};
use tangible_chain::deploy::{self, DemoCatalogue, DeployConfig};
use tangible_domain::{Cents, Quality};

/// Which of anvil's ten default accounts plays which role in [`TestChain`].
pub mod roles {
    /// Deployer, admin and operator (the API's settlement key).
    pub const OPERATOR: usize = 0;
    /// The (first) studio's admin.
    pub const STUDIO_ADMIN: usize = 1;
    /// The (first) studio's royalty recipient.
    pub const ROYALTY: usize = 2;
    /// The first buyer; buyers are accounts `BUYER..`.
    pub const BUYER: usize = 3;
    /// The platform treasury.
    pub const PLATFORM: usize = 9;
}

/// Sends a call and returns its successful receipt; panics if it fails, reverts or is not mined
/// within a minute.
///
/// The receipt is polled by hash rather than through alloy's `get_receipt`: that one asks the
/// provider's block watcher, which remembers the transactions of blocks it has seen and is
/// not told about `anvil_reorg`/`anvil_rollback`. After a rollback, the same call from the
/// same nonce is the same transaction hash as one in a dropped block, so the watcher reported
/// it confirmed before it was mined again and `get_receipt` failed with `NullResp` (seen once
/// in CI, in the indexer's reorg test).
pub async fn mined<P: Provider, D: alloy::contract::CallDecoder>(
    call: alloy::contract::CallBuilder<P, D>,
) -> TransactionReceipt {
    let pending = call.send().await.expect("send");
    let hash = *pending.tx_hash();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let receipt = loop {
        if let Some(receipt) = pending
            .provider()
            .get_transaction_receipt(hash)
            .await
            .expect("receipt")
        {
            break receipt;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "transaction {hash} not mined within 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert!(
        receipt.status(),
        "transaction {} reverted",
        receipt.transaction_hash
    );
    receipt
}

/// A studio with one film, as [`TestChain::register_film`] registers it.
#[derive(Debug, Clone, Copy)]
pub struct Film<'a> {
    /// The studio's name.
    pub studio: &'a str,
    /// The studio's commission in basis points, if not the contract's default.
    pub commission_bps: Option<u16>,
    /// The film's title.
    pub title: &'a str,
    /// The film's year.
    pub year: u16,
    /// The editions: quality code, master name (its keccak256 is the master hash), price in
    /// cents.
    pub editions: &'a [(u8, &'a str, u64)],
}

impl Film<'static> {
    /// "Film" (2024) of "Studio", with one 4K edition at 13 € whose master hash is
    /// `keccak256("master")`: the chain and API fixtures' film.
    pub const SINGLE_4K: Self = Film {
        studio: "Studio",
        commission_bps: None,
        title: "Film",
        year: 2024,
        editions: &[(2, "master", 1300)],
    };
}

/// anvil with Tangible deployed: account 0 deploys and holds the admin and operator roles,
/// account 9 is the platform (see [`roles`]); the provider signs for every anvil account.
#[derive(Debug)]
pub struct TestChain {
    /// The node; stopped when dropped.
    pub anvil: AnvilInstance,
    /// A provider whose wallet holds every anvil key (`.from(account)` picks the signer).
    pub provider: DynProvider,
    /// The deployed contracts.
    pub deployment: Deployment,
    /// anvil's keys, by account index.
    pub keys: Vec<PrivateKeySigner>,
}

impl TestChain {
    /// A fresh anvil (instant mining) with Tangible deployed.
    pub async fn deploy() -> Self {
        Self::deploy_on(tangible_chain::anvil::anvil()).await
    }

    /// Starts `anvil` (a builder from `tangible_chain::anvil::anvil()`, with any extra
    /// settings) and deploys Tangible on it.
    pub async fn deploy_on(anvil: Anvil) -> Self {
        let anvil = anvil
            .try_spawn()
            .expect("anvil starts (run `make tools` first)");
        let keys: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| k.clone().into()).collect();
        let mut wallet = EthereumWallet::from(keys[roles::OPERATOR].clone());
        for k in &keys[1..] {
            wallet.register_signer(k.clone());
        }
        let provider = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(anvil.endpoint_url())
            .erased();
        let operator = keys[roles::OPERATOR].address();
        let deployment = deploy::deploy_all(
            &provider,
            &DeployConfig {
                stablecoin: None,
                admin: operator,
                operator,
                platform: keys[roles::PLATFORM].address(),
                clearance_period: None,
            },
        )
        .await
        .expect("deploy");
        Self {
            anvil,
            provider,
            deployment,
            keys,
        }
    }

    /// The address of anvil account `i`.
    pub fn address(&self, i: usize) -> Address {
        self.keys[i].address()
    }

    /// The addresses of the first `n` buyers (accounts [`roles::BUYER`]`..`).
    pub fn buyers(&self, n: usize) -> Vec<Address> {
        (roles::BUYER..roles::BUYER + n)
            .map(|i| self.address(i))
            .collect()
    }

    /// The market contract.
    pub fn market(&self) -> TangibleMarket::TangibleMarketInstance<DynProvider> {
        TangibleMarket::new(self.deployment.contracts.market, self.provider.clone())
    }

    /// The local stablecoin.
    pub fn token(&self) -> TestEuro::TestEuroInstance<DynProvider> {
        TestEuro::new(self.deployment.contracts.stablecoin, self.provider.clone())
    }

    /// Registers a studio (`admin`, royalties to `royalty`; commission set by the operator if
    /// given) and its film and editions, the film and editions sent by the studio's admin;
    /// returns the studio and film ids.
    pub async fn register_film(
        &self,
        admin: Address,
        royalty: Address,
        film: &Film<'_>,
    ) -> (u32, u64) {
        let market = self.market();
        mined(market.registerStudio(admin, royalty, film.studio.into())).await;
        let studio_id = market.studioCount().call().await.expect("studioCount");
        if let Some(bps) = film.commission_bps {
            mined(market.setStudioCommission(studio_id, bps)).await;
        }
        mined(
            market
                .registerFilm(studio_id, film.title.into(), film.year)
                .from(admin),
        )
        .await;
        let film_id = market.filmCount().call().await.expect("filmCount");
        for (quality, master, price) in film.editions {
            mined(
                market
                    .registerEdition(film_id, *quality, keccak256(master), *price)
                    .from(admin),
            )
            .await;
        }
        (studio_id, film_id)
    }

    /// The demo catalogue `make up` registers ([`deploy::register_demo`]): "Le Voyage dans la
    /// Lune" in HD (9 €) and 4K (13 €); `master_hashes` as there.
    pub async fn register_demo(
        &self,
        studio_admin: Address,
        royalty: Address,
        master_hashes: &[(Quality, B256)],
    ) -> DemoCatalogue {
        deploy::register_demo(
            &self.provider,
            &self.deployment,
            studio_admin,
            royalty,
            master_hashes,
        )
        .await
        .expect("registering the demo catalogue")
    }

    /// Mints `units` (smallest units, 6 decimals) of the stablecoin to each of `accounts`, and
    /// has each approve the market for any amount.
    pub async fn fund(&self, accounts: &[Address], units: U256) {
        let token = self.token();
        for who in accounts {
            mined(token.mint(*who, units)).await;
            mined(
                token
                    .approve(self.deployment.contracts.market, U256::MAX)
                    .from(*who),
            )
            .await;
        }
    }

    /// The operator's float for card settlements: `amount` minted to the operator
    /// ([`deploy::mint_test_euro`]), the market approved for any amount, and `amount`
    /// deposited.
    pub async fn deposit_float(&self, amount: Cents) {
        let operator = self.address(roles::OPERATOR);
        deploy::mint_test_euro(&self.provider, &self.deployment, operator, amount)
            .await
            .expect("minting the float");
        mined(
            self.token()
                .approve(self.deployment.contracts.market, U256::MAX),
        )
        .await;
        let units = amount.to_token_units(6).expect("float in token units");
        mined(self.market().deposit(U256::from(units))).await;
    }
}
