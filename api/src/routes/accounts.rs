//! `GET /v1/accounts/{address}`: what an account can withdraw (read on chain), what is pending
//! for it until its clearance time, and its latest money moves (from the indexer's mirror:
//! `sales`, `sale_clearances`, `withdrawals`, `deposits`, `credit_spends`). Public, like the
//! chain it reads.

use alloy::primitives::U256;
use axum::extract::State;
use sqlx::Row;
use tangible_api_types::accounts::{AccountMove, AccountView, PendingShare};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// Most moves one answer lists.
const HISTORY: i64 = 100;

/// An account's credit, pending shares and latest money moves.
#[utoipa::path(get, path = "/v1/accounts/{address}", params(("address" = String, Path, description = "the account (0x hex)")),
    responses((status = 200, body = AccountView), (status = 422, description = "invalid_field: not an address", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "the chain node or the database is unreachable", body = ErrorBody)))]
pub async fn account(
    State(state): State<AppState>,
    ApiPath(address): ApiPath<String>,
) -> ApiResult<axum::Json<AccountView>> {
    let account = super::parse_address("address", &address)?;
    let key = account.to_string().to_lowercase();
    let chain = state.chain();
    // The four chain reads are independent: one round trip's wait, not four.
    let (credit, stablecoin, order_nonce, chain_time) = tokio::try_join!(
        chain.credit_of(account),
        chain.stablecoin(),
        chain.order_nonce(account),
        chain.head_timestamp(),
    )
    .map_err(|e| ApiError::unavailable("chain node", e))?;
    let per_cent = stablecoin.units_per_cent;
    let (pending, history) = tokio::try_join!(
        pending_shares(&state, &key),
        history(&state, &key, per_cent)
    )?;
    Ok(axum::Json(AccountView {
        address: key,
        credit_units: credit.to_string(),
        units_per_cent: per_cent.to_string(),
        order_nonce,
        chain_time,
        pending_cents: pending.iter().map(|p| p.cents).sum(),
        pending,
        history,
    }))
}

/// The shares of still-pending sales that name `account` as seller, royalty recipient or
/// platform.
async fn pending_shares(state: &AppState, account: &str) -> ApiResult<Vec<PendingShare>> {
    let rows = sqlx::query(
        "SELECT s.licence_id::text AS licence_id, s.seller_address, s.seller_cents, s.studio_address, \
                s.studio_cents, s.platform_address, s.platform_cents, p.clear_at, p.tainted \
         FROM sales_pending p JOIN sales s ON s.licence_id = p.licence_id \
         WHERE (s.seller_address = $1 OR s.studio_address = $1 OR s.platform_address = $1) \
         ORDER BY p.clear_at, s.licence_id LIMIT 1000",
    )
    .bind(account)
    .fetch_all(state.db())
    .await?;
    let mut shares = Vec::new();
    for r in rows {
        let licence_id: String = r.try_get("licence_id")?;
        let clear_at: i64 = r.try_get("clear_at")?;
        let tainted: bool = r.try_get("tainted")?;
        for (role, who, cents) in [
            ("seller", "seller_address", "seller_cents"),
            ("studio", "studio_address", "studio_cents"),
            ("platform", "platform_address", "platform_cents"),
        ] {
            let who: Option<String> = r.try_get(who)?;
            let cents: i64 = r.try_get(cents)?;
            if who.as_deref() == Some(account) && cents > 0 {
                shares.push(PendingShare {
                    licence_id: licence_id.clone(),
                    role: role.to_owned(),
                    cents,
                    clear_at,
                    tainted,
                });
            }
        }
    }
    Ok(shares)
}

/// The account's latest money moves: its seller's shares (pending or not), their clearance
/// or clawback, refunds of unwound sales, withdrawals, deposits and purchases paid with its
/// credit.
async fn history(state: &AppState, account: &str, per_cent: U256) -> ApiResult<Vec<AccountMove>> {
    let rows = sqlx::query(
        "SELECT * FROM ( \
           SELECT 'sale' AS kind, s.seller_cents::text AS cents, NULL::text AS units, \
                  s.licence_id::text AS licence_id, NULL AS to_address, s.tx_hash, s.block_number, s.log_index, \
                  EXISTS (SELECT 1 FROM sales_pending p WHERE p.licence_id = s.licence_id) AS pending \
           FROM sales s WHERE s.seller_address = $1 \
           UNION ALL \
           SELECT CASE c.kind WHEN 'cleared' THEN 'cleared' ELSE 'clawed_back' END, s.seller_cents::text, NULL, \
                  s.licence_id::text, NULL, c.tx_hash, c.block_number, c.log_index, false \
           FROM sale_clearances c JOIN sales s ON s.licence_id = c.licence_id \
           WHERE c.kind IN ('cleared', 'clawed_back') AND s.seller_address = $1 AND s.seller_cents > 0 \
           UNION ALL \
           SELECT 'refund', NULL, c.amount_units::text, c.licence_id::text, NULL, c.tx_hash, c.block_number, c.log_index, false \
           FROM sale_clearances c WHERE c.kind = 'clawed_back' AND c.refunded_to = $1 \
           UNION ALL \
           SELECT 'withdrawal', NULL, w.amount_units::text, NULL, w.to_address, w.tx_hash, w.block_number, w.log_index, false \
           FROM withdrawals w WHERE w.account_address = $1 \
           UNION ALL \
           SELECT 'deposit', NULL, d.amount_units::text, NULL, NULL, d.tx_hash, d.block_number, d.log_index, false \
           FROM deposits d WHERE d.account_address = $1 \
           UNION ALL \
           SELECT 'credit_purchase', NULL, c.amount_units::text, c.licence_id::text, NULL, c.tx_hash, c.block_number, c.log_index, false \
           FROM credit_spends c WHERE c.account_address = $1 \
         ) m ORDER BY block_number DESC, log_index DESC LIMIT $2",
    )
    .bind(account)
    .bind(HISTORY)
    .fetch_all(state.db())
    .await?;
    let mut moves = Vec::with_capacity(rows.len());
    for r in rows {
        let cents: Option<String> = r.try_get("cents")?;
        let units: Option<String> = r.try_get("units")?;
        let amount = match (cents, units) {
            (Some(c), _) => {
                let c: U256 = c
                    .parse()
                    .map_err(|e| anyhow::anyhow!("sale cents {c:?}: {e}"))?;
                (c * per_cent).to_string()
            }
            (None, Some(u)) => u,
            (None, None) => "0".to_owned(),
        };
        moves.push(AccountMove {
            kind: r.try_get("kind")?,
            amount_units: amount,
            pending: r.try_get("pending")?,
            licence_id: r.try_get("licence_id")?,
            to_address: r.try_get("to_address")?,
            tx_hash: r.try_get("tx_hash")?,
            block_number: r.try_get("block_number")?,
        });
    }
    Ok(moves)
}
