//! Integration tests of the indexer on a real anvil and a real (private) PostgreSQL.

mod backfill;
mod confirmations;
mod crash;
mod fixture;
mod mirror;
mod outage;
mod reorg;
mod schema;
mod unwind;
