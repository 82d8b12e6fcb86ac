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

/// Sends one `clearSales` for up to `BATCH` (100) due sales, oldest first; returns how many it sent
/// (0 when none was due, or when someone else had cleared them all first).
pub async fn sweep(state: &AppState) -> anyhow::Result<usize> {
    let chain = state.chain();
    let now = i64::try_from(chain.head_timestamp().await?)?;
    let due: Vec<String> = sqlx::query_scalar(
        "SELECT licence_id::text FROM sales_pending WHERE clear_at <= $1 \
         ORDER BY clear_at, licence_id LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(state.db())
    .await?;
    metrics::gauge!("sales_due_for_clearance").set(due.len() as f64);
    if due.is_empty() {
        return Ok(0);
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
            Ok(sales)
        }
        // Every one was cleared by someone else since the indexer's last block.
        Err(ChainError::Reverted(r))
            if matches!(
                *r,
                tangible_chain::bindings::TangibleMarket::TangibleMarketErrors::MarketNothingCleared(_)
            ) =>
        {
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}
