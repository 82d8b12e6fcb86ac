//! What the indexer needs from a node, and its implementation over alloy's HTTP provider.

use std::future::Future;
use std::time::Duration;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, Log};
use alloy::transports::{RpcError as AlloyRpcError, TransportErrorKind};

/// The identity of a block: number, hash, parent hash, timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Parent block hash.
    pub parent_hash: B256,
    /// Block timestamp (seconds).
    pub timestamp: u64,
}

/// An RPC failure.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The node refused the log query as too large (range or result count): retry smaller.
    #[error("log range refused by the node: {0}")]
    RangeTooLarge(String),
    /// The call did not answer in time.
    #[error("rpc call timed out after {0:?}")]
    Timeout(Duration),
    /// Any other failure (connection refused, server error, malformed answer).
    #[error("{0}")]
    Other(String),
}

/// The node calls the indexer makes. Implemented by [`HttpRpc`]; tests wrap it to inject faults.
pub trait Rpc: Send + Sync {
    /// The chain id.
    fn chain_id(&self) -> impl Future<Output = Result<u64, RpcError>> + Send;
    /// The latest block number.
    fn head(&self) -> impl Future<Output = Result<u64, RpcError>> + Send;
    /// The header of block `number`, `None` if the node has no such block.
    fn block(&self, number: u64)
    -> impl Future<Output = Result<Option<BlockRef>, RpcError>> + Send;
    /// Logs of `addresses` in blocks `from..=to`.
    fn logs(
        &self,
        from: u64,
        to: u64,
        addresses: &[Address],
    ) -> impl Future<Output = Result<Vec<Log>, RpcError>> + Send;
}

/// [`Rpc`] over alloy's HTTP provider, every call bounded by a timeout.
#[derive(Debug, Clone)]
pub struct HttpRpc {
    provider: DynProvider,
    timeout: Duration,
}

impl HttpRpc {
    /// A client of the JSON-RPC endpoint `url`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, RpcError> {
        let url = url
            .parse()
            .map_err(|e| RpcError::Other(format!("invalid RPC URL: {e}")))?;
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_http(url)
            .erased();
        Ok(Self { provider, timeout })
    }

    async fn timed<T>(
        &self,
        fut: impl Future<Output = Result<T, AlloyRpcError<TransportErrorKind>>>,
    ) -> Result<T, RpcError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r.map_err(classify),
            Err(_) => Err(RpcError::Timeout(self.timeout)),
        }
    }
}

/// Whether a node's error message means "ask for fewer blocks or fewer logs". Nodes word it
/// differently: geth "query returned more than 10000 results", Alchemy "Log response size
/// exceeded", Infura "query returned more than", QuickNode "eth_getLogs is limited to a 10,000
/// range", others "block range is too wide", "exceed maximum block range", "limit exceeded".
pub fn is_range_refusal(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "more than",
        "too many",
        "too large",
        "too wide",
        "range",
        "limit",
        "exceed",
        "response size",
    ]
    .iter()
    .any(|k| m.contains(k))
}

fn classify(e: AlloyRpcError<TransportErrorKind>) -> RpcError {
    match &e {
        AlloyRpcError::ErrorResp(payload) if is_range_refusal(&payload.message) => {
            RpcError::RangeTooLarge(payload.message.to_string())
        }
        _ => RpcError::Other(e.to_string()),
    }
}

impl Rpc for HttpRpc {
    async fn chain_id(&self) -> Result<u64, RpcError> {
        self.timed(self.provider.get_chain_id()).await
    }

    async fn head(&self) -> Result<u64, RpcError> {
        self.timed(self.provider.get_block_number()).await
    }

    async fn block(&self, number: u64) -> Result<Option<BlockRef>, RpcError> {
        let block = self
            .timed(async {
                self.provider
                    .get_block_by_number(BlockNumberOrTag::Number(number))
                    .await
            })
            .await?;
        Ok(block.map(|b| BlockRef {
            number: b.header.number,
            hash: b.header.hash,
            parent_hash: b.header.parent_hash,
            timestamp: b.header.timestamp,
        }))
    }

    async fn logs(&self, from: u64, to: u64, addresses: &[Address]) -> Result<Vec<Log>, RpcError> {
        let filter = Filter::new()
            .from_block(from)
            .to_block(to)
            .address(addresses.to_vec());
        self.timed(self.provider.get_logs(&filter)).await
    }
}

#[cfg(test)]
mod tests {
    use super::is_range_refusal;

    #[test]
    fn recognises_the_nodes_range_refusals_and_nothing_else() {
        for m in [
            "query returned more than 10000 results",
            "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range",
            "eth_getLogs is limited to a 10,000 range",
            "block range is too wide",
            "exceed maximum block range: 5000",
        ] {
            assert!(is_range_refusal(m), "{m}");
        }
        for m in [
            "connection refused",
            "internal error",
            "header not found",
            "invalid params",
        ] {
            assert!(!is_range_refusal(m), "{m}");
        }
    }
}
