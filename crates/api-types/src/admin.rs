//! The operator console (`/v1/admin/*`, platform admins only): the job queue's dead jobs and
//! their retry, purchases refunded by hand, failed refunds, the operator's float and its
//! history, and recent alerts. The money reconciliation report is in
//! [`crate::reconciliation`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `GET /v1/admin/jobs`: which jobs, newest change first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct JobsQuery {
    /// `dead` (the default: given up, an operator may retry), `queued`, `running` or `done`.
    pub state: Option<String>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

/// One job of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobView {
    /// Its id (for `POST /v1/admin/jobs/{id}/retry`).
    pub job_id: i64,
    /// `settle`, `refund`, `revoke`, `receipt` or `reinstate`.
    pub kind: String,
    /// The purchase it works on.
    pub purchase_id: Uuid,
    /// That purchase's state now.
    pub purchase_state: String,
    /// `queued`, `running`, `done` or `dead`.
    pub state: String,
    /// Attempts made.
    pub attempts: i32,
    /// The last attempt's error, if any.
    pub last_error: Option<String>,
    /// When it was queued (or queued again).
    pub created_at: DateTime<Utc>,
    /// Its last change.
    pub updated_at: DateTime<Utc>,
}

/// Why an operator acts (kept with the action, in `api_operator_actions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorAction {
    /// Free text, 3–500 characters (e.g. "Stripe support unblocked the charge").
    pub reason: String,
}

/// What an operator's action queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionQueued {
    /// The audit record of the action.
    pub action_id: i64,
    /// The job queued (again).
    pub job_id: i64,
    /// Its kind.
    pub kind: String,
    /// The purchase concerned.
    pub purchase_id: Uuid,
    /// The purchase's state when the job was queued (follow it with `GET /v1/purchases/{id}`).
    pub purchase_state: String,
}

/// A purchase whose refund Stripe refused (or that could not be refunded): the money is still
/// charged, no licence exists; an operator retries with `POST /v1/admin/purchases/{id}/refund`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailedRefundView {
    /// The purchase.
    pub purchase_id: Uuid,
    /// Its PaymentIntent.
    pub payment_intent_id: Option<String>,
    /// Amount charged, cents.
    pub amount_cents: i64,
    /// Why it was to be refunded (`settlement_deadline_exceeded`, `refund_failed`, ...).
    pub failure_code: Option<String>,
    /// The last refund attempt's error (Stripe's answer).
    pub last_refund_error: Option<String>,
    /// Refund attempts made.
    pub refund_attempts: i64,
    /// When the last one was made.
    pub last_attempt_at: DateTime<Utc>,
}

/// One movement of the operator's float on chain, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FloatMovement {
    /// `deposit` (topped up), `withdrawal` (paid out), `card_settlement` (a card sale paid from
    /// the float).
    pub kind: String,
    /// Signed amount, cents (negative: out of the float).
    pub cents: i64,
    /// The float just after it, cents (computed back from the balance now).
    pub balance_after_cents: i64,
    /// The licence, for a card settlement.
    pub licence_id: Option<String>,
    /// The payment reference of a card settlement (`keccak256(PaymentIntent id)`).
    pub payment_ref: Option<String>,
    /// The transaction.
    pub tx_hash: Option<String>,
    /// Its block.
    pub block_number: Option<u64>,
    /// Its block's time.
    pub at: Option<DateTime<Utc>>,
}

/// `GET /v1/admin/float`: the float card settlements are paid from, and how it moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FloatView {
    /// The operator account.
    pub operator: String,
    /// Its balance in the market now, cents.
    pub balance_cents: i64,
    /// The alert threshold (`float_warning_cents`).
    pub warning_cents: i64,
    /// Below the threshold: a `float_low` alert was raised and `/readyz` warns.
    pub low: bool,
    /// The most card money the market lets operators settle per UTC day, cents (the contract's
    /// `cardSettlementLimit`, set by the platform admin).
    #[serde(default)]
    pub daily_limit_cents: i64,
    /// Card money settled today (UTC) against that limit, cents.
    #[serde(default)]
    pub settled_today_cents: i64,
    /// The latest movements (at most `limit`), newest first.
    pub movements: Vec<FloatMovement>,
}

/// `GET /v1/admin/float` and `GET /v1/admin/alerts`: how many rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct LimitQuery {
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

/// One operator alert, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertView {
    /// Its id.
    pub alert_id: i64,
    /// What happened (`settlement_deadline_exceeded`, `refund_refused`, `float_low`, ...; the
    /// README's operations section lists them).
    pub reason: String,
    /// The purchase concerned, if one is.
    pub purchase_id: Option<Uuid>,
    /// Details.
    pub detail: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// `PUT /v1/admin/content/p2p`: start or stop this instance's P2P serving (HTTP keeps serving;
/// seeders and other instances carry P2P delivery meanwhile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContentP2pSwitch {
    /// `true` to serve over P2P, `false` to stop.
    pub serving: bool,
    /// Why (3–500 characters; kept with the action).
    pub reason: String,
}

/// The P2P serving of the instance that answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContentP2pState {
    /// Its content node id (stable across restarts).
    pub node_id: String,
    /// Whether it serves over P2P.
    pub serving: bool,
    /// Its P2P address when serving (iroh endpoint ticket).
    pub provider: Option<String>,
    /// Payload bytes it uploaded over P2P since its provider (re)started.
    pub uploaded_bytes: u64,
}
