//! Catalogue and history for marketplace frontends, read from the indexer's mirror of the chain
//! (`studios`, `films`, `editions`, `licences`, `resale_offers`, `sales`). Every list is
//! paginated by a keyset cursor (`limit` ≤ 100, `next_cursor` to pass back) and filterable.
//! Every amount shown comes from a `SaleSettled` event (`tx_hash`, `log_index`).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::postgres::PgRow;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

const MAX_LIMIT: i64 = 100;
const DEFAULT_LIMIT: i64 = 20;

fn limit(l: Option<i64>) -> ApiResult<i64> {
    match l {
        None => Ok(DEFAULT_LIMIT),
        Some(l) if (1..=MAX_LIMIT).contains(&l) => Ok(l),
        Some(l) => Err(ApiError::invalid_field(format!(
            "limit {l} must be between 1 and {MAX_LIMIT}"
        ))),
    }
}

fn decimal_cursor(c: Option<&str>) -> ApiResult<Option<String>> {
    match c {
        Some(c) if !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) && c.len() <= 78 => {
            Ok(Some(c.to_owned()))
        }
        Some(c) => Err(ApiError::invalid_field(format!(
            "cursor {c:?} is not valid"
        ))),
        None => Ok(None),
    }
}

fn address_filter(a: Option<&str>, name: &str) -> ApiResult<Option<String>> {
    a.map(|a| {
        a.parse::<alloy::primitives::Address>()
            .map(|a| a.to_string().to_lowercase())
            .map_err(|_| ApiError::invalid_field(format!("{name} {a:?} is not an address")))
    })
    .transpose()
}

fn like_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn quality_name(code: i16) -> String {
    u8::try_from(code)
        .ok()
        .and_then(|c| tangible_domain::Quality::from_code(c).ok())
        .map(|q| q.as_str().to_owned())
        .unwrap_or_else(|| code.to_string())
}

/// A page of results.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// An edition and its price.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EditionView {
    /// `<film_id>-<quality>`: the id of the edition's studio and content endpoints.
    pub edition_id: String,
    /// `sd`, `hd` or `4k`.
    pub quality: String,
    /// Price in cents.
    pub price_cents: i64,
    /// On primary sale.
    pub active: bool,
    /// Hash of the encrypted master.
    pub master_hash: String,
}

/// A film with its editions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FilmView {
    /// Film id.
    pub film_id: i64,
    /// Studio id.
    pub studio_id: i64,
    /// Studio name.
    pub studio_name: String,
    /// Title.
    pub title: String,
    /// Year.
    pub year: i32,
    /// Editions.
    pub editions: Vec<EditionView>,
}

/// Film filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct FilmQuery {
    /// Title contains (case-insensitive).
    pub q: Option<String>,
    /// Studio.
    pub studio_id: Option<i64>,
    /// Year.
    pub year: Option<i32>,
    /// Page size (1..=100, default 20).
    pub limit: Option<i64>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Wraps a statement selecting films (`film_id, studio_id, studio_name, title, year`, ordered
/// and limited) so that each film comes back with its editions in the same round trip: one row
/// per edition (or one row with null edition columns for a film without any), in film order.
const FILMS_WITH_EDITIONS_HEAD: &str = "SELECT f.film_id, f.studio_id, f.studio_name, f.title, f.year, \
     e.quality, e.price_cents, e.active, e.master_hash FROM (";
const FILMS_WITH_EDITIONS_TAIL: &str =
    ") f LEFT JOIN editions e USING (film_id) ORDER BY f.film_id, e.quality";
/// The films part of a catalogue read, before its filters.
const FILMS_SELECT: &str = "SELECT f.film_id, f.studio_id, s.name AS studio_name, f.title, f.year \
     FROM films f JOIN studios s USING (studio_id)";
/// One film with its editions (built once, not per request).
static FILM_BY_ID: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{FILMS_WITH_EDITIONS_HEAD}{FILMS_SELECT} WHERE f.film_id = $1{FILMS_WITH_EDITIONS_TAIL}"
    )
});

