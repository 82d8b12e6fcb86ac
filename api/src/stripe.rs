//! Stripe: PaymentIntents and refunds through `async-stripe`, and the webhook signature check
//! and event types (parsed into our own types: the emulator's events lack fields that
//! `async-stripe`'s event parser requires).

use std::collections::HashMap;
use std::time::Duration;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::payment_intent::{
    CancelPaymentIntent, ConfirmPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent,
    UpdatePaymentIntent,
};
use stripe_core::refund::{CreateRefund, ListRefund};

/// Metadata key linking a PaymentIntent to its purchase.
pub const PURCHASE_METADATA_KEY: &str = "purchase_id";

/// Errors talking to Stripe.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Stripe answered with an error (4xx): the request itself is wrong.
    #[error("stripe refused the request (status {status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Stripe's message.
        message: String,
    },
    /// Stripe could not be reached or answered something unreadable.
    #[error("stripe unreachable: {0}")]
    Unreachable(String),
}

impl From<StripeError> for GatewayError {
    fn from(e: StripeError) -> Self {
        match e {
            StripeError::Stripe(err, status) if status < 500 => Self::Refused {
                status,
                message: err.message.clone().unwrap_or_default(),
            },
            other => Self::Unreachable(other.to_string()),
        }
    }
}

/// The fields of a created PaymentIntent the API reads.
#[derive(miniserde::Deserialize)]
struct IntentReply {
    id: String,
    client_secret: Option<String>,
}

/// The fields of a created refund the API reads.
#[derive(miniserde::Deserialize)]
struct RefundReply {
    id: String,
}

/// The fields of a retrieved or confirmed PaymentIntent the API reads.
#[derive(miniserde::Deserialize)]
struct IntentStateReply {
    status: String,
    client_secret: Option<String>,
    last_payment_error: Option<PaymentErrorReply>,
}

/// The field of a PaymentIntent's last payment error the API reads.
#[derive(miniserde::Deserialize)]
struct PaymentErrorReply {
    message: Option<String>,
}

/// Where a PaymentIntent stands.
#[derive(Debug, Clone)]
pub struct IntentState {
    /// `requires_payment_method`, `requires_action`, `processing`, `succeeded`, …
    pub status: String,
    /// The secret the frontend confirms the payment with (never logged).
    pub client_secret: Option<SecretString>,
    /// Stripe's explanation of the last failed payment attempt, when there is one.
    pub last_payment_error: Option<String>,
}

impl From<IntentStateReply> for IntentState {
    fn from(r: IntentStateReply) -> Self {
        Self {
            status: r.status,
            client_secret: r.client_secret.map(Into::into),
            last_payment_error: r.last_payment_error.and_then(|e| e.message),
        }
    }
}

/// The fields of a PaymentIntent the reconciliation reads (those of its webhook's object, and
/// its status).
#[derive(miniserde::Deserialize)]
struct IntentDetailsReply {
    id: String,
    status: String,
    amount: i64,
    amount_received: Option<i64>,
    currency: String,
    metadata: Option<HashMap<String, String>>,
    last_payment_error: Option<PaymentErrorReply>,
}

/// A PaymentIntent as Stripe has it now: what its `payment_intent.succeeded` event would carry,
/// and its status (read by the reconciliation, `jobs::reconcile`).
#[derive(Debug, Clone)]
pub struct IntentDetails {
    /// The intent, as a webhook event's object.
    pub intent: PaymentIntentObject,
    /// `requires_payment_method`, `requires_action`, `processing`, `succeeded`, `canceled`, …
    pub status: String,
    /// Stripe's explanation of the last failed payment attempt, when there is one.
    pub last_payment_error: Option<String>,
}

impl From<IntentDetailsReply> for IntentDetails {
    fn from(r: IntentDetailsReply) -> Self {
        Self {
            intent: PaymentIntentObject {
                id: r.id,
                amount: r.amount,
                amount_received: r.amount_received,
                currency: r.currency,
                metadata: r.metadata.unwrap_or_default(),
            },
            status: r.status,
            last_payment_error: r.last_payment_error.and_then(|e| e.message),
        }
    }
}

