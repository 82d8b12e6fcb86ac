//! One signed order at a time per account. Two copies of one signed order posted together (a
//! double click, a retry after a slow answer) would both pass the checks, since the first has
//! not consumed the nonce when the second is simulated: the second would revert on chain, at the
//! operator's cost. A session advisory lock keyed by the account, taken once the order's signer
//! is known and held until the receipt (the nonce read again under it), makes the second answer
//! 409 `order_in_flight` or 422 `invalid_signature` (its nonce spent) instead, across every API
//! instance. Nonces and simulations read the `pending` block, so a copy posted after its
//! twin's transaction left for the node's pool is refused too, lock or no lock.
//!
//! The locks live on their own small pool ([`AppState::order_locks`]): each is held for as
//! long as its transaction takes to be mined, and a burst of orders must not take the
//! connections that payments, webhooks and sign-ins need. When that pool is full the order is
//! answered 503 at once (nothing sent, its nonce unspent: retry it).

use alloy::primitives::Address;
use axum::http::StatusCode;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use crate::error::{ApiError, ApiResult, codes};
use crate::state::AppState;

/// The account's order lock; released when dropped.
pub(super) struct OrderLock {
    /// The connection whose session holds the lock. It is closed, not returned to the pool,
    /// when dropped: closing the session releases the lock even when the request is cancelled
    /// half-way (the client went away), where an explicit unlock could never run.
    _conn: PoolConnection<Postgres>,
}

/// Takes `account`'s order lock, or answers 409 `order_in_flight` when another request holds it.
pub(super) async fn lock(state: &AppState, account: Address) -> ApiResult<OrderLock> {
    let mut conn = state.order_locks().acquire().await.map_err(|e| match e {
        sqlx::Error::PoolTimedOut => ApiError::client(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UPSTREAM_UNAVAILABLE,
            "too many signed orders are being sent right now: nothing was sent, retry this one \
             in a few seconds",
        ),
        other => other.into(),
    })?;
    conn.close_on_drop();
    let key = format!("signed-order:{account:#x}");
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
        .bind(&key)
        .fetch_one(&mut *conn)
        .await?;
    if !locked {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            codes::ORDER_IN_FLIGHT,
            format!(
                "another signed order of {account} is being sent; retry once it is mined \
                 (with the account's next order_nonce)"
            ),
        ));
    }
    Ok(OrderLock { _conn: conn })
}
