//! Card purchases: a primary edition or a resale offer, paid with a Stripe PaymentIntent whose
//! amount is the on-chain price (never the client's), settled on chain by the worker. The buyer
//! may give an email address for a receipt (`receipts`), which they can have erased
//! (`routes::checkout`, with paying by card from the checkout page).

use alloy::primitives::{Address, U256};
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use sqlx::Row;
use tangible_api_types::purchases::{
    AttemptView, PrimaryPurchaseRequest, PurchaseCreated, PurchaseView, ResalePurchaseRequest,
    TransitionView,
};
use tangible_domain::Quality;
use uuid::Uuid;

use crate::chain::{card_licence_id, payment_ref};
use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::{ApiJson, ApiPath};
use crate::jobs::reconcile;
use crate::purchase_state::PurchaseState;
use crate::receipts::BuyerEmail;
use crate::state::AppState;

/// Parses a buyer address (non-zero).
pub fn parse_buyer(s: &str) -> ApiResult<Address> {
    super::parse_address("buyer_address", s)
}

/// Parses the optional receipt address of a purchase request; blank counts as none. The error
/// never repeats the address.
pub fn parse_receipt_email(s: Option<&str>) -> ApiResult<Option<BuyerEmail>> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => BuyerEmail::parse(s)
            .map(Some)
            .map_err(|e| ApiError::invalid_field(format!("receipt_email {e}"))),
    }
}

/// Refuses a licence's recipient that is a contract (see `ChainClient::can_hold_licences`).
pub(crate) async fn require_wallet(
    state: &AppState,
    field: &str,
    account: Address,
) -> ApiResult<()> {
    let ok = state
        .chain()
        .can_hold_licences(account)
        .await
        .map_err(chain_unavailable)?;
    if ok {
        return Ok(());
    }
    Err(ApiError::invalid_field(format!(
        "{field} {account} is a contract: licences go to wallets that sign in and receive the film's key (an externally owned account, or an EIP-7702 one)"
    )))
}

fn chain_unavailable(e: crate::chain::ChainError) -> ApiError {
    ApiError::unavailable("chain node", e)
}

struct NewPurchase {
    kind: &'static str,
    film_id: u64,
    quality: u8,
    offer_id: Option<U256>,
    buyer: Address,
    amount: u64,
    receipt_email: Option<BuyerEmail>,
}

