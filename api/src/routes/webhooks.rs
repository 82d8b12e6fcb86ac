//! The Stripe webhook: signature on the raw body, the event stored once (inbox), then
//! `payment_intent.succeeded` → amount/currency check → paid + settlement job;
//! `payment_intent.payment_failed` → recorded (the buyer may retry another card);
//! `charge.dispute.created` → `disputed` + revocation job; `charge.dispute.closed` → won: a
//! reinstatement job (a new licence for the buyer), lost: `dispute_lost` (stays revoked);
//! `charge.refunded` of a fulfilled purchase (a refund made at Stripe, outside the API) →
//! revocation job. Every state change is audited (`api_purchase_transitions`).
//!
//! Only a bad signature is refused (400). A correctly signed event is Stripe's word and is
//! never answered 4xx — Stripe would retry it for days and then disable the endpoint: one the
//! API cannot parse, or of a type it does not handle, is acknowledged, stored with the outcome
//! `unparseable_event`, `unparseable_object` or `unhandled_type`, and raised as an operator
//! alert (an `error` log line with the event id and type, `stripe_webhook_alerts_total{reason}`).
//! The stored payload never keeps a `client_secret` (a PaymentIntent's lets anyone confirm it)
//! nor a `receipt_email` (the buyer's address lives in the purchase only, where the buyer can
//! have it erased): every such field is removed before the event is written.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Transaction};
use tangible_api_types::webhooks::WebhookAck;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::RawBody;
use crate::jobs::{self, JobKind};
use crate::purchase_state::PurchaseState;
use crate::state::AppState;
use crate::stripe::{
    ChargeObject, DisputeObject, Event, PURCHASE_METADATA_KEY, PaymentIntentObject,
    verify_signature,
};

/// Receives Stripe events (signed with the endpoint secret).
#[utoipa::path(post, path = "/v1/webhooks/stripe", request_body(content = String, description = "Stripe event JSON (raw, signed)"),
    responses((status = 200, description = "a correctly signed event, stored (once); one the API cannot parse or does not handle too, raised as an operator alert", body = WebhookAck),
        (status = 400, description = "missing, forged or stale signature", body = ErrorBody)))]
pub async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, axum::Json<WebhookAck>)> {
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let config = state.config();
    if let Err(e) = verify_signature(
        header,
        &body,
        config.stripe_webhook_secret.expose_secret().as_bytes(),
        chrono::Utc::now().timestamp(),
        config.webhook_tolerance_secs,
    ) {
        tracing::warn!(target: "tangible::api::webhook", reason = %e, "refused webhook");
        metrics::counter!("stripe_webhooks_refused_total").increment(1);
        return Err(ApiError::bad_request(
            codes::INVALID_SIGNATURE,
            e.to_string(),
        ));
    }
    let payload = stored_payload(&body);
    let event: Event = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => return unparseable_event(&state, &body, payload, &e.to_string()).await,
    };

    let mut tx = state.db().begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO api_stripe_events (event_id, event_type, payload, outcome) VALUES ($1, $2, $3, 'received') \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&event.id)
    .bind(&event.kind)
    .bind(&payload)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        tx.rollback().await?;
        tracing::info!(target: "tangible::api::webhook", event = %event.id, kind = %event.kind, "duplicate event ignored");
        return Ok(ack(true, "duplicate"));
    }
    let processed = match event.kind.as_str() {
        "payment_intent.succeeded" => payment_succeeded(&mut tx, &event).await?,
        "payment_intent.payment_failed" => payment_failed(&mut tx, &event).await?,
        "charge.dispute.created" => dispute_created(&mut tx, &event).await?,
        "charge.dispute.closed" => dispute_closed(&mut tx, &event).await?,
        "charge.refunded" => charge_refunded(&mut tx, &event).await?,
        _ => Err(Unprocessed {
            reason: UNHANDLED_TYPE,
            detail: "the API does not handle this event type".to_owned(),
        }),
    };
    let (purchase_id, outcome, unprocessed) = match processed {
        Ok((purchase_id, outcome)) => (purchase_id, outcome, None),
        Err(u) => (None, u.reason.to_owned(), Some(u)),
    };
    sqlx::query("UPDATE api_stripe_events SET outcome = $2, purchase_id = $3 WHERE event_id = $1")
        .bind(&event.id)
        .bind(&outcome)
        .bind(purchase_id)
        .execute(&mut *tx)
        .await?;
    // Recorded with the event: both stand, or neither (and Stripe sends the event again).
    if let Some(u) = &unprocessed {
        alert(&mut *tx, &event.id, &event.kind, u).await?;
    }
    tx.commit().await?;
    if unprocessed.is_some() {
        return Ok(ack(false, &outcome));
    }
    if purchase_id.is_some() {
        // A job may have been queued: wake a local worker now instead of at its next poll.
        state.wake_workers();
    }
    tracing::info!(target: "tangible::api::webhook", event = %event.id, kind = %event.kind,
        purchase_id = ?purchase_id, %outcome, "event processed");
    metrics::counter!("stripe_webhooks_total", "outcome" => outcome.clone()).increment(1);
    Ok(ack(false, &outcome))
}

