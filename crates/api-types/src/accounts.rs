//! An account's money on the market: `GET /v1/accounts/{address}`. Amounts are stablecoin
//! units (decimal strings: a balance may exceed 2^64) unless named `_cents`.

use serde::{Deserialize, Serialize};

/// An account's withdrawable credit, what is pending for it, and its recent money moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountView {
    /// The account (lowercase hex).
    pub address: String,
    /// Withdrawable now (the market's `balanceOfCredit`, read on chain), stablecoin units.
    pub credit_units: String,
    /// Stablecoin units per euro cent.
    pub units_per_cent: String,
    /// The nonce the account's next signed resale order must carry (`POST /v1/offers`).
    pub order_nonce: u32,
    /// The chain's clock (the latest block's timestamp, unix seconds): an order's deadline is
    /// checked against it, and it may run ahead of or behind the wall clock.
    pub chain_time: u64,
    /// Sum of `pending`, cents: shares of card sales (and of sales of licences whose card
    /// payment has not cleared) that become withdrawable at their clearance time, unless the
    /// payment is disputed before.
    pub pending_cents: i64,
    /// Each pending share, soonest first.
    pub pending: Vec<PendingShare>,
    /// The account's latest money moves (at most 100), newest first, from the indexer's
    /// mirror.
    pub history: Vec<AccountMove>,
}

/// A share of a sale the account will be credited at `clear_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingShare {
    /// The licence the sale minted (decimal).
    pub licence_id: String,
    /// `seller`, `studio` (royalty recipient) or `platform`.
    pub role: String,
    /// The share, cents.
    pub cents: i64,
    /// When it clears, unix seconds (chain time).
    pub clear_at: i64,
    /// Pending because the licence sold had not cleared itself (not a card payment of this
    /// sale).
    pub tainted: bool,
}

/// One money move of the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountMove {
    /// `sale` (a seller's share credited or made pending by a resale), `cleared` (a pending
    /// seller's share credited), `clawed_back` (a pending seller's share taken back after a
    /// dispute), `refund` (a pending sale given back to this buyer or float), `withdrawal`,
    /// `deposit`.
    pub kind: String,
    /// Stablecoin units moved (a `sale` that is pending adds nothing withdrawable yet).
    pub amount_units: String,
    /// Whether the move is still pending (a `sale` whose clearance time has not come).
    pub pending: bool,
    /// The licence of the sale, for sale moves (decimal).
    pub licence_id: Option<String>,
    /// Destination of a withdrawal.
    pub to_address: Option<String>,
    /// Transaction.
    pub tx_hash: String,
    /// Block.
    pub block_number: i64,
}