async fn create(
    state: &AppState,
    p: NewPurchase,
    path: &'static str,
) -> ApiResult<(StatusCode, axum::Json<PurchaseCreated>)> {
    // Nobody is charged for a payment the market would refuse to settle today (its daily limit on
    // card settlements). Purchases created and not yet settled are not counted: one may still
    // wait for tomorrow (retried) and be refunded past `settlement_deadline_secs`.
    let (limit, settled_today) = state
        .chain()
        .card_settlement_limit()
        .await
        .map_err(chain_unavailable)?;
    if p.amount > limit.saturating_sub(settled_today) {
        let why = if p.amount > limit {
            format!("it is over the market's daily limit on card payments ({limit} cents)")
        } else {
            format!(
                "today's card payments ({settled_today} of {limit} cents) leave no room for it: \
                 try again after 00:00 UTC"
            )
        };
        return Err(ApiError::conflict(
            codes::CARD_LIMIT_REACHED,
            format!(
                "a card payment of {} cents cannot be taken now: {why}, or pay in stablecoin",
                p.amount
            ),
        ));
    }
    // Only a purchase that will create a PaymentIntent spends the global budget (a refused
    // request does not), so junk requests cannot lock buyers out.
    state.budgets().payment_intent(path)?;
    let purchase_id = Uuid::new_v4();
    let currency = state.config().currency.clone();
    let amount = i64::try_from(p.amount).map_err(|_| anyhow::anyhow!("price overflows"))?;
    let film_id =
        i64::try_from(p.film_id).map_err(|_| ApiError::invalid_field("film_id too large"))?;
    let buyer = p.buyer.to_string().to_lowercase();
    // The caps and the insert in one transaction under the buyer's lock: two purchases
    // started at once cannot both pass the limit.
    let mut tx = state.db().begin().await?;
    crate::card_limits::check(state, &mut tx, &buyer, amount).await?;
    sqlx::query(
        "INSERT INTO api_purchases (purchase_id, kind, film_id, quality, offer_id, buyer_address, amount_cents, currency, \
                receipt_email) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(purchase_id)
    .bind(p.kind)
    .bind(film_id)
    .bind(i16::from(p.quality))
    .bind(p.offer_id.map(|o| o.to_string()))
    .bind(&buyer)
    .bind(amount)
    .bind(&currency)
    .bind(p.receipt_email.as_ref().map(BuyerEmail::as_str))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let key = format!("purchase-{purchase_id}");
    let intent = match state
        .stripe()
        .create_payment_intent(
            p.amount,
            &currency,
            &purchase_id.to_string(),
            p.receipt_email.as_ref().map(BuyerEmail::as_str),
            &key,
        )
        .await
    {
        Ok(i) => i,
        Err(e) => {
            sqlx::query(
                "UPDATE api_purchases SET state = $3, failure_code = 'stripe_error', failure_message = $2, \
                 updated_at = now() WHERE purchase_id = $1",
            )
            .bind(purchase_id)
            .bind(e.to_string())
            // Just created (awaiting_payment, the column's default).
            .bind(PurchaseState::Failed)
            .execute(state.db())
            .await?;
            return Err(ApiError::unavailable("stripe", e));
        }
    };
    let pref = payment_ref(&intent.id);
    sqlx::query(
        "UPDATE api_purchases SET payment_intent_id = $2, payment_ref = $3, licence_id = $4, updated_at = now() \
         WHERE purchase_id = $1",
    )
    .bind(purchase_id)
    .bind(&intent.id)
    .bind(pref.to_string())
    .bind(card_licence_id(pref).to_string())
    .execute(state.db())
    .await?;
    tracing::info!(target: "tangible::api::purchases", %purchase_id, kind = p.kind, film_id = p.film_id,
        quality = p.quality, amount_cents = p.amount, payment_intent = %intent.id,
        receipt_email = p.receipt_email.as_ref().map(BuyerEmail::masked), "purchase created");
    metrics::counter!("purchases_created_total", "kind" => p.kind).increment(1);
    Ok((
        StatusCode::CREATED,
        axum::Json(PurchaseCreated {
            purchase_id,
            payment_intent_id: intent.id,
            client_secret: intent.client_secret.expose_secret().to_owned(),
            amount: p.amount,
            currency,
        }),
    ))
}

/// Starts a card purchase of an edition at its on-chain price. Answers 429 over the client's
/// limit or the instance's PaymentIntents-per-minute budget.
#[utoipa::path(post, path = "/v1/purchases", request_body = PrimaryPurchaseRequest, responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody), 
    (status = 201, body = PurchaseCreated),
    (status = 404, description = "edition not registered", body = ErrorBody),
    (status = 409, description = "edition_not_on_sale, or content_unavailable (no master uploaded for the edition registered on chain)", body = ErrorBody),
    (status = 422, body = ErrorBody)))]
pub async fn create_primary(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PrimaryPurchaseRequest>,
) -> ApiResult<(StatusCode, axum::Json<PurchaseCreated>)> {
    let quality: Quality = req
        .quality
        .parse()
        .map_err(|e: tangible_domain::ParseQualityError| ApiError::invalid_field(e.to_string()))?;
    let buyer = parse_buyer(&req.buyer_address)?;
    let receipt_email = parse_receipt_email(req.receipt_email.as_deref())?;
    require_wallet(&state, "buyer_address", buyer).await?;
    let edition = state
        .chain()
        .edition(req.film_id, quality.code())
        .await
        .map_err(chain_unavailable)?
        .ok_or_else(|| {
            ApiError::not_found(format!("film {} has no {quality} edition", req.film_id))
        })?;
    if !edition.active {
        return Err(ApiError::conflict(
            codes::EDITION_NOT_ON_SALE,
            format!(
                "the {quality} edition of film {} is withdrawn from sale",
                req.film_id
            ),
        ));
    }
    super::content::require_served(&state, req.film_id, quality.code(), edition.master_hash)
        .await?;
    create(
        &state,
        NewPurchase {
            kind: "primary",
            film_id: req.film_id,
            quality: quality.code(),
            offer_id: None,
            buyer,
            amount: edition.price_cents,
            receipt_email,
        },
        "/v1/purchases",
    )
    .await
}

