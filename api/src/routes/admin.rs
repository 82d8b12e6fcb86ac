//! The operator console, for the holders of the market's `DEFAULT_ADMIN_ROLE` only (read on
//! chain on every request): dead jobs and their retry, a failed purchase refunded by hand,
//! failed refunds, the operator's float and its history, recent alerts ([`crate::operator`]),
//! and the money reconciliation report ([`crate::reconciliation`]).

use alloy::primitives::Address;
use axum::extract::State;
use axum::http::StatusCode;
use tangible_api_types::admin::{
    ActionQueued, AlertView, ContentP2pState, ContentP2pSwitch, FailedRefundView, FloatView,
    JobView, JobsQuery, LimitQuery, OperatorAction,
};
use tangible_api_types::reconciliation::{ReconciliationQuery, ReconciliationReport};
use tangible_api_types::studios::StudioApplication;
use uuid::Uuid;

use crate::chain::ChainError;
use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use crate::masters::chain_unavailable;
use crate::masters::chain_write_err;
use crate::operator::{self, OperatorError};
use crate::reconciliation::{self, ReconciliationError};
use crate::routes::studios::application_err;
use crate::state::AppState;
use crate::studio_applications::{self, Claimed};

const TARGET: &str = "tangible::api::admin";

/// The caller, if it is a platform admin (else 403).
async fn platform_admin(state: &AppState, user: &AuthUser) -> ApiResult<Address> {
    let caller = user.0.sub;
    if !state
        .chain()
        .is_platform_admin(caller)
        .await
        .map_err(chain_unavailable)?
    {
        tracing::warn!(target: TARGET, %caller, "refused: not a platform admin");
        return Err(ApiError::forbidden(
            codes::NOT_PLATFORM_ADMIN,
            format!("{caller} is not a platform admin"),
        ));
    }
    Ok(caller)
}

impl From<OperatorError> for ApiError {
    fn from(e: OperatorError) -> Self {
        match e {
            OperatorError::Invalid(m) => Self::invalid_field(m),
            OperatorError::NotFound(m) => Self::not_found(m),
            OperatorError::JobNotDead(m) => Self::conflict(codes::JOB_NOT_DEAD, m),
            OperatorError::NotRetryable(m) => Self::conflict(codes::NOT_RETRYABLE, m),
            OperatorError::NotRefundable(m) => Self::conflict(codes::NOT_REFUNDABLE, m),
            OperatorError::Chain(e) => chain_unavailable(e),
            OperatorError::Stripe(e) => Self::unavailable("stripe", e),
            OperatorError::Db(e) => Self::Internal(e.into()),
        }
    }
}

/// The money reconciliation of a period: Σ Stripe charges = Σ settled on chain + Σ refunded
/// + Σ pending, to the cent, and every mismatch with its purchase. Platform admins only.
#[utoipa::path(get, path = "/v1/admin/reconciliation", params(ReconciliationQuery), security(("bearer" = [])),
    responses((status = 200, body = ReconciliationReport),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not_platform_admin", body = ErrorBody),
        (status = 409, description = "conflict: another report is being made on this instance", body = ErrorBody),
        (status = 422, description = "invalid_field: a malformed or empty period, one before 2000 or longer than 366 days", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "upstream_unavailable: the chain node", body = ErrorBody)))]
pub async fn reconciliation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ReconciliationQuery>,
) -> ApiResult<axum::Json<ReconciliationReport>> {
    let caller = platform_admin(&state, &user).await?;
    let period = reconciliation::parse_period(&q.from, &q.to)
        .map_err(|e| ApiError::invalid_field(e.to_string()))?;
    let report = reconciliation::report(&state, period)
        .await
        .map_err(|e| match e {
            ReconciliationError::Period(m) => ApiError::invalid_field(m),
            ReconciliationError::Chain(e) => chain_unavailable(e),
            ReconciliationError::Db(e) => ApiError::Internal(e.into()),
            ReconciliationError::Busy => ApiError::conflict(codes::CONFLICT, e.to_string()),
        })?;
    tracing::info!(target: TARGET, %caller, from = %report.period.from, to = %report.period.to,
        charged = report.stripe_charged_cents, difference = report.difference,
        mismatches = report.mismatches.len(), "reconciliation report");
    Ok(axum::Json(report))
}

