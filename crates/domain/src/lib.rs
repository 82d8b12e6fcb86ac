//! Tangible's domain: the types every other crate shares and the one Rust copy of the money rule.
//!
//! Prices are EUR cents ([`Cents`]). A sale's [`Split`] is computed here and only here:
//! [`Split::resale`] (80 % seller, 15 % studio, 5 % platform, remainder to the seller) and
//! [`Split::primary`] (studio gets the price minus the platform's per-studio commission).
//! The Solidity copy of the same rule (`contracts/src/lib/SplitLib.sol`) is tested against this one
//! on a live chain (`crates/chain/tests`).

mod money;
mod quality;
mod split;

pub use money::{Cents, MoneyError};
pub use quality::{ParseQualityError, Quality};
pub use split::{
    BPS_DENOMINATOR, Bps, DEFAULT_COMMISSION_BPS, MAX_COMMISSION_BPS, MIN_RESALE_PRICE,
    PLATFORM_RESALE_BPS, STUDIO_RESALE_BPS, Split, SplitError,
};
