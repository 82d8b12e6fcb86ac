//! Signed resale orders, relayed by the operator for sellers who hold no ETH (issue 12 item
//! 1): `POST /v1/offers` lists a licence, `PATCH /v1/offers/{id}` reprices an offer,
//! `DELETE /v1/offers/{id}` cancels it. The body carries the seller's EIP-712 signature over
//! the order with its next nonce (`GET /v1/accounts/{address}`, `order_nonce`).
//!
//! Before any gas is spent: the fields are checked, the signer is recovered and must be the
//! seller (a contract wallet's ERC-1271 signature is left to the chain), the order is simulated
//! (a refusal costs neither gas nor budget), and the seller's budget of operator transactions
//! is taken (429 over it: a flood of orders from one wallet costs nothing). The contract then checks everything again (signature, nonce, deadline,
//! ownership, hold, price) and consumes the nonce, so a replayed or forged order changes
//! nothing on chain whatever this code does.

use alloy::primitives::{Address, Bytes, U256};
use axum::extract::State;
use axum::http::StatusCode;
use tangible_api_types::orders::{
    CancelOrderRequest, ListOrderRequest, OrderRelayed, RepriceOrderRequest,
};
use tangible_chain::bindings::TangibleMarket::TangibleMarketErrors as E;
use tangible_chain::orders::{Order, OrderAction};

use crate::chain::ChainError;
use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// Latest deadline a resale order may name, from now.
const MAX_DEADLINE_SECS: u64 = 30 * 24 * 3600;
/// Earliest deadline an order may name, from the chain's clock: an order that would expire
/// between its simulation and its block would revert at the operator's cost.
const MIN_DEADLINE_SECS: u64 = 60;
/// Longest an account's order lock is kept for a transaction sent and not mined (its
/// connection is one of the lock pool's few): past it, the transaction has most likely been
/// dropped by the node.
const HOLD_UNMINED: std::time::Duration = std::time::Duration::from_secs(600);
/// Most gas the operator pays for one relayed order (a relayed listing takes about 82,000, a
/// credit purchase of an offer about 160,000; a contract wallet's ERC-1271 check adds its own).
const MAX_RELAYED_GAS: u64 = 400_000;
/// Smallest resale price, cents (the contract's `MIN_RESALE_PRICE_CENTS`).
const MIN_PRICE_CENTS: u64 = 20;

/// Lists a licence for resale from the seller's signed order.
#[utoipa::path(post, path = "/v1/offers", request_body = ListOrderRequest,
    responses((status = 201, body = OrderRelayed),
        (status = 403, description = "not_owner: the seller does not own the licence", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "licence_on_hold, licence_revoked, conflict (already offered), order_in_flight (another order of this seller is being sent)", body = ErrorBody),
        (status = 422, description = "invalid_field, invalid_signature, order_expired", body = ErrorBody),
        (status = 429, description = "rate_limited: this seller, or everyone, caused too many transactions; retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ListOrderRequest>,
) -> ApiResult<(StatusCode, axum::Json<OrderRelayed>)> {
    let licence = parse_id(&req.licence_id, "licence_id")?;
    check_price(req.price_cents)?;
    let relayed = relay(
        &state,
        (
            &req.seller_address,
            OrderAction::List,
            licence,
            req.price_cents,
        ),
        (req.deadline, &req.signature),
        ("POST", "/v1/offers"),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(relayed)))
}