/// Groups the rows of a [`FILMS_WITH_EDITIONS_HEAD`] statement into films.
fn films_from_rows(rows: &[PgRow]) -> Result<Vec<FilmView>, sqlx::Error> {
    let mut films: Vec<FilmView> = Vec::new();
    for r in rows {
        let film_id: i64 = r.try_get("film_id")?;
        if films.last().is_none_or(|f| f.film_id != film_id) {
            films.push(FilmView {
                film_id,
                studio_id: r.try_get("studio_id")?,
                studio_name: r.try_get("studio_name")?,
                title: r.try_get("title")?,
                year: r.try_get("year")?,
                editions: Vec::new(),
            });
        }
        let Some(code) = r.try_get::<Option<i16>, _>("quality")? else {
            continue; // a film without editions yet
        };
        let quality = quality_name(code);
        let film = films.last_mut().expect("pushed above");
        film.editions.push(EditionView {
            edition_id: format!("{film_id}-{quality}"),
            quality,
            price_cents: r.try_get("price_cents")?,
            active: r.try_get("active")?,
            master_hash: r.try_get("master_hash")?,
        });
    }
    Ok(films)
}

/// Films, searchable by title, studio and year.
#[utoipa::path(get, path = "/v1/films", params(FilmQuery), responses((status = 200, body = Page<FilmView>), (status = 422, body = ErrorBody)))]
pub async fn list_films(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<FilmQuery>,
) -> ApiResult<axum::Json<Page<FilmView>>> {
    let limit = limit(q.limit)?;
    let cursor: Option<i64> = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse()
                .map_err(|_| ApiError::invalid_field(format!("cursor {c:?} is not valid")))
        })
        .transpose()?;
    // Only the filters given go into the statement (values are bound, never formatted in), so
    // the planner picks the matching index (`films (studio_id, film_id)`, `films (year,
    // film_id)`) instead of one generic plan for every combination.
    let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(FILMS_WITH_EDITIONS_HEAD);
    qb.push(FILMS_SELECT).push(" WHERE TRUE");
    if let Some(pattern) = q.q.as_deref().filter(|s| !s.is_empty()).map(like_pattern) {
        qb.push(" AND f.title ILIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\'");
    }
    if let Some(studio) = q.studio_id {
        qb.push(" AND f.studio_id = ").push_bind(studio);
    }
    if let Some(year) = q.year {
        qb.push(" AND f.year = ").push_bind(year);
    }
    if let Some(after) = cursor {
        qb.push(" AND f.film_id > ").push_bind(after);
    }
    qb.push(" ORDER BY f.film_id LIMIT ")
        .push_bind(limit + 1)
        .push(FILMS_WITH_EDITIONS_TAIL);
    let rows = qb.build().fetch_all(state.db()).await?;
    let mut items = films_from_rows(&rows)?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = more
        .then(|| items.last().map(|f| f.film_id.to_string()))
        .flatten();
    Ok(axum::Json(Page { items, next_cursor }))
}

/// One film with its editions and prices.
#[utoipa::path(get, path = "/v1/films/{id}", params(("id" = i64, Path, description = "film id")),
    responses((status = 200, body = FilmView), (status = 404, body = ErrorBody)))]
pub async fn get_film(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<FilmView>> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no film {id:?}")))?;
    let rows = sqlx::query(FILM_BY_ID.as_str())
        .bind(id)
        .fetch_all(state.db())
        .await?;
    films_from_rows(&rows)?
        .pop()
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found(format!("no film {id}")))
}

/// A resale offer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OfferView {
    /// Offer id (decimal).
    pub offer_id: String,
    /// Licence offered (decimal).
    pub licence_id: String,
    /// Film.
    pub film_id: i64,
    /// Quality.
    pub quality: String,
    /// Seller.
    pub seller_address: String,
    /// Price in cents.
    pub price_cents: i64,
    /// `active`, `cancelled` or `filled`.
    pub status: String,
    /// Buyer, when filled.
    pub buyer_address: Option<String>,
}

