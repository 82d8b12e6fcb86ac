//! Publishing an edition's master (the non-HTTP half of `PUT /v1/editions/{id}/master`): the
//! upload is recorded in `api_master_uploads`, the streamed body is hashed, encrypted and stored
//! in the content store ([`content`]), its master hash and price are registered on chain
//! ([`chain`]), and the edition's content row points at the new file (the previous file is
//! removed). Also the mapping of registry errors to the client's errors, shared with the other
//! studio routes.

use std::sync::Arc;

use alloy::primitives::Address;
use axum::body::Body;
use tangible_api_types::studios::MasterPublished;
use tangible_chain::bindings::TangibleMarket::TangibleMarketErrors;
use tangible_crypto::envelope::Kek;
use uuid::Uuid;

use crate::chain::{self, ChainError};
use crate::content::{self, ContentNode, IngestError};
use crate::error::{ApiError, ApiResult, codes};
use crate::extract::EditionRef;
use crate::keys;
use crate::state::AppState;

/// Log target (the studio tooling's, as before the move out of `routes::studios`).
const TARGET: &str = "tangible::api::studios";

/// A master to publish.
#[derive(Debug, Clone)]
pub struct MasterUpload {
    /// The edition.
    pub edition: EditionRef,
    /// Its price, cents (registered on chain with the master hash).
    pub price: u64,
    /// The edition as the chain holds it now (`None`: not registered yet).
    pub on_chain: Option<chain::Edition>,
    /// The body's declared length (`Content-Length`), bytes.
    pub declared_len: u64,
    /// Who uploads it.
    pub caller: Address,
    /// Why it replaces the master on chain, if it does (validated, see [`MasterQuery::reason`]).
    pub reason: Option<String>,
}

/// The content node, or 503 when `content_dir` is not configured.
pub(crate) fn content_node(state: &AppState) -> ApiResult<Arc<ContentNode>> {
    state.content().cloned().ok_or_else(|| {
        ApiError::unavailable(
            "content store",
            anyhow::anyhow!("content_dir is not configured"),
        )
    })
}

/// The key-encryption key, or 503 when `kek_hex` is not configured.
pub(crate) fn kek(state: &AppState) -> ApiResult<&Kek> {
    state.kek().ok_or_else(|| {
        ApiError::unavailable("key custody", anyhow::anyhow!("kek_hex is not configured"))
    })
}

/// A chain node that cannot be read (503 `upstream_unavailable`).
pub(crate) fn chain_unavailable(e: ChainError) -> ApiError {
    ApiError::unavailable("chain node", e)
}

/// Maps a failed registry transaction to the client's error when it is the client's.
pub(crate) fn chain_write_err(e: ChainError) -> ApiError {
    match e {
        ChainError::Reverted(r) => {
            let message = format!("the registry refused: {r:?}");
            match *r {
                TangibleMarketErrors::RegistryInvalidCommission(_)
                | TangibleMarketErrors::RegistryInvalidAddress(_)
                | TangibleMarketErrors::RegistryInvalidPrice(_)
                | TangibleMarketErrors::RegistryInvalidQuality(_)
                | TangibleMarketErrors::RegistryInvalidMasterHash(_) => {
                    ApiError::invalid_field(message)
                }
                TangibleMarketErrors::RegistryStudioNotFound(_)
                | TangibleMarketErrors::RegistryFilmNotFound(_)
                | TangibleMarketErrors::RegistryEditionNotFound(_) => ApiError::not_found(message),
                TangibleMarketErrors::RegistryEditionStatusUnchanged(_) => {
                    ApiError::conflict(codes::EDITION_STATUS_UNCHANGED, message)
                }
                TangibleMarketErrors::RegistryEditionExists(_)
                | TangibleMarketErrors::RegistryFilmLimitReached(_) => {
                    ApiError::conflict(codes::CONFLICT, message)
                }
                TangibleMarketErrors::RegistryFilmQuotaReached(q) => ApiError::conflict(
                    codes::FILM_QUOTA_REACHED,
                    format!(
                        "studio {} has registered as many films as its quota allows; a platform \
                         admin can raise it",
                        q.studioId
                    ),
                ),
                TangibleMarketErrors::RegistryStudioLimitReached(l) => ApiError::conflict(
                    codes::STUDIO_LIMIT_REACHED,
                    format!(
                        "the market lets the API's key register {} studios a day and today's are \
                         used: try again tomorrow, or have the platform admin register it",
                        l.perDay
                    ),
                ),
                TangibleMarketErrors::RegistryEditionSuspended(s) => ApiError::conflict(
                    codes::EDITION_SUSPENDED,
                    format!(
                        "the platform suspended edition {}-{}: only the platform can lift that",
                        s.filmId, s.quality
                    ),
                ),
                TangibleMarketErrors::RegistryInvalidResaleFloor(f) => {
                    ApiError::invalid_field(format!(
                        "a resale floor of {} cents is above half the edition's lowest price ({} cents at most)",
                        f.floorCents, f.maxCents
                    ))
                }
                TangibleMarketErrors::RegistryReasonRequired(_) => ApiError::invalid_field(
                    "a reason is required to replace the master of an edition on chain",
                ),
                _ => ApiError::Internal(anyhow::anyhow!(message)),
            }
        }
        ChainError::Rpc(_) => chain_unavailable(e),
        ChainError::NotMined { hash, .. } => crate::error::not_mined(hash),
        ChainError::Failed(_) => ApiError::Internal(e.into()),
    }
}

