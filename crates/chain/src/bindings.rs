//! Typed contract bindings, generated at compile time from the forge artifacts.
//!
//! Registry, licences and market are one contract, [`TangibleMarket`] (one address, so a sale
//! makes no cross-contract call), which runs its cold functions in [`TangibleMarketAdmin`], deployed
//! just before it; [`TestEuro`] is the 6-decimal stablecoin deployed locally.
//! Custom errors decode through `TangibleMarket::TangibleMarketErrors`.

#![allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    TangibleMarket,
    "../../contracts/out/TangibleMarket.sol/TangibleMarket.json"
);

/// The admin module's own binding, in a module of its own: it shares type names with [`TangibleMarket`]
/// (only its deployment is used; calls go through the market).
mod admin_module {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        TangibleMarketAdmin,
        "../../contracts/out/TangibleMarketAdmin.sol/TangibleMarketAdmin.json"
    );
}

pub use admin_module::TangibleMarketAdmin;

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    TestEuro,
    "../../contracts/out/TestEuro.sol/TestEuro.json"
);