/// Offer filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct OfferQuery {
    /// Film.
    pub film_id: Option<i64>,
    /// `active` (default), `cancelled`, `filled` or `all`.
    pub status: Option<String>,
    /// Lowest price in cents.
    pub min_price: Option<i64>,
    /// Highest price in cents.
    pub max_price: Option<i64>,
    /// Page size.
    pub limit: Option<i64>,
    /// From a previous page.
    pub cursor: Option<String>,
}

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
    let rows = sqlx::query(
        "SELECT o.offer_id::text AS offer_id, o.licence_id::text AS licence_id, l.film_id, l.quality, o.seller_address, \
                o.price, o.status, o.buyer_address \
         FROM resale_offers o JOIN licences l ON l.licence_id = o.licence_id \
         WHERE ($1::bigint IS NULL OR l.film_id = $1) AND ($2::text IS NULL OR o.status = $2) \
           AND ($3::bigint IS NULL OR o.price >= $3) AND ($4::bigint IS NULL OR o.price <= $4) \
           AND ($5::numeric IS NULL OR o.offer_id > $5::numeric) \
         ORDER BY o.offer_id LIMIT $6",
    )
    .bind(q.film_id)
    .bind(status)
    .bind(q.min_price)
    .bind(q.max_price)
    .bind(cursor)
    .bind(limit + 1)
    .fetch_all(state.db())
    .await?;
    let more = rows.len() as i64 > limit;
    let mut items = rows
        .iter()
        .map(offer_row)
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    items.truncate(limit as usize);
    let next_cursor = more
        .then(|| items.last().map(|o| o.offer_id.clone()))
        .flatten();
    Ok(axum::Json(Page { items, next_cursor }))
}

/// A licence as mirrored from the chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LicenceView {
    /// Licence id (decimal).
    pub licence_id: String,
    /// Owner (last owner if revoked).
    pub owner_address: String,
    /// Film.
    pub film_id: i64,
    /// Quality.
    pub quality: String,
    /// Minting transaction.
    pub tx_hash: String,
    /// Acquired at.
    pub acquired_at: DateTime<Utc>,
    /// Hold (card payments) until.
    pub hold_until: Option<DateTime<Utc>>,
    /// Revoked.
    pub revoked: bool,
    /// 0 resale, 1 chargeback, 2 fraud, 3 other.
    pub revoked_reason: Option<i16>,
    /// New licence id after a resale.
    pub replaced_by: Option<String>,
}

/// Licence filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct LicenceQuery {
    /// Owner address (required).
    pub owner: String,
    /// Include revoked licences (history); default false.
    pub include_revoked: Option<bool>,
    /// Page size.
    pub limit: Option<i64>,
    /// From a previous page.
    pub cursor: Option<String>,
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
    let rows = sqlx::query(
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
    let more = rows.len() as i64 > limit;
    let mut items = rows
        .iter()
        .map(licence_row)
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    items.truncate(limit as usize);
    let next_cursor = more
        .then(|| items.last().map(|l| l.licence_id.clone()))
        .flatten();
    Ok(axum::Json(Page { items, next_cursor }))
}

/// One sale with its split, traceable to its `SaleSettled` event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SaleView {
    /// Transaction of the `SaleSettled` event.
    pub tx_hash: String,
    /// Its log index.
    pub log_index: i32,
    /// Block.
    pub block_number: i64,
    /// Block time.
    pub block_timestamp: Option<DateTime<Utc>>,
    /// `primary` or `resale`.
    pub kind: String,
    /// Licence minted to the buyer (decimal).
    pub licence_id: String,
    /// Offer (resale).
    pub offer_id: Option<String>,
    /// Card payment reference (NULL for crypto).
    pub payment_ref: Option<String>,
    /// Who paid (the operator for card payments).
    pub payer_address: String,
    /// Film.
    pub film_id: Option<i64>,
    /// Studio.
    pub studio_id: Option<i64>,
    /// Price in cents.
    pub price_cents: i64,
    /// Seller (resale).
    pub seller_address: Option<String>,
    /// Seller's share.
    pub seller_cents: i64,
    /// Studio's royalty address.
    pub studio_address: String,
    /// Studio's share.
    pub studio_cents: i64,
    /// Platform's address.
    pub platform_address: String,
    /// Platform's share.
    pub platform_cents: i64,
}

/// Sale filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SaleQuery {
    /// Film.
    pub film_id: Option<i64>,
    /// Studio.
    pub studio_id: Option<i64>,
    /// `primary` or `resale`.
    pub kind: Option<String>,
    /// From (inclusive, RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// To (exclusive, RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size (statements: ignored, all lines).
    pub limit: Option<i64>,
    /// From a previous page: `block-logindex`.
    pub cursor: Option<String>,
    /// Statements only: `json` (default) or `csv`.
    pub format: Option<String>,
}

