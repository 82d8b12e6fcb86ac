//! The durable job queue (Postgres) and the worker that settles, refunds, revokes, reinstates
//! and mails receipts.
//!
//! Jobs are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so several workers and several
//! API instances share the queue, and a job whose worker died is claimed again once its lease
//! runs out. Settlement is idempotent because the chain is read first: a `paymentRef` that
//! already settled is recorded as such, never sent twice. Every attempt is recorded in
//! `api_settlement_attempts` with its outcome. The attempts themselves (settle, refund, revoke,
//! reinstate) are in `steps`, the receipt mailing in `receipt`; this module claims jobs, records
//! each attempt and moves purchase and job on.
//!
//! No charge without a licence or a refund: a settlement (or a reinstatement after a dispute
//! closed won) still failing `settlement_deadline_secs` after its job was queued, or after
//! `settle_max_attempts`, is given up and refunded, the reason kept in `failure_code`. Every
//! give-up is an operator alert (an `error` log line and `operator_alerts_total{reason}`), as
//! is a low operator float ([`run_maintenance`]).
//!
//! Beside the queue: [`payment`], what a succeeded payment does to its purchase (shared by the
//! webhook and the reconciliation), and [`reconcile`], the re-reading of open purchases from
//! Stripe (a lost webhook, an abandoned PaymentIntent).

use std::time::Duration;

use rand::Rng;
use sqlx::{PgExecutor, PgPool, Postgres, Row, Transaction};
use tokio::sync::watch;
use uuid::Uuid;

use crate::purchase_state::PurchaseState;
use crate::state::AppState;

pub mod clearance;
mod maintenance;
pub use maintenance::run_maintenance;
pub mod payment;
mod receipt;
pub mod reconcile;
mod steps;

pub use reconcile::run_reconciler;

use steps::{Step, load, refund, reinstate, revoke, settle};

/// How long a claimed job is reserved for its worker.
const LEASE_SECS: f64 = 120.0;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Settle a paid purchase on chain.
    Settle,
    /// Refund a purchase through Stripe.
    Refund,
    /// Revoke a disputed (or refunded at Stripe) purchase's licence.
    Revoke,
    /// Mail a fulfilled purchase's receipt to its buyer's address.
    Receipt,
    /// Mint a new licence to the buyer of a purchase whose dispute was closed won.
    Reinstate,
}

impl JobKind {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Settle => "settle",
            Self::Refund => "refund",
            Self::Revoke => "revoke",
            Self::Receipt => "receipt",
            Self::Reinstate => "reinstate",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "settle" => Some(Self::Settle),
            "refund" => Some(Self::Refund),
            "revoke" => Some(Self::Revoke),
            "receipt" => Some(Self::Receipt),
            "reinstate" => Some(Self::Reinstate),
            _ => None,
        }
    }
}

