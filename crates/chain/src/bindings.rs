//! Typed contract bindings, generated at compile time from the forge artifacts.
//!
//! Registry, licences and market are one contract, [`TangibleMarket`] (one address, so a sale
//! makes no cross-contract call); [`TestEuro`] is the 6-decimal stablecoin deployed locally.
//! Custom errors decode through `TangibleMarket::TangibleMarketErrors`.

#![allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    TangibleMarket,
    "../../contracts/out/TangibleMarket.sol/TangibleMarket.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    TestEuro,
    "../../contracts/out/TestEuro.sol/TestEuro.json"
);