fn sale(r: &PgRow) -> Result<SaleView, sqlx::Error> {
    Ok(SaleView {
        tx_hash: r.try_get("tx_hash")?,
        log_index: r.try_get("log_index")?,
        block_number: r.try_get("block_number")?,
        block_timestamp: r.try_get("block_timestamp")?,
        kind: r.try_get("kind")?,
        licence_id: r.try_get("licence_id")?,
        offer_id: r.try_get("offer_id")?,
        payment_ref: r.try_get("payment_ref")?,
        payer_address: r.try_get("payer_address")?,
        film_id: r.try_get("film_id")?,
        studio_id: r.try_get("studio_id")?,
        price_cents: r.try_get("price_cents")?,
        seller_address: r.try_get("seller_address")?,
        seller_cents: r.try_get("seller_cents")?,
        studio_address: r.try_get("studio_address")?,
        studio_cents: r.try_get("studio_cents")?,
        platform_address: r.try_get("platform_address")?,
        platform_cents: r.try_get("platform_cents")?,
    })
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

async fn fetch_sales(
    state: &AppState,
    q: &SaleQuery,
    studio: Option<i64>,
    page: Option<(i64, Option<(i64, i32)>)>,
) -> ApiResult<Vec<PgRow>> {
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
    Ok(sqlx::query(sql)
        .bind(q.film_id)
        .bind(studio)
        .bind(kind_filter(q.kind.as_deref())?)
        .bind(q.from)
        .bind(q.to)
        .bind(cursor.map(|c| c.0))
        .bind(cursor.map(|c| c.1))
        .bind(limit)
        .fetch_all(state.db())
        .await?)
}

/// Sales with their split, by film, studio, kind and period.
#[utoipa::path(get, path = "/v1/sales", params(SaleQuery), responses((status = 200, body = Page<SaleView>), (status = 422, body = ErrorBody)))]
pub async fn list_sales(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SaleQuery>,
) -> ApiResult<axum::Json<Page<SaleView>>> {
    let limit = limit(q.limit)?;
    let cursor = q
        .cursor
        .as_deref()
        .map(|c| {
            c.split_once('-')
                .and_then(|(b, l)| Some((b.parse::<i64>().ok()?, l.parse::<i32>().ok()?)))
                .ok_or_else(|| ApiError::invalid_field(format!("cursor {c:?} is not valid")))
        })
        .transpose()?;
    let rows = fetch_sales(&state, &q, q.studio_id, Some((limit + 1, cursor))).await?;
    let more = rows.len() as i64 > limit;
    let mut items = rows
        .iter()
        .map(sale)
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    items.truncate(limit as usize);
    let next_cursor = more
        .then(|| {
            items
                .last()
                .map(|s| format!("{}-{}", s.block_number, s.log_index))
        })
        .flatten();
    Ok(axum::Json(Page { items, next_cursor }))
}

/// A studio's royalty statement for a period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Statement {
    /// Studio.
    pub studio_id: i64,
    /// Period start (inclusive), if given.
    pub from: Option<DateTime<Utc>>,
    /// Period end (exclusive), if given.
    pub to: Option<DateTime<Utc>>,
    /// Number of sales.
    pub sales: i64,
    /// Sum of prices.
    pub gross_cents: i64,
    /// Sum of the studio's shares.
    pub studio_cents: i64,
    /// Sum of the platform's shares.
    pub platform_cents: i64,
    /// Sum of the sellers' shares (resales).
    pub seller_cents: i64,
    /// Every sale of the period.
    pub lines: Vec<SaleView>,
}

/// A studio's royalty statement (JSON, or CSV with `format=csv`).
#[utoipa::path(get, path = "/v1/studios/{id}/statement", params(("id" = i64, Path, description = "studio id"), SaleQuery),
    responses((status = 200, body = Statement), (status = 404, body = ErrorBody)))]