/// The job queue's jobs in a state (default `dead`: given up, to be looked at and retried),
/// latest change first. Platform admins only.
#[utoipa::path(get, path = "/v1/admin/jobs", params(JobsQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<JobView>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not_platform_admin", body = ErrorBody),
        (status = 422, description = "invalid_field: an unknown state or a limit out of 1–200", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "upstream_unavailable: the chain node", body = ErrorBody)))]
pub async fn jobs(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> ApiResult<axum::Json<Vec<JobView>>> {
    platform_admin(&state, &user).await?;
    let limit = operator::limit(q.limit)?;
    Ok(axum::Json(
        operator::jobs(&state, q.state.as_deref(), limit).await?,
    ))
}

/// Queues a dead job again (its attempts and its deadline start over); the action and its
/// reason are recorded. A settlement or reinstatement runs again only while its purchase still
/// waits for it and no refund of it was queued. Platform admins only.
#[utoipa::path(post, path = "/v1/admin/jobs/{id}/retry", params(("id" = i64, Path, description = "The job id")),
    request_body = OperatorAction, security(("bearer" = [])),
    responses((status = 202, body = ActionQueued),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not_platform_admin", body = ErrorBody),
        (status = 404, description = "not_found: no such job", body = ErrorBody),
        (status = 409, description = "job_not_dead: the job is queued, running or done; not_retryable: a settlement or reinstatement whose purchase is refunded (or being refunded), or no longer waiting for it", body = ErrorBody),
        (status = 422, description = "invalid_field: a reason of 3–500 characters is required", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "upstream_unavailable: the chain node", body = ErrorBody)))]
pub async fn retry_job(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(job_id): ApiPath<i64>,
    ApiJson(body): ApiJson<OperatorAction>,
) -> ApiResult<(StatusCode, axum::Json<ActionQueued>)> {
    let caller = platform_admin(&state, &user).await?;
    let reason = operator::reason(&body.reason)?;
    let queued = operator::retry_job(&state, caller, job_id, reason).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(queued)))
}

/// Refunds a `failed` purchase by hand (a refund Stripe refused, a settlement given up whose
/// refund failed): its refund job is queued again, the action and its reason are recorded.
/// Refused (409) for any other state, for a PaymentIntent with no succeeded charge, or while a
/// refund is under way. Platform admins only.
#[utoipa::path(post, path = "/v1/admin/purchases/{id}/refund", params(("id" = Uuid, Path, description = "The purchase id")),
    request_body = OperatorAction, security(("bearer" = [])),
    responses((status = 202, body = ActionQueued),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not_platform_admin", body = ErrorBody),
        (status = 404, description = "not_found: no such purchase", body = ErrorBody),
        (status = 409, description = "not_refundable: not failed, nothing charged, settled on chain, or a refund under way", body = ErrorBody),
        (status = 422, description = "invalid_field: a reason of 3–500 characters is required", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "upstream_unavailable: the chain node or Stripe", body = ErrorBody)))]
pub async fn refund_purchase(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(purchase_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<OperatorAction>,
) -> ApiResult<(StatusCode, axum::Json<ActionQueued>)> {
    let caller = platform_admin(&state, &user).await?;
    let reason = operator::reason(&body.reason)?;
    let queued = operator::refund_purchase(&state, caller, purchase_id, reason).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(queued)))
}

/// Purchases still charged whose refund failed (Stripe refused it, or it was given up), the
/// latest first: each waits for an operator (`POST /v1/admin/purchases/{id}/refund`). Platform
/// admins only.
#[utoipa::path(get, path = "/v1/admin/refunds/failed", params(LimitQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<FailedRefundView>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not_platform_admin", body = ErrorBody),
        (status = 422, description = "invalid_field: a limit out of 1–200", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "upstream_unavailable: the chain node", body = ErrorBody)))]
