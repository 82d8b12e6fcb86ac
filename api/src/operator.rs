//! The operator console's reads and actions (`/v1/admin/*`, [`crate::routes::admin`]): dead
//! jobs and their retry, a failed purchase refunded by hand, the failed refunds, the float and
//! its history, recent alerts.
//!
//! An action is a row of `api_operator_actions` (who, what, why) written in the same
//! transaction as the job it queues; the purchase's state changes that follow are audited in
//! `api_purchase_transitions` like every other.

use alloy::primitives::Address;
use chrono::{DateTime, Utc};
use sqlx::Row;
use tangible_api_types::admin::{
    ActionQueued, AlertView, FailedRefundView, FloatMovement, FloatView, JobView,
};
use uuid::Uuid;

use crate::chain::{ChainError, payment_ref};
use crate::jobs::{self, JobKind};
use crate::purchase_state::PurchaseState;
use crate::state::AppState;
use crate::stripe::GatewayError;

/// The default number of rows of a console list, and the most one may ask for.
pub const DEFAULT_LIMIT: i64 = 50;
/// See [`DEFAULT_LIMIT`].
pub const MAX_LIMIT: i64 = 200;

/// Why an operator's request cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// A parameter is out of its range.
    #[error("{0}")]
    Invalid(String),
    /// No such job or purchase.
    #[error("{0}")]
    NotFound(String),
    /// Only a dead job can be retried.
    #[error("{0}")]
    JobNotDead(String),
    /// The job may not run again (a settlement or reinstatement whose refund is decided).
    #[error("{0}")]
    NotRetryable(String),
    /// The purchase cannot be refunded by hand now.
    #[error("{0}")]
    NotRefundable(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The chain could not be read.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// Stripe could not be asked.
    #[error("stripe: {0}")]
    Stripe(#[from] GatewayError),
}

/// A list's `limit`, checked.
pub fn limit(limit: Option<i64>) -> Result<i64, OperatorError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(OperatorError::Invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}, not {n}"
        ))),
    }
}

/// A character that must not appear in text shown to others: a control character, or one that
/// reorders or hides text where it is shown (bidi overrides and isolates, zero-width characters,
/// line and paragraph separators).
pub fn hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// An action's reason, checked (kept in the audit record).
pub fn reason(reason: &str) -> Result<&str, OperatorError> {
    let r = reason.trim();
    let n = r.chars().count();
    if !(3..=500).contains(&n) || r.chars().any(hidden_char) {
        return Err(OperatorError::Invalid(
            "reason must be 3 to 500 characters of text".into(),
        ));
    }
    Ok(r)
}

const JOB_STATES: &[&str] = &["queued", "running", "done", "dead"];

