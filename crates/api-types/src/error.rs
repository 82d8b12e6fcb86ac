//! The API's error body `{"error":{"code","message"}}` and its stable codes.

use serde::{Deserialize, Serialize};

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
    /// Too many requests from this client; retry after `Retry-After` seconds (429).
    pub const RATE_LIMITED: &str = "rate_limited";
    /// A malformed request no more precise code describes (400).
    pub const BAD_REQUEST: &str = "bad_request";
    /// The requested range is outside the content (416).
    pub const RANGE_NOT_SATISFIABLE: &str = "range_not_satisfiable";
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
    /// 409: the caller already has a studio application waiting for a platform admin.
    pub const APPLICATION_PENDING: &str = "application_pending";
    /// 409: the wallet's last studio application was rejected less than 24 hours ago.
    pub const RECENTLY_REJECTED: &str = "recently_rejected";
    /// 503: too many studio applications wait for a decision.
    pub const APPLICATIONS_FULL: &str = "applications_full";
    /// 409: the studio application was already decided.
    pub const NOT_PENDING: &str = "not_pending";
    /// 409: the studio registered as many films as its quota allows (a platform admin raises it).
    pub const FILM_QUOTA_REACHED: &str = "film_quota_reached";
    /// 409: registrars (the API's key) registered as many studios today as the market allows
    /// (`REGISTRAR_STUDIOS_PER_DAY`); the platform admin can register more, or wait a day.
    pub const STUDIO_LIMIT_REACHED: &str = "studio_limit_reached";
    /// 409: the platform suspended the edition; its studio cannot return it to sale.
    pub const EDITION_SUSPENDED: &str = "edition_suspended";
    /// The edition already exists, or no more films can be registered.
    pub const CONFLICT: &str = "conflict";
    /// 409: the job is not dead (only a job given up can be retried by an operator).
    pub const JOB_NOT_DEAD: &str = "job_not_dead";
    /// 409: the purchase is not in a state an operator may refund it from (`failed`), or a
    /// refund of it is already under way.
    pub const NOT_REFUNDABLE: &str = "not_refundable";
    /// 409: the job may not run again (a settlement or reinstatement whose purchase is refunded,
    /// or being refunded).
    pub const NOT_RETRYABLE: &str = "not_retryable";
    /// 409: the wallet already announces as many seeding nodes as it may.
    pub const TOO_MANY_ANNOUNCEMENTS: &str = "too_many_announcements";
    /// 503: a transaction was sent but not mined in time; the message names it. It may still be
    /// mined: follow it before sending the request again.
    pub const TRANSACTION_PENDING: &str = "transaction_pending";
    /// A dependency (database, chain node, Stripe) is unreachable.
    pub const UPSTREAM_UNAVAILABLE: &str = "upstream_unavailable";
    /// 422: a signed order past its deadline.
    pub const ORDER_EXPIRED: &str = "order_expired";
    /// 409: a card payment the market could not settle today: its amount is over the market's
    /// daily limit on card settlements, or today's card settlements leave no room for it.
    pub const CARD_LIMIT_REACHED: &str = "card_limit_reached";
    /// 409: the price changed since the order was signed.
    pub const PRICE_CHANGED: &str = "price_changed";
    /// A resale price below the edition's resale floor (`resale_floor_cents` of the film's
    /// edition), set by its studio: 422 for a signed order's price, 409 for a card purchase of an
    /// offer listed before the floor was raised.
    pub const PRICE_BELOW_FLOOR: &str = "price_below_floor";
    /// 409: another signed order of the same account is being sent; retry once it is mined.
    pub const ORDER_IN_FLIGHT: &str = "order_in_flight";
    /// 422: a signed order whose transaction would take more gas than the operator pays for one
    /// (a contract wallet's costly signature check).
    pub const ORDER_TOO_COSTLY: &str = "order_too_costly";
    /// 409: the account's credit does not cover the order.
    pub const INSUFFICIENT_CREDIT: &str = "insufficient_credit";
    /// 403: the recipient may not receive this payment (the zero address; an operator's float pays
    /// only the treasury).
    pub const INVALID_RECIPIENT: &str = "invalid_recipient";
    /// 403: an operator's float account may not buy with a credit order.
    pub const FLOAT_ACCOUNT: &str = "float_account";
    /// 409: the licence was paid by card and is on hold until the date in the message.
    pub const LICENCE_ON_HOLD: &str = "licence_on_hold";
    /// 422: a card purchase above the largest amount one card payment may carry
    /// (`card_max_purchase_cents`).
    pub const CARD_AMOUNT_OVER_LIMIT: &str = "card_amount_over_limit";
    /// 422: the buyer's card purchases over the period would pass their limit
    /// (`card_buyer_limit_cents` per `card_buyer_period_secs`).
    pub const CARD_BUYER_LIMIT_REACHED: &str = "card_buyer_limit_reached";
    /// A bug or an unexpected failure; details are in the server log.
    pub const INTERNAL: &str = "internal";
}

/// The error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// A stable, machine-readable code.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}
