//! An edition's sale terms once its master is on chain, set by its studio's admin (or a
//! platform admin acting for the studio, as in `routes::studios`): withdraw it from primary
//! sale, return it to sale, set its resale floor. Each is one operator transaction, checked
//! against the caller's authority and the chain's own bounds before any gas is spent.

use axum::extract::State;
use tangible_api_types::studios::{EditionStatus, ResaleFloor, ResaleFloorRequest};

use super::studios::require_film_admin;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, AuthUser, EditionRef};
use crate::masters::{chain_unavailable, chain_write_err};
use crate::state::AppState;

/// Tracing target: the studio routes' (these were among them), so that log filters keep working.
const TARGET: &str = "tangible::api::studios";

// ------------------------------------------------------------------ resale floor

/// Sets the lowest price a licence of the edition can be listed, repriced or sold at on the
/// market (studio admin; at most half the lowest price the edition ever had, 0 for none). Offers listed below a
/// raised floor cannot be bought until their seller raises the price.
#[utoipa::path(put, path = "/v1/editions/{id}/resale-floor", request_body = ResaleFloorRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "edition id `<film_id>-<sd|hd|4k>`")),
    responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody), (status = 200, body = ResaleFloor), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "edition_suspended", body = ErrorBody),
    (status = 422, description = "a floor above half the edition's lowest price", body = ErrorBody)))]
pub async fn set_resale_floor(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(edition): ApiPath<String>,
    ApiJson(req): ApiJson<ResaleFloorRequest>,
) -> ApiResult<axum::Json<ResaleFloor>> {
    let edition = EditionRef::parse(&edition)?;
    require_film_admin(&state, user.0.sub, edition.film_id).await?;
    let id = edition.id();
    let on_chain = state
        .chain()
        .edition(id.film_id, id.quality)
        .await
        .map_err(chain_unavailable)?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "edition {edition} is not on chain yet (upload its master first)"
            ))
        })?;
    // The contract's bound (half the lowest price the edition ever had), checked here so that a
    // refused floor costs no gas.
    let max = on_chain.max_resale_floor_cents(on_chain.price_cents);
    if req.floor_cents > max {
        return Err(ApiError::invalid_field(format!(
            "a resale floor of {} cents is above half the edition's lowest price ({max} cents at most)",
            req.floor_cents
        )));
    }
    state
        .budgets()
        .operator_tx(user.0.sub, "PUT", "/v1/editions/{id}/resale-floor")?;
    let tx = state
        .chain()
        .set_resale_floor(id.film_id, id.quality, req.floor_cents)
        .await
        .map_err(chain_write_err)?;
    tracing::info!(target: TARGET, %edition, floor_cents = req.floor_cents, caller = %user.0.sub, tx_hash = %tx, "resale floor set");
    Ok(axum::Json(ResaleFloor {
        edition_id: edition.to_string(),
        floor_cents: req.floor_cents,
        tx_hash: tx.to_string(),
    }))
}

// ------------------------------------------------------------------ withdraw / reactivate

async fn set_active(
    state: AppState,
    user: AuthUser,
    edition: String,
    active: bool,
) -> ApiResult<axum::Json<EditionStatus>> {
    let edition = EditionRef::parse(&edition)?;
    require_film_admin(&state, user.0.sub, edition.film_id).await?;
    let id = edition.id();
    if state
        .chain()
        .edition(id.film_id, id.quality)
        .await
        .map_err(chain_unavailable)?
        .is_none()
    {
        return Err(ApiError::not_found(format!(
            "edition {edition} is not on chain yet (upload its master first)"
        )));
    }
    let path = if active {
        "/v1/editions/{id}/reactivate"
    } else {
        "/v1/editions/{id}/withdraw"
    };
    state.budgets().operator_tx(user.0.sub, "POST", path)?;
    let tx = state
        .chain()
        .set_edition_active(id.film_id, id.quality, active)
        .await
        .map_err(chain_write_err)?;
    tracing::info!(target: TARGET, %edition, active, caller = %user.0.sub, tx_hash = %tx, "edition status changed");
    Ok(axum::Json(EditionStatus {
        edition_id: edition.to_string(),
        active,
        tx_hash: tx.to_string(),
    }))
}

/// Withdraws an edition from primary sale (existing licences stay valid; studio admin).
#[utoipa::path(post, path = "/v1/editions/{id}/withdraw", security(("bearer" = [])),
    params(("id" = String, Path, description = "edition id `<film_id>-<sd|hd|4k>`")),
    responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody), (status = 200, body = EditionStatus), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "edition_status_unchanged", body = ErrorBody)))]
pub async fn withdraw_edition(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(edition): ApiPath<String>,
) -> ApiResult<axum::Json<EditionStatus>> {
    set_active(state, user, edition, false).await
}

/// Returns a withdrawn edition to primary sale (studio admin).
#[utoipa::path(post, path = "/v1/editions/{id}/reactivate", security(("bearer" = [])),
    params(("id" = String, Path, description = "edition id `<film_id>-<sd|hd|4k>`")),
    responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody), (status = 200, body = EditionStatus), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "edition_status_unchanged", body = ErrorBody)))]
pub async fn reactivate_edition(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(edition): ApiPath<String>,
) -> ApiResult<axum::Json<EditionStatus>> {
    set_active(state, user, edition, true).await
}
