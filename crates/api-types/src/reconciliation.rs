//! Money reconciliation (`GET /v1/admin/reconciliation`): Stripe charges against the chain's
//! settlements, refunds and pending payments for a period, to the cent, with every mismatch.
//!
//! The identity, per charge and in total: `stripe_charged_cents = settled_cents +
//! refunded_cents + pending_cents`, `difference` = left − right (0 when the books balance).
//! What each term holds is defined in the API's `reconciliation` module.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The period of a report: `from` and `to` are dates (`YYYY-MM-DD`, both included, UTC) or
/// RFC 3339 instants (`from` included, `to` excluded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ReconciliationQuery {
    /// Start of the period: a date (its first instant, UTC) or an RFC 3339 instant.
    pub from: String,
    /// End of the period: a date (included: up to its last instant, UTC) or an RFC 3339
    /// instant (excluded).
    pub to: String,
}

/// The half-open interval `[from, to)` a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    /// First instant included.
    pub from: DateTime<Utc>,
    /// First instant excluded.
    pub to: DateTime<Utc>,
}

/// What is wrong with one charge (or one settlement without a charge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// Charged at Stripe, but (for part of the amount) neither settled on chain, refunded nor
    /// pending: money taken without a licence or a refund.
    Unaccounted,
    /// A settlement on chain under a payment reference no purchase of this API made (no charge).
    UnknownPaymentRef,
    /// A purchase's payment reference settled on chain while its PaymentIntent has no
    /// succeeded charge at Stripe: a licence without money.
    SettledWithoutCharge,
    /// The price settled on chain differs from the amount charged.
    AmountMismatch,
    /// Settled on chain (licence not revoked) and refunded: the buyer has both the licence and
    /// the money back.
    SettledAndRefunded,
    /// Stripe has a refund the API's records do not know (state neither `refunded` nor revoked
    /// for a refund made outside the API).
    RefundNotRecorded,
    /// More accounted for than charged (e.g. two live settlements of one payment: the first
    /// licence not revoked when the reinstatement was minted).
    OverAccounted,
    /// The charge could not be read from Stripe (the report is then incomplete).
    StripeUnreadable,
    /// Counted pending for longer than it can be: a purchase waiting for its settlement or
    /// refund for over a day, or a dispute the API still sees open after 130 days (Stripe closed
    /// it without the API hearing of it).
    StalePending,
}

/// One mismatch, with the purchase it is about (none for an unknown payment reference).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mismatch {
    /// What is wrong.
    pub kind_of_mismatch: MismatchKind,
    /// The purchase, when one is concerned.
    pub purchase_id: Option<Uuid>,
    /// Its PaymentIntent.
    pub payment_intent_id: Option<String>,
    /// The payment reference (`0x…`): the purchase's, or the unknown one settled on chain.
    pub payment_ref: Option<String>,
    /// The purchase's state in the API.
    pub state: Option<String>,
    /// Charged at Stripe (0 without a succeeded charge).
    pub stripe_cents: i64,
    /// Refunded at Stripe (refunds; a lost dispute's amount is counted in `refunded_cents`
    /// of the report, not here).
    pub stripe_refunded_cents: i64,
    /// Settled on chain for this payment (licences not revoked; all of them for an unknown
    /// payment reference).
    pub chain_cents: i64,
    /// The transactions of its settlements on chain.
    pub tx_hashes: Vec<String>,
    /// Human explanation.
    pub detail: String,
}

/// The report for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReconciliationReport {
    /// The period (by charge creation time at Stripe).
    pub period: Period,
    /// Number of succeeded charges in the period.
    pub charges: u64,
    /// Σ amounts of the succeeded charges created in the period.
    pub stripe_charged_cents: i64,
    /// Σ settled on chain for those charges (live licences: not revoked, or replaced by a
    /// resale), plus every settlement in the period under an unknown payment reference.
    pub settled_cents: i64,
    /// Σ returned to the cardholders: Stripe refunds, and the amount of lost disputes
    /// (`charged_back_cents`).
    pub refunded_cents: i64,
    /// The part of `refunded_cents` taken back by lost disputes (chargebacks).
    pub charged_back_cents: i64,
    /// Σ of charges not yet settled, refunded or charged back: settlement in progress, or
    /// dispute open with the licence revoked.
    pub pending_cents: i64,
    /// Informative, outside the identity: Σ settled on chain for these charges under licences
    /// since revoked (a chargeback, a refund made at Stripe): paid out of the operator's float
    /// and not recovered on chain.
    pub revoked_settlements_cents: i64,
    /// `stripe_charged_cents − (settled_cents + refunded_cents + pending_cents)`.
    pub difference: i64,
    /// Every mismatch found (empty, with `difference` 0, when the period reconciles).
    pub mismatches: Vec<Mismatch>,
    /// How the report was made (sources, limits).
    pub method: String,
}
