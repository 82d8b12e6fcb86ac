//! The market's past, read from the node's event logs (not the indexer's mirror, so that the
//! operator's reports neither depend on the indexer nor lag behind it): card settlements by
//! payment reference (the money reconciliation) and the movements of the operator's float (the
//! console).
//!
//! Each reads the logs from the deployment block in one `eth_getLogs` call: a node that caps
//! log ranges would need paging here.

use std::collections::HashMap;

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use tangible_chain::bindings::TangibleMarket;

use super::{ChainClient, ChainError};

/// A card settlement on chain: one `SaleSettled` event with a payment reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// `keccak256(pi id)`, or `keccak256(pi id ‖ "/reinstatement")` for a reinstatement.
    pub payment_ref: B256,
    /// The licence minted.
    pub licence_id: U256,
    /// The price settled, cents.
    pub price_cents: u64,
    /// The settling transaction.
    pub tx_hash: Option<B256>,
    /// Its block's time (Unix seconds).
    pub block_timestamp: Option<u64>,
}

/// What moved the operator's float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatMovementKind {
    /// `deposit()` by the operator.
    Deposit,
    /// A withdrawal from the operator's balance.
    Withdrawal,
    /// A card sale paid from the float (`settleCard*`: the operator is the payer).
    CardSettlement,
    /// A card sale unwound before its clearance time (a chargeback, a refund): its pending
    /// shares came back to the float (`SaleClawedBack` to the operator).
    Clawback,
}

impl FloatMovementKind {
    /// The name the console shows.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Deposit => "deposit",
            Self::Withdrawal => "withdrawal",
            Self::CardSettlement => "card_settlement",
            Self::Clawback => "clawback",
        }
    }
}

/// One movement of the operator's float, in chain order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloatMovement {
    /// What moved it.
    pub kind: FloatMovementKind,
    /// Signed amount, cents (negative: out of the float).
    pub cents: i64,
    /// The licence of a card settlement.
    pub licence_id: Option<U256>,
    /// The payment reference of a card settlement.
    pub payment_ref: Option<B256>,
    /// The transaction.
    pub tx_hash: Option<B256>,
    /// Its block.
    pub block_number: Option<u64>,
    /// Its block's time (Unix seconds).
    pub block_timestamp: Option<u64>,
}

fn signed(cents: u64) -> i64 {
    i64::try_from(cents).unwrap_or(i64::MAX)
}

impl ChainClient {
    /// The market's logs of one event since the deployment block, optionally with `topic1`.
    async fn market_logs(
        &self,
        signature: B256,
        topic1: Option<B256>,
    ) -> Result<Vec<Log>, ChainError> {
        let mut filter = Filter::new()
            .address(self.deployment.contracts.market)
            .event_signature(signature)
            .from_block(self.deployment.deployment_block);
        if let Some(t) = topic1 {
            filter = filter.topic1(t);
        }
        self.provider
            .get_logs(&filter)
            .await
            .map_err(|e| self.rpc_err(e))
    }

    /// A log's block time: from the log when the node gives it, else read from its block once
    /// per block (`cache`).
    async fn block_time(
        &self,
        log: &Log,
        cache: &mut HashMap<u64, u64>,
    ) -> Result<Option<u64>, ChainError> {
        if let Some(t) = log.block_timestamp {
            return Ok(Some(t));
        }
        let Some(n) = log.block_number else {
            return Ok(None);
        };
        if let Some(t) = cache.get(&n) {
            return Ok(Some(*t));
        }
        let t = self
            .provider
            .get_block_by_number(n.into())
            .await
            .map_err(|e| self.rpc_err(e))?
            .map(|b| b.header.timestamp);
        if let Some(t) = t {
            cache.insert(n, t);
        }
        Ok(t)
    }

    /// Every card settlement on chain (`SaleSettled` events with a non-zero payment reference),
    /// in chain order: the money reconciliation's view of the chain ([`crate::reconciliation`]).
    pub async fn card_settlements(&self) -> Result<Vec<Settlement>, ChainError> {
        let logs = self
            .market_logs(TangibleMarket::SaleSettled::SIGNATURE_HASH, None)
            .await?;
        let mut out = Vec::new();
        let mut times = HashMap::new();
        for log in &logs {
            let Ok(ev) = log.log_decode::<TangibleMarket::SaleSettled>() else {
                continue;
            };
            let data = &ev.inner.data;
            if data.paymentRef == B256::ZERO {
                continue;
            }
            out.push(Settlement {
                payment_ref: data.paymentRef,
                licence_id: data.licenceId,
                price_cents: data.priceCents,
                tx_hash: log.transaction_hash,
                block_timestamp: self.block_time(log, &mut times).await?,
            });
        }
        Ok(out)
    }

