//! The durable job queue (Postgres) and the worker that settles, refunds, revokes and mails
//! receipts.
//!
//! Jobs are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so several workers and several
//! API instances share the queue, and a job whose worker died is claimed again once its lease
//! runs out. Settlement is idempotent because the chain is read first: a `paymentRef` that
//! already settled is recorded as such, never sent twice. Every attempt is recorded in
//! `api_settlement_attempts` with its outcome. The attempts themselves (settle, refund, revoke)
//! are in `steps`, the receipt mailing in `receipt`; this module claims jobs, records each
//! attempt and moves purchase and job on.
//!
//! Beside the queue: [`payment`], what a succeeded payment does to its purchase (shared by the
//! webhook and the reconciliation), and [`reconcile`], the re-reading of open purchases from
//! Stripe (a lost webhook, an abandoned PaymentIntent).

use std::time::Duration;

use rand::Rng;
use sqlx::{PgPool, Postgres, Row, Transaction};
use tokio::sync::watch;
use uuid::Uuid;

use crate::purchase_state::PurchaseState;
use crate::state::AppState;

pub mod payment;
mod receipt;
pub mod reconcile;
mod steps;

pub use reconcile::run_reconciler;

use steps::{Step, load, refund, revoke, settle};

/// How long a claimed job is reserved for its worker.
const LEASE_SECS: f64 = 120.0;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Settle a paid purchase on chain.
    Settle,
    /// Refund a purchase through Stripe.
    Refund,
    /// Revoke a disputed purchase's licence.
    Revoke,
    /// Mail a fulfilled purchase's receipt to its buyer's address.
    Receipt,
}

impl JobKind {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Settle => "settle",
            Self::Refund => "refund",
            Self::Revoke => "revoke",
            Self::Receipt => "receipt",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "settle" => Some(Self::Settle),
            "refund" => Some(Self::Refund),
            "revoke" => Some(Self::Revoke),
            "receipt" => Some(Self::Receipt),
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

#[derive(Debug)]
struct Job {
    job_id: i64,
    kind: JobKind,
    purchase_id: Uuid,
    attempts: i32,
}

async fn claim(db: &PgPool, worker: &str) -> sqlx::Result<Option<Job>> {
    let row = sqlx::query(
        "UPDATE api_jobs SET state = 'running', attempts = attempts + 1, \
             locked_until = now() + make_interval(secs => $2), locked_by = $1, updated_at = now() \
         WHERE job_id = ( \
             SELECT job_id FROM api_jobs \
             WHERE (state = 'queued' AND run_at <= now()) OR (state = 'running' AND locked_until < now()) \
             ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
         RETURNING job_id, kind, purchase_id, attempts",
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
    let give_up = matches!(step, Step::Retry(_)) && job.attempts >= max;
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
                kind = job.kind.as_str(), %detail, "giving up after {max} attempts");
            finish_job(&mut tx, job.job_id, "dead", Some(&detail)).await?;
            if job.kind == JobKind::Settle {
                check_transition(job, purchase.state, PurchaseState::Failed);
                set_state(
                    &mut tx,
                    job.purchase_id,
                    PurchaseState::Failed,
                    Some(("settlement_gave_up", &detail)),
                )
                .await?;
            }
        }
        Step::Impossible(detail) => {
            tracing::warn!(target: "tangible::api::jobs", purchase_id = %job.purchase_id, %detail, "settlement impossible, refunding");
            finish_job(&mut tx, job.job_id, "done", Some(&detail)).await?;
            sqlx::query(
                "UPDATE api_purchases SET failure_code = 'settlement_impossible', failure_message = $2, updated_at = now() \
                 WHERE purchase_id = $1",
            )
            .bind(job.purchase_id)
            .bind(&detail)
            .execute(&mut *tx)
            .await?;
            enqueue(&mut tx, JobKind::Refund, job.purchase_id).await?;
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
                    // Stripe refunded: recorded whatever the state (logged if out of the lifecycle).
                    check_transition(job, purchase.state, PurchaseState::Refunded);
                    sqlx::query(
                        "UPDATE api_purchases SET state = $3, refund_id = $2, updated_at = now() WHERE purchase_id = $1",
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
                    tracing::error!(target: "tangible::api::jobs", purchase_id = %job.purchase_id, detail = ?step_detail, "refund failed: needs an operator");
                }
                JobKind::Revoke if outcome == "revoked" => {
                    sqlx::query("UPDATE api_purchases SET revoked_tx_hash = $2, updated_at = now() WHERE purchase_id = $1")
                        .bind(job.purchase_id)
                        .bind(tx_hash.map(|t| t.to_string()))
                        .execute(&mut *tx)
                        .await?;
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

/// Periodic upkeep beside the workers: publishes the operator's float (`operator_float_cents`,
/// warning in the log when it is under `float_warning_cents`) and deletes login nonces that
/// expired more than an hour ago (a spent nonce stays until then, so a replay is refused).
pub async fn run_maintenance(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_secs(30);
    loop {
        match state.chain().operator_float_cents().await {
            Ok(cents) => {
                metrics::gauge!("operator_float_cents").set(cents as f64);
                let low = cents < state.config().float_warning_cents;
                metrics::gauge!("operator_float_low").set(if low { 1.0 } else { 0.0 });
                if low {
                    tracing::warn!(target: "tangible::api::jobs", float_cents = cents,
                        threshold_cents = state.config().float_warning_cents, "operator float is low: top it up with deposit()");
                }
            }
            Err(e) => {
                tracing::warn!(target: "tangible::api::jobs", error = %e, "cannot read the operator float")
            }
        }
        if let Err(e) =
            sqlx::query("DELETE FROM api_login_nonces WHERE expires_at < now() - interval '1 hour'")
                .execute(state.db())
                .await
        {
            tracing::warn!(target: "tangible::api::jobs", error = %e, "nonce cleanup failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}
