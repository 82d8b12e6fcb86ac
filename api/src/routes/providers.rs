//! Owners' clients that seed an edition (`POST /v1/editions/{id}/providers`): the announcement
//! is signed by the seeding node's key (so nobody lists a node they do not run), made by a
//! signed-in wallet that owns a live licence of the edition on chain, expires within
//! [`MAX_TTL_SECS`], and a wallet holds at most [`MAX_PER_WALLET`] live ones. The live
//! announcements are listed by `GET /v1/editions/{id}/content` ([`live_providers`]).

use alloy::primitives::U256;
use axum::extract::State;
use axum::http::StatusCode;
use sqlx::PgPool;
use tangible_api_types::content::{ProviderAnnounced, ProviderAnnouncement};
use tangible_content::announce;
use tangible_content::p2p::ProviderAddr;

use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::{ApiJson, ApiPath, AuthUser, EditionRef};
use crate::masters::chain_unavailable;
use crate::state::AppState;

const TARGET: &str = "tangible::api::providers";
/// The longest an announcement may be listed: a seeder announces again before it ends, and one
/// that stopped drops out of the list within this time.
pub const MAX_TTL_SECS: u64 = 15 * 60;
/// Live announcements per wallet, all editions together.
pub const MAX_PER_WALLET: i64 = 16;
/// Peers listed per edition.
const LISTED: i64 = 8;
/// Seeding nodes of one wallet listed per edition (the others are not shown: one owner cannot
/// fill the list).
const LISTED_PER_WALLET: i64 = 2;
/// Addresses an announced node may give.
const MAX_ADDRESSES: usize = 8;

/// The live seeders of an edition, latest announcement first: announcements not expired whose
/// licence the indexer's mirror does not show revoked (resold, charged back), at most
/// [`LISTED_PER_WALLET`] per wallet and [`LISTED`] in all.
pub async fn live_providers(db: &PgPool, film_id: i64, quality: i16) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT provider FROM ( \
           SELECT p.provider, p.announced_at, \
                  row_number() OVER (PARTITION BY p.wallet ORDER BY p.announced_at DESC) AS nth \
           FROM api_content_providers p \
           WHERE p.film_id = $1 AND p.quality = $2 AND p.expires_at > now() \
             AND NOT EXISTS (SELECT 1 FROM licences l WHERE l.licence_id = p.licence_id AND l.revoked) \
         ) live WHERE nth <= $4 \
         ORDER BY announced_at DESC LIMIT $3",
    )
    .bind(film_id)
    .bind(quality)
    .bind(LISTED)
    .bind(LISTED_PER_WALLET)
    .fetch_all(db)
    .await
}

/// Announces that the caller's iroh node seeds the edition's encrypted file.
#[utoipa::path(post, path = "/v1/editions/{id}/providers",
    params(("id" = String, Path, description = "edition id `<film_id>-<sd|hd|4k>`")),
    request_body = ProviderAnnouncement, security(("bearer" = [])),
    responses((status = 201, body = ProviderAnnounced),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not_owner: the wallet does not own this live licence of the edition", body = ErrorBody),
        (status = 404, description = "not_found or content_unavailable", body = ErrorBody),
        (status = 409, description = "too_many_announcements", body = ErrorBody),
        (status = 422, description = "invalid_field: provider, expiry or node signature", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "upstream_unavailable: the chain node", body = ErrorBody)))]