/// Outcome of a signed event the API cannot parse at all.
const UNPARSEABLE_EVENT: &str = "unparseable_event";
/// Outcome of an event of a handled type whose object the API cannot parse.
const UNPARSEABLE_OBJECT: &str = "unparseable_object";
/// Outcome of an event of a type the API does not handle.
const UNHANDLED_TYPE: &str = "unhandled_type";

/// Why a signed event was stored without being acted on.
#[derive(Debug)]
struct Unprocessed {
    /// The stored outcome, and the alert metric's `reason`.
    reason: &'static str,
    /// What went wrong, for the log line.
    detail: String,
}

/// What a handler did with an event (its purchase and outcome), or why it could not act.
type Processed = Result<(Option<Uuid>, String), Unprocessed>;

/// Raises a signed event the API acknowledged without acting on it: an operator must look.
async fn alert<'e, E: sqlx::PgExecutor<'e>>(
    db: E,
    event_id: &str,
    kind: &str,
    u: &Unprocessed,
) -> ApiResult<()> {
    tracing::error!(target: "tangible::api::webhook", event = %event_id, kind = %kind,
        reason = u.reason, detail = %u.detail,
        "signed Stripe event stored but not processed: an operator must look at it");
    metrics::counter!("stripe_webhook_alerts_total", "reason" => u.reason).increment(1);
    metrics::counter!("stripe_webhooks_total", "outcome" => u.reason).increment(1);
    // In the console's list of alerts too (the event itself is in api_stripe_events).
    jobs::alert(
        db,
        u.reason,
        None,
        &format!(
            "Stripe event {event_id} ({kind}) stored but not processed: {}",
            u.detail
        ),
    )
    .await?;
    Ok(())
}

/// The payload as stored: the event's JSON (or, if the body is not JSON, its text as a JSON
/// string) with every `client_secret` and `receipt_email` removed, and NUL characters (which PostgreSQL's `jsonb`
/// refuses) replaced by U+FFFD.
fn stored_payload(body: &[u8]) -> Value {
    let mut value = serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    redact_client_secrets(&mut value);
    redact_receipt_emails(&mut value);
    replace_nul(&mut value);
    value
}

fn replace_nul(value: &mut Value) {
    const NUL: char = '\0';
    match value {
        Value::String(s) if s.contains(NUL) => *s = s.replace(NUL, "\u{fffd}"),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains(NUL)) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.replace(NUL, "\u{fffd}"), v))
                    .collect();
            }
            map.values_mut().for_each(replace_nul);
        }
        Value::Array(items) => items.iter_mut().for_each(replace_nul),
        _ => {}
    }
}

/// Removes every `client_secret` field, at any depth.
pub fn redact_client_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("client_secret");
            map.values_mut().for_each(redact_client_secrets);
        }
        Value::Array(items) => items.iter_mut().for_each(redact_client_secrets),
        _ => {}
    }
}

/// Removes every `receipt_email` field, at any depth (Stripe's PaymentIntents and charges carry
/// the address the purchase gave them).
fn redact_receipt_emails(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("receipt_email");
            map.values_mut().for_each(redact_receipt_emails);
        }
        Value::Array(items) => items.iter_mut().for_each(redact_receipt_emails),
        _ => {}
    }
}

/// A signed body that is not a Stripe event: stored under its `id` (or a digest of the body,
/// so a redelivery is still a duplicate), acknowledged, and raised as an alert.
async fn unparseable_event(
    state: &AppState,
    body: &[u8],
    payload: Value,
    error: &str,
) -> ApiResult<(StatusCode, axum::Json<WebhookAck>)> {
    let event_id = payload["id"].as_str().map_or_else(
        || format!("unparsed_{}", hex::encode(&Sha256::digest(body)[..16])),
        str::to_owned,
    );
    let kind = payload["type"].as_str().unwrap_or("unknown").to_owned();
    let mut tx = state.db().begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO api_stripe_events (event_id, event_type, payload, outcome) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&event_id)
    .bind(&kind)
    .bind(&payload)
    .bind(UNPARSEABLE_EVENT)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        tracing::info!(target: "tangible::api::webhook", event = %event_id, kind = %kind, "duplicate event ignored");
        return Ok(ack(true, "duplicate"));
    }
    let u = Unprocessed {
        reason: UNPARSEABLE_EVENT,
        detail: format!("not a Stripe event: {error}"),
    };
    alert(&mut *tx, &event_id, &kind, &u).await?;
    tx.commit().await?;
    Ok(ack(false, UNPARSEABLE_EVENT))
}

