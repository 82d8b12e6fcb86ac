//! Sales with their split: `GET /v1/sales` by film, studio, kind and period. The statement
//! ([`super::statement`]) reads the same rows.

use axum::extract::State;
use chrono::{DateTime, Utc};
use tangible_api_types::catalogue::{SaleQuery, SaleView};

use super::{Page, event_cursor, limit};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// A row of `sales` (ids as text), as [`SaleView`] shows it.
#[derive(sqlx::FromRow)]
pub(super) struct SaleRow {
    tx_hash: String,
    log_index: i32,
    block_number: i64,
    block_timestamp: Option<DateTime<Utc>>,
    kind: String,
    licence_id: String,
    offer_id: Option<String>,
    payment_ref: Option<String>,
    payer_address: String,
    film_id: Option<i64>,
    studio_id: Option<i64>,
    price_cents: i64,
    seller_address: Option<String>,
    seller_cents: i64,
    studio_address: String,
    studio_cents: i64,
    platform_address: String,
    platform_cents: i64,
}

impl From<SaleRow> for SaleView {
    fn from(r: SaleRow) -> Self {
        Self {
            tx_hash: r.tx_hash,
            log_index: r.log_index,
            block_number: r.block_number,
            block_timestamp: r.block_timestamp,
            kind: r.kind,
            licence_id: r.licence_id,
            offer_id: r.offer_id,
            payment_ref: r.payment_ref,
            payer_address: r.payer_address,
            film_id: r.film_id,
            studio_id: r.studio_id,
            price_cents: r.price_cents,
            seller_address: r.seller_address,
            seller_cents: r.seller_cents,
            studio_address: r.studio_address,
            studio_cents: r.studio_cents,
            platform_address: r.platform_address,
            platform_cents: r.platform_cents,
        }
    }
}

fn kind_filter(k: Option<&str>) -> ApiResult<Option<String>> {
    match k {
        None => Ok(None),
        Some(k @ ("primary" | "resale")) => Ok(Some(k.to_owned())),
        Some(other) => Err(ApiError::invalid_field(format!(
            "kind {other:?}: expected primary or resale"
        ))),
    }
}

/// The sales matching `q` (with `studio` instead of `q.studio_id`), in event order: a page of
/// them (`limit` rows after the cursor), or all of them.
pub(super) async fn fetch_sales(
    state: &AppState,
    q: &SaleQuery,
    studio: Option<i64>,
    page: Option<(i64, Option<(i64, i32)>)>,
) -> ApiResult<Vec<SaleView>> {
    let (limit, cursor) = page.unwrap_or((i64::MAX, None));
    let sql = "SELECT tx_hash, log_index, block_number, block_timestamp, kind, licence_id::text AS licence_id, \
                offer_id::text AS offer_id, payment_ref, payer_address, film_id, studio_id, price_cents, seller_address, \
                seller_cents, studio_address, studio_cents, platform_address, platform_cents \
         FROM sales \
         WHERE ($1::bigint IS NULL OR film_id = $1) AND ($2::bigint IS NULL OR studio_id = $2) \
           AND ($3::text IS NULL OR kind = $3) AND ($4::timestamptz IS NULL OR block_timestamp >= $4) \
           AND ($5::timestamptz IS NULL OR block_timestamp < $5) \
           AND ($6::bigint IS NULL OR (block_number, log_index) > ($6, $7::int)) \
         ORDER BY block_number, log_index LIMIT $8";
    let rows: Vec<SaleRow> = sqlx::query_as(sql)
        .bind(q.film_id)
        .bind(studio)
        .bind(kind_filter(q.kind.as_deref())?)
        .bind(q.from)
        .bind(q.to)
        .bind(cursor.map(|c| c.0))
        .bind(cursor.map(|c| c.1))
        .bind(limit)
        .fetch_all(state.db())
        .await?;
    Ok(rows.into_iter().map(SaleView::from).collect())
}

/// Sales with their split, by film, studio, kind and period.
#[utoipa::path(get, path = "/v1/sales", params(SaleQuery), responses((status = 200, body = Page<SaleView>), (status = 422, body = ErrorBody)))]
pub async fn list_sales(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SaleQuery>,
) -> ApiResult<axum::Json<Page<SaleView>>> {
    let limit = limit(q.limit)?;
    let cursor = event_cursor(q.cursor.as_deref())?;
    let sales = fetch_sales(&state, &q, q.studio_id, Some((limit + 1, cursor))).await?;
    Ok(axum::Json(Page::from_probe(sales, limit, |s| {
        format!("{}-{}", s.block_number, s.log_index)
    })))
}