/// Queues a job (at most one per kind and purchase) in the caller's transaction.
pub async fn enqueue(
    tx: &mut Transaction<'_, Postgres>,
    kind: JobKind,
    purchase_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO api_jobs (kind, purchase_id) VALUES ($1, $2) ON CONFLICT (kind, purchase_id) DO NOTHING")
        .bind(kind.as_str())
        .bind(purchase_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Queues a job again: a new one, or one of the same kind and purchase that is over (`done` or
/// `dead`) is reset (attempts, creation time), in the caller's transaction. One still queued or
/// running is left as it is. (A second dispute or refund after a reinstatement revokes again.)
pub async fn requeue(
    tx: &mut Transaction<'_, Postgres>,
    kind: JobKind,
    purchase_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO api_jobs (kind, purchase_id) VALUES ($1, $2) \
         ON CONFLICT (kind, purchase_id) DO UPDATE SET state = 'queued', attempts = 0, run_at = now(), \
             created_at = now(), locked_until = NULL, locked_by = NULL, updated_at = now() \
         WHERE api_jobs.state IN ('done', 'dead')",
    )
    .bind(kind.as_str())
    .bind(purchase_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Raises an operator alert: a row of `api_alerts` (the console's list, written through `db`,
/// so in the caller's transaction when it passes one: the alert stands or falls with the change
/// that raised it), an `error` log line and `operator_alerts_total{reason}`.
pub(crate) async fn alert<'e, E: PgExecutor<'e>>(
    db: E,
    reason: &'static str,
    purchase_id: Option<Uuid>,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO api_alerts (reason, purchase_id, detail) VALUES ($1, $2, $3)")
        .bind(reason)
        .bind(purchase_id)
        .bind(detail)
        .execute(db)
        .await?;
    tracing::error!(target: "tangible::api::alert", reason, purchase_id = ?purchase_id, %detail,
        "operator alert");
    metrics::counter!("operator_alerts_total", "reason" => reason).increment(1);
    Ok(())
}

#[derive(Debug)]
struct Job {
    job_id: i64,
    kind: JobKind,
    purchase_id: Uuid,
    attempts: i32,
    /// Seconds since the job was queued (for `settlement_deadline_secs`).
    age_secs: f64,
    /// When it was queued, Unix microseconds: a job queued again (by an operator) is a new
    /// request to Stripe, with its own idempotency key.
    queued_at_us: i64,
}

async fn claim(db: &PgPool, worker: &str) -> sqlx::Result<Option<Job>> {
    let row = sqlx::query(
        "UPDATE api_jobs SET state = 'running', attempts = attempts + 1, \
             locked_until = now() + make_interval(secs => $2), locked_by = $1, updated_at = now() \
         WHERE job_id = ( \
             SELECT job_id FROM api_jobs \
             WHERE (state = 'queued' AND run_at <= now()) OR (state = 'running' AND locked_until < now()) \
             ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
         RETURNING job_id, kind, purchase_id, attempts, \
             EXTRACT(EPOCH FROM now() - created_at)::float8 AS age_secs, \
             (EXTRACT(EPOCH FROM created_at) * 1000000)::int8 AS queued_at_us",
    )
    .bind(worker)
    .bind(LEASE_SECS)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let kind: String = row.try_get("kind")?;
    Ok(Some(Job {
        job_id: row.try_get("job_id")?,
        kind: JobKind::parse(&kind)
            .ok_or_else(|| sqlx::Error::Protocol(format!("unknown job kind {kind}")))?,
        purchase_id: row.try_get("purchase_id")?,
        attempts: row.try_get("attempts")?,
        age_secs: row.try_get("age_secs")?,
        queued_at_us: row.try_get("queued_at_us")?,
    }))
}

/// Runs one worker until `stop` turns true (finishing the job in hand).
pub async fn run_worker(state: AppState, name: String, mut stop: watch::Receiver<bool>) {
    let poll = Duration::from_millis(state.config().worker_poll_ms);
    loop {
        if *stop.borrow() {
            break;
        }
        match claim(state.db(), &name).await {
            Ok(Some(job)) => {
                if let Err(e) = process(&state, &job).await {
                    // The lease expires and another claim retries it.
                    tracing::error!(target: "tangible::api::jobs", job_id = job.job_id, error = %format!("{e:#}"), "job bookkeeping failed");
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(target: "tangible::api::jobs", worker = %name, error = %e, "claiming a job failed")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = state.job_wakeup() => {}
            _ = stop.changed() => {}
        }
    }
    tracing::info!(target: "tangible::api::jobs", worker = %name, "worker stopped");
}

async fn process(state: &AppState, job: &Job) -> anyhow::Result<()> {
    let mut purchase = load(state.db(), job.purchase_id).await?;
    let step = match job.kind {
        JobKind::Settle => settle(state, job, &mut purchase).await?,
        JobKind::Refund => refund(state, job, &purchase).await,
        JobKind::Revoke => revoke(state, &purchase).await,
        JobKind::Receipt => receipt::send(state, job).await?,
        JobKind::Reinstate => reinstate(state, &purchase).await?,
    };
    let mut wake = false;
    let db = state.db();
    let mut tx = db.begin().await?;
    let (outcome, tx_hash, detail) = match &step {
        Step::Done {
            outcome,
            tx,
            detail,
        } => (*outcome, tx.map(|t| t.to_string()), detail.clone()),
        Step::Impossible(d) => ("impossible", None, Some(d.clone())),
        Step::Retry(d) => ("retry", None, Some(d.clone())),
    };
    let max = state.config().settle_max_attempts;
    let deadline = state.config().settlement_deadline_secs;
    // A settlement or reinstatement is bounded in time as well as in attempts.
    let past_deadline =
        matches!(job.kind, JobKind::Settle | JobKind::Reinstate) && job.age_secs >= deadline as f64;
    let give_up = matches!(step, Step::Retry(_)) && (job.attempts >= max || past_deadline);
    let outcome = if give_up { "failed" } else { outcome };
    sqlx::query(
        "INSERT INTO api_settlement_attempts (job_id, purchase_id, kind, attempt, outcome, tx_hash, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(job.job_id)
    .bind(job.purchase_id)
    .bind(job.kind.as_str())
    .bind(job.attempts)
    .bind(outcome)
    .bind(&tx_hash)
    .bind(&detail)
    .execute(&mut *tx)
    .await?;
    metrics::counter!("jobs_attempts_total", "kind" => job.kind.as_str(), "outcome" => outcome)
        .increment(1);
    match step {
        Step::Retry(detail) if !give_up => {
            let delay = backoff(state, job.attempts);
            tracing::warn!(target: "tangible::api::jobs", job_id = job.job_id, purchase_id = %job.purchase_id,
                kind = job.kind.as_str(), attempt = job.attempts, retry_in_ms = delay.as_millis() as u64, %detail, "attempt failed, will retry");
            sqlx::query(
                "UPDATE api_jobs SET state = 'queued', run_at = now() + make_interval(secs => $2), \
                 locked_until = NULL, locked_by = NULL, last_error = $3, updated_at = now() WHERE job_id = $1",
            )
            .bind(job.job_id)
            .bind(delay.as_secs_f64())
            .bind(&detail)
            .execute(&mut *tx)
            .await?;
        }
        Step::Retry(detail) => {
            tracing::error!(target: "tangible::api::jobs", job_id = job.job_id, purchase_id = %job.purchase_id,
                kind = job.kind.as_str(), attempts = job.attempts, age_secs = job.age_secs, %detail, "giving up");
            finish_job(&mut tx, job.job_id, "dead", Some(&detail)).await?;
            give_up_job(
                &mut tx,
                job,
                purchase.state,
                past_deadline,
                deadline,
                &detail,
            )
            .await?;
        }
        Step::Impossible(detail) => {
            tracing::warn!(target: "tangible::api::jobs", purchase_id = %job.purchase_id,
                kind = job.kind.as_str(), %detail, "impossible, refunding");
            finish_job(&mut tx, job.job_id, "done", Some(&detail)).await?;
            let code = if job.kind == JobKind::Reinstate {
                alert(
                    &mut *tx,
                    "reinstatement_impossible",
                    Some(job.purchase_id),
                    &detail,
                )
                .await?;
                "reinstatement_impossible"
            } else {
                "settlement_impossible"
            };
            refund_for(&mut tx, job.purchase_id, code, &detail).await?;
        }
        Step::Done {
            outcome,
            tx: tx_hash,
            detail: step_detail,
        } => {
            finish_job(&mut tx, job.job_id, "done", None).await?;
            match job.kind {
                // "Nothing to settle" (the purchase is refunded, failed or unpaid) fulfils nothing.
                JobKind::Settle
                    if check_transition(job, purchase.state, PurchaseState::Fulfilled) =>
                {
                    sqlx::query(
                        "UPDATE api_purchases SET state = $3, tx_hash = COALESCE($2, tx_hash), updated_at = now() \
                         WHERE purchase_id = $1",
                    )
                    .bind(job.purchase_id)
                    .bind(tx_hash.map(|t| t.to_string()))
                    .bind(PurchaseState::Fulfilled)
                    .execute(&mut *tx)
                    .await?;
                    tracing::info!(target: "tangible::api::jobs", purchase_id = %job.purchase_id, outcome,
                        licence_id = ?purchase.licence_id, tx_hash = ?tx_hash, "purchase fulfilled");
                    // The receipt, if the buyer gave an address and this instance mails them.
                    if state.mailer().is_some() {
                        wake = receipt::enqueue_if_wanted(&mut tx, job.purchase_id).await?;
                    }
                }
                JobKind::Refund if outcome == "refunded" => {
                    // Stripe refunded: recorded whatever the state (logged if out of the lifecycle),
                    // the refund's reason (failure code) kept with the transition.
                    check_transition(job, purchase.state, PurchaseState::Refunded);
                    sqlx::query(
                        "UPDATE api_purchases SET state = $3, refund_id = $2, state_reason = failure_code, \
                         updated_at = now() WHERE purchase_id = $1",
                    )
                    .bind(job.purchase_id)
                    .bind(step_detail.as_deref())
                    .bind(PurchaseState::Refunded)
                    .execute(&mut *tx)
                    .await?;
                    tracing::info!(target: "tangible::api::jobs", purchase_id = %job.purchase_id, refund = ?step_detail, "refunded");
                }
                JobKind::Refund if outcome == "failed" => {
                    check_transition(job, purchase.state, PurchaseState::Failed);
                    sqlx::query(
                        "UPDATE api_purchases SET state = $3, failure_code = COALESCE(failure_code, 'refund_failed'), \
                         failure_message = $2, updated_at = now() WHERE purchase_id = $1",
                    )
                    .bind(job.purchase_id)
                    .bind(step_detail.as_deref())
                    .bind(PurchaseState::Failed)
                    .execute(&mut *tx)
                    .await?;
                    // Stripe refused: an operator looks (the console lists it, and can retry).
                    alert(
                        &mut *tx,
                        "refund_refused",
                        Some(job.purchase_id),
                        step_detail
                            .as_deref()
                            .unwrap_or("stripe refused the refund"),
                    )
                    .await?;
                }
                // A failed purchase (or a reinstatement given up) found settled on chain before
                // its refund: the buyer has a live licence, so no refund; an operator looks.
                JobKind::Refund
                    if outcome == "already_settled"
                        && matches!(
                            purchase.state,
                            PurchaseState::Failed | PurchaseState::Revoked
                        ) =>
                {
                    alert(
                        &mut *tx,
                        "refund_skipped_settled",
                        Some(job.purchase_id),
                        &format!(
                            "not refunded: a {} purchase is settled on chain (transaction {})",
                            purchase.state,
                            tx_hash.map_or_else(|| "unknown".to_owned(), |t| t.to_string())
                        ),
                    )
                    .await?;
                }
                // The settlement landed after all (found on chain before refunding): no refund.
                JobKind::Refund
                    if outcome == "already_settled"
                        && purchase.state == PurchaseState::Settling
                        && check_transition(job, purchase.state, PurchaseState::Fulfilled) =>
                {
                    sqlx::query(
                        "UPDATE api_purchases SET state = $3, tx_hash = COALESCE($2, tx_hash), \
                         state_reason = 'settled_before_refund', failure_code = NULL, failure_message = NULL, \
                         updated_at = now() WHERE purchase_id = $1",
                    )
                    .bind(job.purchase_id)
                    .bind(tx_hash.map(|t| t.to_string()))
                    .bind(PurchaseState::Fulfilled)
                    .execute(&mut *tx)
                    .await?;
                    tracing::warn!(target: "tangible::api::jobs", purchase_id = %job.purchase_id,
                        "settled on chain before its refund: fulfilled, not refunded");
                }
                JobKind::Revoke if outcome == "revoked" => {
                    // Fulfilled, disputed or reinstated → revoked; a dispute already closed
                    // lost stays `dispute_lost` (its licence is now revoked too).
                    sqlx::query(
                        "UPDATE api_purchases SET revoked_tx_hash = COALESCE($2, revoked_tx_hash), \
                             state = CASE WHEN state IN ('fulfilled', 'disputed', 'reinstated') THEN 'revoked' ELSE state END, \
                             state_reason = CASE WHEN state IN ('fulfilled', 'disputed', 'reinstated') \
                                 THEN 'licence_revoked_' || COALESCE(revoke_reason, 'dispute') ELSE state_reason END, \
                             updated_at = now() \
                         WHERE purchase_id = $1",
                    )
                    .bind(job.purchase_id)
                    .bind(tx_hash.map(|t| t.to_string()))
                    .execute(&mut *tx)
                    .await?;
                }
                JobKind::Reinstate
                    if outcome == "reinstated"
                        && check_transition(job, purchase.state, PurchaseState::Reinstated) =>
                {
                    sqlx::query(
                        "UPDATE api_purchases SET state = $4, reinstated_licence_id = $2, \
                             reinstated_tx_hash = COALESCE($3, reinstated_tx_hash), state_reason = 'dispute_won', \
                             updated_at = now() \
                         WHERE purchase_id = $1 AND state = 'revoked'",
                    )
                    .bind(job.purchase_id)
                    .bind(step_detail.as_deref())
                    .bind(tx_hash.map(|t| t.to_string()))
                    .bind(PurchaseState::Reinstated)
                    .execute(&mut *tx)
                    .await?;
                    tracing::info!(target: "tangible::api::jobs", purchase_id = %job.purchase_id,
                        licence_id = ?step_detail, tx_hash = ?tx_hash, "licence reinstated after a dispute closed won");
                }
                _ => {}
            }
        }
    }
    tx.commit().await?;
    if wake {
        state.wake_workers();
    }
    Ok(())
}

/// A job given up (out of attempts, or a settlement past its deadline): a settlement or a
/// reinstatement is refunded (never charged without a licence), a refund that cannot be made
/// fails the purchase; each is an operator alert.
async fn give_up_job(
    tx: &mut Transaction<'_, Postgres>,
    job: &Job,
    from: PurchaseState,
    past_deadline: bool,
    deadline_secs: u64,
    detail: &str,
) -> sqlx::Result<()> {
    let (code, what) = match (job.kind, past_deadline) {
        (JobKind::Settle, true) => ("settlement_deadline_exceeded", "not settled"),
        (JobKind::Settle, false) => ("settlement_gave_up", "not settled"),
        (JobKind::Reinstate, true) => ("reinstatement_deadline_exceeded", "not reinstated"),
        (JobKind::Reinstate, false) => ("reinstatement_gave_up", "not reinstated"),
        (JobKind::Refund, _) => {
            alert(&mut **tx, "refund_gave_up", Some(job.purchase_id), detail).await?;
            if check_transition(job, from, PurchaseState::Failed) {
                set_state(
                    tx,
                    job.purchase_id,
                    PurchaseState::Failed,
                    Some(("refund_failed", detail)),
                )
                .await?;
            }
            return Ok(());
        }
        (JobKind::Revoke, _) => {
            alert(
                &mut **tx,
                "revocation_gave_up",
                Some(job.purchase_id),
                detail,
            )
            .await?;
            return Ok(());
        }
        // The purchase is fulfilled whatever becomes of its receipt: the mail is only given up.
        (JobKind::Receipt, _) => {
            alert(&mut **tx, "receipt_gave_up", Some(job.purchase_id), detail).await?;
            return Ok(());
        }
    };
    let message = if past_deadline {
        format!(
            "{what} within {deadline_secs} s ({} attempts): refunded; last error: {detail}",
            job.attempts
        )
    } else {
        format!(
            "{what} after {} attempts: refunded; last error: {detail}",
            job.attempts
        )
    };
    alert(&mut **tx, code, Some(job.purchase_id), &message).await?;
    refund_for(tx, job.purchase_id, code, &message).await
}

/// Records why a purchase is refunded and queues its refund.
async fn refund_for(
    tx: &mut Transaction<'_, Postgres>,
    purchase_id: Uuid,
    code: &str,
    message: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE api_purchases SET failure_code = $2, failure_message = $3, updated_at = now() \
         WHERE purchase_id = $1",
    )
    .bind(purchase_id)
    .bind(code)
    .bind(message)
    .execute(&mut **tx)
    .await?;
    enqueue(tx, JobKind::Refund, purchase_id).await
}

async fn finish_job(
    tx: &mut Transaction<'_, Postgres>,
    job_id: i64,
    state: &str,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE api_jobs SET state = $2, locked_until = NULL, last_error = COALESCE($3, last_error), updated_at = now() \
         WHERE job_id = $1",
    )
    .bind(job_id)
    .bind(state)
    .bind(error)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the job may write `to` on a purchase it left in `from` ([`PurchaseState::allows`]);
/// logs an error when not.
fn check_transition(job: &Job, from: PurchaseState, to: PurchaseState) -> bool {
    let allowed = from.allows(to);
    if !allowed {
        tracing::error!(target: "tangible::api::jobs", job_id = job.job_id, purchase_id = %job.purchase_id,
            kind = job.kind.as_str(), %from, %to, "purchase state change outside its lifecycle");
    }
    allowed
}

async fn set_state(
    tx: &mut Transaction<'_, Postgres>,
    purchase_id: Uuid,
    state: PurchaseState,
    failure: Option<(&str, &str)>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE api_purchases SET state = $2, failure_code = COALESCE($3, failure_code), \
         failure_message = COALESCE($4, failure_message), updated_at = now() WHERE purchase_id = $1",
    )
    .bind(purchase_id)
    .bind(state)
    .bind(failure.map(|f| f.0))
    .bind(failure.map(|f| f.1))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn backoff(state: &AppState, attempts: i32) -> Duration {
    let c = state.config();
    let exp = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let ms = c
        .retry_base_ms
        .saturating_mul(1u64 << exp)
        .min(c.retry_max_ms);
    let jitter = rand::rng().random_range(0..=ms / 5 + 1);
    Duration::from_millis(ms + jitter)
}