fn ack(duplicate: bool, outcome: &str) -> (StatusCode, axum::Json<WebhookAck>) {
    (
        StatusCode::OK,
        axum::Json(WebhookAck {
            received: true,
            duplicate,
            outcome: outcome.to_owned(),
        }),
    )
}

/// The purchase of a PaymentIntent, locked for update (shared with the reconciliation).
async fn purchase_for_intent(
    tx: &mut Transaction<'_, Postgres>,
    intent_id: &str,
    metadata_purchase: Option<&String>,
) -> ApiResult<Option<(Uuid, PurchaseState, i64, String)>> {
    Ok(jobs::payment::purchase_for_intent(tx, intent_id, metadata_purchase).await?)
}

/// The event's object as `T`; one that does not parse is [`UNPARSEABLE_OBJECT`].
fn object<T: serde::de::DeserializeOwned>(event: &Event) -> Result<T, Unprocessed> {
    serde_json::from_value(event.data.object.clone()).map_err(|e| Unprocessed {
        reason: UNPARSEABLE_OBJECT,
        detail: format!("event {} object: {e}", event.kind),
    })
}

async fn payment_succeeded(
    tx: &mut Transaction<'_, Postgres>,
    event: &Event,
) -> ApiResult<Processed> {
    let pi: PaymentIntentObject = match object(event) {
        Ok(pi) => pi,
        Err(u) => return Ok(Err(u)),
    };
    // The same code records a payment the reconciliation finds at Stripe (jobs::reconcile).
    Ok(Ok(jobs::payment::payment_succeeded(tx, &pi).await?))
}