/// Starts a card purchase of a resale offer at its on-chain price.
#[utoipa::path(post, path = "/v1/offers/{id}/purchases", request_body = ResalePurchaseRequest,
    params(("id" = String, Path, description = "offer id (decimal)")), responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody), 
    (status = 201, body = PurchaseCreated),
    (status = 404, body = ErrorBody),
    (status = 409, description = "offer not active, priced below its edition's resale floor, or content_unavailable (no master uploaded for its edition)", body = ErrorBody),
    (status = 422, body = ErrorBody)))]
pub async fn create_resale(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<ResalePurchaseRequest>,
) -> ApiResult<(StatusCode, axum::Json<PurchaseCreated>)> {
    let offer_id: U256 = id
        .parse()
        .ok()
        .filter(|o: &U256| !o.is_zero())
        .ok_or_else(|| ApiError::not_found(format!("no offer {id:?}")))?;
    let buyer = parse_buyer(&req.buyer_address)?;
    let receipt_email = parse_receipt_email(req.receipt_email.as_deref())?;
    require_wallet(&state, "buyer_address", buyer).await?;
    let offer = state
        .chain()
        .offer(offer_id)
        .await
        .map_err(chain_unavailable)?
        .ok_or_else(|| ApiError::not_found(format!("no offer {offer_id}")))?;
    if !offer.active {
        return Err(ApiError::conflict(
            codes::OFFER_NOT_ACTIVE,
            format!("offer {offer_id} is no longer active"),
        ));
    }
    if offer.seller == buyer {
        return Err(ApiError::invalid_field(
            "the seller cannot buy their own offer",
        ));
    }
    let licence = state
        .chain()
        .licence(offer.licence_id)
        .await
        .map_err(chain_unavailable)?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "offer {offer_id} names licence {} that does not exist",
                offer.licence_id
            )
        })?;
    let edition = state
        .chain()
        .edition(licence.film_id, licence.quality)
        .await
        .map_err(chain_unavailable)?
        .ok_or_else(|| {
            ApiError::conflict(
                codes::EDITION_NOT_ON_SALE,
                format!(
                    "offer {offer_id}'s licence is of film {} quality {}, which has no edition on chain",
                    licence.film_id, licence.quality
                ),
            )
        })?;
    // The studio may have raised the floor since the offer was listed: the chain would refuse
    // the settlement, so nobody is charged for it.
    let floor = edition.resale_floor_cents;
    if offer.price_cents < floor {
        return Err(ApiError::conflict(
            codes::PRICE_BELOW_FLOOR,
            format!(
                "offer {offer_id} asks {} cents, below the edition's resale floor of {floor} cents: its seller must raise the price",
                offer.price_cents
            ),
        ));
    }
    super::content::require_served(
        &state,
        licence.film_id,
        licence.quality,
        edition.master_hash,
    )
    .await?;
    create(
        &state,
        NewPurchase {
            kind: "resale",
            film_id: licence.film_id,
            quality: licence.quality,
            offer_id: Some(offer_id),
            buyer,
            amount: offer.price_cents,
            receipt_email,
        },
        "/v1/offers/{id}/purchases",
    )
    .await
}

/// A purchase's state, licence id and transaction once fulfilled, and its attempts. A purchase
/// still awaiting its payment (or paid) is first re-read from Stripe, at most once per
/// `reconcile_on_read_secs` (see `jobs::reconcile`).
#[utoipa::path(get, path = "/v1/purchases/{id}", params(("id" = Uuid, Path, description = "purchase id")),
    responses((status = 200, body = PurchaseView), (status = 404, body = ErrorBody),
        (status = 429, description = "rate_limited: this client polls too often, retry after `Retry-After` seconds", body = ErrorBody)))]
