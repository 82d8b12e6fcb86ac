//! Reconciliation with Stripe: a purchase still `awaiting_payment` (or `paid`) is re-read from
//! Stripe, so that a lost webhook still ends in a fulfilled purchase, and one nobody paid is
//! abandoned after `abandon_after_secs`.
//!
//! Who asks Stripe, and how often:
//! - the sweeper ([`run_reconciler`], every `reconcile_interval_secs`, beside the workers)
//!   re-reads a purchase once its last read (creation counts as one) is older than the larger of
//!   `reconcile_after_secs` and a quarter of the purchase's age — a few minutes after creation,
//!   then less and less often (about 26 reads of an abandoned purchase over 24 h);
//! - `GET /v1/purchases/{id}` ([`on_read`]) re-reads it when its last read is older than
//!   `reconcile_on_read_secs`, so a client polling its purchase learns of its payment without
//!   waiting for the sweeper, but cannot turn polling into more than one Stripe request per
//!   interval and purchase.
//!
//! Both stay within `throttle_stripe_reads_per_second` (shared, [`crate::throttle::Budgets`]):
//! the sweeper waits for a read, a GET over it answers the stored state without asking Stripe.
//!
//! Both claim the read with one conditional `UPDATE` of `api_purchases.stripe_checked_at` (row
//! locks skipped), so instances and concurrent requests never read the same purchase twice in an
//! interval.
//!
//! What the PaymentIntent's status does ([`reconcile_one`]):
//! - `succeeded`: the payment is recorded through [`super::payment::payment_succeeded`], the
//!   webhook's own path: `paid` and a settlement job (one per purchase), so the purchase goes on
//!   exactly as if the webhook had arrived, and a webhook arriving later changes nothing;
//! - `canceled`: `failed` (`payment_canceled`; cancelled outside the API), or `expired` when
//!   the purchase is abandoned anyway;
//! - `requires_payment_method` / `requires_confirmation` / `requires_action` on a purchase older
//!   than `abandon_after_secs`: the PaymentIntent is cancelled at Stripe, then the purchase is
//!   `expired` (`payment_abandoned`). The cancellation comes first: once Stripe has cancelled
//!   the intent it takes no payment for it, and if Stripe refuses because the intent has just
//!   succeeded, the payment is recorded instead. A payment that still reaches an expired
//!   purchase moves it on to `paid` ([`crate::purchase_state`]): settled, or refunded;
//! - `processing`, `requires_capture`: left to finish.

use std::time::Duration;

use sqlx::Row;
use tokio::sync::watch;
use uuid::Uuid;

use super::{JobKind, enqueue, payment};
use crate::purchase_state::PurchaseState;
use crate::state::AppState;
use crate::stripe::{GatewayError, IntentDetails};

/// Purchases claimed by one query of a sweep.
const BATCH: i64 = 100;
/// Longest a `GET /v1/purchases/{id}` waits for Stripe before answering with what it has.
const ON_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// What one reconciliation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciled {
    /// Nothing to change (the purchase is not open, or its payment is still to come).
    Unchanged(&'static str),
    /// The payment was found and recorded: `paid`, `amount_mismatch`, `already_<state>`.
    Payment(String),
    /// The PaymentIntent was cancelled (by the API, now, or earlier outside it); the purchase
    /// is in this state.
    Closed(PurchaseState),
    /// A failed payment attempt was noted (`payment_failed`); the buyer may try another card.
    PaymentFailed,
}

impl Reconciled {
    /// The metric label.
    const fn label(&self) -> &'static str {
        match self {
            Self::Unchanged(_) => "unchanged",
            Self::Payment(_) => "payment",
            Self::Closed(PurchaseState::Expired) => "expired",
            Self::Closed(_) => "canceled",
            Self::PaymentFailed => "payment_failed",
        }
    }
}

