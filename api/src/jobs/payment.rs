//! What a succeeded payment does to its purchase: amount and currency checked, then `paid` and a
//! settlement job, or `failed` (`amount_mismatch`) and a refund job — in the caller's
//! transaction, on the purchase row locked for update. The reconciliation with Stripe
//! ([`super::reconcile`]) records a payment it finds through here, so a payment found by
//! reading Stripe takes exactly the path of one announced by its `payment_intent.succeeded`
//! webhook (`routes::webhooks`), and whichever comes second finds the purchase no longer
//! awaiting its payment and changes nothing: one settlement job per purchase
//! (`api_jobs`' unique key), and the settle step reads the chain before it sends.

use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use super::{JobKind, enqueue};
use crate::purchase_state::PurchaseState;
use crate::stripe::PaymentIntentObject;

/// The purchase of a PaymentIntent (by the intent's id, or by the purchase id in its metadata
/// when the purchase has not recorded an intent yet), locked for update: its id, state, amount
/// and currency.
pub async fn purchase_for_intent(
    tx: &mut Transaction<'_, Postgres>,
    intent_id: &str,
    metadata_purchase: Option<&String>,
) -> sqlx::Result<Option<(Uuid, PurchaseState, i64, String)>> {
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
}

/// Records that `pi` succeeded: its purchase and the outcome (`paid`, `amount_mismatch`,
/// `already_<state>`, or `unknown_payment_intent` without a purchase).
///
/// Only a purchase that may move to `paid` changes ([`PurchaseState::can_move_to`]): one
/// awaiting its payment, or expired (a payment that raced the cancellation of its abandoned
/// PaymentIntent is settled — or refunded by the settle job when settling is no longer
/// possible — never kept without a licence).
pub async fn payment_succeeded(
    tx: &mut Transaction<'_, Postgres>,
    pi: &PaymentIntentObject,
) -> sqlx::Result<(Option<Uuid>, String)> {
    let Some((purchase_id, state, amount, currency)) = purchase_for_intent(
        tx,
        &pi.id,
        pi.metadata.get(crate::stripe::PURCHASE_METADATA_KEY),
    )
    .await?
    else {
        tracing::warn!(target: "tangible::api::payments", payment_intent = %pi.id, "payment for an unknown purchase");
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
        tracing::error!(target: "tangible::api::payments", %purchase_id, payment_intent = %pi.id, %message, "amount mismatch");
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
        enqueue(tx, JobKind::Refund, purchase_id).await?;
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
    enqueue(tx, JobKind::Settle, purchase_id).await?;
    Ok((Some(purchase_id), "paid".to_owned()))
}