pub async fn get_purchase(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<PurchaseView>> {
    let id: Uuid = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no purchase {id:?}")))?;
    // An open purchase is re-read from Stripe, at most once per `reconcile_on_read_secs`, so a
    // lost webhook does not leave a polling client waiting for the sweeper.
    reconcile::on_read(&state, id).await;
    let row = sqlx::query(
        "SELECT kind, state, film_id, quality, offer_id, buyer_address, amount_cents, currency, payment_intent_id, \
                licence_id, tx_hash, failure_code, failure_message, refund_id, revoked_tx_hash, reinstated_licence_id, \
                receipt_email IS NOT NULL AS receipt_email_on_file, receipt_sent_at \
         FROM api_purchases WHERE purchase_id = $1",
    )
    .bind(id)
    .fetch_optional(state.db())
    .await?
    .ok_or_else(|| ApiError::not_found(format!("no purchase {id}")))?;
    let attempts = sqlx::query(
        "SELECT kind, attempt, outcome, tx_hash, detail, created_at FROM api_settlement_attempts \
         WHERE purchase_id = $1 ORDER BY attempt_id",
    )
    .bind(id)
    .fetch_all(state.db())
    .await?
    .into_iter()
    .map(|r| {
        Ok(AttemptView {
            kind: r.try_get("kind")?,
            attempt: r.try_get("attempt")?,
            outcome: r.try_get("outcome")?,
            tx_hash: r.try_get("tx_hash")?,
            detail: r.try_get("detail")?,
            at: r
                .try_get::<chrono::DateTime<chrono::Utc>, _>("created_at")?
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let transitions = sqlx::query(
        "SELECT from_state, to_state, reason, at FROM api_purchase_transitions \
         WHERE purchase_id = $1 ORDER BY transition_id",
    )
    .bind(id)
    .fetch_all(state.db())
    .await?
    .into_iter()
    .map(|r| {
        Ok(TransitionView {
            from: r.try_get("from_state")?,
            to: r.try_get("to_state")?,
            reason: r.try_get("reason")?,
            at: r
                .try_get::<chrono::DateTime<chrono::Utc>, _>("at")?
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let purchase_state: PurchaseState = row.try_get("state")?;
    // A licence was minted: fulfilled, or fulfilled then disputed, revoked or reinstated.
    let fulfilled = matches!(
        purchase_state,
        PurchaseState::Fulfilled
            | PurchaseState::Disputed
            | PurchaseState::Revoked
            | PurchaseState::Reinstated
            | PurchaseState::DisputeLost
    );
    let quality: i16 = row.try_get("quality")?;
    let quality = Quality::from_code(u8::try_from(quality).unwrap_or(u8::MAX))
        .map(|q| q.as_str().to_owned())
        .unwrap_or_else(|_| quality.to_string());
    Ok(axum::Json(PurchaseView {
        purchase_id: id,
        kind: row.try_get("kind")?,
        film_id: u64::try_from(row.try_get::<i64, _>("film_id")?).unwrap_or_default(),
        quality,
        offer_id: row.try_get("offer_id")?,
        buyer_address: row.try_get("buyer_address")?,
        amount: u64::try_from(row.try_get::<i64, _>("amount_cents")?).unwrap_or_default(),
        currency: row.try_get("currency")?,
        payment_intent_id: row.try_get("payment_intent_id")?,
        licence_id: if fulfilled {
            row.try_get("licence_id")?
        } else {
            None
        },
        tx_hash: row.try_get("tx_hash")?,
        failure_code: row.try_get("failure_code")?,
        failure_message: row.try_get("failure_message")?,
        refund_id: row.try_get("refund_id")?,
        revoked_tx_hash: row.try_get("revoked_tx_hash")?,
        receipt_email_on_file: row.try_get("receipt_email_on_file")?,
        receipt_sent_at: row
            .try_get::<Option<chrono::DateTime<chrono::Utc>>, _>("receipt_sent_at")?
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        state: purchase_state.as_str().to_owned(),
        reinstated_licence_id: row.try_get("reinstated_licence_id")?,
        attempts,
        transitions,
    }))
}
