//! Key release and offline certificates for licence owners. Ownership and revocation are read
//! from the chain (not the mirror) on every request.

use alloy::primitives::U256;
use axum::extract::State;
use axum::http::StatusCode;
use tangible_crypto::EditionId;
use tangible_crypto::certificate::{LicenceCertificate, SignedCertificate};
use tangible_crypto::ecies::{KeyReleaseContext, WrappedKey};

use crate::chain::Licence;
use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::{ApiPath, AuthUser};
use crate::keys::{self, KeyError};
use crate::state::AppState;

/// The body of `POST /v1/licences/{id}/key`: the shared wire type, with the ECIES-wrapped key.
pub type KeyRelease = tangible_api_types::licences::KeyRelease<WrappedKey>;

/// Times the steps of a key release into `key_release_step_seconds{step}` (chain read, key
/// fetch and unseal, ECIES wrap, release record), so a latency tail can be attributed.
struct StepTimer(std::time::Instant);

impl StepTimer {
    fn new() -> Self {
        Self(std::time::Instant::now())
    }

    fn lap(&mut self, step: &'static str) {
        let now = std::time::Instant::now();
        metrics::histogram!("key_release_step_seconds", "step" => step)
            .record((now - self.0).as_secs_f64());
        self.0 = now;
    }
}

fn parse_licence_id(s: &str) -> ApiResult<U256> {
    let parsed = match s.strip_prefix("0x") {
        Some(h) => U256::from_str_radix(h, 16).ok(),
        None => U256::from_str_radix(s, 10).ok(),
    };
    parsed
        .filter(|v| !v.is_zero())
        .ok_or_else(|| ApiError::not_found(format!("no licence {s:?}")))
}

/// The licence, checked against the chain: it exists, the caller owns it, it is not revoked.
async fn owned_licence(state: &AppState, user: &AuthUser, id: U256) -> ApiResult<Licence> {
    let licence = state
        .chain()
        .licence(id)
        .await
        .map_err(|e| ApiError::unavailable("chain node", e))?
        .ok_or_else(|| ApiError::not_found(format!("no licence {id}")))?;
    // A licence resold into its slot names no owner on chain any more: whoever asks, it is gone
    // (its resale is public), as it is for its former owner.
    if licence.owner != user.0.sub && !licence.resold_in_slot() {
        tracing::warn!(target: "tangible::api::licences", licence_id = %id, caller = %user.0.sub, "refused: not the owner");
        return Err(ApiError::client(
            StatusCode::FORBIDDEN,
            codes::NOT_OWNER,
            format!("licence {id} is not owned by {}", user.0.sub),
        ));
    }
    if licence.revoked {
        tracing::warn!(target: "tangible::api::licences", licence_id = %id, caller = %user.0.sub, "refused: revoked");
        return Err(ApiError::client(
            StatusCode::GONE,
            codes::LICENCE_REVOKED,
            format!("licence {id} was revoked"),
        ));
    }
    Ok(licence)
}

/// Releases the edition key of a licence to its owner, wrapped to the owner's public key.
#[utoipa::path(post, path = "/v1/licences/{id}/key", params(("id" = String, Path, description = "licence id (decimal or 0x hex)")),
    security(("bearer" = [])), responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody), 
    (status = 200, body = KeyRelease),
    (status = 401, body = ErrorBody), (status = 403, description = "not the owner", body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 410, description = "revoked", body = ErrorBody)))]
pub async fn release_key(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<KeyRelease>> {
    let id = parse_licence_id(&id)?;
    let kek = state.kek().ok_or_else(|| {
        ApiError::unavailable("key custody", anyhow::anyhow!("kek_hex is not configured"))
    })?;
    let mut steps = StepTimer::new();
    let licence = owned_licence(&state, &user, id).await?;
    steps.lap("chain");
    let edition = EditionId::new(licence.film_id, licence.quality);
    let key = match state
        .sealed_keys()
        .edition_key(state.db(), kek, edition)
        .await
    {
        Ok(k) => k,
        Err(KeyError::Missing(_)) => {
            return Err(ApiError::client(
                StatusCode::NOT_FOUND,
                codes::KEY_UNAVAILABLE,
                format!("edition {edition} has no key yet"),
            ));
        }
        Err(e) => return Err(anyhow::Error::new(e).into()),
    };
    let chain_id = state.chain().deployment().chain_id;
    let ctx = KeyReleaseContext {
        licence_id: id,
        film_id: licence.film_id,
        quality: licence.quality,
        chain_id,
    };
    steps.lap("key");
    let wrapped = keys::wrap_for_owner(&key, &user.0.pk, &ctx)
        .map_err(|e| ApiError::unauthorized(format!("unusable public key: {e}")))?;
    steps.lap("wrap");
    // Recorded (committed) before the key leaves the server.
    state
        .releases()
        .record(keys::ReleaseRecord {
            licence_id: id.to_string(),
            owner_address: user.0.sub.to_string().to_lowercase(),
            film_id: i64::try_from(licence.film_id).map_err(anyhow::Error::new)?,
            quality: i16::from(licence.quality),
            owner_pubkey: user.0.pk.clone(),
        })
        .await
        .map_err(anyhow::Error::new)?;
    steps.lap("record");
    tracing::info!(target: "tangible::api::licences", licence_id = %id, owner = %user.0.sub, %edition, "key released");
    metrics::counter!("key_releases_total").increment(1);
    Ok(axum::Json(KeyRelease {
        licence_id: id.to_string(),
        film_id: licence.film_id,
        quality: licence.quality,
        chain_id,
        wrapped_key: wrapped,
    }))
}

/// The signed EIP-712 licence certificate for offline play (valid for the offline lease).
#[utoipa::path(get, path = "/v1/licences/{id}/certificate", params(("id" = String, Path, description = "licence id (decimal or 0x hex)")),
    security(("bearer" = [])), responses(
    (status = 200, description = "signed certificate JSON {certificate, signature}", body = Object),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn certificate(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<SignedCertificate>> {
    let id = parse_licence_id(&id)?;
    let signer = state.attestation().ok_or_else(|| {
        ApiError::unavailable(
            "attestation",
            anyhow::anyhow!("attestation_key is not configured"),
        )
    })?;
    let licence = owned_licence(&state, &user, id).await?;
    let edition = state
        .chain()
        .edition(licence.film_id, licence.quality)
        .await
        .map_err(|e| ApiError::unavailable("chain node", e))?
        .ok_or_else(|| anyhow::anyhow!("licence {id} names an edition that does not exist"))?;
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default();
    let deployment = state.chain().deployment();
    let cert = LicenceCertificate {
        licenceId: id,
        owner: licence.owner,
        filmId: licence.film_id,
        quality: licence.quality,
        masterHash: edition.master_hash,
        chainId: deployment.chain_id,
        licenceContract: deployment.contracts.licence,
        issuedAt: now,
        validUntil: now + state.config().certificate_validity().as_secs(),
    };
    let signed = cert.sign(signer).map_err(anyhow::Error::new)?;
    Ok(axum::Json(signed))
}
