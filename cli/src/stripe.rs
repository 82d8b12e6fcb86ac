//! The card test flow (`--test-card`, development only): what a payment page does with
//! Stripe.js, done against the configured Stripe endpoint (localstripe locally) with a Stripe
//! **test** secret key: create a card PaymentMethod, attach it to the purchase's PaymentIntent,
//! confirm. A real client never holds a secret key (it pays on the storefront's page,
//! `buy --card`), so a live key is refused.

use anyhow::{Context, bail};
use serde_json::Value;

/// A Stripe endpoint and key.
#[derive(Debug, Clone)]
pub struct Stripe {
    base: String,
    key: String,
    http: reqwest::Client,
}

/// How a confirmation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Stripe accepted the payment (the API learns it through the webhook).
    Succeeded,
    /// The card was declined.
    Declined(String),
    /// Stripe answered with another status.
    Other(String),
}

impl Stripe {
    /// A test-card client of `base` with `key`, which must be a Stripe test secret key
    /// (`sk_test_…` or a restricted `rk_test_…`): a live key is refused before any request.
    pub fn for_test_cards(base: &str, key: &str) -> anyhow::Result<Self> {
        let key = key.trim();
        if key.starts_with("sk_live_") || key.starts_with("rk_live_") {
            bail!(
                "--test-card refuses a live Stripe key: it is for test mode only (sk_test_…); \
                 pay real cards on the payment page with --card"
            );
        }
        if !key.starts_with("sk_test_") && !key.starts_with("rk_test_") {
            bail!(
                "--test-card needs a Stripe test secret key (sk_test_…) in TANGIBLE_STRIPE_KEY \
                 or --stripe-key"
            );
        }
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            http: reqwest::Client::new(),
        })
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> anyhow::Result<(u16, Value)> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(&self.key, Some(""))
            .form(form)
            .send()
            .await
            .with_context(|| format!("cannot reach Stripe at {}", self.base))?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// Pays `payment_intent` with the test card `number`.
    pub async fn pay(&self, payment_intent: &str, number: &str) -> anyhow::Result<Confirmation> {
        if !number.bytes().all(|b| b.is_ascii_digit()) || !(12..=19).contains(&number.len()) {
            bail!("card number must be 12 to 19 digits");
        }
        if !payment_intent.starts_with("pi_")
            || !payment_intent
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            bail!("unexpected PaymentIntent id {payment_intent:?}");
        }
        let (status, pm) = self
            .post(
                "/v1/payment_methods",
                &[
                    ("type", "card"),
                    ("card[number]", number),
                    ("card[exp_month]", "12"),
                    ("card[exp_year]", "2040"),
                    ("card[cvc]", "123"),
                ],
            )
            .await?;
        if status >= 300 {
            bail!("Stripe refused the card: {}", error_message(&pm));
        }
        let pm = pm["id"]
            .as_str()
            .context("Stripe returned no payment method id")?
            .to_owned();
        let (status, body) = self
            .post(
                &format!("/v1/payment_intents/{payment_intent}"),
                &[("payment_method", &pm)],
            )
            .await?;
        if status >= 300 {
            bail!(
                "attaching the card to the payment failed: {}",
                error_message(&body)
            );
        }
        let (status, body) = self
            .post(
                &format!("/v1/payment_intents/{payment_intent}/confirm"),
                &[],
            )
            .await?;
        if status == 402 {
            return Ok(Confirmation::Declined(error_message(&body)));
        }
        if status >= 300 {
            bail!("confirming the payment failed: {}", error_message(&body));
        }
        match body["status"].as_str() {
            Some("succeeded" | "processing" | "requires_capture") => Ok(Confirmation::Succeeded),
            Some(other) => Ok(Confirmation::Other(other.to_owned())),
            None => Ok(Confirmation::Other("unknown".to_owned())),
        }
    }
}

fn error_message(v: &Value) -> String {
    v["error"]["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::Stripe;

    #[test]
    fn test_cards_only_with_a_test_key() {
        for live in ["sk_live_abc", "rk_live_abc", "  sk_live_abc"] {
            let err = Stripe::for_test_cards("http://127.0.0.1:8420", live).unwrap_err();
            assert!(
                err.to_string().contains("refuses a live Stripe key"),
                "{live}: {err}"
            );
        }
        for other in ["", "pk_test_abc", "whsec_abc", "abc"] {
            let err = Stripe::for_test_cards("http://127.0.0.1:8420", other).unwrap_err();
            assert!(
                err.to_string().contains("needs a Stripe test secret key"),
                "{other}: {err}"
            );
        }
        for test in ["sk_test_tangible_devstack", "rk_test_abc"] {
            assert!(
                Stripe::for_test_cards("http://127.0.0.1:8420", test).is_ok(),
                "{test}"
            );
        }
    }
}
