//! Integration tests of tangible-chain against a real anvil node and the compiled contracts.

mod deploy;
mod fixture;
mod split_differential;