/// A created PaymentIntent.
#[derive(Debug, Clone)]
pub struct CreatedIntent {
    /// `pi_…`.
    pub id: String,
    /// The secret the frontend confirms the payment with (never logged).
    pub client_secret: SecretString,
}

/// The Stripe client of the API.
#[derive(Clone)]
pub struct StripeGateway {
    client: Client,
    base: String,
    http: reqwest::Client,
    secret_key: SecretString,
}

impl std::fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeGateway")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Selects the process's rustls provider (the service shell's one, aws-lc-rs) before the
/// Stripe client builds its TLS configuration: rustls refuses to guess when both of its
/// providers are compiled in.
fn install_tls_provider() {
    tangible_service::install_crypto_provider();
}

fn idempotency(key: &str) -> Result<RequestStrategy, GatewayError> {
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| GatewayError::Unreachable(format!("idempotency key: {e}")))
}

impl StripeGateway {
    /// A client for `secret_key`, against `base` (Stripe itself when `None`).
    pub fn new(secret_key: SecretString, base: Option<String>) -> Result<Self, GatewayError> {
        install_tls_provider();
        let base = base.unwrap_or_else(|| "https://api.stripe.com".to_owned());
        let base = base.trim_end_matches('/').to_owned();
        let client = ClientBuilder::new(secret_key.expose_secret())
            .url(format!("{base}/"))
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| GatewayError::Unreachable(e.to_string()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| GatewayError::Unreachable(e.to_string()))?;
        Ok(Self {
            client,
            base,
            http,
            secret_key,
        })
    }

    /// Creates a PaymentIntent of `amount` cents in `currency`, tagged with the purchase id,
    /// with the buyer's `receipt_email` if given (Stripe mails its payment receipt there).
    /// `idempotency_key` makes a retried creation return the same intent.
    pub async fn create_payment_intent(
        &self,
        amount_cents: u64,
        currency: &str,
        purchase_id: &str,
        receipt_email: Option<&str>,
        idempotency_key: &str,
    ) -> Result<CreatedIntent, GatewayError> {
        let currency: stripe_types::Currency = currency
            .parse()
            .map_err(|_| GatewayError::Unreachable(format!("unknown currency {currency}")))?;
        let amount = i64::try_from(amount_cents)
            .map_err(|_| GatewayError::Unreachable("amount overflows".into()))?;
        let metadata = HashMap::from([(PURCHASE_METADATA_KEY.to_owned(), purchase_id.to_owned())]);
        // async-stripe builds and sends the request (idempotency, retries); the answer is read
        // into our own minimal type, which also accepts the emulator's sparser objects.
        let mut create = CreatePaymentIntent::new(amount, currency).metadata(metadata);
        if let Some(email) = receipt_email {
            create = create.receipt_email(email);
        }
        let intent: IntentReply = create
            .build()
            .customize()
            .request_strategy(idempotency(idempotency_key)?)
            .send(&self.client)
            .await?;
        let client_secret = intent.client_secret.ok_or_else(|| {
            GatewayError::Unreachable("PaymentIntent without client_secret".into())
        })?;
        Ok(CreatedIntent {
            id: intent.id,
            client_secret: client_secret.into(),
        })
    }

    /// Refunds a PaymentIntent in full; returns the refund id.
    pub async fn refund(
        &self,
        payment_intent_id: &str,
        purchase_id: &str,
        idempotency_key: &str,
    ) -> Result<String, GatewayError> {
        let metadata = HashMap::from([(PURCHASE_METADATA_KEY.to_owned(), purchase_id.to_owned())]);
        let refund: RefundReply = CreateRefund::new()
            .payment_intent(payment_intent_id)
            .metadata(metadata)
            .build()
            .customize()
            .request_strategy(idempotency(idempotency_key)?)
            .send(&self.client)
            .await?;
        Ok(refund.id)
    }

