//! Wallet sign-in (EIP-4361): a single-use nonce, then the signed message for a bearer token.
//!
//! The nonce is stored in Postgres and consumed by one conditional `UPDATE`, so it is accepted
//! once only, across restarts and across API instances.

use alloy::primitives::Address;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use tangible_api_types::auth::{LoginRequest, LoginResponse, NonceRequest, NonceResponse};
use tangible_crypto::siwe::{self, Expectations, SiweError, SiweMessage};

use crate::auth::Claims;
use crate::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::extract::{ApiJson, RawBody};
use crate::state::AppState;

/// Statement put in the messages the API prepares.
pub const STATEMENT: &str = "Sign in to Tangible.";

fn parse_address(s: &str) -> ApiResult<Address> {
    s.trim()
        .parse::<Address>()
        .map_err(|_| ApiError::invalid_field(format!("{s:?} is not an address")))
}

/// Issues a single-use sign-in nonce.
#[utoipa::path(post, path = "/v1/auth/nonce", request_body(content = NonceRequest, description = "optional; `{}` is fine"),
    responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody), (status = 200, body = NonceResponse), (status = 422, body = ErrorBody)))]
pub async fn nonce(
    State(state): State<AppState>,
    RawBody(body): RawBody,
) -> ApiResult<axum::Json<NonceResponse>> {
    let req: NonceRequest = if body.iter().all(u8::is_ascii_whitespace) {
        NonceRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                ApiError::bad_request(codes::INVALID_JSON, e.to_string())
            } else {
                ApiError::client(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    codes::INVALID_BODY,
                    e.to_string(),
                )
            }
        })?
    };
    let address = req.address.as_deref().map(parse_address).transpose()?;
    let nonce: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    let now = Utc::now();
    let ttl = Duration::seconds(i64::try_from(state.config().nonce_ttl_secs).unwrap_or(600));
    let expires = now + ttl;
    sqlx::query("INSERT INTO api_login_nonces (nonce, expires_at) VALUES ($1, $2)")
        .bind(&nonce)
        .bind(expires)
        .execute(state.db())
        .await?;
    let config = state.config();
    let chain_id = state.chain().deployment().chain_id;
    let message = address.map(|address| {
        SiweMessage {
            domain: config.siwe_domain.clone(),
            address,
            statement: Some(STATEMENT.to_owned()),
            uri: config.siwe_uri.clone(),
            chain_id,
            nonce: nonce.clone(),
            issued_at: now,
            expiration_time: Some(expires),
            not_before: None,
            request_id: None,
            resources: Vec::new(),
        }
        .to_string()
    });
    Ok(axum::Json(NonceResponse {
        nonce,
        domain: config.siwe_domain.clone(),
        uri: config.siwe_uri.clone(),
        chain_id,
        issued_at: rfc3339(now),
        expiration_time: rfc3339(expires),
        statement: STATEMENT.to_owned(),
        message,
    }))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Verifies a signed sign-in message and returns a bearer token. The nonce is consumed.
#[utoipa::path(post, path = "/v1/auth/login", request_body = LoginRequest,
    responses((status = 429, description = "rate_limited: too many requests from this client, retry after `Retry-After` seconds", body = ErrorBody), (status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<axum::Json<LoginResponse>> {
    let invalid = |e: SiweError| ApiError::unauthorized_code(codes::INVALID_LOGIN, e.to_string());
    let parsed = SiweMessage::parse(&req.message).map_err(invalid)?;
    let signature = hex::decode(req.signature.trim().trim_start_matches("0x"))
        .map_err(|_| ApiError::invalid_field("signature is not hex"))?;
    let config = state.config();
    let now = Utc::now();
    let verified = siwe::verify(
        &req.message,
        &signature,
        &Expectations {
            domain: &config.siwe_domain,
            chain_id: state.chain().deployment().chain_id,
            nonce: &parsed.nonce,
            now,
        },
    )
    .map_err(invalid)?;
    let address = verified.address();
    // Single use: only the first login with this nonce, before its expiry, updates the row.
    let consumed = sqlx::query(
        "UPDATE api_login_nonces SET consumed_at = now(), consumed_by = $2 \
         WHERE nonce = $1 AND consumed_at IS NULL AND expires_at > now()",
    )
    .bind(&parsed.nonce)
    .bind(address.to_string().to_lowercase())
    .execute(state.db())
    .await?
    .rows_affected();
    if consumed != 1 {
        tracing::warn!(target: "tangible::api::auth", %address, "refused sign-in: nonce unknown, expired or already used");
        return Err(ApiError::unauthorized_code(
            codes::NONCE_INVALID,
            "nonce unknown, expired or already used; ask for a new one",
        ));
    }
    let ttl = i64::try_from(config.token_ttl_secs).unwrap_or(86_400);
    let claims = Claims {
        sub: address,
        pk: hex::encode(verified.public_key.to_sec1_bytes()),
        iat: now.timestamp(),
        exp: now.timestamp() + ttl,
    };
    let token = state.tokens().issue(&claims);
    tracing::info!(target: "tangible::api::auth", %address, "signed in");
    Ok(axum::Json(LoginResponse {
        token,
        address: address.to_checksum(None),
        expires_at: rfc3339(now + Duration::seconds(ttl)),
    }))
}