async fn payment_failed(tx: &mut Transaction<'_, Postgres>, event: &Event) -> ApiResult<Processed> {
    let pi: PaymentIntentObject = match object(event) {
        Ok(pi) => pi,
        Err(u) => return Ok(Err(u)),
    };
    let found = purchase_for_intent(tx, &pi.id, pi.metadata.get(PURCHASE_METADATA_KEY)).await?;
    let Some((purchase_id, state, _, _)) = found else {
        return Ok(Ok((None, "unknown_payment_intent".to_owned())));
    };
    if state == PurchaseState::AwaitingPayment {
        // The PaymentIntent stays open: the buyer may try another card.
        sqlx::query(
            "UPDATE api_purchases SET failure_code = 'payment_failed', failure_message = 'the card payment failed; \
             the payment may be retried', updated_at = now() WHERE purchase_id = $1",
        )
        .bind(purchase_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(Ok((Some(purchase_id), "payment_failed".to_owned())))
}

async fn dispute_created(
    tx: &mut Transaction<'_, Postgres>,
    event: &Event,
) -> ApiResult<Processed> {
    let dispute: DisputeObject = match object(event) {
        Ok(dispute) => dispute,
        Err(u) => return Ok(Err(u)),
    };
    let Some(intent) = dispute.payment_intent.as_deref() else {
        return Ok(Ok((None, "dispute_without_payment_intent".to_owned())));
    };
    let Some((purchase_id, state, _, _)) = purchase_for_intent(tx, intent, None).await? else {
        return Ok(Ok((None, "unknown_payment_intent".to_owned())));
    };
    tracing::warn!(target: "tangible::api::webhook", %purchase_id, dispute = %dispute.id,
        reason = ?dispute.reason, %state, "payment disputed: licence will be revoked");
    // A purchase not settled yet is revoked by the job once it is (it waits).
    let to = state
        .can_move_to(PurchaseState::Disputed)
        .then_some(PurchaseState::Disputed);
    let reason = format!(
        "dispute {} opened ({})",
        dispute.id,
        dispute.reason.as_deref().unwrap_or("no reason given")
    );
    set_after_event(tx, purchase_id, to, &reason, Some("dispute")).await?;
    jobs::requeue(tx, JobKind::Revoke, purchase_id).await?;
    Ok(Ok((Some(purchase_id), "revocation_queued".to_owned())))
}

/// `charge.dispute.closed`: won gives the buyer a licence again (a reinstatement job, run once
/// the first licence is revoked); lost is recorded (`dispute_lost`, the licence stays revoked).
async fn dispute_closed(tx: &mut Transaction<'_, Postgres>, event: &Event) -> ApiResult<Processed> {
    let dispute: DisputeObject = match object(event) {
        Ok(dispute) => dispute,
        Err(u) => return Ok(Err(u)),
    };
    let Some(intent) = dispute.payment_intent.as_deref() else {
        return Ok(Ok((None, "dispute_without_payment_intent".to_owned())));
    };
    let Some((purchase_id, state, _, _)) = purchase_for_intent(tx, intent, None).await? else {
        return Ok(Ok((None, "unknown_payment_intent".to_owned())));
    };
    let status = dispute.status.as_deref().unwrap_or("unknown");
    // Revoked because of a dispute (not of a refund made at Stripe: that money went back).
    let revoked_by_dispute = match state {
        PurchaseState::Disputed => true,
        PurchaseState::Revoked => {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT revoke_reason FROM api_purchases WHERE purchase_id = $1",
            )
            .bind(purchase_id)
            .fetch_one(&mut **tx)
            .await?
            .as_deref()
                == Some("dispute")
        }
        _ => false,
    };
    let outcome = match status {
        "won" if revoked_by_dispute => {
            jobs::requeue(tx, JobKind::Reinstate, purchase_id).await?;
            "reinstatement_queued"
        }
        "lost" if state.can_move_to(PurchaseState::DisputeLost) => {
            let reason = format!("dispute {} closed lost", dispute.id);
            set_after_event(
                tx,
                purchase_id,
                Some(PurchaseState::DisputeLost),
                &reason,
                None,
            )
            .await?;
            "dispute_lost"
        }
        "won" | "lost" => {
            // Out of the lifecycle (e.g. a dispute the API never saw opened): an operator looks.
            jobs::alert(
                &mut **tx,
                "dispute_closed_out_of_lifecycle",
                Some(purchase_id),
                &format!(
                    "dispute {} closed {status} on a {state} purchase",
                    dispute.id
                ),
            )
            .await?;
            "dispute_closed_ignored"
        }
        _ => "dispute_closed_other",
    };
    tracing::warn!(target: "tangible::api::webhook", %purchase_id, dispute = %dispute.id, status, %state, outcome,
        "dispute closed");
    Ok(Ok((Some(purchase_id), outcome.to_owned())))
}

/// `charge.refunded`: a purchase the API did not refund itself (fulfilled or reinstated: a
/// refund made from the Stripe dashboard) has its licence revoked. The API's own refunds
/// (a purchase being refunded, or refunded) are only recorded.
async fn charge_refunded(
    tx: &mut Transaction<'_, Postgres>,
    event: &Event,
) -> ApiResult<Processed> {
    let charge: ChargeObject = match object(event) {
        Ok(charge) => charge,
        Err(u) => return Ok(Err(u)),
    };
    let Some(intent) = charge.payment_intent.as_deref() else {
        return Ok(Ok((None, "charge_without_payment_intent".to_owned())));
    };
    let Some((purchase_id, state, _, _)) = purchase_for_intent(tx, intent, None).await? else {
        return Ok(Ok((None, "unknown_payment_intent".to_owned())));
    };
    if state == PurchaseState::Failed && charge.refunded {
        // A failed purchase (its refund refused, say) refunded from the Stripe dashboard: the
        // money went back, which is what the purchase was waiting for.
        set_after_event(
            tx,
            purchase_id,
            Some(PurchaseState::Refunded),
            &format!("charge {} refunded outside the API", charge.id),
            Some("refunded_outside_api"),
        )
        .await?;
        return Ok(Ok((
            Some(purchase_id),
            "failed_refunded_outside_api".to_owned(),
        )));
    }
    if !matches!(state, PurchaseState::Fulfilled | PurchaseState::Reinstated) {
        return Ok(Ok((Some(purchase_id), format!("refund_of_{state}"))));
    }
    if !charge.refunded {
        // Part of the amount only: the licence stays, an operator decides.
        jobs::alert(
            &mut **tx,
            "partial_refund_outside_api",
            Some(purchase_id),
            &format!("charge {} partly refunded at Stripe", charge.id),
        )
        .await?;
        return Ok(Ok((Some(purchase_id), "partial_refund".to_owned())));
    }
    tracing::warn!(target: "tangible::api::webhook", %purchase_id, charge = %charge.id, %state,
        "refunded outside the API: licence will be revoked");
    set_after_event(
        tx,
        purchase_id,
        None,
        &format!("charge {} refunded outside the API", charge.id),
        Some("refunded_outside_api"),
    )
    .await?;
    jobs::requeue(tx, JobKind::Revoke, purchase_id).await?;
    Ok(Ok((Some(purchase_id), "revocation_queued".to_owned())))
}

/// Writes what an event did to a purchase: its new state (if any, audited with `reason`), and
/// why its licence is to be revoked (if it is).
async fn set_after_event(
    tx: &mut Transaction<'_, Postgres>,
    purchase_id: Uuid,
    to: Option<PurchaseState>,
    reason: &str,
    revoke_reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE api_purchases SET state = COALESCE($2, state), \
             state_reason = CASE WHEN $2 IS NULL THEN state_reason ELSE $3 END, \
             revoke_reason = COALESCE($4, revoke_reason), updated_at = now() \
         WHERE purchase_id = $1",
    )
    .bind(purchase_id)
    .bind(to)
    .bind(reason)
    .bind(revoke_reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