    /// Reads a PaymentIntent.
    pub async fn payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<IntentState, GatewayError> {
        let intent: IntentStateReply = RetrievePaymentIntent::new(payment_intent_id)
            .build()
            .customize()
            .send(&self.client)
            .await?;
        Ok(intent.into())
    }

    /// Reads a PaymentIntent with its amount, currency and metadata (the reconciliation's view).
    pub async fn payment_intent_details(
        &self,
        payment_intent_id: &str,
    ) -> Result<IntentDetails, GatewayError> {
        let intent: IntentDetailsReply = RetrievePaymentIntent::new(payment_intent_id)
            .build()
            .customize()
            .send(&self.client)
            .await?;
        Ok(intent.into())
    }

    /// Cancels a PaymentIntent nobody paid: Stripe takes no payment for it afterwards. Stripe
    /// refuses (`Refused`, 400) an intent that is `succeeded`, `processing` or already
    /// `canceled`. No `cancellation_reason` is sent (Stripe would take `abandoned`, but the
    /// emulator refuses any parameter); the purchase records why.
    pub async fn cancel_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<IntentState, GatewayError> {
        let intent: IntentStateReply = CancelPaymentIntent::new(payment_intent_id)
            .build()
            .customize()
            .send(&self.client)
            .await?;
        Ok(intent.into())
    }

    /// Attaches a payment method (`pm_…`, or a Stripe.js token's `card_…`) to a PaymentIntent.
    pub async fn attach_payment_method(
        &self,
        payment_intent_id: &str,
        payment_method: &str,
    ) -> Result<(), GatewayError> {
        let _: IntentStateReply = UpdatePaymentIntent::new(payment_intent_id)
            .payment_method(payment_method)
            .build()
            .customize()
            .send(&self.client)
            .await?;
        Ok(())
    }

    /// Confirms a PaymentIntent server-side with its attached payment method. A declined card
    /// is `Refused` with status 402.
    pub async fn confirm_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<IntentState, GatewayError> {
        let intent: IntentStateReply = ConfirmPaymentIntent::new(payment_intent_id)
            .build()
            .customize()
            .send(&self.client)
            .await?;
        Ok(intent.into())
    }

    /// Readiness: Stripe answers HTTP and does not reject the API key (401/403). Other statuses
    /// count as reachable (the emulator does not implement every endpoint).
    pub async fn reachable(&self) -> Result<(), GatewayError> {
        let r = self
            .http
            .get(format!("{}/v1/balance", self.base))
            .bearer_auth(self.secret_key.expose_secret())
            .send()
            .await
            .map_err(|e| GatewayError::Unreachable(e.without_url().to_string()))?;
        match r.status().as_u16() {
            s @ (401 | 403) => Err(GatewayError::Refused {
                status: s,
                message: "Stripe rejected the API key".into(),
            }),
            _ => Ok(()),
        }
    }
}

/// Why a webhook signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header.
    #[error("missing Stripe-Signature header")]
    Missing,
    /// The header has no timestamp or no `v1` signature.
    #[error("malformed Stripe-Signature header")]
    Malformed,
    /// The timestamp is outside the tolerance.
    #[error("signature timestamp outside the tolerance")]
    Stale,
    /// No `v1` signature matches.
    #[error("no signature matches the body")]
    Mismatch,
}