/// An address as stored in the API's tables (lower-case hex).
pub(crate) fn lower(a: Address) -> String {
    a.to_string().to_lowercase()
}

/// Records how an upload ended (`published` or `failed`); a failure to record is logged only.
async fn finish_upload(
    state: &AppState,
    upload_id: Uuid,
    outcome: &str,
    published: Option<&MasterPublished>,
    detail: Option<String>,
) {
    let r = sqlx::query(
        "UPDATE api_master_uploads SET finished_at = now(), outcome = $2, master_hash = $3, blob_hash = $4, tx_hash = $5, detail = $6 WHERE upload_id = $1",
    )
    .bind(upload_id)
    .bind(outcome)
    .bind(published.map(|p| p.master_hash.clone()))
    .bind(published.map(|p| p.blob_hash.clone()))
    .bind(published.and_then(|p| p.tx_hash.clone()))
    .bind(detail)
    .execute(state.db())
    .await;
    if let Err(e) = r {
        tracing::warn!(target: TARGET, %upload_id, error = %e, "recording the upload outcome");
    }
}

/// An upload recorded in `api_master_uploads` (see [`record`]), ready to be published.
#[derive(Debug)]
pub struct RecordedUpload {
    upload_id: Uuid,
    upload: MasterUpload,
}

/// Whether this deployment serves edition `film_id`/`quality` with the master `master_hash`
/// registered on chain: its content row (written by the last upload) names that hash. A row
/// whose hash does not parse counts as not served, with a warning.
pub async fn serves(
    db: &sqlx::PgPool,
    film_id: u64,
    quality: u8,
    master_hash: alloy::primitives::B256,
) -> anyhow::Result<bool> {
    let served: Option<String> = sqlx::query_scalar(
        "SELECT master_hash FROM api_edition_content WHERE film_id = $1 AND quality = $2",
    )
    .bind(i64::try_from(film_id)?)
    .bind(i16::from(quality))
    .fetch_optional(db)
    .await?;
    let Some(served) = served else {
        return Ok(false);
    };
    match served.parse::<alloy::primitives::B256>() {
        Ok(h) => Ok(h == master_hash),
        Err(e) => {
            tracing::warn!(target: TARGET, film_id, quality, %served, error = %e,
                "an edition's content row names a master hash that does not parse");
            Ok(false)
        }
    }
}

/// Records the start of `upload` (a row in `api_master_uploads`). The caller holds the edition's
/// upload slot, and reads the body only once this succeeded.
pub async fn record(state: &AppState, upload: MasterUpload) -> ApiResult<RecordedUpload> {
    let MasterUpload {
        edition,
        declared_len,
        caller,
        ..
    } = upload.clone();
    let id = edition.id();
    let film = i64::try_from(edition.film_id).map_err(anyhow::Error::new)?;
    let upload_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO api_master_uploads (upload_id, film_id, quality, uploaded_by, declared_size) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(upload_id)
    .bind(film)
    .bind(i16::from(id.quality))
    .bind(lower(caller))
    .bind(i64::try_from(declared_len).map_err(anyhow::Error::new)?)
    .execute(state.db())
    .await?;
    tracing::info!(target: TARGET, %upload_id, %edition, %caller, size = declared_len, "master upload started");
    Ok(RecordedUpload { upload_id, upload })
}

impl RecordedUpload {
    /// Publishes the master read from `body`, then records the outcome (row, metrics, log).
    pub async fn publish(self, state: &AppState, body: Body) -> ApiResult<MasterPublished> {
        let Self { upload_id, upload } = self;
        let edition = upload.edition;
        let result = ingest_and_register(state, upload, body).await;
        match &result {
            Ok(p) => {
                finish_upload(state, upload_id, "published", Some(p), None).await;
                metrics::counter!("master_uploads_total", "outcome" => "published").increment(1);
                metrics::counter!("master_upload_bytes_total").increment(p.size);
            }
            Err(e) => {
                finish_upload(state, upload_id, "failed", None, Some(e.to_string())).await;
                metrics::counter!("master_uploads_total", "outcome" => "failed").increment(1);
                tracing::warn!(target: TARGET, %upload_id, %edition, error = %e, "master upload failed");
            }
        }
        result
    }
}

