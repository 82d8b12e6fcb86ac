//! Studio tooling: register a studio, its films and editions, upload an edition's master (an
//! edition's sale terms afterwards: `routes::editions`).
//!
//! Who signs: every transaction is sent with the API's operator key (its `REGISTRAR_ROLE` may act
//! for any studio in the registry). The API therefore checks the caller's authority itself, on chain,
//! before sending anything:
//! - registering a studio: a platform admin (`DEFAULT_ADMIN_ROLE`) at once, for any admin and
//!   commission; any other signed-in wallet applies, and the studio, with that wallet as its
//!   admin, is registered when a platform admin approves the application
//!   ([`crate::studio_applications`]: studios cost gas and film ids, contracts audit M-3);
//! - films, editions, masters: the studio's admin as registered on chain (`studio(id).admin`),
//!   or a platform admin acting for the studio.
//!
//! Every transaction caused here is paid with the operator's gas: each spends one of the
//! caller's operator-transaction budget and of the instance's hourly one
//! ([`crate::throttle::Budgets::operator_tx`]), checked once the caller's authority is, so a
//! refused caller spends nothing.

use alloy::primitives::Address;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tangible_api_types::studios::{
    DeclaredEdition, FilmCreated, MasterPublished, MasterQuery, NewFilm, NewStudio,
    StudioApplication, StudioApplications, StudioApplicationsQuery, StudioCreated,
};
use tangible_domain::Quality;

use super::parse_address;
use crate::chain::Studio;
use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser, EditionRef};
use crate::masters::{self, MasterUpload, chain_unavailable, chain_write_err, lower};
use crate::state::AppState;
use crate::studio_applications;

const TARGET: &str = "tangible::api::studios";
/// Longest studio name or film title, characters.
const MAX_NAME_CHARS: usize = 200;
/// Highest edition price accepted, cents (1,000,000 €).
pub const MAX_PRICE_CENTS: u64 = 100_000_000;

fn parse_name(field: &str, s: &str) -> ApiResult<String> {
    parse_text(field, s, MAX_NAME_CHARS)
}

/// Longest reason for replacing a master (recorded on chain: kept short).
const MAX_REASON_CHARS: usize = 200;

/// `s` trimmed, 1 to `max` characters, none that hides or reorders text (a platform admin
/// reviews studio names: [`crate::operator::hidden_char`]).
fn parse_text(field: &str, s: &str, max: usize) -> ApiResult<String> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(crate::operator::hidden_char) {
        return Err(ApiError::invalid_field(format!(
            "{field} must be 1 to {max} characters without control, bidi or zero-width characters"
        )));
    }
    Ok(t.to_owned())
}

fn parse_quality(s: &str) -> ApiResult<Quality> {
    s.parse()
        .map_err(|e: tangible_domain::ParseQualityError| ApiError::invalid_field(e.to_string()))
}

fn check_price(price_cents: u64) -> ApiResult<u64> {
    if price_cents == 0 || price_cents > MAX_PRICE_CENTS {
        return Err(ApiError::invalid_field(format!(
            "price_cents must be 1 to {MAX_PRICE_CENTS}"
        )));
    }
    Ok(price_cents)
}

/// The studio, if `caller` is its admin on chain or a platform admin.
pub(super) async fn require_studio_admin(
    state: &AppState,
    caller: Address,
    studio_id: u32,
) -> ApiResult<Studio> {
    let studio = state
        .chain()
        .studio(studio_id)
        .await
        .map_err(chain_unavailable)?
        .ok_or_else(|| ApiError::not_found(format!("no studio {studio_id}")))?;
    if studio.admin == caller
        || state
            .chain()
            .is_platform_admin(caller)
            .await
            .map_err(chain_unavailable)?
    {
        return Ok(studio);
    }
    tracing::warn!(target: TARGET, studio_id, %caller, "refused: not the studio's admin");
    Err(ApiError::forbidden(
        codes::NOT_STUDIO_ADMIN,
        format!("{caller} is not the admin of studio {studio_id}"),
    ))
}

/// The studio owning `film_id`, if `caller` may manage it.
pub(super) async fn require_film_admin(
    state: &AppState,
    caller: Address,
    film_id: u64,
) -> ApiResult<u32> {
    let studio_id = state
        .chain()
        .film_studio(film_id)
        .await
        .map_err(chain_unavailable)?
        .ok_or_else(|| ApiError::not_found(format!("no film {film_id}")))?;
    require_studio_admin(state, caller, studio_id).await?;
    Ok(studio_id)
}

// ------------------------------------------------------------------ studios