fn job_view(r: &sqlx::postgres::PgRow) -> sqlx::Result<JobView> {
    Ok(JobView {
        job_id: r.try_get("job_id")?,
        kind: r.try_get("kind")?,
        purchase_id: r.try_get("purchase_id")?,
        purchase_state: r.try_get("purchase_state")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The jobs in `state` (default `dead`), latest change first.
pub async fn jobs(
    state: &AppState,
    job_state: Option<&str>,
    limit: i64,
) -> Result<Vec<JobView>, OperatorError> {
    let job_state = job_state.unwrap_or("dead");
    if !JOB_STATES.contains(&job_state) {
        return Err(OperatorError::Invalid(format!(
            "state must be one of {}, not {job_state:?}",
            JOB_STATES.join(", ")
        )));
    }
    let rows = sqlx::query(
        "SELECT j.job_id, j.kind, j.purchase_id, p.state AS purchase_state, j.state, j.attempts, \
             j.last_error, j.created_at, j.updated_at \
         FROM api_jobs j JOIN api_purchases p USING (purchase_id) \
         WHERE j.state = $1 ORDER BY j.updated_at DESC, j.job_id DESC LIMIT $2",
    )
    .bind(job_state)
    .bind(limit)
    .fetch_all(state.db())
    .await?;
    Ok(rows.iter().map(job_view).collect::<sqlx::Result<_>>()?)
}

pub(crate) async fn record_action(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    actor: Address,
    action: &str,
    purchase_id: Option<Uuid>,
    job_id: Option<i64>,
    reason: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO api_operator_actions (actor, action, purchase_id, job_id, reason) \
         VALUES ($1, $2, $3, $4, $5) RETURNING action_id",
    )
    .bind(actor.to_string())
    .bind(action)
    .bind(purchase_id)
    .bind(job_id)
    .bind(reason)
    .fetch_one(&mut **tx)
    .await
}

/// Queues a dead job again (attempts and deadline start over). Each job re-reads its purchase
/// and the chain before acting, so a retry never settles a refunded purchase nor refunds a
/// settled one.
pub async fn retry_job(
    state: &AppState,
    actor: Address,
    job_id: i64,
    reason: &str,
) -> Result<ActionQueued, OperatorError> {
    let mut tx = state.db().begin().await?;
    let row = sqlx::query(
        "SELECT j.state, j.kind, j.purchase_id, p.state AS purchase_state \
         FROM api_jobs j JOIN api_purchases p USING (purchase_id) WHERE j.job_id = $1 \
         FOR UPDATE OF j",
    )
    .bind(job_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| OperatorError::NotFound(format!("no job {job_id}")))?;
    let job_state: String = row.try_get("state")?;
    if job_state != "dead" {
        return Err(OperatorError::JobNotDead(format!(
            "job {job_id} is {job_state}: only a dead job can be retried"
        )));
    }
    let kind: String = row.try_get("kind")?;
    let purchase_id: Uuid = row.try_get("purchase_id")?;
    let purchase_state: String = row.try_get("purchase_state")?;
    // A settlement or reinstatement given up was answered with a refund: once a refund is
    // decided (queued, running or made), minting would give the buyer the licence and the
    // money. Only a purchase still waiting for its licence, with no refund, may settle again.
    if matches!(kind.as_str(), "settle" | "reinstate") {
        let waiting = match kind.as_str() {
            "settle" => ["paid", "settling"].contains(&purchase_state.as_str()),
            _ => purchase_state == "revoked",
        };
        let refund: Option<String> = sqlx::query_scalar(
            "SELECT state FROM api_jobs WHERE kind = 'refund' AND purchase_id = $1",
        )
        .bind(purchase_id)
        .fetch_optional(&mut *tx)
        .await?;
        if !waiting || refund.is_some() {
            return Err(OperatorError::NotRetryable(format!(
                "job {job_id} ({kind}) cannot run again: purchase {purchase_id} is {purchase_state}{}",
                refund.map_or_else(String::new, |r| format!(" and its refund is {r}"))
            )));
        }
    }
    sqlx::query(
        "UPDATE api_jobs SET state = 'queued', attempts = 0, run_at = now(), created_at = now(), \
             locked_until = NULL, locked_by = NULL, updated_at = now() WHERE job_id = $1",
    )
    .bind(job_id)
    .execute(&mut *tx)
    .await?;
    let action_id = record_action(
        &mut tx,
        actor,
        "retry_job",
        Some(purchase_id),
        Some(job_id),
        reason,
    )
    .await?;
    tx.commit().await?;
    state.wake_workers();
    tracing::warn!(target: "tangible::api::admin", %actor, job_id, %kind, %purchase_id, reason,
        "operator retried a dead job");
    Ok(ActionQueued {
        action_id,
        job_id,
        kind,
        purchase_id,
        purchase_state,
    })
}

/// Refunds a `failed` purchase by hand (a refund Stripe refused, or one never made): its
/// refund job is queued again. Refused when the PaymentIntent has no succeeded charge at
/// Stripe (nothing to give back) or a refund is already queued or running.
pub async fn refund_purchase(
    state: &AppState,
    actor: Address,
    purchase_id: Uuid,
    reason: &str,
) -> Result<ActionQueued, OperatorError> {
    let row =
        sqlx::query("SELECT state, payment_intent_id FROM api_purchases WHERE purchase_id = $1")
            .bind(purchase_id)
            .fetch_optional(state.db())
            .await?
            .ok_or_else(|| OperatorError::NotFound(format!("no purchase {purchase_id}")))?;
    let current: PurchaseState = row.try_get("state")?;
    let intent: Option<String> = row.try_get("payment_intent_id")?;
    if current != PurchaseState::Failed {
        return Err(OperatorError::NotRefundable(format!(
            "purchase {purchase_id} is {current}: only a failed purchase is refunded by hand \
             (a settling one is refunded by itself past settlement_deadline_secs; a fulfilled \
             one keeps its licence: refund it at Stripe, which revokes it)"
        )));
    }
    let Some(intent) = intent else {
        return Err(OperatorError::NotRefundable(format!(
            "purchase {purchase_id} has no PaymentIntent: nothing was charged"
        )));
    };
    // Nothing charged, nothing to refund (Stripe would refuse, and say so less clearly).
    let charged = state
        .stripe()
        .charge_of(&intent)
        .await?
        .is_some_and(|c| c.status == "succeeded");
    if !charged {
        return Err(OperatorError::NotRefundable(format!(
            "PaymentIntent {intent} of purchase {purchase_id} has no succeeded charge: nothing to refund"
        )));
    }
    // A settlement that landed after its give-up: the buyer has the licence, no refund by hand.
    if state.chain().payment_ref_used(payment_ref(&intent)).await? {
        return Err(OperatorError::NotRefundable(format!(
            "purchase {purchase_id} is settled on chain (its licence is live): not refunded by hand"
        )));
    }
    let mut tx = state.db().begin().await?;
    // The purchase row is locked so that two operators (or a worker) do not race.
    let now: PurchaseState =
        sqlx::query_scalar("SELECT state FROM api_purchases WHERE purchase_id = $1 FOR UPDATE")
            .bind(purchase_id)
            .fetch_one(&mut *tx)
            .await?;
    if now != PurchaseState::Failed {
        return Err(OperatorError::NotRefundable(format!(
            "purchase {purchase_id} is now {now}"
        )));
    }
    let busy: Option<String> = sqlx::query_scalar(
        "SELECT state FROM api_jobs WHERE kind = 'refund' AND purchase_id = $1 \
         AND state IN ('queued', 'running')",
    )
    .bind(purchase_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(s) = busy {
        return Err(OperatorError::NotRefundable(format!(
            "a refund of purchase {purchase_id} is already {s}"
        )));
    }
    jobs::requeue(&mut tx, JobKind::Refund, purchase_id).await?;
    let job_id: i64 = sqlx::query_scalar(
        "SELECT job_id FROM api_jobs WHERE kind = 'refund' AND purchase_id = $1",
    )
    .bind(purchase_id)
    .fetch_one(&mut *tx)
    .await?;
    let action_id = record_action(
        &mut tx,
        actor,
        "refund_purchase",
        Some(purchase_id),
        Some(job_id),
        reason,
    )
    .await?;
    tx.commit().await?;
    state.wake_workers();
    tracing::warn!(target: "tangible::api::admin", %actor, %purchase_id, job_id, reason,
        "operator refunds a purchase");
    Ok(ActionQueued {
        action_id,
        job_id,
        kind: JobKind::Refund.as_str().to_owned(),
        purchase_id,
        purchase_state: now.to_string(),
    })
}

/// Purchases still charged whose refund failed (Stripe refused it, or it was given up): state
/// `failed` with a failed refund attempt; the latest first.
pub async fn failed_refunds(
    state: &AppState,
    limit: i64,
) -> Result<Vec<FailedRefundView>, OperatorError> {
    let rows = sqlx::query(
        "SELECT p.purchase_id, p.payment_intent_id, p.amount_cents, p.failure_code, \
             a.attempts, a.last_at, \
             (SELECT detail FROM api_settlement_attempts l WHERE l.purchase_id = p.purchase_id \
                 AND l.kind = 'refund' ORDER BY l.attempt_id DESC LIMIT 1) AS last_error \
         FROM api_purchases p \
         JOIN LATERAL (SELECT count(*) AS attempts, max(created_at) AS last_at FROM api_settlement_attempts s \
             WHERE s.purchase_id = p.purchase_id AND s.kind = 'refund') a ON true \
         WHERE p.state = 'failed' AND EXISTS (SELECT 1 FROM api_settlement_attempts f \
             WHERE f.purchase_id = p.purchase_id AND f.kind = 'refund' AND f.outcome = 'failed') \
         ORDER BY a.last_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(state.db())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(FailedRefundView {
                purchase_id: r.try_get("purchase_id")?,
                payment_intent_id: r.try_get("payment_intent_id")?,
                amount_cents: r.try_get("amount_cents")?,
                failure_code: r.try_get("failure_code")?,
                last_refund_error: r.try_get("last_error")?,
                refund_attempts: r.try_get("attempts")?,
                last_attempt_at: r.try_get("last_at")?,
            })
        })
        .collect::<sqlx::Result<_>>()
        .map_err(Into::into)
}

