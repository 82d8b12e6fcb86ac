//! What the buyer's checkout page does with a purchase, each call proven by the purchase's
//! client secret (which only the buyer who started it holds): paying with a card tokenised in
//! the browser (`POST /v1/purchases/{id}/payment-method`), erasing the receipt address
//! (`DELETE /v1/purchases/{id}/email`). The purchase itself is created and read in
//! `routes::purchases`.

use axum::extract::State;
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use sqlx::Row;
use tangible_api_types::purchases::{EraseEmailRequest, PaymentMethodRequest, PaymentResult};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::{ApiJson, ApiPath};
use crate::purchase_state::PurchaseState;
use crate::state::AppState;
use crate::stripe::{GatewayError, IntentState};

/// Error code of a card refused by the issuer (HTTP 402).
pub const CARD_DECLINED: &str = "card_declined";

fn stripe_id(s: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| s.starts_with(p))
        && s.len() <= 255
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Stripe's message of a refused request, or its status when it gave none.
fn refusal_message(status: u16, message: String) -> String {
    if message.is_empty() {
        format!("Stripe answered {status}")
    } else {
        message
    }
}

/// Pays a purchase with a card tokenised in the browser: attaches it to the purchase's
/// PaymentIntent and confirms it server-side with the secret key (Stripe's documented
/// server-side confirmation), so a client never needs more than the publishable key. A card
/// that needs 3-D Secure answers `requires_action`; a declined card answers 402
/// `card_declined` (the PaymentIntent cannot be retried: start a new purchase). Each call that
/// reaches Stripe counts against the purchase's `throttle_card_attempts_per_purchase_per_hour`
/// (429 over it).
#[utoipa::path(post, path = "/v1/purchases/{id}/payment-method", request_body = PaymentMethodRequest,
    params(("id" = Uuid, Path, description = "purchase id")), responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody), 
    (status = 200, body = PaymentResult),
    (status = 402, description = "card declined", body = ErrorBody),
    (status = 404, description = "no such purchase, or the client secret does not match", body = ErrorBody),
    (status = 409, description = "the purchase is no longer awaiting payment", body = ErrorBody),
    (status = 422, body = ErrorBody)))]
pub async fn pay_with_card(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<PaymentMethodRequest>,
) -> ApiResult<axum::Json<PaymentResult>> {
    let no_purchase = || ApiError::not_found(format!("no purchase {id:?}"));
    let purchase_id: Uuid = id.parse().map_err(|_| no_purchase())?;
    if !stripe_id(&req.payment_method, &["pm_", "card_"]) {
        return Err(ApiError::invalid_field(
            "payment_method must be a Stripe PaymentMethod (pm_…) or card (card_…) id",
        ));
    }
    let row =
        sqlx::query("SELECT state, payment_intent_id FROM api_purchases WHERE purchase_id = $1")
            .bind(purchase_id)
            .fetch_optional(state.db())
            .await?
            .ok_or_else(no_purchase)?;
    let purchase_state: PurchaseState = row.try_get("state")?;
    let pi: Option<String> = row.try_get("payment_intent_id")?;
    let pi = pi.ok_or_else(no_purchase)?;
    // The client secret is `<pi>_secret_…`; compared in constant time with Stripe's copy.
    if !req
        .client_secret
        .strip_prefix(pi.as_str())
        .is_some_and(|rest| rest.starts_with("_secret_"))
    {
        return Err(no_purchase());
    }
    // Every call that reaches Stripe is one attempt of the purchase's budget: stolen cards
    // are tested by trying card after card on one purchase, and a repeated call (even on a
    // paid intent) is a Stripe read. Purchase ids are unguessable (UUIDv4), so only a client
    // that knows one can spend its attempts.
    state.budgets().card_attempt(purchase_id)?;
    let intent = buyers_intent(&state, &pi, &req.client_secret)
        .await?
        .ok_or_else(no_purchase)?;
    let stripe = state.stripe();
    match intent.status.as_str() {
        "succeeded" | "processing" | "requires_action" | "requires_capture" => {
            // Already paid or waiting for 3-D Secure: a repeated call changes nothing.
            return Ok(axum::Json(PaymentResult {
                status: intent.status,
                message: None,
            }));
        }
        _ if purchase_state != PurchaseState::AwaitingPayment => {
            return Err(ApiError::conflict(
                codes::CONFLICT,
                format!("purchase {purchase_id} is {purchase_state}, not awaiting payment"),
            ));
        }
        _ => {}
    }
    match stripe.attach_payment_method(&pi, &req.payment_method).await {
        Ok(()) => {}
        Err(GatewayError::Refused { status, message }) => {
            return Err(ApiError::invalid_field(format!(
                "the card cannot be used: {}",
                refusal_message(status, message)
            )));
        }
        Err(e) => return Err(ApiError::unavailable("stripe", e)),
    }
    let confirmed = stripe.confirm_payment_intent(&pi).await;
    tracing::info!(target: "tangible::api::purchases", %purchase_id, payment_intent = %pi,
        intent_status = confirmed.as_ref().map_or("", |i| i.status.as_str()),
        "card payment confirmed server-side");
    match confirmed {
        Ok(intent) => Ok(axum::Json(PaymentResult {
            status: intent.status,
            message: intent.last_payment_error,
        })),
        Err(GatewayError::Refused {
            status: 402,
            message,
        }) => Err(ApiError::client(
            StatusCode::PAYMENT_REQUIRED,
            CARD_DECLINED,
            if message.is_empty() {
                "Your card was declined.".to_owned()
            } else {
                message
            },
        )),
        Err(GatewayError::Refused { status, message }) => Err(ApiError::invalid_field(format!(
            "the payment cannot be confirmed: {}",
            refusal_message(status, message)
        ))),
        Err(e) => Err(ApiError::unavailable("stripe", e)),
    }
}