/// Reprices an offer from the seller's signed order.
#[utoipa::path(patch, path = "/v1/offers/{id}", request_body = RepriceOrderRequest,
    params(("id" = String, Path, description = "offer id (decimal)")),
    responses((status = 200, body = OrderRelayed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "order_in_flight: another order of this seller is being sent", body = ErrorBody),
        (status = 422, description = "invalid_field, invalid_signature, order_expired", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn reprice(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<RepriceOrderRequest>,
) -> ApiResult<axum::Json<OrderRelayed>> {
    let offer = parse_id(&id, "offer id")?;
    check_price(req.price_cents)?;
    relay(
        &state,
        (
            &req.seller_address,
            OrderAction::Reprice,
            offer,
            req.price_cents,
        ),
        (req.deadline, &req.signature),
        ("PATCH", "/v1/offers/{id}"),
    )
    .await
    .map(axum::Json)
}

/// Cancels an offer from the seller's signed order (price 0 in the order).
#[utoipa::path(delete, path = "/v1/offers/{id}", request_body = CancelOrderRequest,
    params(("id" = String, Path, description = "offer id (decimal)")),
    responses((status = 200, body = OrderRelayed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "order_in_flight: another order of this seller is being sent", body = ErrorBody),
        (status = 422, description = "invalid_field, invalid_signature, order_expired", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<CancelOrderRequest>,
) -> ApiResult<axum::Json<OrderRelayed>> {
    let offer = parse_id(&id, "offer id")?;
    relay(
        &state,
        (&req.seller_address, OrderAction::Cancel, offer, 0),
        (req.deadline, &req.signature),
        ("DELETE", "/v1/offers/{id}"),
    )
    .await
    .map(axum::Json)
}

pub(super) fn parse_id(s: &str, what: &str) -> ApiResult<U256> {
    s.trim()
        .parse::<U256>()
        .ok()
        .filter(|v| !v.is_zero())
        .ok_or_else(|| ApiError::invalid_field(format!("{what} {s:?} is not an id")))
}

fn check_price(cents: u64) -> ApiResult<()> {
    if cents < MIN_PRICE_CENTS {
        return Err(ApiError::invalid_field(format!(
            "price_cents {cents}: a resale costs at least {MIN_PRICE_CENTS} cents"
        )));
    }
    Ok(())
}

/// Checks an order, takes the seller's transaction budget and relays it.
async fn relay(
    state: &AppState,
    (seller, action, target, price): (&str, OrderAction, U256, u64),
    (deadline, signature): (u64, &str),
    (method, path): (&str, &'static str),
) -> ApiResult<OrderRelayed> {
    let seller = super::parse_address("seller_address", seller)?;
    let chain = state.chain();
    let mut signed = Signed::check(state, seller, (deadline, MAX_DEADLINE_SECS), signature).await?;
    let order = Order::new(seller, action, target, price, signed.nonce, deadline);
    let signature = Bytes::from(signed.signature.clone());
    signed
        .authorize(
            state,
            order.signer(&chain.order_domain(), &signed.signature),
            &order.relay_call(signature.clone()),
            (method, path),
        )
        .await?;
    let nonce = signed.nonce;
    let (offer, tx) = signed
        .send(state, deadline, move |state| async move {
            state.chain().relay_order(&order, signature).await
        })
        .await
        .map_err(refused)?;
    tracing::info!(target: "tangible::api::orders", %seller, action = action as u8, %target,
        price_cents = price, nonce, %offer, tx_hash = %tx, "signed order relayed");
    metrics::counter!("orders_relayed_total", "action" => path).increment(1);
    Ok(OrderRelayed {
        offer_id: offer.to_string(),
        seller_address: seller.to_string().to_lowercase(),
        nonce,
        tx_hash: tx.to_string(),
    })
}

/// Who signed an order, as far as the API can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signer {
    /// The account's key (the signature recovers to it).
    Key,
    /// The account has code (a contract wallet, or an EOA delegating by EIP-7702): only the
    /// chain can check its signature.
    Contract,
}

/// A signed order's parts checked before any gas is spent: its deadline against the chain's
/// clock, its signature's encoding, and the signer's current nonce (the one it must carry),
/// read again under the account's order lock (`routes::order_lock`) once the signer is known.
pub(super) struct Signed {
    /// Who must have signed.
    pub(super) account: Address,
    /// The account's next order nonce, read on chain.
    pub(super) nonce: u32,
    /// The signature's bytes.
    pub(super) signature: Vec<u8>,
    /// The account's order lock, taken by [`Self::authorize`] and held until the order is
    /// mined or refused.
    lock: Option<super::order_lock::OrderLock>,
}

impl Signed {
    /// Checks `deadline` (at least [`MIN_DEADLINE_SECS`] ahead of the chain's clock, at most
    /// `max_secs` from now) and decodes `signature` of `account`'s order, and reads its nonce.
    pub(super) async fn check(
        state: &AppState,
        account: Address,
        (deadline, max_secs): (u64, u64),
        signature: &str,
    ) -> ApiResult<Self> {
        let chain = state.chain();
        let unavailable = |e: ChainError| ApiError::unavailable("chain node", e);
        // The contract checks the deadline against the chain's clock, which a node may have
        // moved away from the wall clock.
        let chain_now = chain.head_timestamp().await.map_err(unavailable)?;
        let now = u64::try_from(chrono::Utc::now().timestamp())
            .unwrap_or_default()
            .max(chain_now);
        if deadline < chain_now + MIN_DEADLINE_SECS {
            return Err(ApiError::client(
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::ORDER_EXPIRED,
                format!(
                    "the order expires at {deadline} (unix seconds), less than \
                     {MIN_DEADLINE_SECS} s after the chain's clock ({chain_now}); sign a new one"
                ),
            ));
        }
        if deadline > now + max_secs {
            return Err(ApiError::invalid_field(format!(
                "deadline {deadline}: at most {max_secs} s from now"
            )));
        }
        let signature = alloy::hex::decode(signature.trim())
            .map_err(|_| ApiError::invalid_field("signature is not hex"))?;
        if signature.is_empty() || signature.len() > 1024 {
            return Err(ApiError::invalid_field("signature must be 1 to 1024 bytes"));
        }
        let nonce = chain.order_nonce(account).await.map_err(unavailable)?;
        Ok(Self {
            account,
            nonce,
            signature,
            lock: None,
        })
    }

    /// Sends the order's transaction (`send`) in a task of its own that owns the account's
    /// order lock: a request cancelled half-way (the client went away) does not release it, and
    /// when the receipt does not come in time the lock is kept until the transaction is mined,
    /// the order's `deadline` has passed on chain, or [`HOLD_UNMINED`] has elapsed. Meanwhile a
    /// copy of the order answers 409 `order_in_flight`, on any node (some L2 nodes do not show
    /// unmined transactions in their `pending` block).
    pub(super) async fn send<T, F, Fut>(
        mut self,
        state: &AppState,
        deadline: u64,
        send: F,
    ) -> Result<T, ChainError>
    where
        F: FnOnce(AppState) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, ChainError>> + Send,
        T: Send + 'static,
    {
        let lock = self.lock.take();
        let state = state.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        // Whatever hangs (a node that stops answering mid-send), the lock is given back after
        // this; the requester, if still there, then hears 503 (outcome unknown).
        let limit = std::time::Duration::from_secs(state.config().receipt_timeout_secs)
            + HOLD_UNMINED
            + std::time::Duration::from_secs(120);
        let tasks = state.order_tasks().clone();
        tasks.spawn(async move {
            let work = async {
                let result = send(state.clone()).await;
                let unmined = match &result {
                    Err(ChainError::NotMined { hash, .. }) => Some(*hash),
                    _ => None,
                };
                // The requester may be gone: the result is then dropped, the lock still held.
                let _ = tx.send(result);
                if let Some(hash) = unmined {
                    state.chain().wait_mined(hash, deadline, HOLD_UNMINED).await;
                }
            };
            let _ = tokio::time::timeout(limit, work).await;
            drop(lock);
        });
        rx.await
            .unwrap_or_else(|_| Err(ChainError::Rpc("the order's sending task ended".to_owned())))
    }

    /// What every signed order goes through before its transaction is sent: the signer
    /// checked ([`Self::require_signer`]), then `call` simulated — an order the chain would
    /// refuse costs neither gas nor anyone's budget, so a flood of refused orders cannot use up
    /// the operator's hourly budget — and last the account's operator-transaction budget taken
    /// (429 over it).
    pub(super) async fn authorize<C: alloy::sol_types::SolCall>(
        &mut self,
        state: &AppState,
        recovered: Option<Address>,
        call: &C,
        (method, path): (&str, &'static str),
    ) -> ApiResult<()> {
        if self.require_signer(state, recovered).await? == Signer::Contract {
            // Anyone can post for a contract wallet (its ERC-1271 check is on chain): only an
            // order the chain accepts may take its lock.
            state.chain().simulate(call).await.map_err(refused)?;
        }
        // Only the account's own signed order takes its lock (a stranger's post cannot block
        // the account). Under the lock the nonce is read again: a copy of this order that was
        // sent meanwhile has spent it, and this one must not be sent too.
        let lock = super::order_lock::lock(state, self.account).await?;
        let now = state
            .chain()
            .order_nonce(self.account)
            .await
            .map_err(|e| ApiError::unavailable("chain node", e))?;
        if now != self.nonce {
            return Err(ApiError::client(
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::INVALID_SIGNATURE,
                format!(
                    "this order's nonce {} was just used (the account's order_nonce is now \
                     {now}): nothing was sent",
                    self.nonce
                ),
            ));
        }
        self.lock = Some(lock);
        state.chain().simulate(call).await.map_err(refused)?;
        // A contract wallet's signature check runs with the gas the operator pays: bounded.
        let gas = state.chain().estimate(call).await.map_err(refused)?;
        if gas > MAX_RELAYED_GAS {
            return Err(ApiError::client(
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::ORDER_TOO_COSTLY,
                format!(
                    "this order would take {gas} gas, more than the {MAX_RELAYED_GAS} the \
                     operator pays for one: nothing was sent"
                ),
            ));
        }
        state.budgets().operator_tx(self.account, method, path)?;
        Ok(())
    }

    /// Refuses the order unless `recovered` (the signer of the order with [`Self::nonce`]) is
    /// the account, or the account is a contract wallet (whose ERC-1271 signature only the
    /// chain can check).
    async fn require_signer(
        &self,
        state: &AppState,
        recovered: Option<Address>,
    ) -> ApiResult<Signer> {
        let account = self.account;
        if recovered == Some(account) {
            return Ok(Signer::Key);
        }
        if state
            .chain()
            .has_code(account)
            .await
            .map_err(|e| ApiError::unavailable("chain node", e))?
        {
            return Ok(Signer::Contract);
        }
        Err(ApiError::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::INVALID_SIGNATURE,
            format!(
                "the signature is not {account}'s over this order with nonce {} (the account's \
                 order_nonce): nothing was sent",
                self.nonce
            ),
        ))
    }
}

/// What the contract refused, as the client's error.
pub(super) fn refused(e: ChainError) -> ApiError {
    let r = match e {
        ChainError::Reverted(r) => r,
        ChainError::NotMined { hash, .. } => return crate::error::not_mined(hash),
        other => return ApiError::unavailable("chain node", other),
    };
    let message = format!("the market refused the order: {r:?}");
    match *r {
        E::MarketNotLicenceOwner(_) => ApiError::forbidden(codes::NOT_OWNER, message),
        E::ERC721NonexistentToken(_) => ApiError::not_found(message),
        E::MarketOfferNotActive(_) => {
            ApiError::client(StatusCode::NOT_FOUND, codes::OFFER_NOT_ACTIVE, message)
        }
        E::LicenceIsRevoked(_) => ApiError::conflict(codes::LICENCE_REVOKED, message),
        E::MarketLicenceOnHold(h) => ApiError::conflict(
            codes::LICENCE_ON_HOLD,
            format!(
                "the licence was paid by card and is on hold until {} (unix seconds)",
                h.holdUntil
            ),
        ),
        E::MarketOfferExists(_) => ApiError::conflict(codes::CONFLICT, message),
        E::MarketOrderExpired(_) => ApiError::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::ORDER_EXPIRED,
            message,
        ),
        E::MarketInvalidSignature(_) => ApiError::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::INVALID_SIGNATURE,
            message,
        ),
        E::MarketPriceBelowMinimum(_) | E::MarketInvalidOrder(_) | E::MarketZeroAmount(_) => {
            ApiError::invalid_field(message)
        }
        E::MarketPriceBelowFloor(f) => ApiError::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::PRICE_BELOW_FLOOR,
            format!(
                "{} cents is below this edition's resale floor of {} cents, set by its studio",
                f.priceCents, f.floorCents
            ),
        ),
        E::RegistryEditionNotFound(_) | E::RegistryStudioNotFound(_) => {
            ApiError::not_found(message)
        }
        E::MarketEditionInactive(_) => ApiError::conflict(codes::EDITION_NOT_ON_SALE, message),
        E::MarketPriceMismatch(m) => ApiError::conflict(
            codes::PRICE_CHANGED,
            format!(
                "the price is now {} cents, not the {} signed: sign a new order",
                m.actualCents, m.expectedCents
            ),
        ),
        E::MarketInsufficientBalance(b) => ApiError::conflict(
            codes::INSUFFICIENT_CREDIT,
            format!(
                "the account's credit is {} units, {} are needed",
                b.balance, b.needed
            ),
        ),
        E::MarketNotTreasury(_) | E::MarketInvalidRecipient(_) => {
            ApiError::forbidden(codes::INVALID_RECIPIENT, message)
        }
        E::MarketUnauthorizedAccount(_) => ApiError::forbidden(
            codes::FLOAT_ACCOUNT,
            "an operator's float pays card sales and the treasury only: it cannot buy with a \
             credit order",
        ),
        E::EnforcedPause(_) => ApiError::client(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UPSTREAM_UNAVAILABLE,
            "the market is paused: listings, sales and withdrawals are suspended",
        ),
        other => ApiError::Internal(anyhow::anyhow!("the market refused the order: {other:?}")),
    }
}
