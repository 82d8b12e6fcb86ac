//! Licences from the mirror: `GET /v1/licences` (an owner's) and `GET /v1/licences/{id}/history`
//! (the chain of licences a resale links, with their sales and offers).

use axum::extract::State;
use chrono::{DateTime, Utc};
use tangible_api_types::catalogue::{
    LicenceHistory, LicenceQuery, LicenceView, OfferView, SaleView,
};

use super::offers::{OFFER_SELECT, OfferRow};
use super::sales::SaleRow;
use super::{Page, address_filter, decimal_cursor, limit, quality_name};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// A row of `licences` (ids as text).
#[derive(sqlx::FromRow)]
struct LicenceRow {
    licence_id: String,
    owner_address: String,
    film_id: i64,
    quality: i16,
    tx_hash: String,
    acquired_at: DateTime<Utc>,
    hold_until: Option<DateTime<Utc>>,
    revoked: bool,
    revoked_reason: Option<i16>,
    replaced_by: Option<String>,
}

impl From<LicenceRow> for LicenceView {
    fn from(r: LicenceRow) -> Self {
        Self {
            licence_id: r.licence_id,
            owner_address: r.owner_address,
            film_id: r.film_id,
            quality: quality_name(r.quality),
            tx_hash: r.tx_hash,
            acquired_at: r.acquired_at,
            hold_until: r.hold_until,
            revoked: r.revoked,
            revoked_reason: r.revoked_reason,
            replaced_by: r.replaced_by,
        }
    }
}

/// Licences of an owner.
#[utoipa::path(get, path = "/v1/licences", params(LicenceQuery), responses((status = 200, body = Page<LicenceView>), (status = 422, body = ErrorBody)))]
pub async fn list_licences(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LicenceQuery>,
) -> ApiResult<axum::Json<Page<LicenceView>>> {
    let limit = limit(q.limit)?;
    let cursor = decimal_cursor(q.cursor.as_deref())?;
    let owner = address_filter(Some(&q.owner), "owner")?;
    let rows: Vec<LicenceRow> = sqlx::query_as(
        "SELECT licence_id::text AS licence_id, owner_address, film_id, quality, tx_hash, acquired_at, hold_until, revoked, \
                revoked_reason, replaced_by::text AS replaced_by \
         FROM licences WHERE owner_address = $1 AND ($2 OR NOT revoked) \
           AND ($3::numeric IS NULL OR licence_id > $3::numeric) ORDER BY licence_id LIMIT $4",
    )
    .bind(owner)
    .bind(q.include_revoked.unwrap_or(false))
    .bind(cursor)
    .bind(limit + 1)
    .fetch_all(state.db())
    .await?;
    let licences = rows.into_iter().map(LicenceView::from).collect();
    Ok(axum::Json(Page::from_probe(licences, limit, |l| {
        l.licence_id.clone()
    })))
}

/// A licence's history across resales, from the mirror.
#[utoipa::path(get, path = "/v1/licences/{id}/history", params(("id" = String, Path, description = "licence id (decimal)")),
    responses((status = 200, body = LicenceHistory), (status = 404, body = ErrorBody)))]
pub async fn licence_history(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<LicenceHistory>> {
    let id =
        decimal_cursor(Some(&id)).map_err(|_| ApiError::not_found(format!("no licence {id:?}")))?;
    let mut tx = state.db().begin().await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "WITH RECURSIVE back(id, depth) AS ( \
             SELECT licence_id, 0 FROM licences WHERE licence_id = $1::numeric \
             UNION ALL SELECT l.licence_id, b.depth + 1 FROM licences l JOIN back b ON l.replaced_by = b.id WHERE b.depth < 10000), \
         fwd(id, depth) AS ( \
             SELECT licence_id, 0 FROM licences WHERE licence_id = $1::numeric \
             UNION ALL SELECT l.replaced_by, f.depth + 1 FROM licences l JOIN fwd f ON l.licence_id = f.id \
             WHERE l.replaced_by IS NOT NULL AND f.depth < 10000) \
         SELECT id::text FROM back UNION SELECT id::text FROM fwd",
    )
    .bind(&id)
    .fetch_all(&mut *tx)
    .await?;
    if ids.is_empty() {
        return Err(ApiError::not_found(format!(
            "no licence {}",
            id.unwrap_or_default()
        )));
    }
    let licences: Vec<LicenceRow> = sqlx::query_as(
        "SELECT licence_id::text AS licence_id, owner_address, film_id, quality, tx_hash, acquired_at, hold_until, revoked, \
                revoked_reason, replaced_by::text AS replaced_by \
         FROM licences WHERE licence_id = ANY($1::numeric[]) ORDER BY minted_block, log_index",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    let sales: Vec<SaleRow> = sqlx::query_as(
        "SELECT tx_hash, log_index, block_number, block_timestamp, kind, licence_id::text AS licence_id, \
                offer_id::text AS offer_id, payment_ref, payer_address, film_id, studio_id, price_cents, seller_address, \
                seller_cents, studio_address, studio_cents, platform_address, platform_cents \
         FROM sales WHERE licence_id = ANY($1::numeric[]) ORDER BY block_number, log_index",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    let offers: Vec<OfferRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{OFFER_SELECT} WHERE o.licence_id = ANY($1::numeric[]) ORDER BY o.offer_id"
    )))
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(axum::Json(LicenceHistory {
        licences: licences.into_iter().map(LicenceView::from).collect(),
        sales: sales.into_iter().map(SaleView::from).collect(),
        offers: offers.into_iter().map(OfferView::from).collect(),
    }))
}