/// Runs the sweeper every `reconcile_interval_secs` until `stop` turns true.
pub async fn run_reconciler(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_secs(state.config().reconcile_interval_secs);
    loop {
        match sweep(&state).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(target: "tangible::api::reconcile", purchases = n, "purchases re-read from Stripe")
            }
            Err(e) => {
                tracing::warn!(target: "tangible::api::reconcile", error = %format!("{e:#}"), "reconciliation sweep failed")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    tracing::info!(target: "tangible::api::reconcile", "reconciler stopped");
}

/// One sweep: claims the open purchases due for a read from Stripe, a batch at a time, and
/// reconciles each. Returns how many were read.
pub async fn sweep(state: &AppState) -> anyhow::Result<usize> {
    let c = state.config();
    let mut total = 0;
    // Each purchase at most once per sweep: one whose read or cancel fails stays due (the
    // abandonment clause does not look at the last read), and batch after batch would claim it
    // again at once — a hot loop on Stripe that never returns once a batch is full of them.
    let started: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(state.db())
        .await?;
    loop {
        // Due: the last read (or the creation) is older than max(after, age / 4); or the
        // purchase is unpaid past the abandonment age (re-tried each sweep until it is closed).
        let claimed: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE api_purchases SET stripe_checked_at = now() WHERE purchase_id IN ( \
                 SELECT purchase_id FROM api_purchases \
                 WHERE state = ANY($1) AND COALESCE(stripe_checked_at, created_at) < $6 AND ( \
                     COALESCE(stripe_checked_at, created_at) <= now() - make_interval(secs => \
                         greatest($2::float8, extract(epoch FROM now() - created_at)::float8 / 4)) \
                     OR (state = $3 AND created_at <= now() - make_interval(secs => $4::float8))) \
                 ORDER BY created_at LIMIT $5 FOR UPDATE SKIP LOCKED) \
             RETURNING purchase_id",
        )
        .bind([
            PurchaseState::AwaitingPayment.as_str(),
            PurchaseState::Paid.as_str(),
        ])
        .bind(c.reconcile_after_secs as f64)
        .bind(PurchaseState::AwaitingPayment)
        .bind(c.abandon_after_secs as f64)
        .bind(BATCH)
        .bind(started)
        .fetch_all(state.db())
        .await?;
        let n = claimed.len();
        for purchase_id in claimed {
            // Within the instance's Stripe reads per second, which polling shares.
            state.budgets().stripe_read().await;
            if let Err(e) = reconcile_one(state, purchase_id).await {
                tracing::warn!(target: "tangible::api::reconcile", %purchase_id, error = %format!("{e:#}"),
                    "reconciliation failed; the next sweep tries again");
            }
        }
        total += n;
        if i64::try_from(n).unwrap_or(i64::MAX) < BATCH {
            return Ok(total);
        }
    }
}

/// Re-reads an open purchase from Stripe on `GET /v1/purchases/{id}`, at most once per
/// `reconcile_on_read_secs` (creation counts as a read), waiting for Stripe at most
/// [`ON_READ_TIMEOUT`]. Errors are logged, never returned: the client gets the stored state.
pub async fn on_read(state: &AppState, purchase_id: Uuid) {
    // Due for a read? Asked first, so that polling a purchase that is not due (or does not
    // exist) never spends the instance's Stripe reads.
    let due = sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM api_purchases \
         WHERE purchase_id = $1 AND state = ANY($2) \
           AND COALESCE(stripe_checked_at, created_at) <= now() - make_interval(secs => $3::float8))",
    )
    .bind(purchase_id)
    .bind([
        PurchaseState::AwaitingPayment.as_str(),
        PurchaseState::Paid.as_str(),
    ])
    .bind(state.config().reconcile_on_read_secs as f64)
    .fetch_one(state.db())
    .await;
    match due {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(target: "tangible::api::reconcile", %purchase_id, error = %e, "checking a re-read failed");
            return;
        }
    }
    // Over the Stripe reads of this second: answer the stored state; the next poll or the
    // sweeper reads it.
    if !state.budgets().stripe_read_now() {
        return;
    }
    let claimed = sqlx::query_scalar::<_, Uuid>(
        "UPDATE api_purchases SET stripe_checked_at = now() \
         WHERE purchase_id = $1 AND state = ANY($2) \
           AND COALESCE(stripe_checked_at, created_at) <= now() - make_interval(secs => $3::float8) \
         RETURNING purchase_id",
    )
    .bind(purchase_id)
    .bind([
        PurchaseState::AwaitingPayment.as_str(),
        PurchaseState::Paid.as_str(),
    ])
    .bind(state.config().reconcile_on_read_secs as f64)
    .fetch_optional(state.db())
    .await;
    match claimed {
        Ok(Some(_)) => {}
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(target: "tangible::api::reconcile", %purchase_id, error = %e, "claiming a re-read failed");
            return;
        }
    }
    match tokio::time::timeout(ON_READ_TIMEOUT, reconcile_one(state, purchase_id)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::warn!(target: "tangible::api::reconcile", %purchase_id, error = %format!("{e:#}"), "re-read on GET failed")
        }
        Err(_) => {
            tracing::warn!(target: "tangible::api::reconcile", %purchase_id, "re-read on GET timed out")
        }
    }
}