pub async fn statement(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SaleQuery>,
) -> ApiResult<Response> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no studio {id:?}")))?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT studio_id FROM studios WHERE studio_id = $1")
            .bind(id)
            .fetch_optional(state.db())
            .await?;
    exists.ok_or_else(|| ApiError::not_found(format!("no studio {id}")))?;
    let rows = fetch_sales(&state, &q, Some(id), None).await?;
    let lines = rows
        .iter()
        .map(sale)
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let st = Statement {
        studio_id: id,
        from: q.from,
        to: q.to,
        sales: lines.len() as i64,
        gross_cents: lines.iter().map(|l| l.price_cents).sum(),
        studio_cents: lines.iter().map(|l| l.studio_cents).sum(),
        platform_cents: lines.iter().map(|l| l.platform_cents).sum(),
        seller_cents: lines.iter().map(|l| l.seller_cents).sum(),
        lines,
    };
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(axum::Json(st).into_response()),
        "csv" => {
            let mut out = String::from(
                "block_number,log_index,tx_hash,block_timestamp,kind,licence_id,film_id,price_cents,seller_cents,studio_cents,platform_cents,payment_ref\n",
            );
            for l in &st.lines {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{},{},{},{}\n",
                    l.block_number,
                    l.log_index,
                    l.tx_hash,
                    l.block_timestamp
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default(),
                    l.kind,
                    l.licence_id,
                    l.film_id.map(|f| f.to_string()).unwrap_or_default(),
                    l.price_cents,
                    l.seller_cents,
                    l.studio_cents,
                    l.platform_cents,
                    l.payment_ref.clone().unwrap_or_default(),
                ));
            }
            out.push_str(&format!(
                "TOTAL,,,,,,,{},{},{},{},\n",
                st.gross_cents, st.seller_cents, st.studio_cents, st.platform_cents
            ));
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
        }
        other => Err(ApiError::invalid_field(format!(
            "format {other:?}: expected json or csv"
        ))),
    }
}

fn offer_row(r: &PgRow) -> Result<OfferView, sqlx::Error> {
    Ok(OfferView {
        offer_id: r.try_get("offer_id")?,
        licence_id: r.try_get("licence_id")?,
        film_id: r.try_get("film_id")?,
        quality: quality_name(r.try_get("quality")?),
        seller_address: r.try_get("seller_address")?,
        price_cents: r.try_get("price")?,
        status: r.try_get("status")?,
        buyer_address: r.try_get("buyer_address")?,
    })
}

fn licence_row(r: &PgRow) -> Result<LicenceView, sqlx::Error> {
    Ok(LicenceView {
        licence_id: r.try_get("licence_id")?,
        owner_address: r.try_get("owner_address")?,
        film_id: r.try_get("film_id")?,
        quality: quality_name(r.try_get("quality")?),
        tx_hash: r.try_get("tx_hash")?,
        acquired_at: r.try_get("acquired_at")?,
        hold_until: r.try_get("hold_until")?,
        revoked: r.try_get("revoked")?,
        revoked_reason: r.try_get("revoked_reason")?,
        replaced_by: r.try_get("replaced_by")?,
    })
}

/// A licence's history: the chain of licences it descends from and was replaced by (resales),
/// every sale that minted one of them and every offer made on them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LicenceHistory {
    /// The licences of the chain, oldest first (the asked one included).
    pub licences: Vec<LicenceView>,
    /// Sales that minted them, oldest first, with every share.
    pub sales: Vec<SaleView>,
    /// Offers made on them.
    pub offers: Vec<OfferView>,
}

/// A licence's history across resales, from the mirror.
#[utoipa::path(get, path = "/v1/licences/{id}/history", params(("id" = String, Path, description = "licence id (decimal)")),
    responses((status = 200, body = LicenceHistory), (status = 404, body = ErrorBody)))]
pub async fn licence_history(
    State(state): State<AppState>,
    Path(id): Path<String>,
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
    let licences = sqlx::query(
        "SELECT licence_id::text AS licence_id, owner_address, film_id, quality, tx_hash, acquired_at, hold_until, revoked, \
                revoked_reason, replaced_by::text AS replaced_by \
         FROM licences WHERE licence_id = ANY($1::numeric[]) ORDER BY minted_block, log_index",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(licence_row)
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let sales = sqlx::query(
        "SELECT tx_hash, log_index, block_number, block_timestamp, kind, licence_id::text AS licence_id, \
                offer_id::text AS offer_id, payment_ref, payer_address, film_id, studio_id, price_cents, seller_address, \
                seller_cents, studio_address, studio_cents, platform_address, platform_cents \
         FROM sales WHERE licence_id = ANY($1::numeric[]) ORDER BY block_number, log_index",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(sale)
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let offers = sqlx::query(
        "SELECT o.offer_id::text AS offer_id, o.licence_id::text AS licence_id, l.film_id, l.quality, o.seller_address, \
                o.price, o.status, o.buyer_address \
         FROM resale_offers o JOIN licences l ON l.licence_id = o.licence_id \
         WHERE o.licence_id = ANY($1::numeric[]) ORDER BY o.offer_id",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(offer_row)
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    tx.commit().await?;
    Ok(axum::Json(LicenceHistory {
        licences,
        sales,
        offers,
    }))
}
