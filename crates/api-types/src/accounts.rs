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
    /// The nonce the account's next signed order must carry (a resale order, `POST /v1/offers`,
    /// or a credit order, `POST /v1/accounts/{address}/purchases` and `/withdrawals`).
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
    /// `deposit`, `credit_purchase` (a licence bought with the credit: `licence_id`).
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

/// `POST /v1/accounts/{address}/purchases`: buy an edition or an offer with the account's
/// credit. The account signs the EIP-712 `CreditOrder` (`tangible_chain::orders::CreditOrder`,
/// action 3 for an edition with target `film_id << 8 | quality`, 4 for an offer) with its next
/// `order_nonce`; the operator submits it (`relayCreditOrder`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditPurchaseRequest {
    /// The edition to buy, `<film_id>-<sd|hd|4k>` (or give `offer_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition_id: Option<String>,
    /// The offer to buy, decimal (or give `edition_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// The price signed, cents: the sale fails if it changed.
    pub price_cents: u64,
    /// Who receives the licence (0x…); the account itself when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_address: Option<String>,
    /// Unix seconds after which the order is refused (at most 30 days ahead).
    pub deadline: u64,
    /// 65-byte signature `r ‖ s ‖ v`, hex (an ERC-1271 wallet's own format for a contract).
    pub signature: String,
}

/// `POST /v1/accounts/{address}/withdrawals`: pay part of the account's credit to any address.
/// The account signs the `CreditOrder` with action 5, target 0, `amountCents` and `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditWithdrawalRequest {
    /// Where the stablecoin goes (0x…).
    pub to_address: String,
    /// How much, cents.
    pub amount_cents: u64,
    /// Unix seconds after which the order is refused (at most 30 days ahead).
    pub deadline: u64,
    /// Signature, hex.
    pub signature: String,
}

/// A relayed credit order, mined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditOrderRelayed {
    /// The account whose credit paid.
    pub account_address: String,
    /// The licence bought (decimal); absent for a withdrawal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_id: Option<String>,
    /// Stablecoin units taken from the credit.
    pub amount_units: String,
    /// The nonce the order consumed.
    pub nonce: u32,
    /// The operator's transaction.
    pub tx_hash: String,
}

/// `POST /v1/studios/{id}/withdrawals`: a studio's earnings, paid to its royalty recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudioWithdrawal {
    /// The studio.
    pub studio_id: u32,
    /// Its royalty recipient, who received the stablecoin.
    pub to_address: String,
    /// Stablecoin units paid.
    pub amount_units: String,
    /// The operator's transaction.
    pub tx_hash: String,
}