    /// Every movement of the operator's balance in the market (its card float) since the
    /// deployment, in chain order: deposits, withdrawals, card sales it paid, card sales unwound
    /// before clearance (the money back). Their sum is its
    /// balance now, provided the operator account is neither the platform nor a studio's
    /// royalty recipient (whose withdrawals emit the same `Withdrawn(account)` event): keep
    /// the operator key to the operator role.
    pub async fn float_movements(&self) -> Result<Vec<FloatMovement>, ChainError> {
        let per_cent = self.stablecoin().await?.units_per_cent.max(U256::from(1));
        let to_cents = |units: U256| signed(u64::try_from(units / per_cent).unwrap_or(u64::MAX));
        let operator = self.operator;
        let topic = operator.into_word();
        let mut logs: Vec<(Log, FloatMovementKind)> = Vec::new();
        for (signature, kind, topic1) in [
            (
                TangibleMarket::Deposited::SIGNATURE_HASH,
                FloatMovementKind::Deposit,
                Some(topic),
            ),
            (
                TangibleMarket::Withdrawn::SIGNATURE_HASH,
                FloatMovementKind::Withdrawal,
                Some(topic),
            ),
            (
                TangibleMarket::SaleSettled::SIGNATURE_HASH,
                FloatMovementKind::CardSettlement,
                None,
            ),
            (
                TangibleMarket::SaleClawedBack::SIGNATURE_HASH,
                FloatMovementKind::Clawback,
                None,
            ),
        ] {
            for log in self.market_logs(signature, topic1).await? {
                logs.push((log, kind));
            }
        }
        logs.sort_by_key(|(l, _)| (l.block_number, l.log_index));
        let mut out = Vec::new();
        let mut times = HashMap::new();
        for (log, kind) in &logs {
            let mut push = |kind, cents, licence_id, payment_ref, at| {
                out.push(FloatMovement {
                    kind,
                    cents,
                    licence_id,
                    payment_ref,
                    tx_hash: log.transaction_hash,
                    block_number: log.block_number,
                    block_timestamp: at,
                });
            };
            match kind {
                FloatMovementKind::Deposit => {
                    let Ok(ev) = log.log_decode::<TangibleMarket::Deposited>() else {
                        continue;
                    };
                    let at = self.block_time(log, &mut times).await?;
                    push(*kind, to_cents(ev.inner.data.amount), None, None, at);
                }
                FloatMovementKind::Withdrawal => {
                    let Ok(ev) = log.log_decode::<TangibleMarket::Withdrawn>() else {
                        continue;
                    };
                    let at = self.block_time(log, &mut times).await?;
                    push(*kind, -to_cents(ev.inner.data.amount), None, None, at);
                }
                FloatMovementKind::Clawback => {
                    let Ok(ev) = log.log_decode::<TangibleMarket::SaleClawedBack>() else {
                        continue;
                    };
                    let d = &ev.inner.data;
                    // `refundedTo` is the second topic; a buyer's refund is not float.
                    if d.refundedTo != operator {
                        continue;
                    }
                    let at = self.block_time(log, &mut times).await?;
                    push(*kind, to_cents(d.amount), Some(d.licenceId), None, at);
                }
                FloatMovementKind::CardSettlement => {
                    let Ok(ev) = log.log_decode::<TangibleMarket::SaleSettled>() else {
                        continue;
                    };
                    let d = &ev.inner.data;
                    // Card sales the operator paid from the float. (Shares of a sale credited
                    // to the operator as seller, studio or platform accrue elsewhere: not float.)
                    if d.payer != operator {
                        continue;
                    }
                    let at = self.block_time(log, &mut times).await?;
                    let reference = (d.paymentRef != B256::ZERO).then_some(d.paymentRef);
                    push(
                        FloatMovementKind::CardSettlement,
                        -signed(d.priceCents),
                        Some(d.licenceId),
                        reference,
                        at,
                    );
                }
            }
        }
        Ok(out)
    }
}
