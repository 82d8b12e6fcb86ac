//! Money out of the market's balances without ETH (issue 12 item 2):
//! - `POST /v1/accounts/{address}/purchases`: the account's signed credit order buys an
//!   edition or an offer with its credit;
//! - `POST /v1/accounts/{address}/withdrawals`: its signed credit order pays part of its credit
//!   to any address;
//! - `POST /v1/studios/{id}/withdrawals`: a studio's admin has its earnings paid to the
//!   studio's royalty recipient.
//!
//! The operator submits each. As for resale orders (`routes::orders`), before any gas: the
//! fields are checked, the signer recovered, the transaction simulated (a refusal costs neither
//! gas nor budget), then the account's budget of operator transactions taken. The contract checks the
//! signature, nonce, deadline, price and balance again, so nothing here can spend an account's
//! credit without its signature.

use alloy::primitives::{Address, Bytes, U256};
use axum::extract::State;
use axum::http::StatusCode;
use tangible_api_types::accounts::{
    CreditOrderRelayed, CreditPurchaseRequest, CreditWithdrawalRequest, StudioWithdrawal,
};
use tangible_chain::orders::{CreditAction, CreditOrder, edition_target};

use super::orders::{Signed, refused};
use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::{ApiJson, ApiPath, AuthUser, EditionRef};
use crate::state::AppState;

/// Tracing target.
const TARGET: &str = "tangible::api::credit";
/// Latest deadline a credit order may name, from now: a credit order the chain refuses (say,
/// too little credit) stays valid until its deadline, so it is kept short.
const MAX_DEADLINE_SECS: u64 = 2 * 3600;

/// Buys an edition or an offer with the account's credit, from its signed credit order.
#[utoipa::path(post, path = "/v1/accounts/{address}/purchases", request_body = CreditPurchaseRequest,
    params(("address" = String, Path, description = "the account whose credit pays (0x hex)")),
    responses((status = 201, body = CreditOrderRelayed),
        (status = 404, description = "no such edition, or offer_not_active", body = ErrorBody),
        (status = 409, description = "price_changed, insufficient_credit, edition_not_on_sale, content_unavailable (no master uploaded for the edition), order_in_flight (another order of this account is being sent)", body = ErrorBody),
        (status = 422, description = "invalid_field, invalid_signature, order_expired", body = ErrorBody),
        (status = 429, description = "rate_limited: this account, or everyone, caused too many transactions; retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn purchase(
    State(state): State<AppState>,
    ApiPath(address): ApiPath<String>,
    ApiJson(req): ApiJson<CreditPurchaseRequest>,
) -> ApiResult<(StatusCode, axum::Json<CreditOrderRelayed>)> {
    let account = super::parse_address("address", &address)?;
    let (action, target, served) = match (&req.edition_id, &req.offer_id) {
        (Some(edition), None) => {
            let e = EditionRef::parse(edition.trim()).map_err(|_| {
                ApiError::invalid_field(format!(
                    "edition_id {edition:?}: expected <film_id>-<sd|hd|4k>"
                ))
            })?;
            (
                CreditAction::BuyPrimary,
                edition_target(e.film_id, e.quality.code()),
                Served::Edition(e.film_id, e.quality.code()),
            )
        }
        (None, Some(offer)) => {
            let offer_id = super::orders::parse_id(offer, "offer_id")?;
            (CreditAction::BuyOffer, offer_id, Served::OfferOf(offer_id))
        }
        _ => {
            return Err(ApiError::invalid_field(
                "give exactly one of edition_id and offer_id",
            ));
        }
    };
    if req.price_cents == 0 {
        return Err(ApiError::invalid_field(
            "price_cents must be the price, above 0",
        ));
    }
    let recipient = match &req.recipient_address {
        Some(r) => super::parse_address("recipient_address", r)?,
        None => account,
    };
    super::purchases::require_wallet(&state, "recipient_address", recipient).await?;
    let done = relay(
        &state,
        account,
        (action, target, req.price_cents, recipient),
        (req.deadline, &req.signature),
        (served, "/v1/accounts/{address}/purchases"),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(done)))
}

/// What a credit order buys, for `super::content::require_served`.
enum Served {
    /// Edition `(film id, quality)`.
    Edition(u64, u8),
    /// The edition of the licence offer `.0` offers.
    OfferOf(U256),
    /// A withdrawal.
    NotASale,
}

/// Refuses a credit purchase of an edition (or of an offer of a licence to an edition) this
/// deployment serves no file for (`super::content::require_served`). An unknown edition or an
/// inactive offer is left to the chain's refusal.
async fn require_served_target(state: &AppState, served: Served) -> ApiResult<()> {
    let unavailable = |e| ApiError::unavailable("chain node", e);
    let (film_id, quality) = match served {
        Served::NotASale => return Ok(()),
        Served::Edition(film_id, quality) => (film_id, quality),
        Served::OfferOf(offer_id) => {
            let chain = state.chain();
            let Some(offer) = chain.offer(offer_id).await.map_err(unavailable)? else {
                return Ok(());
            };
            let Some(licence) = chain.licence(offer.licence_id).await.map_err(unavailable)? else {
                return Ok(());
            };
            (licence.film_id, licence.quality)
        }
    };
    let Some(edition) = state
        .chain()
        .edition(film_id, quality)
        .await
        .map_err(unavailable)?
    else {
        return Ok(());
    };
    super::content::require_served(state, film_id, quality, edition.master_hash).await
}

