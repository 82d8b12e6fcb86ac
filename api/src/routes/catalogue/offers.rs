//! Resale offers: `GET /v1/offers` by film, status and price range, `GET /v1/offers/{id}`.

use axum::extract::State;
use tangible_api_types::catalogue::{OfferQuery, OfferView};

use super::{Page, decimal_cursor, limit, quality_name};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// An offer as selected from `resale_offers` joined to its licence.
#[derive(sqlx::FromRow)]
pub(super) struct OfferRow {
    offer_id: String,
    licence_id: String,
    film_id: i64,
    quality: i16,
    seller_address: String,
    price: i64,
    status: String,
    buyer_address: Option<String>,
    listed_block: i64,
    listed_tx: String,
    below_floor: bool,
}

impl From<OfferRow> for OfferView {
    fn from(r: OfferRow) -> Self {
        Self {
            offer_id: r.offer_id,
            licence_id: r.licence_id,
            film_id: r.film_id,
            quality: quality_name(r.quality),
            seller_address: r.seller_address,
            price_cents: r.price,
            status: r.status,
            buyer_address: r.buyer_address,
            listed_block: r.listed_block,
            listed_tx: r.listed_tx,
            below_floor: r.below_floor,
        }
    }
}

/// An offer's columns, from `resale_offers o` joined to its licence `l` and the licence's
/// edition `e` (whose resale floor, raised after the listing, can leave an active offer
/// unbuyable).
pub(super) const OFFER_SELECT: &str = "SELECT o.offer_id::text AS offer_id, o.licence_id::text AS licence_id, \
        l.film_id, l.quality, o.seller_address, o.price, o.status, o.buyer_address, \
        o.listed_block, o.listed_tx, \
        (o.status = 'active' AND o.price < COALESCE(e.resale_floor_cents, 0)) AS below_floor \
     FROM resale_offers o JOIN licences l ON l.licence_id = o.licence_id \
     LEFT JOIN editions e ON e.film_id = l.film_id AND e.quality = l.quality";

/// Resale offers by film, status and price range.
#[utoipa::path(get, path = "/v1/offers", params(OfferQuery), responses((status = 200, body = Page<OfferView>), (status = 422, body = ErrorBody)))]
pub async fn list_offers(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<OfferQuery>,
) -> ApiResult<axum::Json<Page<OfferView>>> {
    let limit = limit(q.limit)?;
    let cursor = decimal_cursor(q.cursor.as_deref())?;
    let status = match q.status.as_deref().unwrap_or("active") {
        "all" => None,
        s @ ("active" | "cancelled" | "filled") => Some(s.to_owned()),
        other => {
            return Err(ApiError::invalid_field(format!(
                "status {other:?}: expected active, cancelled, filled or all"
            )));
        }
    };
    let rows: Vec<OfferRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{OFFER_SELECT} \
         WHERE ($1::bigint IS NULL OR l.film_id = $1) AND ($2::text IS NULL OR o.status = $2) \
           AND ($3::bigint IS NULL OR o.price >= $3) AND ($4::bigint IS NULL OR o.price <= $4) \
           AND ($5::numeric IS NULL OR o.offer_id > $5::numeric) \
         ORDER BY o.offer_id LIMIT $6"
    )))
    .bind(q.film_id)
    .bind(status)
    .bind(q.min_price)
    .bind(q.max_price)
    .bind(cursor)
    .bind(limit + 1)
    .fetch_all(state.db())
    .await?;
    let offers = rows.into_iter().map(OfferView::from).collect();
    Ok(axum::Json(Page::from_probe(offers, limit, |o| {
        o.offer_id.clone()
    })))
}

/// One resale offer, whatever its status.
#[utoipa::path(get, path = "/v1/offers/{id}", params(("id" = String, Path, description = "offer id (decimal)")),
    responses((status = 200, body = OfferView), (status = 404, body = ErrorBody)))]
pub async fn get_offer(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<OfferView>> {
    let id =
        decimal_cursor(Some(&id)).map_err(|_| ApiError::not_found(format!("no offer {id:?}")))?;
    let row: Option<OfferRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{OFFER_SELECT} WHERE o.offer_id = $1::numeric"
    )))
    .bind(&id)
    .fetch_optional(state.db())
    .await?;
    row.map(|r| axum::Json(r.into()))
        .ok_or_else(|| ApiError::not_found(format!("no offer {}", id.unwrap_or_default())))
}
