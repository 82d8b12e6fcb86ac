//! The API's one error type and its JSON body `{"error":{"code","message"}}`.
//!
//! Codes are stable strings that clients may match on (see [`codes`]). Internal causes are
//! logged with their chain and never sent to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The stable error codes.
pub mod codes {
    /// The body is not valid JSON (syntax).
    pub const INVALID_JSON: &str = "invalid_json";
    /// The JSON is well formed but does not match the expected shape or types.
    pub const INVALID_BODY: &str = "invalid_body";
    /// The query string does not match the expected parameters.
    pub const INVALID_QUERY: &str = "invalid_query";
    /// A field has a value the API does not accept.
    pub const INVALID_FIELD: &str = "invalid_field";
    /// The body exceeds the size limit.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// The body is not `application/json`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// No or an invalid bearer token.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// The sign-in message or its signature is not acceptable.
    pub const INVALID_LOGIN: &str = "invalid_login";
    /// The nonce is unknown, expired or already used.
    pub const NONCE_INVALID: &str = "nonce_invalid";
    /// A Stripe webhook signature is missing, forged or stale.
    pub const INVALID_SIGNATURE: &str = "invalid_signature";
    /// The caller does not own the licence.
    pub const NOT_OWNER: &str = "not_owner";
    /// The licence was revoked.
    pub const LICENCE_REVOKED: &str = "licence_revoked";
    /// No key is stored for the licence's edition yet.
    pub const KEY_UNAVAILABLE: &str = "key_unavailable";
    /// The resource does not exist.
    pub const NOT_FOUND: &str = "not_found";
    /// The method is not allowed on this path.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The edition is not on sale.
    pub const EDITION_NOT_ON_SALE: &str = "edition_not_on_sale";
    /// The offer is not active.
    pub const OFFER_NOT_ACTIVE: &str = "offer_not_active";
    /// The caller is not the studio's admin (on chain) nor a platform admin.
    pub const NOT_STUDIO_ADMIN: &str = "not_studio_admin";
    /// The action needs the platform's admin role (on chain).
    pub const NOT_PLATFORM_ADMIN: &str = "not_platform_admin";
    /// A streamed upload without `Content-Length`.
    pub const LENGTH_REQUIRED: &str = "length_required";
    /// Another upload of the same edition is running.
    pub const UPLOAD_IN_PROGRESS: &str = "upload_in_progress";
    /// The upload body ended early, or was longer than declared.
    pub const UPLOAD_INCOMPLETE: &str = "upload_incomplete";
    /// No master was uploaded for the edition yet.
    pub const CONTENT_UNAVAILABLE: &str = "content_unavailable";
    /// The edition is already withdrawn (or already on sale).
    pub const EDITION_STATUS_UNCHANGED: &str = "edition_status_unchanged";
    /// The edition already exists, or no more films can be registered.
    pub const CONFLICT: &str = "conflict";
    /// A dependency (database, chain node, Stripe) is unreachable.
    pub const UPSTREAM_UNAVAILABLE: &str = "upstream_unavailable";
    /// A bug or an unexpected failure; details are in the server log.
    pub const INTERNAL: &str = "internal";
}

/// The error body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

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
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Client { status, .. } => *status,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Client { code, .. } => code,
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
        let message = match &self {
            Self::Client { message, .. } => message.clone(),
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
        (status, axum::Json(body)).into_response()
    }
}
