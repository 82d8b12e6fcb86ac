//! A PaymentIntent's charge for the money reconciliation ([`crate::reconciliation`]), read as
//! plain JSON: the emulator embeds `latest_charge` where Stripe names its id, and stores
//! integers it was sent form-encoded as strings.

use secrecy::ExposeSecret;

use super::{GatewayError, StripeGateway};

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
