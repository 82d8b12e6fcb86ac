//! Bearer tokens: `v1.<claims>.<mac>` (base64url), HMAC-SHA256 under the server's token
//! secret. The claims carry the wallet address and the public key recovered at sign-in (film
//! keys are wrapped to it). Stateless: any API instance with the same secret accepts them.

use alloy::primitives::Address;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What a token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The wallet address (checksummed on the wire, compared as bytes).
    pub sub: Address,
    /// The signer's SEC1 compressed public key, hex.
    pub pk: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// Signs and checks tokens.
#[derive(Clone)]
pub struct TokenSigner {
    secret: SecretString,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(..)")
    }
}

const PREFIX: &str = "v1";

impl TokenSigner {
    /// A signer with the server secret.
    pub const fn new(secret: SecretString) -> Self {
        Self { secret }
    }

    fn mac(&self, data: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose_secret().as_bytes())
            .expect("HMAC takes any key length");
        mac.update(data);
        mac
    }

    /// The token for `claims`.
    pub fn issue(&self, claims: &Claims) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
        let signed = format!("{PREFIX}.{body}");
        let tag = URL_SAFE_NO_PAD.encode(self.mac(signed.as_bytes()).finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    /// The claims of the request's valid, unexpired bearer token (`Authorization: Bearer <token>`);
    /// the reason in words when there is none.
    pub fn verify_request(&self, headers: &HeaderMap) -> Result<Claims, &'static str> {
        let header = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or("missing bearer token")?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or("expected `Authorization: Bearer <token>`")?;
        self.verify(token.trim(), chrono::Utc::now().timestamp())
            .ok_or("invalid or expired token")
    }

    /// The claims of a valid, unexpired token.
    pub fn verify(&self, token: &str, now: i64) -> Option<Claims> {
        let (signed, tag) = token.rsplit_once('.')?;
        let (prefix, body) = signed.split_once('.')?;
        if prefix != PREFIX {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(signed.as_bytes()).verify_slice(&tag).ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        (claims.exp > now).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_unaltered_unexpired_and_under_the_same_secret() {
        let s = TokenSigner::new("a".repeat(32).into());
        let claims = Claims {
            sub: Address::repeat_byte(7),
            pk: "02ab".into(),
            iat: 10,
            exp: 100,
        };
        let t = s.issue(&claims);
        assert_eq!(s.verify(&t, 50), Some(claims.clone()));
        assert_eq!(s.verify(&t, 100), None);
        assert_eq!(TokenSigner::new("b".repeat(32).into()).verify(&t, 50), None);
        let forged = Claims {
            sub: Address::repeat_byte(8),
            ..claims
        };
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(
            s.verify(&format!("v1.{forged_body}.{}", parts[2]), 50),
            None
        );
        assert_eq!(s.verify("garbage", 50), None);
    }
}
