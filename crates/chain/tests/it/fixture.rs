//! A fresh anvil with Tangible deployed, a studio and a film, and funded buyers (the test kit's
//! [`TestChain`], seeded with its [`Film::SINGLE_4K`]).

use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;
use tangible_chain::Deployment;
use tangible_chain::bindings::TangibleMarket;
pub(crate) use tangible_testkit::mined;
use tangible_testkit::{Film, TestChain, roles};

/// anvil's accounts used by the tests, by role.
pub(crate) struct Accounts {
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

/// anvil, Tangible deployed, one studio with one film in quality 2 (4K), two funded buyers
/// who approved the market.
pub(crate) async fn chain() -> Chain {
    let chain = TestChain::deploy().await;
    let accounts = Accounts {
        studio_admin: chain.address(roles::STUDIO_ADMIN),
        royalty: chain.address(roles::ROYALTY),
        buyers: [chain.address(roles::BUYER), chain.address(roles::BUYER + 1)],
        platform: chain.address(roles::PLATFORM),
    };
    let (studio_id, film_id) = chain
        .register_film(accounts.studio_admin, accounts.royalty, &Film::SINGLE_4K)
        .await;
    chain.fund(&accounts.buyers, U256::from(1u128 << 120)).await;
    let TestChain {
        anvil,
        provider,
        deployment,
        ..
    } = chain;
    Chain {
        _anvil: anvil,
        provider,
        deployment,
        accounts,
        studio_id,
        film_id,
    }
}