fn time(unix: Option<u64>) -> Option<DateTime<Utc>> {
    unix.and_then(|t| DateTime::from_timestamp(i64::try_from(t).ok()?, 0))
}

/// The float now and its latest `limit` movements, newest first, each with the balance just
/// after it (computed back from the balance now).
pub async fn float(state: &AppState, limit: i64) -> Result<FloatView, OperatorError> {
    let chain = state.chain();
    let balance = chain.operator_float_cents().await?;
    let balance = i64::try_from(balance).unwrap_or(i64::MAX);
    let movements = chain.float_movements().await?;
    let warning = i64::try_from(state.config().float_warning_cents).unwrap_or(i64::MAX);
    let (daily_limit, settled_today) = chain.card_settlement_limit().await?;
    let mut after = balance;
    let mut out = Vec::new();
    for m in movements
        .iter()
        .rev()
        .take(usize::try_from(limit).unwrap_or(0))
    {
        out.push(FloatMovement {
            kind: m.kind.as_str().to_owned(),
            cents: m.cents,
            balance_after_cents: after,
            licence_id: m.licence_id.map(|l| l.to_string()),
            payment_ref: m.payment_ref.map(|r| r.to_string()),
            tx_hash: m.tx_hash.map(|t| t.to_string()),
            block_number: m.block_number,
            at: time(m.block_timestamp),
        });
        after -= m.cents;
    }
    Ok(FloatView {
        operator: chain.operator().to_string(),
        balance_cents: balance,
        warning_cents: warning,
        low: balance < warning,
        daily_limit_cents: i64::try_from(daily_limit).unwrap_or(i64::MAX),
        settled_today_cents: i64::try_from(settled_today).unwrap_or(i64::MAX),
        movements: out,
    })
}

