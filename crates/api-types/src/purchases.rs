//! Card purchases: `POST /v1/purchases` (primary), `POST /v1/offers/{id}/purchases` (resale),
//! `GET /v1/purchases/{id}`, `POST /v1/purchases/{id}/payment-method` and
//! `DELETE /v1/purchases/{id}/email`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A primary purchase request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PrimaryPurchaseRequest {
    /// The film.
    pub film_id: u64,
    /// `sd`, `hd` or `4k`.
    pub quality: String,
    /// Who receives the licence (0x…).
    pub buyer_address: String,
    /// Where to mail the receipt (film, amount, licence id, transaction) once the purchase is
    /// fulfilled; Stripe's own payment receipt goes there too. Optional: absent, `null` or blank
    /// means no receipt. At most 254 characters, `local@domain.tld`. Kept with the purchase,
    /// never on chain, erased on request (`DELETE /v1/purchases/{id}/email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_email: Option<String>,
}

/// A resale purchase request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResalePurchaseRequest {
    /// Who receives the licence (0x…).
    pub buyer_address: String,
    /// Where to mail the receipt (film, amount, licence id, transaction) once the purchase is
    /// fulfilled; Stripe's own payment receipt goes there too. Optional: absent, `null` or blank
    /// means no receipt. At most 254 characters, `local@domain.tld`. Kept with the purchase,
    /// never on chain, erased on request (`DELETE /v1/purchases/{id}/email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_email: Option<String>,
}

/// A created purchase: confirm `client_secret` with Stripe to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PurchaseCreated {
    /// The purchase.
    pub purchase_id: Uuid,
    /// The Stripe PaymentIntent.
    pub payment_intent_id: String,
    /// The PaymentIntent's client secret (for Stripe.js / the client).
    pub client_secret: String,
    /// Amount in cents (the on-chain price).
    pub amount: u64,
    /// ISO currency (lower case).
    pub currency: String,
}

/// One recorded settlement, refund or revocation attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttemptView {
    /// `settle`, `refund`, `revoke`, `reinstate` or `receipt`.
    pub kind: String,
    /// Attempt number of its job.
    pub attempt: i32,
    /// `fulfilled`, `already_settled`, `retry`, `impossible`, `refunded`, `revoked`, `failed`,
    /// `reinstated`, `sent` or `skipped` (a receipt with no address left to send to, or already
    /// sent).
    pub outcome: String,
    /// Transaction, when one was sent.
    pub tx_hash: Option<String>,
    /// Detail (error or reason).
    pub detail: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// One change of a purchase's state (its creation: no `from`), as audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransitionView {
    /// The state it left (none for the creation).
    pub from: Option<String>,
    /// The state it entered.
    pub to: String,
    /// Why (a failure code, `dispute dp_… opened (fraudulent)`, `dispute_won`, …), when known.
    pub reason: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// A purchase and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PurchaseView {
    /// The purchase.
    pub purchase_id: Uuid,
    /// `primary` or `resale`.
    pub kind: String,
    /// `awaiting_payment`, `paid`, `settling`, `fulfilled`, `failed`, `refunded` or `expired`
    /// (abandoned unpaid: its PaymentIntent was cancelled); after fulfilment, `disputed`,
    /// `revoked` (its licence revoked: a dispute, or a refund made at Stripe), `reinstated`
    /// (a dispute closed won: a new licence, `reinstated_licence_id`) or `dispute_lost`.
    pub state: String,
    /// Film.
    pub film_id: u64,
    /// Quality (`sd`, `hd`, `4k`).
    pub quality: String,
    /// The offer bought (resale).
    pub offer_id: Option<String>,
    /// Recipient of the licence.
    pub buyer_address: String,
    /// Amount in cents.
    pub amount: u64,
    /// Currency.
    pub currency: String,
    /// The Stripe PaymentIntent.
    pub payment_intent_id: Option<String>,
    /// The minted licence (decimal), once fulfilled (kept when it is later revoked).
    pub licence_id: Option<String>,
    /// The settlement transaction, once fulfilled.
    pub tx_hash: Option<String>,
    /// Why it failed or was refunded.
    pub failure_code: Option<String>,
    /// Explanation of the failure.
    pub failure_message: Option<String>,
    /// Stripe refund, when refunded.
    pub refund_id: Option<String>,
    /// Revocation transaction after a dispute.
    pub revoked_tx_hash: Option<String>,
    /// Whether an email address for the receipt is on file (the address itself is never
    /// shown: anyone with the purchase id can read this view).
    #[serde(default)]
    pub receipt_email_on_file: bool,
    /// When the receipt was accepted by the mail server (RFC 3339), once sent.
    #[serde(default)]
    pub receipt_sent_at: Option<String>,
    /// The new licence (decimal) minted to the buyer when a dispute was closed won.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reinstated_licence_id: Option<String>,
    /// Every settlement/refund/revocation/reinstatement/receipt attempt, oldest first.
    pub attempts: Vec<AttemptView>,
    /// Every state change, oldest first (the audit trail).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<TransitionView>,
}

/// The card paying a purchase, tokenised in the browser by Stripe.js with the publishable key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodRequest {
    /// A Stripe PaymentMethod (`pm_…`) or the card of a Stripe.js token (`card_…`).
    pub payment_method: String,
    /// The purchase's PaymentIntent client secret, as returned by `POST /v1/purchases`: proves
    /// the caller is the one who started the purchase.
    pub client_secret: String,
}

/// Where the PaymentIntent stands after the server-side confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentResult {
    /// `succeeded` or `processing` (the licence follows: poll `GET /v1/purchases/{id}`), or
    /// `requires_action`: complete 3-D Secure in the browser with Stripe.js
    /// `confirmCardPayment(client_secret)`.
    pub status: String,
    /// Stripe's explanation, when there is one.
    pub message: Option<String>,
}

/// `DELETE /v1/purchases/{id}/email`: erases the receipt address of a purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EraseEmailRequest {
    /// The purchase's PaymentIntent client secret, as returned by `POST /v1/purchases`: proves
    /// the caller is the buyer who started the purchase.
    pub client_secret: String,
}
