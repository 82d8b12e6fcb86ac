//! Clearance of card money: the contract keeps the shares of a card-paid sale (and of a sale of
//! a licence whose own card payment has not cleared) pending until its clearance time, then
//! anyone may credit them with `clearSales`. This sweep, run with the maintenance loop, sends
//! that transaction for the sales the indexer saw become due, so sellers, studios and the
//! platform are credited without asking.
//!
//! Due means a `sale_clearances` row `pending` whose `clear_at` is at or before the latest
//! block's timestamp (the contract's clock, not this machine's), with no later `cleared` or
//! `clawed_back` row. The contract skips a sale someone else cleared first, so a lagging
//! indexer or a concurrent sweep costs at most one reverted estimate, never a wrong credit.

use alloy::primitives::U256;

use crate::chain::ChainError;
use crate::state::AppState;

/// Most sales one `clearSales` transaction credits (about 30k gas each).
const BATCH: i64 = 100;

/// What one sweep did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swept {
    /// No sale was due.
    Nothing,
    /// `clearSales` credited this many sales' shares in the transaction.
    Cleared {
        /// Sales sent (the contract skipped those someone cleared first).
        sales: usize,
        /// The transaction.
        tx: alloy::primitives::B256,
    },
}

/// Sends one `clearSales` for up to [`BATCH`] due sales, oldest first.
pub async fn sweep(state: &AppState) -> anyhow::Result<Swept> {
    let chain = state.chain();
    let now = i64::try_from(chain.head_timestamp().await?)?;
    let due: Vec<String> = sqlx::query_scalar(
        "SELECT p.licence_id::text FROM sale_clearances p \
         WHERE p.kind = 'pending' AND p.clear_at <= $1 \
           AND NOT EXISTS (SELECT 1 FROM sale_clearances c \
                           WHERE c.licence_id = p.licence_id AND c.kind <> 'pending') \
         ORDER BY p.clear_at, p.licence_id LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(state.db())
    .await?;
    metrics::gauge!("sales_due_for_clearance").set(due.len() as f64);
    if due.is_empty() {
        return Ok(Swept::Nothing);
    }
    let ids = due
        .iter()
        .map(|d| d.parse::<U256>())
        .collect::<Result<Vec<_>, _>>()?;
    let sales = ids.len();
    match chain.clear_sales(ids).await {
        Ok(tx) => {
            tracing::info!(target: "tangible::api::clearance", sales, tx_hash = %tx, "pending sales cleared");
            metrics::counter!("sales_cleared_total").increment(sales as u64);
            Ok(Swept::Cleared { sales, tx })
        }
        // Every one was cleared by someone else since the indexer's last block.
        Err(ChainError::Reverted(r))
            if matches!(
                *r,
                tangible_chain::bindings::TangibleMarket::TangibleMarketErrors::MarketNothingCleared(_)
            ) =>
        {
            Ok(Swept::Nothing)
        }
        Err(e) => Err(e.into()),
    }
}