/// Registers a studio on chain (a platform admin: at once, 201), or records the caller's
/// application for one (anyone else: 202; the studio, with the caller as its admin, is
/// registered when a platform admin approves it).
#[utoipa::path(post, path = "/v1/studios", request_body = NewStudio, security(("bearer" = [])),
    responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
    (status = 201, description = "registered (platform admin)", body = StudioCreated),
    (status = 202, description = "an application, waiting for a platform admin", body = StudioApplication),
    (status = 401, body = ErrorBody),
    (status = 403, description = "not_platform_admin: another admin or commission asked by a wallet that is not a platform admin", body = ErrorBody),
    (status = 409, description = "application_pending: this wallet's application already waits; recently_rejected: its last one was rejected less than 24 hours ago", body = ErrorBody),
    (status = 422, body = ErrorBody),
    (status = 503, description = "applications_full: too many applications wait for a decision; upstream_unavailable: the chain node", body = ErrorBody)))]
pub async fn register_studio(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<NewStudio>,
) -> ApiResult<Response> {
    let caller = user.0.sub;
    let name = parse_name("name", &req.name)?;
    let royalty = parse_address("royalty_address", &req.royalty_address)?;
    let admin = match &req.admin_address {
        Some(a) => parse_address("admin_address", a)?,
        None => caller,
    };
    let (default_bps, max_bps) = state
        .chain()
        .commission_bounds()
        .await
        .map_err(chain_unavailable)?;
    let commission = req.commission_bps.unwrap_or(default_bps);
    if commission > max_bps {
        return Err(ApiError::invalid_field(format!(
            "commission_bps must be at most {max_bps}"
        )));
    }
    let platform_admin = state
        .chain()
        .is_platform_admin(caller)
        .await
        .map_err(chain_unavailable)?;
    if (admin != caller || commission != default_bps) && !platform_admin {
        return Err(ApiError::forbidden(
            codes::NOT_PLATFORM_ADMIN,
            "only a platform admin may register a studio for another wallet or set its commission",
        ));
    }
    if !platform_admin {
        let application = studio_applications::apply(state.db(), caller, &name, royalty)
            .await
            .map_err(application_err)?;
        tracing::info!(target: TARGET, application_id = application.application_id, %caller, "studio application recorded");
        return Ok((StatusCode::ACCEPTED, axum::Json(application)).into_response());
    }
    state.budgets().operator_tx(caller, "POST", "/v1/studios")?;
    let (studio_id, tx) = state
        .chain()
        .register_studio(admin, royalty, name.clone())
        .await
        .map_err(chain_write_err)?;
    tracing::info!(target: TARGET, studio_id, %admin, %caller, tx_hash = %tx, "studio registered");
    let commission_tx = if commission == default_bps {
        None
    } else {
        let tx = state
            .chain()
            .set_studio_commission(studio_id, commission)
            .await
            .map_err(chain_write_err)?;
        tracing::info!(target: TARGET, studio_id, commission, tx_hash = %tx, "studio commission set");
        Some(tx.to_string())
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(StudioCreated {
            studio_id,
            name,
            admin_address: admin.to_checksum(None),
            royalty_address: royalty.to_checksum(None),
            commission_bps: commission,
            tx_hash: tx.to_string(),
            commission_tx_hash: commission_tx,
        }),
    )
        .into_response())
}

/// A studio application error as the client's.
pub(crate) fn application_err(e: studio_applications::ApplicationError) -> ApiError {
    use studio_applications::ApplicationError as E;
    match e {
        E::AlreadyPending(_) => ApiError::conflict(codes::APPLICATION_PENDING, e.to_string()),
        E::RecentlyRejected(_) => ApiError::conflict(codes::RECENTLY_REJECTED, e.to_string()),
        E::QueueFull => ApiError::client(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::APPLICATIONS_FULL,
            e.to_string(),
        ),
        E::NotFound(_) => ApiError::not_found(e.to_string()),
        E::NotPending { .. } | E::InFlight(_) => {
            ApiError::conflict(codes::NOT_PENDING, e.to_string())
        }
        E::Db(db) => ApiError::Internal(db.into()),
    }
}

/// Studio applications (waiting ones oldest first, others latest first; at most 200): everyone's for a platform admin, the
/// caller's own for anyone else.
#[utoipa::path(get, path = "/v1/studios/applications", params(StudioApplicationsQuery), security(("bearer" = [])),
    responses((status = 200, body = StudioApplications), (status = 401, body = ErrorBody),
    (status = 422, body = ErrorBody),
    (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody)))]
