//! Caps on card purchases: what one card payment may carry, and what one wallet may buy by card
//! over a period (`card_max_purchase_cents`, `card_buyer_limit_cents`,
//! `card_buyer_period_secs`). With the on-chain clearance of card money (pending until the
//! dispute window closes), they bound what a stolen card, or one wallet, can push through the
//! card path.

use axum::http::StatusCode;

use crate::error::{ApiError, ApiResult, codes};
use crate::state::AppState;

/// Refuses a card purchase of `amount` cents above `card_max_purchase_cents`, or one that would
/// take `buyer`'s card purchases over the last `card_buyer_period_secs` past
/// `card_buyer_limit_cents` (purchases that failed, expired or were refunded do not count).
/// Takes the buyer's transaction-scoped advisory lock first. Together with the clearance of card
/// money on chain (pending until the dispute window closes), this bounds what one stolen card,
/// or one wallet, can push through the card path.
pub async fn check(
    state: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    buyer: &str,
    amount: i64,
) -> ApiResult<()> {
    let config = state.config();
    let max = i64::try_from(config.card_max_purchase_cents).unwrap_or(i64::MAX);
    if amount > max {
        return Err(ApiError::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::CARD_AMOUNT_OVER_LIMIT,
            format!("a card payment carries at most {max} cents; this purchase is {amount} cents"),
        ));
    }
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('card-limit:' || $1, 0))")
        .bind(buyer)
        .execute(&mut **tx)
        .await?;
    let period = i64::try_from(config.card_buyer_period_secs).unwrap_or(i64::MAX);
    let spent: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(amount_cents), 0)::bigint FROM api_purchases \
         WHERE buyer_address = $1 AND created_at > now() - make_interval(secs => $2) \
           AND state NOT IN ('failed', 'expired', 'refunded')",
    )
    .bind(buyer)
    .bind(period as f64)
    .fetch_one(&mut **tx)
    .await?;
    let limit = i64::try_from(config.card_buyer_limit_cents).unwrap_or(i64::MAX);
    if spent.saturating_add(amount) > limit {
        return Err(ApiError::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::CARD_BUYER_LIMIT_REACHED,
            format!(
                "this wallet bought {spent} cents by card over the last {period} s; {amount} more \
                 would pass the limit of {limit} cents"
            ),
        ));
    }
    Ok(())
}
