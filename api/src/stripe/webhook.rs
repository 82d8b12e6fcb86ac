//! Stripe webhooks: the `Stripe-Signature` check on the raw body, and the event types the API
//! reads (parsed into our own types: the emulator's events lack fields that `async-stripe`'s
//! event parser requires).

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

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