pub async fn studio_applications(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<StudioApplicationsQuery>,
) -> ApiResult<axum::Json<StudioApplications>> {
    let caller = user.0.sub;
    let everyone = state
        .chain()
        .is_platform_admin(caller)
        .await
        .map_err(chain_unavailable)?;
    let applications =
        studio_applications::list(state.db(), (!everyone).then_some(caller), query.state)
            .await
            .map_err(application_err)?;
    Ok(axum::Json(StudioApplications { applications }))
}

// ------------------------------------------------------------------ films

/// Registers a film of a studio on chain and declares its editions (studio admin).
#[utoipa::path(post, path = "/v1/studios/{id}/films", request_body = NewFilm, security(("bearer" = [])),
    params(("id" = u32, Path, description = "studio id")),
    responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody), (status = 201, body = FilmCreated), (status = 401, body = ErrorBody),
    (status = 403, description = "not_studio_admin", body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 422, body = ErrorBody)))]
pub async fn register_film(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(studio_id): ApiPath<String>,
    ApiJson(req): ApiJson<NewFilm>,
) -> ApiResult<(StatusCode, axum::Json<FilmCreated>)> {
    let studio_id: u32 = studio_id
        .parse()
        .ok()
        .filter(|&id| id != 0)
        .ok_or_else(|| ApiError::not_found(format!("no studio {studio_id:?}")))?;
    let title = parse_name("title", &req.title)?;
    if !(1870..=2200).contains(&req.year) {
        return Err(ApiError::invalid_field("year must be 1870 to 2200"));
    }
    let mut editions: Vec<(Quality, u64)> = Vec::new();
    for e in &req.editions {
        let q = parse_quality(&e.quality)?;
        if editions.iter().any(|(d, _)| *d == q) {
            return Err(ApiError::invalid_field(format!(
                "edition {} is declared twice",
                q.as_str()
            )));
        }
        editions.push((q, check_price(e.price_cents)?));
    }
    require_studio_admin(&state, user.0.sub, studio_id).await?;
    state
        .budgets()
        .operator_tx(user.0.sub, "POST", "/v1/studios/{id}/films")?;
    let (film_id, tx) = state
        .chain()
        .register_film(studio_id, title.clone(), req.year)
        .await
        .map_err(chain_write_err)?;
    tracing::info!(target: TARGET, film_id, studio_id, caller = %user.0.sub, tx_hash = %tx, "film registered");
    let film = i64::try_from(film_id).map_err(anyhow::Error::new)?;
    let mut db = state.db().begin().await?;
    for (q, price) in &editions {
        sqlx::query(
            "INSERT INTO api_declared_editions (film_id, quality, price_cents, declared_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (film_id, quality) DO UPDATE SET price_cents = EXCLUDED.price_cents, declared_by = EXCLUDED.declared_by, declared_at = now()",
        )
        .bind(film)
        .bind(i16::from(q.code()))
        .bind(i64::try_from(*price).map_err(anyhow::Error::new)?)
        .bind(lower(user.0.sub))
        .execute(&mut *db)
        .await?;
    }
    db.commit().await?;
    let editions = editions
        .into_iter()
        .map(|(quality, price_cents)| DeclaredEdition {
            edition_id: EditionRef { film_id, quality }.to_string(),
            quality: quality.as_str().to_owned(),
            price_cents,
            status: "awaiting_master".to_owned(),
        })
        .collect();
    Ok((
        StatusCode::CREATED,
        axum::Json(FilmCreated {
            film_id,
            studio_id,
            title,
            year: req.year,
            tx_hash: tx.to_string(),
            editions,
        }),
    ))
}

// ------------------------------------------------------------------ masters

/// Uploads an edition's master as a streamed body: hashed, encrypted, stored, published over
/// P2P and HTTP, and registered on chain with its master hash (studio admin).
#[utoipa::path(put, path = "/v1/editions/{id}/master", security(("bearer" = [])),
    params(("id" = String, Path, description = "edition id `<film_id>-<sd|hd|4k>`"), MasterQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the master's bytes; Content-Length required"),
    responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody), (status = 200, body = MasterPublished), (status = 400, description = "upload_incomplete", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, description = "not_studio_admin", body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, description = "upload_in_progress", body = ErrorBody),
    (status = 411, description = "length_required", body = ErrorBody), (status = 413, body = ErrorBody),
    (status = 422, body = ErrorBody)))]
