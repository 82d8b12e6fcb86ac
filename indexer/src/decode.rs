//! Logs → typed Tangible events, with the bindings `tangible-chain` generates from the
//! contracts' artifacts (`TangibleMarket` emits every event the indexer mirrors).

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEventInterface;
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

/// Every event of the contract, as `sol!` generates it from the ABI
/// (`TangibleMarket::TangibleMarketEvents`): the derived tables fold some of them (see
/// `store`), the raw log keeps them all.
pub type TangibleEvent = M::TangibleMarketEvents;

/// A raw event with its name and, for an event of the contract, its decoded form.
#[derive(Debug, Clone)]
pub struct Event {
    /// The log.
    pub raw: RawEvent,
    /// Event name, `None` for a log whose signature the indexer does not know.
    pub name: Option<&'static str>,
    /// Decoded event, `None` for a log whose signature the indexer does not know.
    pub decoded: Option<TangibleEvent>,
}

/// Decodes one log with the contract's generated event enum. A known event that fails to
/// decode is an error (the contracts and the indexer disagree: stop rather than mirror wrong
/// data); an unknown one is kept raw.
pub fn decode(raw: RawEvent) -> Result<Event> {
    let known = raw
        .topics
        .first()
        .and_then(|t| TangibleEvent::SELECTORS.binary_search(&t.0).ok());
    let Some(i) = known else {
        return Ok(Event {
            raw,
            name: None,
            decoded: None,
        });
    };
    // `VARIANT_NAMES` is in the order of `SELECTORS`.
    let name = TangibleEvent::VARIANT_NAMES[i];
    let decoded = TangibleEvent::decode_raw_log(&raw.topics, &raw.data).map_err(|e| {
        IndexerError::Decode {
            tx_hash: raw.tx_hash.to_string(),
            log_index: raw.log_index,
            event: name,
            reason: e.to_string(),
        }
    })?;
    Ok(Event {
        raw,
        name: Some(name),
        decoded: Some(decoded),
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

#[cfg(test)]
mod tests {
    use alloy::primitives::LogData;

    use super::*;

    fn raw(log: &LogData) -> RawEvent {
        RawEvent {
            block_number: 5,
            block_hash: B256::repeat_byte(5),
            block_timestamp: None,
            tx_hash: B256::repeat_byte(6),
            tx_index: 0,
            log_index: 7,
            address: Address::repeat_byte(0xee),
            topics: log.topics().to_vec(),
            data: log.data.clone(),
        }
    }

    #[test]
    fn events_of_the_contract_are_named_and_decoded_others_kept_raw() {
        let minted = M::LicenceMinted {
            licenceId: U256::from(9),
            owner: Address::repeat_byte(1),
            filmId: 3,
            quality: 2,
            acquiredAt: 100,
            holdUntil: 0,
        };
        let log = alloy::sol_types::SolEvent::encode_log_data(&minted);
        let e = decode(raw(&log)).unwrap();
        assert_eq!(e.name, Some("LicenceMinted"));
        assert_eq!(e.decoded, Some(TangibleEvent::LicenceMinted(minted)));

        // An event the derived tables do not fold is decoded and named too.
        let transfer = M::Transfer {
            from: Address::ZERO,
            to: Address::repeat_byte(2),
            tokenId: U256::from(9),
        };
        let e = decode(raw(&alloy::sol_types::SolEvent::encode_log_data(&transfer))).unwrap();
        assert_eq!(e.name, Some("Transfer"));
        assert_eq!(e.decoded, Some(TangibleEvent::Transfer(transfer)));

        // A known signature whose data does not decode stops the indexer.
        let mut truncated = raw(&log);
        truncated.data = Bytes::copy_from_slice(&log.data[..32]);
        match decode(truncated) {
            Err(IndexerError::Decode {
                event, log_index, ..
            }) => assert_eq!((event, log_index), ("LicenceMinted", 7)),
            other => panic!("{other:?}"),
        }

        // Unknown signature, or no topic: kept raw, unnamed.
        let unknown = LogData::new_unchecked(vec![B256::repeat_byte(0x42)], Bytes::new());
        let e = decode(raw(&unknown)).unwrap();
        assert_eq!((e.name, e.decoded), (None, None));
        let anonymous = LogData::new_unchecked(Vec::new(), Bytes::new());
        assert_eq!(decode(raw(&anonymous)).unwrap().name, None);
    }
}