/// Pays part of the account's credit to any address, from its signed credit order.
#[utoipa::path(post, path = "/v1/accounts/{address}/withdrawals", request_body = CreditWithdrawalRequest,
    params(("address" = String, Path, description = "the account whose credit pays (0x hex)")),
    responses((status = 201, body = CreditOrderRelayed),
        (status = 403, description = "invalid_recipient: an operator's float pays only the treasury", body = ErrorBody),
        (status = 409, description = "insufficient_credit, order_in_flight", body = ErrorBody),
        (status = 422, description = "invalid_field, invalid_signature, order_expired", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn withdraw(
    State(state): State<AppState>,
    ApiPath(address): ApiPath<String>,
    ApiJson(req): ApiJson<CreditWithdrawalRequest>,
) -> ApiResult<(StatusCode, axum::Json<CreditOrderRelayed>)> {
    let account = super::parse_address("address", &address)?;
    let to = super::parse_address("to_address", &req.to_address)?;
    if to == Address::ZERO {
        return Err(ApiError::invalid_field("to_address: not the zero address"));
    }
    let c = &state.chain().deployment().contracts;
    if [c.registry, c.licence, c.market, c.stablecoin].contains(&to) {
        return Err(ApiError::forbidden(
            codes::INVALID_RECIPIENT,
            format!("to_address {to} is one of Tangible's contracts: the money would be lost"),
        ));
    }
    if req.amount_cents == 0 {
        return Err(ApiError::invalid_field("amount_cents must be above 0"));
    }
    let done = relay(
        &state,
        account,
        (CreditAction::Withdraw, U256::ZERO, req.amount_cents, to),
        (req.deadline, &req.signature),
        (Served::NotASale, "/v1/accounts/{address}/withdrawals"),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(done)))
}

/// Checks a credit order, then that what it buys is served here (after the signature, so an
/// unsigned request costs no more chain reads than before), takes the account's transaction
/// budget and relays it.
async fn relay(
    state: &AppState,
    account: Address,
    (action, target, cents, to): (CreditAction, U256, u64, Address),
    (deadline, signature): (u64, &str),
    (served, path): (Served, &'static str),
) -> ApiResult<CreditOrderRelayed> {
    let chain = state.chain();
    let mut signed =
        Signed::check(state, account, (deadline, MAX_DEADLINE_SECS), signature).await?;
    let order = CreditOrder::new(account, action, (target, cents, to), signed.nonce, deadline);
    let signature = Bytes::from(signed.signature.clone());
    signed
        .authorize(
            state,
            order.signer(&chain.order_domain(), &signed.signature),
            &order.relay_call(signature.clone()),
            ("POST", path),
        )
        .await?;
    require_served_target(state, served).await?;
    let nonce = signed.nonce;
    let done = signed
        .send(state, deadline, move |state| async move {
            state.chain().relay_credit_order(&order, signature).await
        })
        .await
        .map_err(refused)?;
    tracing::info!(target: TARGET, %account, action = action as u8, %target, cents, %to, nonce,
        licence_id = %done.licence_id, amount_units = %done.amount_units, tx_hash = %done.tx_hash,
        "credit order relayed");
    metrics::counter!("credit_orders_relayed_total", "path" => path).increment(1);
    Ok(CreditOrderRelayed {
        account_address: account.to_string().to_lowercase(),
        licence_id: (action != CreditAction::Withdraw).then(|| done.licence_id.to_string()),
        amount_units: done.amount_units.to_string(),
        nonce,
        tx_hash: done.tx_hash.to_string(),
    })
}

/// Pays a studio's cleared earnings to its royalty recipient (the studio's admin, or a platform
/// admin). The operator pays the gas.
#[utoipa::path(post, path = "/v1/studios/{id}/withdrawals", security(("bearer" = [])),
    params(("id" = u32, Path, description = "studio id")),
    responses((status = 201, body = StudioWithdrawal), (status = 401, body = ErrorBody),
        (status = 403, description = "not_studio_admin", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "insufficient_credit: nothing to withdraw (pending earnings clear later: `GET /v1/accounts/{royalty recipient}`)", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn studio_withdraw(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(studio_id): ApiPath<String>,
) -> ApiResult<(StatusCode, axum::Json<StudioWithdrawal>)> {
    let studio_id: u32 = studio_id
        .parse()
        .ok()
        .filter(|&id| id != 0)
        .ok_or_else(|| ApiError::not_found(format!("no studio {studio_id:?}")))?;
    let caller = user.0.sub;
    let studio = super::studios::require_studio_admin(&state, caller, studio_id).await?;
    if studio.credit_cents == 0 {
        return Err(ApiError::conflict(
            crate::error::codes::INSUFFICIENT_CREDIT,
            format!(
                "studio {studio_id} has no cleared earnings to withdraw (card sales clear after \
                 their clearance period: GET /v1/accounts/{} shows what is pending)",
                studio.royalty_recipient.to_string().to_lowercase()
            ),
        ));
    }
    state
        .budgets()
        .operator_tx(caller, "POST", "/v1/studios/{id}/withdrawals")?;
    let (to, amount, tx) = state
        .chain()
        .withdraw_studio(studio_id)
        .await
        .map_err(refused)?;
    tracing::info!(target: TARGET, studio_id, %caller, %to, amount_units = %amount, tx_hash = %tx,
        "studio earnings withdrawn");
    Ok((
        StatusCode::CREATED,
        axum::Json(StudioWithdrawal {
            studio_id,
            to_address: to.to_string().to_lowercase(),
            amount_units: amount.to_string(),
            tx_hash: tx.to_string(),
        }),
    ))
}
