//! Where an edition's encrypted file is served: a P2P ticket (iroh-blobs) and an HTTP URL with
//! range requests (`/v1/content/{blob_hash}`, the content crate's router). Public: the file is
//! useless without the edition key, which only licence owners receive.

use axum::extract::State;
use axum::http::Method;
use sqlx::Row;
use tangible_api_types::content::EditionContent;
use tangible_content::ContentHash;
use tangible_content::p2p::{ContentTicket, ProviderAddr};

use crate::content_nodes;
use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::{ApiPath, EditionRef};
use crate::state::AppState;

/// Path of an encrypted file under `/v1/content` (`super::CONTENT_PREFIX`), where the content
/// crate's router (`tangible_content::http::router`) is mounted.
pub(super) const BLOB_PATH: &str = "/{blob_hash}";
/// The methods that router answers.
pub(super) const BLOB_METHODS: [Method; 2] = [Method::GET, Method::HEAD];

/// An encrypted file by its BLAKE3 hash, with single `Range` requests and its hash as `ETag`.
/// Served by the content crate's router when this deployment serves content; this function
/// only documents it.
#[utoipa::path(method(get, head), path = "/v1/content/{blob_hash}",
    params(("blob_hash" = String, Path, description = "BLAKE3 hash of the encrypted file (64 hex)")),
    responses(
    (status = 200, description = "the whole file", body = Vec<u8>, content_type = "application/octet-stream"),
    (status = 206, description = "the range asked", body = Vec<u8>, content_type = "application/octet-stream"),
    (status = 304, description = "`If-None-Match` matched the ETag"),
    (status = 400, description = "malformed content hash", body = String, content_type = "text/plain"),
    (status = 404, description = "no such content", body = String, content_type = "text/plain"),
    (status = 416, description = "range not satisfiable")))]
#[allow(dead_code, reason = "documents a route of the content crate's router")]
pub(super) async fn blob() {}

/// How to fetch an edition's encrypted file (P2P ticket and HTTP URL).
#[utoipa::path(get, path = "/v1/editions/{id}/content",
    params(("id" = String, Path, description = "edition id `<film_id>-<sd|hd|4k>`")),
    responses((status = 200, body = EditionContent),
    (status = 404, description = "not_found or content_unavailable", body = ErrorBody),
    (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
    (status = 503, body = ErrorBody)))]
pub async fn edition_content(
    State(state): State<AppState>,
    ApiPath(edition): ApiPath<String>,
) -> ApiResult<axum::Json<EditionContent>> {
    let edition = EditionRef::parse(&edition)?;
    let node = state.content().ok_or_else(|| {
        ApiError::unavailable(
            "content store",
            anyhow::anyhow!("content_dir is not configured"),
        )
    })?;
    let id = edition.id();
    let row = sqlx::query(
        "SELECT master_hash, blob_hash, encrypted_size FROM api_edition_content WHERE film_id = $1 AND quality = $2",
    )
    .bind(i64::try_from(id.film_id).map_err(anyhow::Error::new)?)
    .bind(i16::from(id.quality))
    .fetch_optional(state.db())
    .await?
    .ok_or_else(|| {
        ApiError::client(
            axum::http::StatusCode::NOT_FOUND,
            codes::CONTENT_UNAVAILABLE,
            format!("no master was uploaded for edition {edition}"),
        )
    })?;
    let blob: ContentHash = row
        .try_get::<String, _>("blob_hash")?
        .parse()
        .map_err(anyhow::Error::new)?;
    let film_id = i64::try_from(id.film_id).map_err(anyhow::Error::new)?;
    let seeders =
        super::providers::live_providers(state.db(), film_id, i16::from(id.quality)).await?;
    // The API nodes that hold the file: this one (when it holds it and serves P2P), then the
    // other live instances that do. One that does not hold it fetches it in the background.
    let mut api_nodes: Vec<ProviderAddr> = Vec::new();
    if node
        .store()
        .contains(blob)
        .await
        .map_err(anyhow::Error::new)?
    {
        api_nodes.extend(node.provider_addr());
    } else if !node.replicating(blob) {
        let (db, node, sources) = (
            state.db().clone(),
            node.clone(),
            seeders.iter().filter_map(|p| p.parse().ok()).collect(),
        );
        tokio::spawn(async move {
            if let Err(e) = content_nodes::ensure_held(&db, &node, blob, sources).await {
                tracing::warn!(target: "tangible::api::content", %blob, error = %e, "fetching a published file from the other nodes failed");
            }
        });
    }
    api_nodes.extend(content_nodes::other_holders(state.db(), node, blob).await?);
    let api_text: Vec<String> = api_nodes.iter().map(ToString::to_string).collect();
    let mut providers = seeders;
    providers.retain(|p| !api_text.contains(p));
    providers.extend(api_text.iter().cloned());
    let first = api_nodes.first();
    Ok(axum::Json(EditionContent {
        edition_id: edition.to_string(),
        film_id: id.film_id,
        quality: edition.quality.as_str().to_owned(),
        master_hash: row.try_get("master_hash")?,
        blob_hash: blob.to_hex(),
        size: u64::try_from(row.try_get::<i64, _>("encrypted_size")?)
            .map_err(anyhow::Error::new)?,
        ticket: first
            .map(|p| {
                ContentTicket {
                    provider: p.clone(),
                    hash: blob,
                }
                .to_string()
            })
            .unwrap_or_default(),
        provider: first.map(ToString::to_string).unwrap_or_default(),
        http_url: node.http_url(blob),
        providers,
        api_providers: api_text,
    }))
}

/// Refuses to sell edition `film_id`/`quality` (by card or with credit) unless this deployment
/// serves a file for it whose master is the one registered on chain (`master_hash`): a buyer
/// must never pay for a licence to a film nobody can download. The chain lets a studio register
/// an edition without uploading its master here (or change the hash before the first sale);
/// such an edition may still be bought on chain directly, never through this API.
pub(crate) async fn require_served(
    state: &AppState,
    film_id: u64,
    quality: u8,
    master_hash: alloy::primitives::B256,
) -> ApiResult<()> {
    if crate::masters::serves(state.db(), film_id, quality, master_hash).await? {
        return Ok(());
    }
    let quality = tangible_domain::Quality::from_code(quality)
        .map_or_else(|_| quality.to_string(), |q| q.to_string());
    Err(ApiError::conflict(
        codes::CONTENT_UNAVAILABLE,
        format!(
            "the {quality} edition of film {film_id} is not sold here: its studio has not uploaded the master registered on chain, so a buyer could not download the film"
        ),
    ))
}