pub async fn announce(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(edition): ApiPath<String>,
    ApiJson(body): ApiJson<ProviderAnnouncement>,
) -> ApiResult<(StatusCode, axum::Json<ProviderAnnounced>)> {
    let edition = EditionRef::parse(&edition)?;
    let id = edition.id();
    let film_id = i64::try_from(id.film_id).map_err(anyhow::Error::new)?;
    let quality = i16::from(id.quality);
    let wallet = user.0.sub;
    let wallet_text = wallet.to_string().to_lowercase();
    let provider: ProviderAddr = body
        .provider
        .parse()
        .map_err(|e| ApiError::invalid_field(format!("provider: {e}")))?;
    // A node reachable at a few addresses; more is a way to aim downloaders at many hosts.
    if provider.0.addrs.len() > MAX_ADDRESSES {
        return Err(ApiError::invalid_field(format!(
            "provider: at most {MAX_ADDRESSES} addresses"
        )));
    }
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    if body.expires_at <= now || body.expires_at > now + MAX_TTL_SECS {
        return Err(ApiError::invalid_field(format!(
            "expires_at must be within the next {MAX_TTL_SECS} s"
        )));
    }
    announce::verify(
        &provider,
        &edition.to_string(),
        &wallet_text,
        body.expires_at,
        &body.signature,
    )
    .map_err(|e| ApiError::invalid_field(e.to_string()))?;
    let licence_id: U256 = body
        .licence_id
        .parse()
        .map_err(|_| ApiError::invalid_field("licence_id must be a decimal licence id"))?;
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM api_edition_content WHERE film_id = $1 AND quality = $2)",
    )
    .bind(film_id)
    .bind(quality)
    .fetch_one(state.db())
    .await?;
    if !known {
        return Err(ApiError::client(
            StatusCode::NOT_FOUND,
            codes::CONTENT_UNAVAILABLE,
            format!("no master was uploaded for edition {edition}"),
        ));
    }
    let licence = state
        .chain()
        .licence(licence_id)
        .await
        .map_err(chain_unavailable)?;
    let owns = licence.is_some_and(|l| {
        l.owner == wallet && !l.revoked && l.film_id == id.film_id && l.quality == id.quality
    });
    if !owns {
        return Err(ApiError::forbidden(
            codes::NOT_OWNER,
            format!("{wallet} does not own live licence {licence_id} of edition {edition}"),
        ));
    }
    let node_id = provider.0.id.to_string();
    let mut tx = state.db().begin().await?;
    // One wallet at a time (a transaction-scoped lock on its address), so that concurrent
    // announcements cannot pass the cap together.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(&wallet_text)
        .execute(&mut *tx)
        .await?;
    let others: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_content_providers WHERE wallet = $1 AND expires_at > now() \
           AND NOT (film_id = $2 AND quality = $3 AND node_id = $4)",
    )
    .bind(&wallet_text)
    .bind(film_id)
    .bind(quality)
    .bind(&node_id)
    .fetch_one(&mut *tx)
    .await?;
    if others >= MAX_PER_WALLET {
        return Err(ApiError::conflict(
            codes::TOO_MANY_ANNOUNCEMENTS,
            format!("{wallet} already announces {others} seeding nodes (at most {MAX_PER_WALLET})"),
        ));
    }
    let expires = i64::try_from(body.expires_at).map_err(anyhow::Error::new)?;
    sqlx::query(
        "INSERT INTO api_content_providers (film_id, quality, node_id, wallet, licence_id, provider, expires_at) \
         VALUES ($1, $2, $3, $4, $5::numeric, $6, to_timestamp($7)) \
         ON CONFLICT (film_id, quality, node_id) DO UPDATE SET wallet = EXCLUDED.wallet, \
             licence_id = EXCLUDED.licence_id, provider = EXCLUDED.provider, \
             announced_at = now(), expires_at = EXCLUDED.expires_at",
    )
    .bind(film_id)
    .bind(quality)
    .bind(&node_id)
    .bind(&wallet_text)
    .bind(licence_id.to_string())
    .bind(provider.to_string())
    .bind(expires)
    .execute(&mut *tx)
    .await?;
    // Expired announcements go as new ones come.
    sqlx::query("DELETE FROM api_content_providers WHERE expires_at < now() - interval '1 hour'")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(target: TARGET, %wallet, %edition, node = %node_id, expires_at = body.expires_at,
        "seeder announced");
    Ok((
        StatusCode::CREATED,
        axum::Json(ProviderAnnounced {
            edition_id: edition.to_string(),
            node_id,
            expires_at: body.expires_at,
        }),
    ))
}
