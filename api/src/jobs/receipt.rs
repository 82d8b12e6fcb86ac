//! The `receipt` job: mails a fulfilled purchase's receipt to the address its buyer gave, once.
//!
//! Queued in the transaction that marks the purchase fulfilled ([`enqueue_if_wanted`]), when
//! the purchase has an address and this instance has a mailer. A receipt is sent at most once
//! per job claim and recorded as sent (`receipt_sent_at`, in its own statement right after the
//! server's acceptance), and a job finding it recorded sends nothing: a retried, re-claimed or
//! duplicated job never mails twice. An unreachable server, a timeout or a 4xx reply is retried
//! with the queue's backoff; a 5xx reply (the server refuses for good) ends the job as `failed`.
//! The one window left is the SMTP protocol's own: a crash after the server accepted the
//! message and before `receipt_sent_at` commits sends it again on the next claim, under the
//! same Message-ID (`<receipt.{purchase_id}@…>`), so a mail client can recognise it.

use std::time::Duration;

use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use super::Job;
use super::steps::Step;
use crate::purchase_state::PurchaseState;
use crate::receipts::{BuyerEmail, Receipt, SendError};
use crate::state::AppState;

/// Queues the receipt job of a purchase just fulfilled in `tx`, if it has an address and none
/// was sent; whether one was queued.
pub(super) async fn enqueue_if_wanted(
    tx: &mut Transaction<'_, Postgres>,
    purchase_id: Uuid,
) -> sqlx::Result<bool> {
    let queued = sqlx::query(
        "INSERT INTO api_jobs (kind, purchase_id) \
         SELECT $2, purchase_id FROM api_purchases \
         WHERE purchase_id = $1 AND receipt_email IS NOT NULL AND receipt_sent_at IS NULL \
         ON CONFLICT (kind, purchase_id) DO NOTHING",
    )
    .bind(purchase_id)
    .bind(super::JobKind::Receipt.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(queued > 0)
}

const fn done(outcome: &'static str, detail: String) -> Step {
    Step::Done {
        outcome,
        tx: None,
        detail: Some(detail),
    }
}

/// The film's title: the indexer's mirror, else the chain's `FilmRegistered` event.
async fn film_title(state: &AppState, film_id: i64) -> Result<String, String> {
    let mirrored: Option<String> = sqlx::query_scalar("SELECT title FROM films WHERE film_id = $1")
        .bind(film_id)
        .fetch_optional(state.db())
        .await
        .map_err(|e| format!("reading the film's title: {e}"))?;
    if let Some(title) = mirrored {
        return Ok(title);
    }
    let id = u64::try_from(film_id).map_err(|_| format!("film id {film_id} is negative"))?;
    match state.chain().film_title(id).await {
        Ok(Some(title)) => Ok(title),
        Ok(None) => Ok(format!("film {id}")),
        Err(e) => Err(format!("reading the film's title from the chain: {e}")),
    }
}

/// One attempt: sends the receipt unless it was sent, or there is no address (erased), or the
/// purchase is no longer fulfilled.
pub(super) async fn send(state: &AppState, job: &Job) -> anyhow::Result<Step> {
    let Some(mailer) = state.mailer() else {
        return Ok(done(
            "skipped",
            "receipts are disabled on this instance (smtp_url is not set)".into(),
        ));
    };
    let r = sqlx::query(
        "SELECT state, film_id, quality, buyer_address, amount_cents, currency, payment_intent_id, licence_id, tx_hash, \
                receipt_email, receipt_sent_at IS NOT NULL AS sent \
         FROM api_purchases WHERE purchase_id = $1",
    )
    .bind(job.purchase_id)
    .fetch_one(state.db())
    .await?;
    if r.try_get::<bool, _>("sent")? {
        return Ok(done("skipped", "receipt already sent".into()));
    }
    let Some(address) = r.try_get::<Option<String>, _>("receipt_email")? else {
        return Ok(done(
            "skipped",
            "no email address on file (erased at the buyer's request)".into(),
        ));
    };
    let purchase_state: PurchaseState = r.try_get("state")?;
    if purchase_state != PurchaseState::Fulfilled {
        return Ok(done(
            "skipped",
            format!("purchase is {purchase_state}, not fulfilled"),
        ));
    }
    let Ok(to) = BuyerEmail::parse(&address) else {
        return Ok(done(
            "failed",
            "the stored address is not a valid email address".into(),
        ));
    };
    let film_id: i64 = r.try_get("film_id")?;
    let title = match film_title(state, film_id).await {
        Ok(t) => t,
        Err(e) => return Ok(Step::Retry(e)),
    };
    let quality: i16 = r.try_get("quality")?;
    let quality = u8::try_from(quality)
        .ok()
        .and_then(|q| tangible_domain::Quality::from_code(q).ok())
        .map_or_else(|| quality.to_string(), |q| q.as_str().to_owned());
    let deployment = state.chain().deployment();
    let receipt = Receipt {
        purchase_id: job.purchase_id,
        to,
        film_title: title,
        film_id: u64::try_from(film_id)?,
        quality,
        amount_cents: u64::try_from(r.try_get::<i64, _>("amount_cents")?)?,
        currency: r.try_get("currency")?,
        licence_id: r
            .try_get::<Option<String>, _>("licence_id")?
            .ok_or_else(|| anyhow::anyhow!("fulfilled purchase without a licence id"))?,
        tx_hash: r.try_get("tx_hash")?,
        payment_intent_id: r.try_get("payment_intent_id")?,
        buyer_address: r.try_get("buyer_address")?,
        chain_id: deployment.chain_id,
        licence_contract: deployment.contracts.licence,
    };
    let masked = receipt.to.masked();
    match mailer.send(&receipt).await {
        Ok(()) => {
            record_sent(state, job.purchase_id).await;
            tracing::info!(target: "tangible::api::receipts", purchase_id = %job.purchase_id,
                to = %masked, licence_id = %receipt.licence_id, "receipt sent");
            metrics::counter!("receipts_sent_total").increment(1);
            Ok(done("sent", format!("to {masked}")))
        }
        Err(SendError::Refused(e)) => {
            tracing::error!(target: "tangible::api::receipts", purchase_id = %job.purchase_id,
                to = %masked, error = %e, "the mail server refused the receipt");
            Ok(done("failed", e))
        }
        Err(e @ SendError::Build(_)) => Ok(done("failed", e.to_string())),
        Err(e @ SendError::Unavailable(_)) => Ok(Step::Retry(e.to_string())),
    }
}

/// Records the receipt as sent, insisting (a few tries over a few seconds): once the server
/// accepted it, a lost record is the only way it could be sent again.
async fn record_sent(state: &AppState, purchase_id: Uuid) {
    for attempt in 1..=5u32 {
        let recorded = sqlx::query(
            "UPDATE api_purchases SET receipt_sent_at = now(), updated_at = now() \
             WHERE purchase_id = $1 AND receipt_sent_at IS NULL",
        )
        .bind(purchase_id)
        .execute(state.db())
        .await;
        match recorded {
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(target: "tangible::api::receipts", %purchase_id, attempt, error = %e,
                    "recording a sent receipt failed");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
        }
    }
    tracing::error!(target: "tangible::api::receipts", %purchase_id,
        "a sent receipt could not be recorded: it may be sent again");
}
