//! Logs → typed Tangible events, with the bindings `tangible-chain` generates from the
//! contracts' artifacts (`TangibleMarket` emits every event the indexer mirrors).

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEvent;
use tangible_chain::bindings::TangibleMarket as M;

use crate::{IndexerError, Result};

/// One log as stored in the raw `events` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    /// Block number.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: B256,
    /// Block timestamp (seconds), when known.
    pub block_timestamp: Option<u64>,
    /// Transaction hash.
    pub tx_hash: B256,
    /// Index of the transaction in its block.
    pub tx_index: u64,
    /// Index of the log in its block.
    pub log_index: u64,
    /// Emitting contract.
    pub address: Address,
    /// Topics (topic0 = event signature hash).
    pub topics: Vec<B256>,
    /// Non-indexed data.
    pub data: Bytes,
}

impl RawEvent {
    /// A raw event from an RPC log; `None` for a pending log (no block or transaction yet).
    pub fn from_log(log: &Log, block_timestamp: Option<u64>) -> Option<Self> {
        Some(Self {
            block_number: log.block_number?,
            block_hash: log.block_hash?,
            block_timestamp: log.block_timestamp.or(block_timestamp),
            tx_hash: log.transaction_hash?,
            tx_index: log.transaction_index?,
            log_index: log.log_index?,
            address: log.address(),
            topics: log.topics().to_vec(),
            data: log.data().data.clone(),
        })
    }
}

/// The Tangible events that change the derived tables.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TangibleEvent {
    StudioRegistered(M::StudioRegistered),
    StudioUpdated(M::StudioUpdated),
    FilmRegistered(M::FilmRegistered),
    EditionRegistered(M::EditionRegistered),
    EditionUpdated(M::EditionUpdated),
    EditionStatusChanged(M::EditionStatusChanged),
    LicenceMinted(M::LicenceMinted),
    LicenceRevoked(M::LicenceRevoked),
    OfferListed(M::OfferListed),
    OfferUpdated(M::OfferUpdated),
    OfferCancelled(M::OfferCancelled),
    OfferFilled(M::OfferFilled),
    SaleSettled(M::SaleSettled),
    Withdrawn(M::Withdrawn),
    Deposited(M::Deposited),
}

/// A raw event with its name and, for the mirrored events, its decoded form.
#[derive(Debug, Clone)]
pub struct Event {
    /// The log.
    pub raw: RawEvent,
    /// Event name, `None` for a log whose signature the indexer does not know.
    pub name: Option<&'static str>,
    /// Decoded event when it feeds a derived table.
    pub decoded: Option<TangibleEvent>,
}

/// Signature hash → name of the events that are only kept in the raw log.
const LOGGED_ONLY: &[(B256, &str)] = &[
    (M::Transfer::SIGNATURE_HASH, "Transfer"),
    (M::Approval::SIGNATURE_HASH, "Approval"),
    (M::ApprovalForAll::SIGNATURE_HASH, "ApprovalForAll"),
    (M::PlatformChanged::SIGNATURE_HASH, "PlatformChanged"),
    (M::HoldPeriodChanged::SIGNATURE_HASH, "HoldPeriodChanged"),
    (M::BaseURIChanged::SIGNATURE_HASH, "BaseURIChanged"),
    (M::Paused::SIGNATURE_HASH, "Paused"),
    (M::Unpaused::SIGNATURE_HASH, "Unpaused"),
    (M::RoleGranted::SIGNATURE_HASH, "RoleGranted"),
    (M::RoleRevoked::SIGNATURE_HASH, "RoleRevoked"),
    (M::RoleAdminChanged::SIGNATURE_HASH, "RoleAdminChanged"),
];

fn decode_as<E: SolEvent>(raw: &RawEvent, name: &'static str) -> Result<E> {
    E::decode_raw_log(raw.topics.iter().copied(), &raw.data).map_err(|e| IndexerError::Decode {
        tx_hash: raw.tx_hash.to_string(),
        log_index: raw.log_index,
        event: name,
        reason: e.to_string(),
    })
}

/// Decodes one log. A known event that fails to decode is an error (the contracts and the
/// indexer disagree: stop rather than mirror wrong data); an unknown one is kept raw.
pub fn decode(raw: RawEvent) -> Result<Event> {
    let Some(topic0) = raw.topics.first().copied() else {
        return Ok(Event {
            raw,
            name: None,
            decoded: None,
        });
    };
    macro_rules! mirrored {
        ($($ev:ident),* $(,)?) => {
            $(
                if topic0 == M::$ev::SIGNATURE_HASH {
                    let e = decode_as::<M::$ev>(&raw, stringify!($ev))?;
                    return Ok(Event { raw, name: Some(stringify!($ev)), decoded: Some(TangibleEvent::$ev(e)) });
                }
            )*
        };
    }
    mirrored!(
        StudioRegistered,
        StudioUpdated,
        FilmRegistered,
        EditionRegistered,
        EditionUpdated,
        EditionStatusChanged,
        LicenceMinted,
        LicenceRevoked,
        OfferListed,
        OfferUpdated,
        OfferCancelled,
        OfferFilled,
        SaleSettled,
        Withdrawn,
        Deposited,
    );
    let name = LOGGED_ONLY
        .iter()
        .find(|(h, _)| *h == topic0)
        .map(|(_, n)| *n);
    Ok(Event {
        raw,
        name,
        decoded: None,
    })
}

/// `0x`-prefixed lowercase hex, the schema's text form of addresses and hashes.
pub fn hex0x(bytes: impl AsRef<[u8]>) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// A `uint64` as the schema's `BIGINT`; values above `i64::MAX` are refused (never produced
/// by the contracts: ids are small and amounts are cents).
pub(crate) fn i64_of(v: u64, raw: &RawEvent, event: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|_| IndexerError::Decode {
        tx_hash: raw.tx_hash.to_string(),
        log_index: raw.log_index,
        event,
        reason: format!("value {v} exceeds BIGINT"),
    })
}

/// A `uint256` as the decimal text of a `NUMERIC(78, 0)`.
pub(crate) fn dec(v: U256) -> String {
    v.to_string()
}