pub async fn failed_refunds(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> ApiResult<axum::Json<Vec<FailedRefundView>>> {
    platform_admin(&state, &user).await?;
    let limit = operator::limit(q.limit)?;
    Ok(axum::Json(operator::failed_refunds(&state, limit).await?))
}

/// The operator's float (the balance card settlements are paid from) and its latest
/// movements on chain, newest first. Platform admins only.
#[utoipa::path(get, path = "/v1/admin/float", params(LimitQuery), security(("bearer" = [])),
    responses((status = 200, body = FloatView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not_platform_admin", body = ErrorBody),
        (status = 422, description = "invalid_field: a limit out of 1–200", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "upstream_unavailable: the chain node", body = ErrorBody)))]
pub async fn float(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> ApiResult<axum::Json<FloatView>> {
    platform_admin(&state, &user).await?;
    let limit = operator::limit(q.limit)?;
    Ok(axum::Json(operator::float(&state, limit).await?))
}

/// The latest operator alerts, newest first (the README's operations section lists their
/// reasons). Platform admins only.
#[utoipa::path(get, path = "/v1/admin/alerts", params(LimitQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<AlertView>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not_platform_admin", body = ErrorBody),
        (status = 422, description = "invalid_field: a limit out of 1–200", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "upstream_unavailable: the chain node", body = ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> ApiResult<axum::Json<Vec<AlertView>>> {
    platform_admin(&state, &user).await?;
    let limit = operator::limit(q.limit)?;
    Ok(axum::Json(operator::alerts(&state, limit).await?))
}

/// Starts or stops this instance's P2P serving (the instance that answers; HTTP keeps serving,
/// and seeders and the other instances carry P2P delivery meanwhile): to shed load or drain an
/// instance. The action and its reason are recorded. Platform admins only.
#[utoipa::path(put, path = "/v1/admin/content/p2p",
    request_body = ContentP2pSwitch, security(("bearer" = [])),
    responses((status = 200, body = ContentP2pState),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not_platform_admin", body = ErrorBody),
        (status = 422, description = "invalid_field: a reason of 3–500 characters is required; or the node could not be started", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "upstream_unavailable: the chain node; or this instance serves no content", body = ErrorBody)))]
pub async fn content_p2p(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<ContentP2pSwitch>,
) -> ApiResult<axum::Json<ContentP2pState>> {
    let caller = platform_admin(&state, &user).await?;
    let reason = operator::reason(&body.reason)?;
    let node = crate::masters::content_node(&state)?;
    operator::switch_p2p(&state, caller, &node, body.serving, reason).await?;
    let provider = node.provider_addr().map(|a| a.to_string());
    Ok(axum::Json(ContentP2pState {
        node_id: node.node_id(),
        serving: provider.is_some(),
        provider,
        uploaded_bytes: node.uploaded(),
    }))
}

/// Approves a studio application: the studio is registered on chain (operator key) with the
/// applicant as its admin, the default commission and film quota; the decision and its reason
/// are recorded. Platform admins only.
#[utoipa::path(post, path = "/v1/admin/studio-applications/{id}/approve", params(("id" = i64, Path, description = "The application id")),
    request_body = OperatorAction, security(("bearer" = [])),
    responses((status = 200, body = StudioApplication),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not_platform_admin", body = ErrorBody),
        (status = 404, description = "not_found: no such application", body = ErrorBody),
        (status = 409, description = "not_pending: already decided, or its registration is in flight", body = ErrorBody),
        (status = 422, description = "invalid_field: a reason of 3–500 characters is required", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "upstream_unavailable: the chain node", body = ErrorBody)))]