/// Reads one purchase's PaymentIntent from Stripe and acts on its status (see the module's
/// documentation). Safe to run concurrently with the webhook, the workers and other
/// reconciliations of the same purchase: every change is made under the row's lock, from the
/// state it was read in.
pub async fn reconcile_one(state: &AppState, purchase_id: Uuid) -> anyhow::Result<Reconciled> {
    let outcome = reconcile_inner(state, purchase_id).await?;
    metrics::counter!("stripe_reconciliations_total", "outcome" => outcome.label()).increment(1);
    match &outcome {
        Reconciled::Unchanged(_) => {}
        other => {
            tracing::info!(target: "tangible::api::reconcile", %purchase_id, outcome = ?other, "purchase reconciled with Stripe")
        }
    }
    Ok(outcome)
}

async fn reconcile_inner(state: &AppState, purchase_id: Uuid) -> anyhow::Result<Reconciled> {
    let row = sqlx::query(
        "SELECT state, payment_intent_id, created_at <= now() - make_interval(secs => $2::float8) AS abandoned \
         FROM api_purchases WHERE purchase_id = $1",
    )
    .bind(purchase_id)
    .bind(state.config().abandon_after_secs as f64)
    .fetch_optional(state.db())
    .await?;
    let Some(row) = row else {
        return Ok(Reconciled::Unchanged("no such purchase"));
    };
    let current: PurchaseState = row.try_get("state")?;
    let intent: Option<String> = row.try_get("payment_intent_id")?;
    let abandoned: bool = row.try_get("abandoned")?;
    if !matches!(
        current,
        PurchaseState::AwaitingPayment | PurchaseState::Paid
    ) {
        return Ok(Reconciled::Unchanged("not open"));
    }
    let Some(intent) = intent else {
        // The PaymentIntent was never recorded (its creation failed or the API died in between):
        // nothing to read or cancel; a payment of an intent tagged with this purchase would
        // still be recorded by the webhook (found by its metadata).
        if abandoned && current == PurchaseState::AwaitingPayment {
            return close(state, purchase_id, PurchaseState::Expired, ABANDONED).await;
        }
        return Ok(Reconciled::Unchanged("no PaymentIntent"));
    };
    let stripe = state.stripe();
    let details = stripe.payment_intent_details(&intent).await?;
    if current == PurchaseState::Paid {
        if details.status != "succeeded" {
            tracing::error!(target: "tangible::api::reconcile", %purchase_id, payment_intent = %intent,
                status = %details.status, "paid purchase whose PaymentIntent has not succeeded: an operator must look");
            return Ok(Reconciled::Unchanged("paid, intent not succeeded"));
        }
        // Paid: its settlement job was queued with the payment; queue it again should it be
        // missing (a no-op otherwise).
        let mut tx = state.db().begin().await?;
        enqueue(&mut tx, JobKind::Settle, purchase_id).await?;
        tx.commit().await?;
        state.wake_workers();
        return Ok(Reconciled::Unchanged("paid"));
    }
    match details.status.as_str() {
        "succeeded" => record_payment(state, &details).await,
        "canceled" if abandoned => {
            close(state, purchase_id, PurchaseState::Expired, ABANDONED).await
        }
        "canceled" => close(state, purchase_id, PurchaseState::Failed, CANCELED_OUTSIDE).await,
        "requires_payment_method" | "requires_confirmation" | "requires_action" if abandoned => {
            match stripe.cancel_payment_intent(&intent).await {
                Ok(_) => close(state, purchase_id, PurchaseState::Expired, ABANDONED).await,
                Err(GatewayError::Refused { status, message }) => {
                    // Refused: the intent moved on meanwhile (most likely paid). Read it again.
                    tracing::info!(target: "tangible::api::reconcile", %purchase_id, payment_intent = %intent,
                        status, %message, "Stripe refused to cancel an abandoned PaymentIntent; reading it again");
                    let details = stripe.payment_intent_details(&intent).await?;
                    match details.status.as_str() {
                        "succeeded" => record_payment(state, &details).await,
                        "canceled" => {
                            close(state, purchase_id, PurchaseState::Expired, ABANDONED).await
                        }
                        _ => Ok(Reconciled::Unchanged("cancellation refused")),
                    }
                }
                Err(e) => Err(e.into()),
            }
        }
        "requires_payment_method" if details.last_payment_error.is_some() => {
            payment_failed(state, purchase_id).await
        }
        _ => Ok(Reconciled::Unchanged("payment still to come")),
    }
}