/// Hashes, encrypts and stores the master, registers its hash and price on chain (when the
/// chain does not hold them yet) and records the edition's content.
async fn ingest_and_register(
    state: &AppState,
    upload: MasterUpload,
    body: Body,
) -> ApiResult<MasterPublished> {
    let MasterUpload {
        edition,
        price,
        on_chain,
        declared_len,
        caller,
        reason,
    } = upload;
    let node = content_node(state)?;
    let id = edition.id();
    let key = keys::edition_key_or_create(state.db(), kek(state)?, id)
        .await
        .map_err(anyhow::Error::new)?;
    let store = node.store();
    let ingested = content::ingest_master(store, key, id, declared_len, body.into_data_stream())
        .await
        .map_err(|e| match e {
            IngestError::Body(m) => ApiError::bad_request(codes::UPLOAD_INCOMPLETE, m),
            IngestError::Format(f) => ApiError::invalid_field(format!("master: {f}")),
            other => ApiError::Internal(other.into()),
        })?;
    let blob = ingested.blob;
    // Register the master hash (and price) on chain; nothing to send if it already holds them.
    let sent = match on_chain {
        None => Some(
            state
                .chain()
                .register_edition(id.film_id, id.quality, ingested.master_hash, price)
                .await,
        ),
        Some(e) if e.master_hash != ingested.master_hash || e.price_cents != price => {
            // A new master of an edition on chain is recorded with why (`MasterReplaced`).
            let reason = reason.unwrap_or_else(|| format!("master re-uploaded by {caller}"));
            Some(
                state
                    .chain()
                    .update_edition(id.film_id, id.quality, ingested.master_hash, price, reason)
                    .await,
            )
        }
        Some(_) => None,
    };
    let tx = match sent.transpose() {
        Ok(tx) => tx,
        Err(e) => {
            // A transaction sent and not mined yet may still put the edition on sale: its
            // content stays (uploading it again records it).
            if !matches!(e, ChainError::NotMined { .. }) {
                let _ = store.remove(blob.hash).await;
            }
            return Err(chain_write_err(e));
        }
    };
    let film = i64::try_from(id.film_id).map_err(anyhow::Error::new)?;
    let previous: Option<String> = sqlx::query_scalar(
        "SELECT blob_hash FROM api_edition_content WHERE film_id = $1 AND quality = $2",
    )
    .bind(film)
    .bind(i16::from(id.quality))
    .fetch_optional(state.db())
    .await?;
    sqlx::query(
        "INSERT INTO api_edition_content (film_id, quality, master_hash, master_size, blob_hash, encrypted_size, tx_hash, uploaded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (film_id, quality) DO UPDATE SET master_hash = EXCLUDED.master_hash, master_size = EXCLUDED.master_size, \
         blob_hash = EXCLUDED.blob_hash, encrypted_size = EXCLUDED.encrypted_size, tx_hash = EXCLUDED.tx_hash, \
         uploaded_by = EXCLUDED.uploaded_by, uploaded_at = now()",
    )
    .bind(film)
    .bind(i16::from(id.quality))
    .bind(ingested.master_hash.to_string())
    .bind(i64::try_from(ingested.master_size).map_err(anyhow::Error::new)?)
    .bind(blob.hash.to_hex())
    .bind(i64::try_from(blob.size).map_err(anyhow::Error::new)?)
    .bind(tx.map(|t| t.to_string()))
    .bind(lower(caller))
    .execute(state.db())
    .await?;
    // Other instances find the file here (`content_nodes`).
    if let Err(e) = crate::content_nodes::record_holding(state.db(), &node, blob.hash).await {
        tracing::warn!(target: TARGET, error = %e, blob = %blob.hash, "recording the holding failed; it is recorded at the next start");
    }
    // The previous file of this edition is no longer announced: reclaim its space.
    if let Some(old) = previous.and_then(|h| h.parse::<tangible_content::ContentHash>().ok())
        && old != blob.hash
    {
        let _ = store.remove(old).await;
        let _ = crate::content_nodes::forget_holding(state.db(), &node, old).await;
    }
    tracing::info!(target: TARGET, %edition, master_hash = %ingested.master_hash, blob = %blob.hash,
        tx_hash = ?tx, "master published");
    Ok(MasterPublished {
        edition_id: edition.to_string(),
        film_id: id.film_id,
        quality: edition.quality.as_str().to_owned(),
        master_hash: ingested.master_hash.to_string(),
        size: ingested.master_size,
        blob_hash: blob.hash.to_hex(),
        encrypted_size: blob.size,
        price_cents: price,
        active: on_chain.is_none_or(|e| e.active),
        tx_hash: tx.map(|t| t.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tangible_chain::bindings::TangibleMarket::RegistryStudioLimitReached;

    /// The market's daily studio budget of registrars is the client's conflict, named, not a 500.
    #[test]
    fn the_registrar_studio_limit_is_a_named_conflict() {
        let e = chain_write_err(ChainError::Reverted(Box::new(
            TangibleMarketErrors::RegistryStudioLimitReached(RegistryStudioLimitReached {
                perDay: 50,
            }),
        )));
        assert_eq!(e.status(), axum::http::StatusCode::CONFLICT);
        assert_eq!(e.code(), codes::STUDIO_LIMIT_REACHED);
        assert!(e.to_string().contains("50 studios a day"), "{e}");
    }
}
