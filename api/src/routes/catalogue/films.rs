//! Films with their editions and prices: `GET /v1/films` (search by title, studio, year, an
//! edition's quality and price) and `GET /v1/films/{id}`.

use axum::extract::State;
use tangible_api_types::catalogue::{EditionView, FilmQuery, FilmView};

use super::{Page, integer_cursor, like_pattern, limit, quality_name};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// Wraps a statement selecting films (`film_id, studio_id, studio_name, title, year`, ordered
/// and limited) so that each film comes back with its editions in the same round trip: one row
/// per edition (or one row with null edition columns for a film without any), in film order.
/// `served`: the API holds the master the chain names (see [`crate::masters::serves`]); both
/// columns are `0x` + lowercase hex, as the indexer and the upload write them. It reads the
/// indexer's copy of the chain: while the mirror lags a master change on chain, an edition may
/// show as served and its purchase still be refused (409 `content_unavailable`), which checks
/// the chain.
const FILMS_WITH_EDITIONS_HEAD: &str = "SELECT f.film_id, f.studio_id, f.studio_name, f.title, f.year, \
     e.quality, e.price_cents, e.active, e.master_hash, e.resale_floor_cents, \
     c.master_hash IS NOT DISTINCT FROM e.master_hash AS served FROM (";
const FILMS_WITH_EDITIONS_TAIL: &str = ") f LEFT JOIN editions e USING (film_id) \
     LEFT JOIN api_edition_content c ON c.film_id = e.film_id AND c.quality = e.quality \
     ORDER BY f.film_id, e.quality";
/// The films part of a catalogue read, before its filters.
const FILMS_SELECT: &str = "SELECT f.film_id, f.studio_id, s.name AS studio_name, f.title, f.year \
     FROM films f JOIN studios s USING (studio_id)";
/// One film with its editions (built once, not per request).
static FILM_BY_ID: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{FILMS_WITH_EDITIONS_HEAD}{FILMS_SELECT} WHERE f.film_id = $1{FILMS_WITH_EDITIONS_TAIL}"
    )
});

/// A row of a [`FILMS_WITH_EDITIONS_HEAD`] statement: a film and one of its editions (the
/// edition columns are null for a film without editions).
#[derive(sqlx::FromRow)]
struct FilmEditionRow {
    film_id: i64,
    studio_id: i64,
    studio_name: String,
    title: String,
    year: i32,
    quality: Option<i16>,
    price_cents: Option<i64>,
    active: Option<bool>,
    master_hash: Option<String>,
    resale_floor_cents: Option<i64>,
    served: Option<bool>,
}

/// An edition column of a row whose edition exists (not null in `editions`).
fn edition_column<T>(value: Option<T>, column: &str) -> Result<T, sqlx::Error> {
    value.ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(sqlx::error::UnexpectedNullError),
    })
}

/// Groups the rows of a [`FILMS_WITH_EDITIONS_HEAD`] statement into films.
fn films_from_rows(rows: Vec<FilmEditionRow>) -> Result<Vec<FilmView>, sqlx::Error> {
    let mut films: Vec<FilmView> = Vec::new();
    for r in rows {
        let film_id = r.film_id;
        if films.last().is_none_or(|f| f.film_id != film_id) {
            films.push(FilmView {
                film_id,
                studio_id: r.studio_id,
                studio_name: r.studio_name,
                title: r.title,
                year: r.year,
                editions: Vec::new(),
            });
        }
        let Some(code) = r.quality else {
            continue; // a film without editions yet
        };
        let quality = quality_name(code);
        let film = films.last_mut().expect("pushed above");
        film.editions.push(EditionView {
            edition_id: format!("{film_id}-{quality}"),
            quality,
            price_cents: edition_column(r.price_cents, "price_cents")?,
            active: edition_column(r.active, "active")?,
            master_hash: edition_column(r.master_hash, "master_hash")?,
            resale_floor_cents: edition_column(r.resale_floor_cents, "resale_floor_cents")?,
            served: edition_column(r.served, "served")?,
        });
    }
    Ok(films)
}

/// Films, searchable by title, studio and year, and filtered by the editions on sale (quality,
/// highest price).
#[utoipa::path(get, path = "/v1/films", params(FilmQuery), responses((status = 200, body = Page<FilmView>), (status = 422, body = ErrorBody)))]
pub async fn list_films(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<FilmQuery>,
) -> ApiResult<axum::Json<Page<FilmView>>> {
    let limit = limit(q.limit)?;
    let cursor = integer_cursor(q.cursor.as_deref())?;
    let quality = q
        .quality
        .as_deref()
        .map(|v| {
            v.parse::<tangible_domain::Quality>()
                .map(|q| i16::from(q.code()))
                .map_err(|_| {
                    ApiError::invalid_field(format!("quality {v:?}: expected sd, hd or 4k"))
                })
        })
        .transpose()?;
    if let Some(p) = q.max_price.filter(|p| *p < 0) {
        return Err(ApiError::invalid_field(format!(
            "max_price {p}: a price in cents, 0 or more"
        )));
    }
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
    if quality.is_some() || q.max_price.is_some() {
        // One edition on sale (active, its master served) must meet both (a 4K edition under
        // 10 €, not any 4K and any edition under 10 €).
        qb.push(
            " AND EXISTS (SELECT 1 FROM editions x JOIN api_edition_content xc \
             ON xc.film_id = x.film_id AND xc.quality = x.quality AND xc.master_hash = x.master_hash \
             WHERE x.film_id = f.film_id AND x.active",
        );
        if let Some(code) = quality {
            qb.push(" AND x.quality = ").push_bind(code);
        }
        if let Some(max) = q.max_price {
            qb.push(" AND x.price_cents <= ").push_bind(max);
        }
        qb.push(")");
    }
    if let Some(after) = cursor {
        qb.push(" AND f.film_id > ").push_bind(after);
    }
    qb.push(" ORDER BY f.film_id LIMIT ")
        .push_bind(limit + 1)
        .push(FILMS_WITH_EDITIONS_TAIL);
    let rows = qb.build_query_as().fetch_all(state.db()).await?;
    let films = films_from_rows(rows)?;
    Ok(axum::Json(Page::from_probe(films, limit, |f| {
        f.film_id.to_string()
    })))
}

/// One film with its editions and prices.
#[utoipa::path(get, path = "/v1/films/{id}", params(("id" = i64, Path, description = "film id")),
    responses((status = 200, body = FilmView), (status = 404, body = ErrorBody)))]
pub async fn get_film(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<FilmView>> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no film {id:?}")))?;
    let rows = sqlx::query_as(FILM_BY_ID.as_str())
        .bind(id)
        .fetch_all(state.db())
        .await?;
    films_from_rows(rows)?
        .pop()
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found(format!("no film {id}")))
}