pub async fn upload_master(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(edition): ApiPath<String>,
    ApiQuery(query): ApiQuery<MasterQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<axum::Json<MasterPublished>> {
    let declared_len: Option<u64> = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    // Only a body of a declared length that can be read whole is drained (not one announced at
    // 1 TiB, nor a chunked one that may never end).
    let drainable = declared_len.is_some_and(|len| len <= REFUSED_BODY_DRAIN_BYTES);
    let mut body = Some(body);
    let result = upload_master_checked(state, user, edition, query, declared_len, &mut body).await;
    if result.is_err()
        && drainable
        && let Some(unread) = body.take()
    {
        drain_refused_body(unread).await;
    }
    result
}

/// How much of a refused upload's body is read and discarded before the error is answered.
const REFUSED_BODY_DRAIN_BYTES: u64 = 64 << 20;

/// Reads and discards (at most [`REFUSED_BODY_DRAIN_BYTES`], for at most 10 s) the body of an
/// upload refused before its first byte was read, when its declared length is within that
/// bound. Answering while the client is still sending makes the server close the connection
/// under it: the client then sees a broken pipe instead of the error (seen in the e2e test with
/// a 2 MiB master for an unknown film).
async fn drain_refused_body(body: Body) {
    use futures::StreamExt;
    let mut data = body.into_data_stream();
    let mut left = REFUSED_BODY_DRAIN_BYTES;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(Ok(chunk)) = data.next().await {
            let n = chunk.len() as u64;
            if n >= left {
                break;
            }
            left -= n;
        }
    })
    .await;
}

/// [`upload_master`] once the body is known to be wanted: every check runs before the body is
/// taken, so a refusal leaves it in `body` for the caller to drain.
async fn upload_master_checked(
    state: AppState,
    user: AuthUser,
    edition: String,
    query: MasterQuery,
    declared_len: Option<u64>,
    body: &mut Option<Body>,
) -> ApiResult<axum::Json<MasterPublished>> {
    let edition = EditionRef::parse(&edition)?;
    let caller = user.0.sub;
    let content = masters::content_node(&state)?;
    masters::kek(&state)?;
    let declared_len = declared_len.ok_or_else(|| {
        ApiError::client(
            StatusCode::LENGTH_REQUIRED,
            codes::LENGTH_REQUIRED,
            "a master upload needs a Content-Length header",
        )
    })?;
    let max = state.config().max_master_bytes;
    if declared_len > max {
        return Err(ApiError::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            format!("the master is {declared_len} bytes, the limit is {max}"),
        ));
    }
    if let Some(p) = query.price_cents {
        check_price(p)?;
    }
    let reason = query
        .reason
        .as_deref()
        .map(|r| parse_text("reason", r, MAX_REASON_CHARS))
        .transpose()?;
    require_film_admin(&state, caller, edition.film_id).await?;
    let id = edition.id();
    let on_chain = state
        .chain()
        .edition(id.film_id, id.quality)
        .await
        .map_err(chain_unavailable)?;
    let film = i64::try_from(edition.film_id).map_err(anyhow::Error::new)?;
    let declared: Option<i64> = sqlx::query_scalar(
        "SELECT price_cents FROM api_declared_editions WHERE film_id = $1 AND quality = $2",
    )
    .bind(film)
    .bind(i16::from(id.quality))
    .fetch_optional(state.db())
    .await?;
    let price = match (query.price_cents, on_chain, declared) {
        (Some(p), _, _) => p,
        (None, Some(e), _) => e.price_cents,
        (None, None, Some(p)) => u64::try_from(p).map_err(anyhow::Error::new)?,
        (None, None, None) => {
            return Err(ApiError::invalid_field(format!(
                "edition {edition} was not declared with its film: pass ?price_cents="
            )));
        }
    };
    // A price cut may not leave the resale floor above half the edition's lowest price: the
    // chain would refuse it after the whole master was uploaded and stored.
    if let Some(e) = on_chain {
        let max = e.max_resale_floor_cents(price);
        if e.resale_floor_cents > max {
            return Err(ApiError::invalid_field(format!(
                "a price of {price} cents would leave the edition's resale floor ({} cents) above \
                 half its lowest price ({max} cents at most): lower the floor first",
                e.resale_floor_cents
            )));
        }
    }
    // Registering (or updating) the edition is an operator transaction: counted before the
    // body is read.
    state
        .budgets()
        .operator_tx(caller, "PUT", "/v1/editions/{id}/master")?;
    let _slot = content.begin_upload(id).ok_or_else(|| {
        ApiError::conflict(
            codes::UPLOAD_IN_PROGRESS,
            format!("a master of {edition} is being uploaded"),
        )
    })?;
    let upload = MasterUpload {
        edition,
        price,
        on_chain,
        declared_len,
        caller,
        reason,
    };
    let recorded = masters::record(&state, upload).await?;
    let body = body
        .take()
        .expect("the body is taken once, after every check");
    recorded.publish(&state, body).await.map(axum::Json)
}