/// The PaymentIntent `pi`, read from Stripe, if `client_secret` is its client secret (what the
/// buyer who started the purchase holds); `None` otherwise. The secret is `<pi>_secret_…` and is
/// compared in constant time with Stripe's copy.
async fn buyers_intent(
    state: &AppState,
    pi: &str,
    client_secret: &str,
) -> ApiResult<Option<IntentState>> {
    if !client_secret
        .strip_prefix(pi)
        .is_some_and(|rest| rest.starts_with("_secret_"))
    {
        return Ok(None);
    }
    let intent = state
        .stripe()
        .payment_intent(pi)
        .await
        .map_err(|e| ApiError::unavailable("stripe", e))?;
    let known = intent
        .client_secret
        .as_ref()
        .map_or("", |s| s.expose_secret());
    let matches = bool::from(subtle::ConstantTimeEq::ct_eq(
        known.as_bytes(),
        client_secret.as_bytes(),
    ));
    Ok(matches.then_some(intent))
}

/// Erases the receipt email address of a purchase, at the buyer's request (the buyer proves
/// who they are with the purchase's client secret, as for paying). The address is removed from
/// the purchase and no receipt is sent afterwards; when it was erased is recorded. Erasing a
/// purchase that has no address answers 204 too. Stripe keeps the copy it was given for its
/// own payment receipt (see the README).
#[utoipa::path(delete, path = "/v1/purchases/{id}/email", request_body = EraseEmailRequest,
    params(("id" = Uuid, Path, description = "purchase id")), responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody),
    (status = 204, description = "the address is erased (or there was none)"),
    (status = 404, description = "no such purchase, or the client secret does not match", body = ErrorBody),
    (status = 422, body = ErrorBody),
    (status = 503, description = "Stripe is unavailable to check the client secret", body = ErrorBody)))]
pub async fn erase_email(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<EraseEmailRequest>,
) -> ApiResult<StatusCode> {
    let no_purchase = || ApiError::not_found(format!("no purchase {id:?}"));
    let purchase_id: Uuid = id.parse().map_err(|_| no_purchase())?;
    let pi: Option<String> =
        sqlx::query_scalar("SELECT payment_intent_id FROM api_purchases WHERE purchase_id = $1")
            .bind(purchase_id)
            .fetch_optional(state.db())
            .await?
            .ok_or_else(no_purchase)?;
    let pi = pi.ok_or_else(no_purchase)?;
    buyers_intent(&state, &pi, &req.client_secret)
        .await?
        .ok_or_else(no_purchase)?;
    let erased = sqlx::query(
        "UPDATE api_purchases SET receipt_email = NULL, receipt_email_erased_at = now(), updated_at = now() \
         WHERE purchase_id = $1 AND receipt_email IS NOT NULL",
    )
    .bind(purchase_id)
    .execute(state.db())
    .await?
    .rows_affected()
        > 0;
    tracing::info!(target: "tangible::api::purchases", %purchase_id, erased, "receipt email erasure requested by the buyer");
    metrics::counter!("receipt_emails_erased_total").increment(u64::from(erased));
    Ok(StatusCode::NO_CONTENT)
}