pub async fn approve_studio(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<OperatorAction>,
) -> ApiResult<axum::Json<StudioApplication>> {
    let caller = platform_admin(&state, &user).await?;
    let reason = operator::reason(&body.reason)?;
    let db = state.db();
    let chain = state.chain();
    let head = chain.head().await.map_err(chain_unavailable)?;
    let app = match studio_applications::claim(db, id, caller, head)
        .await
        .map_err(application_err)?
    {
        Claimed::Register(app) => app,
        Claimed::Recover {
            app,
            since_block,
            stale,
        } => {
            // An earlier approval's registration may be on chain: this applicant's studios
            // registered since its claim that no application names yet.
            let applicant: Address = app.admin_address.parse().map_err(anyhow::Error::new)?;
            for (studio_id, tx, _name) in chain
                .studios_registered_for(applicant, since_block)
                .await
                .map_err(chain_unavailable)?
            {
                if !studio_applications::studio_linked(db, studio_id)
                    .await
                    .map_err(application_err)?
                {
                    tracing::info!(target: TARGET, application_id = id, studio_id, %caller, tx_hash = %tx, "studio application recovered: registered before");
                    let done =
                        studio_applications::finish_approval(db, id, caller, reason, studio_id, tx)
                            .await
                            .map_err(application_err)?;
                    return Ok(axum::Json(done));
                }
            }
            if !stale {
                return Err(application_err(
                    studio_applications::ApplicationError::InFlight(id),
                ));
            }
            studio_applications::claim_again(db, id, caller, head)
                .await
                .map_err(application_err)?
        }
    };
    // The registration is an operator transaction: counted like the others (once claimed, so a
    // refused or repeated approval spends nothing).
    if let Err(e) =
        state
            .budgets()
            .operator_tx(caller, "POST", "/v1/admin/studio-applications/{id}/approve")
    {
        release_or_log(db, id).await;
        return Err(e);
    }
    let applicant: Address = app.admin_address.parse().map_err(anyhow::Error::new)?;
    let royalty: Address = app.royalty_address.parse().map_err(anyhow::Error::new)?;
    let (studio_id, tx) = match chain
        .register_studio(applicant, royalty, app.name.clone())
        .await
    {
        Ok(r) => r,
        Err(e) => {
            // Refused on chain: nothing registered, the application waits again. Anything else
            // (a receipt not seen in time) may still be mined: the row stays `registering`, and
            // approving again looks for the studio on chain first.
            if matches!(e, ChainError::Reverted(_) | ChainError::Failed(_)) {
                release_or_log(db, id).await;
            }
            return Err(chain_write_err(e));
        }
    };
    tracing::info!(target: TARGET, application_id = id, studio_id, %applicant, %caller, tx_hash = %tx, "studio application approved");
    let done = studio_applications::finish_approval(db, id, caller, reason, studio_id, tx)
        .await
        .map_err(application_err)?;
    Ok(axum::Json(done))
}

/// Gives a claimed application back to `pending`; a failure leaves it `registering`, which
/// approving again recovers.
async fn release_or_log(db: &sqlx::PgPool, id: i64) {
    if let Err(e) = studio_applications::release(db, id).await {
        tracing::error!(target: TARGET, application_id = id, error = %e, "studio application left registering");
    }
}

/// Rejects a pending studio application, with the reason the applicant sees. Platform admins
/// only.
#[utoipa::path(post, path = "/v1/admin/studio-applications/{id}/reject", params(("id" = i64, Path, description = "The application id")),
    request_body = OperatorAction, security(("bearer" = [])),
    responses((status = 200, body = StudioApplication),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not_platform_admin", body = ErrorBody),
        (status = 404, description = "not_found: no such application", body = ErrorBody),
        (status = 409, description = "not_pending: already decided", body = ErrorBody),
        (status = 422, description = "invalid_field: a reason of 3–500 characters is required", body = ErrorBody),
        (status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "upstream_unavailable: the chain node", body = ErrorBody)))]
pub async fn reject_studio(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<OperatorAction>,
) -> ApiResult<axum::Json<StudioApplication>> {
    let caller = platform_admin(&state, &user).await?;
    let reason = operator::reason(&body.reason)?;
    let rejected = studio_applications::reject(state.db(), id, caller, reason)
        .await
        .map_err(application_err)?;
    tracing::info!(target: TARGET, application_id = id, %caller, "studio application rejected");
    Ok(axum::Json(rejected))
}
