//! Stripe: PaymentIntents and refunds through `async-stripe` (this module), a charge's figures
//! for the money reconciliation ([`charges`]), and the webhook signature check and event types
//! ([`webhook`]).

mod charges;
mod webhook;

pub use charges::ChargeSummary;
pub use webhook::{
    ChargeObject, DisputeObject, Event, EventData, PaymentIntentObject, SignatureError,
    sign_payload, verify_signature,
};

use std::collections::HashMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
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
