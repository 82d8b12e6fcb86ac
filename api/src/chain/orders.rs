//! Signed resale orders on chain: the seller's next nonce, the EIP-712 domain, and the
//! operator's submission of an order (`relayOrder`) for a seller who holds no ETH.

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use tangible_chain::bindings::TangibleMarket;
use tangible_chain::orders::{Order, OrderAction};

use super::{ChainClient, ChainError};

impl ChainClient {
    /// The nonce `seller`'s next signed order must carry (`orderNonce`), counting the orders
    /// sent and not yet mined (read at the `pending` block): an order whose transaction waits
    /// in the node's pool has spent its nonce already.
    pub async fn order_nonce(&self, seller: Address) -> Result<u32, ChainError> {
        self.market()
            .orderNonce(seller)
            .call()
            .block(BlockId::pending())
            .await
            .map_err(|e| self.contract_err(e))
    }

    /// Whether `account` has code (a contract wallet, whose signatures only the chain checks).
    pub async fn has_code(&self, account: Address) -> Result<bool, ChainError> {
        Ok(!self.code_at(account).await?.is_empty())
    }

    async fn code_at(&self, account: Address) -> Result<alloy::primitives::Bytes, ChainError> {
        self.provider
            .get_code_at(account)
            .await
            .map_err(|e| self.rpc_err(e))
    }

    /// Whether `account` can hold a licence it can use: an account without code, or an EIP-7702
    /// account (its code is only a delegation designator, `0xef0100 || address`: a private key
    /// still controls it and signs in). A contract can neither sign in nor receive a film's key,
    /// and its control can change hands with no sale (audit M-1a).
    pub async fn can_hold_licences(&self, account: Address) -> Result<bool, ChainError> {
        let code = self.code_at(account).await?;
        Ok(code.is_empty() || (code.len() == 23 && code.starts_with(&[0xef, 0x01, 0x00])))
    }

    /// The chain id and market of the signed orders' EIP-712 domain.
    pub const fn order_domain(&self) -> alloy::sol_types::Eip712Domain {
        tangible_chain::orders::domain(self.deployment.chain_id, self.deployment.contracts.market)
    }

    /// Simulates `call` from the operator (`eth_call` on the `pending` block, after the
    /// transactions sent and not yet mined): the contract's refusal, if any, with nothing sent
    /// (a signed order's ERC-1271 signature is checked there too).
    pub async fn simulate<C: alloy::sol_types::SolCall>(&self, call: &C) -> Result<(), ChainError> {
        self.market()
            .call_builder(call)
            .from(self.operator)
            .block(BlockId::pending())
            .call_raw()
            .await
            .map_err(|e| self.contract_err(e))?;
        Ok(())
    }

    /// Waits until transaction `hash` is mined, or the chain's clock passes `deadline` (a
    /// signed order cannot run after its deadline), or `cap` has elapsed, whichever is first.
    pub async fn wait_mined(&self, hash: B256, deadline: u64, cap: std::time::Duration) {
        let end = tokio::time::Instant::now() + cap;
        // Each call bounded: a node that stops answering must not hold the wait past `cap`.
        let call = std::time::Duration::from_secs(10);
        while tokio::time::Instant::now() < end {
            let receipt = tokio::time::timeout(call, self.provider.get_transaction_receipt(hash));
            if matches!(receipt.await, Ok(Ok(Some(_)))) {
                return;
            }
            let now = tokio::time::timeout(call, self.head_timestamp());
            if matches!(now.await, Ok(Ok(t)) if t > deadline) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
    }

    /// The gas `call` would take from the operator (`eth_estimateGas` on the `pending` block).
    pub async fn estimate<C: alloy::sol_types::SolCall>(
        &self,
        call: &C,
    ) -> Result<u64, ChainError> {
        self.market()
            .call_builder(call)
            .from(self.operator)
            .block(BlockId::pending())
            .estimate_gas()
            .await
            .map_err(|e| self.contract_err(e))
    }

    /// Submits `seller`'s signed order (`relayOrder`) and returns the offer id and transaction.
    pub async fn relay_order(
        &self,
        order: &Order,
        signature: Bytes,
    ) -> Result<(U256, B256), ChainError> {
        let call = order.relay_call(signature);
        let receipt = self
            .send_receipt("relayOrder", self.market().call_builder(&call))
            .await?;
        // A listing's offer id is new (its event); a reprice or cancellation names its offer.
        let offer = if order.action == OrderAction::List as u8 {
            self.event::<TangibleMarket::OfferListed>(&receipt)?.offerId
        } else {
            order.target
        };
        Ok((offer, receipt.transaction_hash))
    }
}
