//! The API's one error type and its JSON body `{"error":{"code","message"}}`.
//!
//! Codes are stable strings that clients may match on (see [`codes`]). Internal causes are
//! logged with their chain and never sent to the client. Every error response of the API's
//! router has this body: the handlers' and extractors' [`ApiError`]s, and whatever else answers
//! an error without it (a rejection of an axum extractor, the content files' router) through
//! [`json_error_bodies`].

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use tangible_api_types::error::{ErrorBody, ErrorDetail, codes};

/// Every error a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The client's fault (4xx), with a stable code.
    #[error("{message}")]
    Client {
        /// HTTP status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// Explanation for the client.
        message: String,
    },
    /// Refused under a rate limit or budget (429): answered with `Retry-After` (whole seconds)
    /// and the code `rate_limited` (see [`crate::throttle`]).
    #[error("{message}")]
    RateLimited {
        /// Seconds after which the request may succeed.
        retry_after_secs: u64,
        /// Explanation for the client.
        message: String,
    },
    /// A dependency is unreachable (503).
    #[error("{what} unavailable: {source:#}")]
    Unavailable {
        /// The dependency.
        what: &'static str,
        /// The cause (logged, not returned).
        source: anyhow::Error,
    },
    /// Anything else (500); the cause is logged, not returned.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Result alias of the handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A client error with a status, code and message.
    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Client {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422 `invalid_field`.
    pub fn invalid_field(message: impl Into<String>) -> Self {
        Self::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::INVALID_FIELD,
            message,
        )
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::client(StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED, message)
    }

    /// 401 with `code`.
    pub fn unauthorized_code(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::client(StatusCode::NOT_FOUND, codes::NOT_FOUND, message)
    }

    /// 403 with `code`.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::FORBIDDEN, code, message)
    }

    /// 409 with `code`.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, code, message)
    }

    /// 503 for a dependency.
    pub fn unavailable(what: &'static str, source: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable {
            what,
            source: source.into(),
        }
    }

    /// The HTTP status.
    pub const fn status(&self) -> StatusCode {
        match self {
            Self::Client { status, .. } => *status,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Client { code, .. } => code,
            Self::RateLimited { .. } => codes::RATE_LIMITED,
            Self::Unavailable { .. } => codes::UPSTREAM_UNAVAILABLE,
            Self::Internal(_) => codes::INTERNAL,
        }
    }

    /// The error of an extractor's rejection (the extractors of `extract`): `payload_too_large`,
    /// `unsupported_media_type`, `invalid_body` or `invalid_json`, never a 5xx.
    pub(crate) fn from_rejection(status: StatusCode, text: String) -> Self {
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => codes::PAYLOAD_TOO_LARGE,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => codes::UNSUPPORTED_MEDIA_TYPE,
            StatusCode::UNPROCESSABLE_ENTITY => codes::INVALID_BODY,
            _ => codes::INVALID_JSON,
        };
        // A rejection is always the client's fault; never answer one with a 5xx.
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        Self::client(status, code, text)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::unavailable("database", e)
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            Self::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let message = match &self {
            Self::Client { message, .. } | Self::RateLimited { message, .. } => message.clone(),
            Self::Unavailable { what, source } => {
                tracing::warn!(target: "tangible::api", what, error = %format!("{source:#}"), "dependency unavailable");
                format!("{what} is unavailable, try again later")
            }
            Self::Internal(source) => {
                tracing::error!(target: "tangible::api", error = %format!("{source:#}"), "internal error");
                "internal error".to_owned()
            }
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}

/// The stable code of an error status, for error responses made without an [`ApiError`].
const fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => codes::UNAUTHORIZED,
        404 => codes::NOT_FOUND,
        405 => codes::METHOD_NOT_ALLOWED,
        411 => codes::LENGTH_REQUIRED,
        413 => codes::PAYLOAD_TOO_LARGE,
        415 => codes::UNSUPPORTED_MEDIA_TYPE,
        416 => codes::RANGE_NOT_SATISFIABLE,
        422 => codes::INVALID_BODY,
        429 => codes::RATE_LIMITED,
        502..=504 => codes::UPSTREAM_UNAVAILABLE,
        500..=599 => codes::INTERNAL,
        _ => codes::BAD_REQUEST,
    }
}

/// Longest body of a non-JSON error that is kept as the message (rejections are one line).
const MAX_ECHOED_ERROR: usize = 1024;

/// Response middleware: an error (4xx, 5xx) answered without a JSON body gets the JSON error
/// body, `{"error":{"code","message"}}`, with the code of its status; a short text body becomes
/// the message of a 4xx (a 5xx's is logged, not returned). Status and other headers stay.
pub async fn json_error_bodies(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ECHOED_ERROR)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let reason = status
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase();
    let message = if status.is_server_error() {
        tracing::error!(target: "tangible::api", status = status.as_u16(), body = ?text, "error answered without a body");
        reason
    } else {
        text.unwrap_or(reason)
    };
    let mut answer = ApiError::client(status, code_of(status), message).into_response();
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    answer.headers_mut().extend(parts.headers);
    answer
}

/// 503 `transaction_pending` for a transaction sent whose receipt did not come in time: the
/// message names it, so that the client follows it rather than sending the request again.
pub(crate) fn not_mined(hash: alloy::primitives::B256) -> ApiError {
    ApiError::client(
        StatusCode::SERVICE_UNAVAILABLE,
        codes::TRANSACTION_PENDING,
        format!(
            "transaction {hash} was sent but is not mined yet; it may still be: follow it (or \
             the account's order_nonce) before trying again"
        ),
    )
}
