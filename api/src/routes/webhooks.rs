//! The Stripe webhook: signature on the raw body, the event stored once (inbox), then
//! `payment_intent.succeeded` → amount/currency check → paid + settlement job;
//! `payment_intent.payment_failed` → recorded (the buyer may retry another card);
//! `charge.dispute.created` → revocation job.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use sqlx::{Postgres, Row, Transaction};
use tangible_api_types::webhooks::WebhookAck;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::RawBody;
use crate::jobs::{self, JobKind};
use crate::purchase_state::PurchaseState;
use crate::state::AppState;
use crate::stripe::{
    DisputeObject, Event, PURCHASE_METADATA_KEY, PaymentIntentObject, verify_signature,
};

/// Receives Stripe events (signed with the endpoint secret).
#[utoipa::path(post, path = "/v1/webhooks/stripe", request_body(content = String, description = "Stripe event JSON (raw, signed)"),
    responses((status = 200, body = WebhookAck), (status = 400, description = "bad or stale signature, malformed event", body = ErrorBody)))]
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
    let event: Event = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(codes::INVALID_JSON, format!("not a Stripe event: {e}"))
    })?;
    let payload: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| anyhow::anyhow!(e))?;

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
    let (purchase_id, outcome) = match event.kind.as_str() {
        "payment_intent.succeeded" => payment_succeeded(&mut tx, &event).await?,
        "payment_intent.payment_failed" => payment_failed(&mut tx, &event).await?,
        "charge.dispute.created" => dispute_created(&mut tx, &event).await?,
        _ => (None, "ignored".to_owned()),
    };
    sqlx::query("UPDATE api_stripe_events SET outcome = $2, purchase_id = $3 WHERE event_id = $1")
        .bind(&event.id)
        .bind(&outcome)
        .bind(purchase_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if purchase_id.is_some() {
        // A job may have been queued: wake a local worker now instead of at its next poll.
        state.wake_workers();
    }
    tracing::info!(target: "tangible::api::webhook", event = %event.id, kind = %event.kind,
        purchase_id = ?purchase_id, %outcome, "event processed");
    metrics::counter!("stripe_webhooks_total", "outcome" => outcome.clone()).increment(1);
    Ok(ack(false, &outcome))
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

/// The purchase of a PaymentIntent, locked for update.
async fn purchase_for_intent(
    tx: &mut Transaction<'_, Postgres>,
    intent_id: &str,
    metadata_purchase: Option<&String>,
) -> ApiResult<Option<(Uuid, PurchaseState, i64, String)>> {
    let by_metadata = metadata_purchase.and_then(|s| s.parse::<Uuid>().ok());
    let row = sqlx::query(
        "SELECT purchase_id, state, amount_cents, currency FROM api_purchases \
         WHERE payment_intent_id = $1 OR (purchase_id = $2 AND (payment_intent_id IS NULL OR payment_intent_id = $1)) \
         LIMIT 1 FOR UPDATE",
    )
    .bind(intent_id)
    .bind(by_metadata)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok((
            r.try_get("purchase_id")?,
            r.try_get("state")?,
            r.try_get("amount_cents")?,
            r.try_get("currency")?,
        ))
    })
    .transpose()
    .map_err(|e: sqlx::Error| e.into())
}

fn object<T: serde::de::DeserializeOwned>(event: &Event) -> ApiResult<T> {
    serde_json::from_value(event.data.object.clone()).map_err(|e| {
        ApiError::bad_request(
            codes::INVALID_BODY,
            format!("event {} object: {e}", event.kind),
        )
    })
}

async fn payment_succeeded(
    tx: &mut Transaction<'_, Postgres>,
    event: &Event,
) -> ApiResult<(Option<Uuid>, String)> {
    let pi: PaymentIntentObject = object(event)?;
    let Some((purchase_id, state, amount, currency)) =
        purchase_for_intent(tx, &pi.id, pi.metadata.get(PURCHASE_METADATA_KEY)).await?
    else {
        tracing::warn!(target: "tangible::api::webhook", payment_intent = %pi.id, "payment for an unknown purchase");
        return Ok((None, "unknown_payment_intent".to_owned()));
    };
    // Only a purchase awaiting its payment can become paid; any other has seen this payment.
    if !state.can_move_to(PurchaseState::Paid) {
        return Ok((Some(purchase_id), format!("already_{state}")));
    }
    let received = pi.amount_received.unwrap_or(pi.amount);
    if pi.amount != amount || received != amount || !pi.currency.eq_ignore_ascii_case(&currency) {
        let message = format!(
            "paid {received} {} (intent amount {}), expected {amount} {currency}",
            pi.currency, pi.amount
        );
        tracing::error!(target: "tangible::api::webhook", %purchase_id, payment_intent = %pi.id, %message, "amount mismatch");
        sqlx::query(
            "UPDATE api_purchases SET state = $4, failure_code = 'amount_mismatch', failure_message = $2, \
             payment_intent_id = COALESCE(payment_intent_id, $3), updated_at = now() WHERE purchase_id = $1",
        )
        .bind(purchase_id)
        .bind(&message)
        .bind(&pi.id)
        .bind(PurchaseState::Failed)
        .execute(&mut **tx)
        .await?;
        // The money was taken but cannot buy this licence: give it back.
        jobs::enqueue(tx, JobKind::Refund, purchase_id).await?;
        return Ok((Some(purchase_id), "amount_mismatch".to_owned()));
    }
    sqlx::query(
        "UPDATE api_purchases SET state = $3, payment_intent_id = COALESCE(payment_intent_id, $2), updated_at = now() \
         WHERE purchase_id = $1",
    )
    .bind(purchase_id)
    .bind(&pi.id)
    .bind(PurchaseState::Paid)
    .execute(&mut **tx)
    .await?;
    jobs::enqueue(tx, JobKind::Settle, purchase_id).await?;
    Ok((Some(purchase_id), "paid".to_owned()))
}

async fn payment_failed(
    tx: &mut Transaction<'_, Postgres>,
    event: &Event,
) -> ApiResult<(Option<Uuid>, String)> {
    let pi: PaymentIntentObject = object(event)?;
    let found = purchase_for_intent(tx, &pi.id, pi.metadata.get(PURCHASE_METADATA_KEY)).await?;
    let Some((purchase_id, state, _, _)) = found else {
        return Ok((None, "unknown_payment_intent".to_owned()));
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
    Ok((Some(purchase_id), "payment_failed".to_owned()))
}

async fn dispute_created(
    tx: &mut Transaction<'_, Postgres>,
    event: &Event,
) -> ApiResult<(Option<Uuid>, String)> {
    let dispute: DisputeObject = object(event)?;
    let Some(intent) = dispute.payment_intent.as_deref() else {
        return Ok((None, "dispute_without_payment_intent".to_owned()));
    };
    let Some((purchase_id, state, _, _)) = purchase_for_intent(tx, intent, None).await? else {
        return Ok((None, "unknown_payment_intent".to_owned()));
    };
    tracing::warn!(target: "tangible::api::webhook", %purchase_id, dispute = %dispute.id,
        reason = ?dispute.reason, %state, "payment disputed: licence will be revoked");
    jobs::enqueue(tx, JobKind::Revoke, purchase_id).await?;
    Ok((Some(purchase_id), "revocation_queued".to_owned()))
}