/// Checks a `Stripe-Signature` header (`t=…,v1=…[,v1=…]`) on the raw body: one `v1` must equal
/// HMAC-SHA256(secret, "t.body") (compared in constant time) and `t` must be within
/// `tolerance_secs` of `now`.
pub fn verify_signature(
    header: Option<&str>,
    body: &[u8],
    secret: &[u8],
    now: i64,
    tolerance_secs: u64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse::<i64>().ok(),
            Some(("v1", v)) => {
                if let Ok(sig) = hex::decode(v) {
                    signatures.push(sig);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let tolerance = i64::try_from(tolerance_secs).unwrap_or(i64::MAX);
    if now.abs_diff(timestamp) > tolerance.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    for sig in signatures {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if mac.verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// The `Stripe-Signature` header value for `body` at `timestamp` (tests and tools).
pub fn sign_payload(body: &[u8], secret: &[u8], timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// A Stripe event, as far as the API reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    /// `evt_…`.
    pub id: String,
    /// `payment_intent.succeeded`, `charge.dispute.created`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The event's object.
    pub data: EventData,
}

/// The `data` of an event.
#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    /// The object the event is about.
    pub object: serde_json::Value,
}

/// The fields of a PaymentIntent the API checks.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntentObject {
    /// `pi_…`.
    pub id: String,
    /// Amount in the smallest currency unit.
    pub amount: i64,
    /// Amount received, when reported.
    #[serde(default)]
    pub amount_received: Option<i64>,
    /// ISO currency, lower case.
    pub currency: String,
    /// Metadata set at creation.
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

/// The fields of a dispute the API reads.
#[derive(Debug, Clone, Deserialize)]
pub struct DisputeObject {
    /// `dp_…`.
    pub id: String,
    /// The disputed PaymentIntent.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// The dispute's reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// Its status: on `charge.dispute.closed`, `won` (the merchant keeps the payment) or
    /// `lost` (the money went back to the card holder); others while it is open.
    #[serde(default)]
    pub status: Option<String>,
}

/// The fields of a Charge (`charge.refunded`) the API reads.
#[derive(Debug, Clone, Deserialize)]
pub struct ChargeObject {
    /// `ch_…`.
    pub id: String,
    /// The PaymentIntent the charge belongs to.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// True once the whole amount is refunded (a partial refund leaves it false).
    #[serde(default)]
    pub refunded: bool,
}

/// The fields of a listed refund the API reads.
#[derive(miniserde::Deserialize)]
struct ListedRefund {
    id: String,
    status: Option<String>,
    metadata: Option<HashMap<String, String>>,
}

/// One page of refunds.
#[derive(miniserde::Deserialize)]
struct RefundPage {
    data: Vec<ListedRefund>,
}

impl StripeGateway {
    /// The refund this API already made of a PaymentIntent for `purchase_id` (tagged with it in
    /// its metadata, not failed or cancelled), if any. Read before refunding, so that a retried
    /// refund job whose previous attempt reached Stripe but was never recorded does not refund
    /// twice, whether or not Stripe (or its emulator) honours the idempotency key.
    pub async fn existing_refund(
        &self,
        payment_intent_id: &str,
        purchase_id: &str,
    ) -> Result<Option<String>, GatewayError> {
        // A PaymentIntent that never succeeded has no charge, hence no refund (and the
        // emulator fails to list refunds of a charge-less intent).
        if self.payment_intent(payment_intent_id).await?.status != "succeeded" {
            return Ok(None);
        }
        let page: RefundPage = ListRefund::new()
            .payment_intent(payment_intent_id)
            .limit(100)
            .build()
            .customize()
            .send(&self.client)
            .await?;
        Ok(page
            .data
            .into_iter()
            .find(|r| {
                !matches!(r.status.as_deref(), Some("failed" | "canceled"))
                    && r.metadata
                        .as_ref()
                        .and_then(|m| m.get(PURCHASE_METADATA_KEY))
                        .is_some_and(|p| p == purchase_id)
            })
            .map(|r| r.id))
    }
}

/// A PaymentIntent's charge, as the money reconciliation reads it
/// ([`crate::reconciliation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeSummary {
    /// `ch_…`.
    pub charge_id: String,
    /// The charge's status: `succeeded`, `pending` or `failed`.
    pub status: String,
    /// Amount charged, cents.
    pub amount_cents: i64,
    /// Amount refunded so far, cents.
    pub refunded_cents: i64,
    /// When the charge was created (Unix seconds).
    pub created: i64,
}

/// An integer field of a Stripe object: a JSON number, or the string the emulator stores when
/// a form-encoded update set it.
fn int_field(v: &serde_json::Value, field: &str) -> Result<i64, GatewayError> {
    let f = &v[field];
    f.as_i64()
        .or_else(|| f.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| GatewayError::Unreachable(format!("charge without an integer {field}")))
}

impl StripeGateway {
    /// GET a Stripe object by path, as JSON.
    async fn get_object(&self, path: &str) -> Result<serde_json::Value, GatewayError> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.secret_key.expose_secret())
            .send()
            .await
            .map_err(|e| GatewayError::Unreachable(e.without_url().to_string()))?;
        let status = r.status().as_u16();
        let body: serde_json::Value = r
            .json()
            .await
            .map_err(|e| GatewayError::Unreachable(e.without_url().to_string()))?;
        if (400..500).contains(&status) {
            return Err(GatewayError::Refused {
                status,
                message: body["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        if status >= 500 {
            return Err(GatewayError::Unreachable(format!("status {status}")));
        }
        Ok(body)
    }

    /// The latest charge of a PaymentIntent (`None`: never charged), read by id: the intent,
    /// then its `latest_charge` (an id at Stripe; the emulator embeds the object).
    pub async fn charge_of(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<ChargeSummary>, GatewayError> {
        let intent = self
            .get_object(&format!("/v1/payment_intents/{payment_intent_id}"))
            .await?;
        let charge = match &intent["latest_charge"] {
            serde_json::Value::Null => return Ok(None),
            serde_json::Value::String(id) => self.get_object(&format!("/v1/charges/{id}")).await?,
            object => object.clone(),
        };
        Ok(Some(ChargeSummary {
            charge_id: charge["id"].as_str().unwrap_or_default().to_owned(),
            status: charge["status"].as_str().unwrap_or_default().to_owned(),
            amount_cents: int_field(&charge, "amount")?,
            refunded_cents: int_field(&charge, "amount_refunded")?,
            created: int_field(&charge, "created")?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_good_signature_and_refuses_forged_stale_and_malformed_ones() {
        let body = br#"{"id":"evt_1"}"#;
        let header = sign_payload(body, b"whsec_a", 1_000);
        assert_eq!(
            verify_signature(Some(&header), body, b"whsec_a", 1_100, 300),
            Ok(())
        );
        // A second, rotated signature is accepted if one matches.
        let two = format!("{header},v1={}", "00".repeat(32));
        assert_eq!(
            verify_signature(Some(&two), body, b"whsec_a", 1_000, 300),
            Ok(())
        );
        assert_eq!(
            verify_signature(Some(&header), body, b"whsec_b", 1_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(Some(&header), br#"{"id":"evt_2"}"#, b"whsec_a", 1_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(Some(&header), body, b"whsec_a", 1_301, 300),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature(Some(&header), body, b"whsec_a", 699, 300),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature(None, body, b"whsec_a", 1_000, 300),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(Some("v1=abcd"), body, b"whsec_a", 1_000, 300),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature(Some("t=1000"), body, b"whsec_a", 1_000, 300),
            Err(SignatureError::Malformed)
        );
    }

    /// The `Stripe-Signature` format pinned to an HMAC computed outside this code, with
    /// `printf '%s' "$t.$body" | openssl dgst -sha256 -hmac "$secret"` (and Python's `hmac`,
    /// same value): `v1` is hex HMAC-SHA256 keyed with the whole `whsec_…` string over
    /// `"{t}.{body}"`.
    #[test]
    fn signature_matches_an_independently_computed_vector() {
        let body = br#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"payment_intent.succeeded"}"#;
        let secret = b"whsec_test_5ecret";
        let expected = "t=1700000000,\
             v1=40d5ef4ca7e07e2119f2b0e0bfe5f01be35db893796481d3f840e9e09bce17b1";
        assert_eq!(sign_payload(body, secret, 1_700_000_000), expected);
        assert_eq!(
            verify_signature(Some(expected), body, secret, 1_700_000_000, 300),
            Ok(())
        );
        // Stripe's header carries the timestamp first and may add other schemes (v0).
        let with_v0 = format!("{expected},v0={}", "ab".repeat(32));
        assert_eq!(
            verify_signature(Some(&with_v0), body, secret, 1_700_000_100, 300),
            Ok(())
        );
    }
}