/// `failure_code` and message of an abandoned purchase.
const ABANDONED: (&str, &str) = (
    "payment_abandoned",
    "not paid in time: the PaymentIntent was cancelled; start a new purchase",
);
/// `failure_code` and message of a purchase whose PaymentIntent was cancelled outside the API.
const CANCELED_OUTSIDE: (&str, &str) = (
    "payment_canceled",
    "the PaymentIntent was cancelled at Stripe; start a new purchase",
);

/// Records a succeeded payment found at Stripe, as its webhook would.
async fn record_payment(state: &AppState, details: &IntentDetails) -> anyhow::Result<Reconciled> {
    let mut tx = state.db().begin().await?;
    let (_, outcome) = payment::payment_succeeded(&mut tx, &details.intent).await?;
    tx.commit().await?;
    // A settlement (or refund) job may have been queued: wake a local worker.
    state.wake_workers();
    Ok(Reconciled::Payment(outcome))
}

/// Moves an unpaid purchase (awaiting its payment) to `to` with a failure code, unless it
/// moved on meanwhile.
async fn close(
    state: &AppState,
    purchase_id: Uuid,
    to: PurchaseState,
    (code, message): (&str, &str),
) -> anyhow::Result<Reconciled> {
    debug_assert!(PurchaseState::AwaitingPayment.can_move_to(to));
    let changed = sqlx::query(
        "UPDATE api_purchases SET state = $2, failure_code = $3, failure_message = $4, updated_at = now() \
         WHERE purchase_id = $1 AND state = $5",
    )
    .bind(purchase_id)
    .bind(to)
    .bind(code)
    .bind(message)
    .bind(PurchaseState::AwaitingPayment)
    .execute(state.db())
    .await?
    .rows_affected();
    Ok(if changed == 1 {
        Reconciled::Closed(to)
    } else {
        Reconciled::Unchanged("moved on meanwhile")
    })
}

/// Notes a failed payment attempt, as the `payment_intent.payment_failed` webhook does (the
/// purchase stays open: the buyer may try another card).
async fn payment_failed(state: &AppState, purchase_id: Uuid) -> anyhow::Result<Reconciled> {
    let changed = sqlx::query(
        "UPDATE api_purchases SET failure_code = 'payment_failed', failure_message = 'the card payment failed; \
         the payment may be retried', updated_at = now() \
         WHERE purchase_id = $1 AND state = $2 AND failure_code IS DISTINCT FROM 'payment_failed'",
    )
    .bind(purchase_id)
    .bind(PurchaseState::AwaitingPayment)
    .execute(state.db())
    .await?
    .rows_affected();
    Ok(if changed == 1 {
        Reconciled::PaymentFailed
    } else {
        Reconciled::Unchanged("payment failure already noted")
    })
}
