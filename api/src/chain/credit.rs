//! Credit on chain: an account's signed credit order (`relayCreditOrder`: buy an edition or an
//! offer with its credit, withdraw it), submitted by the operator for an account that holds no
//! ETH, and a studio's earnings paid to its royalty recipient (`withdrawStudio`).

use alloy::primitives::{Address, B256, Bytes, U256};
use tangible_chain::bindings::TangibleMarket;
use tangible_chain::orders::{CreditAction, CreditOrder};

use super::{ChainClient, ChainError};

/// What a relayed credit order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditRelayed {
    /// The licence bought (zero for a withdrawal).
    pub licence_id: U256,
    /// Stablecoin units taken from the account's credit.
    pub amount_units: U256,
    /// The operator's transaction.
    pub tx_hash: B256,
}

impl ChainClient {
    /// Submits `account`'s signed credit order (`relayCreditOrder`).
    pub async fn relay_credit_order(
        &self,
        order: &CreditOrder,
        signature: Bytes,
    ) -> Result<CreditRelayed, ChainError> {
        let call = order.relay_call(signature);
        let receipt = self
            .send_receipt("relayCreditOrder", self.market().call_builder(&call))
            .await?;
        let tx_hash = receipt.transaction_hash;
        if order.action == CreditAction::Withdraw as u8 {
            let ev = self.event::<TangibleMarket::Withdrawn>(&receipt)?;
            return Ok(CreditRelayed {
                licence_id: U256::ZERO,
                amount_units: ev.amount,
                tx_hash,
            });
        }
        let ev = self.event::<TangibleMarket::CreditSpent>(&receipt)?;
        Ok(CreditRelayed {
            licence_id: ev.licenceId,
            amount_units: ev.amount,
            tx_hash,
        })
    }

    /// Pays studio `studio_id`'s earnings to its royalty recipient (`withdrawStudio`, operator
    /// key); returns the recipient, the units paid and the transaction.
    pub async fn withdraw_studio(
        &self,
        studio_id: u32,
    ) -> Result<(Address, U256, B256), ChainError> {
        let market = self.market();
        let receipt = self
            .send_receipt("withdrawStudio", market.withdrawStudio(studio_id))
            .await?;
        let ev = self.event::<TangibleMarket::Withdrawn>(&receipt)?;
        Ok((ev.to, ev.amount, receipt.transaction_hash))
    }
}