/// The latest `limit` operator alerts, newest first.
pub async fn alerts(state: &AppState, limit: i64) -> Result<Vec<AlertView>, OperatorError> {
    let rows = sqlx::query(
        "SELECT alert_id, reason, purchase_id, detail, created_at FROM api_alerts \
         ORDER BY alert_id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(state.db())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AlertView {
                alert_id: r.try_get("alert_id")?,
                reason: r.try_get("reason")?,
                purchase_id: r.try_get("purchase_id")?,
                detail: r.try_get("detail")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<sqlx::Result<_>>()
        .map_err(Into::into)
}

/// Starts or stops the P2P serving of this instance's content node; the action and its reason
/// are recorded.
pub async fn switch_p2p(
    state: &AppState,
    actor: Address,
    node: &crate::content::ContentNode,
    serving: bool,
    reason: &str,
) -> Result<(), OperatorError> {
    let what = if serving { "resumed" } else { "paused" };
    // Recorded before it is done: no switch without its record (a failure is recorded too).
    let mut tx = state.db().begin().await?;
    record_action(
        &mut tx,
        actor,
        "content_p2p",
        None,
        None,
        &format!("P2P {what} on node {}: {reason}", node.node_id()),
    )
    .await?;
    tx.commit().await?;
    node.set_p2p(serving)
        .await
        .map_err(|e| OperatorError::Invalid(format!("the P2P node could not be {what}: {e}")))?;
    crate::content_nodes::refresh(state.db(), node).await?;
    tracing::warn!(target: "tangible::api::admin", %actor, node = %node.node_id(), serving, "operator switched P2P serving");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_reasons_are_bounded() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(Some(200)).unwrap(), 200);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(201)).is_err());
        assert_eq!(
            reason("  card refunded by hand  ").unwrap(),
            "card refunded by hand"
        );
        assert!(reason("ok").is_err());
        assert!(reason(&"x".repeat(501)).is_err());
        assert!(reason("line\nbreak").is_err());
        assert!(reason("refund \u{202E}dnufer").is_err());
        assert!(reason("zero\u{200B}width").is_err());
        assert!(reason("line\u{2028}separator").is_err());
        assert_eq!(
            reason("remboursé à la main").unwrap(),
            "remboursé à la main"
        );
    }
}
