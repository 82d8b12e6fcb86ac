//! The Tangible API from the client's side: a thin reqwest wrapper that turns the API's error
//! body (`{"error":{"code","message"}}`) into [`ApiError`], and the sign-in. The bodies sent and
//! read are the API's own wire types (`tangible_api_types`), lenient on reading: unknown fields
//! are ignored so a newer API does not break the client.

use std::time::Duration;

use alloy::primitives::Address;
use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tangible_api_types::auth::{LoginRequest, LoginResponse, NonceRequest, NonceResponse};
use tangible_api_types::error::ErrorBody;
use tangible_crypto::wallet::Wallet;

use crate::home::{Home, write_private};

/// An error answer from the API (or no answer).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API answered with an error status.
    #[error("{method} {path}: {status} {code}: {message}")]
    Status {
        /// HTTP method.
        method: String,
        /// Path requested.
        path: String,
        /// HTTP status.
        status: u16,
        /// The API's error code (`not_owner`, `licence_revoked`, …).
        code: String,
        /// The API's message.
        message: String,
    },
    /// The API could not be reached or answered something unreadable.
    #[error("{method} {path}: {source}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Path requested.
        path: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
}

impl ApiError {
    /// The HTTP status, if the API answered.
    pub const fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::Transport { .. } => None,
        }
    }

    /// The API's error code, if it answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Status { code, .. } => Some(code),
            Self::Transport { .. } => None,
        }
    }
}

/// A client of one API base URL, optionally with a bearer token.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Api {
    /// A client of `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            token: None,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The underlying HTTP client.
    pub const fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The same client, sending `token` as bearer.
    pub fn with_token(mut self, token: String) -> Self {
        self.token = Some(token);
        self
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send<T: DeserializeOwned, B: Serialize + ?Sized, Q: Serialize + ?Sized>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        query: Option<&Q>,
    ) -> Result<T, ApiError> {
        let mut req = self.http.request(method.clone(), self.url(path));
        if let Some(q) = query {
            req = req.query(q);
        }
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let transport = |source| ApiError::Transport {
            method: method.to_string(),
            path: path.to_owned(),
            source,
        };
        let resp = req.send().await.map_err(transport)?;
        decode(&method, path, resp).await
    }

    /// `GET path?query`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let query = (!query.is_empty()).then_some(query);
        self.send::<T, (), _>(reqwest::Method::GET, path, None, query)
            .await
    }

    /// `GET path?query` with the API's own query type (`FilmQuery`, `OfferQuery`, …); `None`
    /// fields are left out of the query string.
    pub async fn get_with<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<T, ApiError> {
        self.send::<T, (), Q>(reqwest::Method::GET, path, None, Some(query))
            .await
    }

    /// `POST path` with a JSON body.
    pub async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.send::<T, B, ()>(reqwest::Method::POST, path, Some(body), None)
            .await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.send::<T, B, ()>(reqwest::Method::PATCH, path, Some(body), None)
            .await
    }

    /// `DELETE path` with a JSON body.
    pub async fn delete<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.send::<T, B, ()>(reqwest::Method::DELETE, path, Some(body), None)
            .await
    }

    /// `PUT path` with a JSON body.
    pub async fn put<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.send::<T, B, ()>(reqwest::Method::PUT, path, Some(body), None)
            .await
    }
}

/// Turns an answer of the API into `T` (success) or [`ApiError::Status`] with the code and
/// message of the API's [`ErrorBody`] (`{"error":{"code","message"}}`).
pub async fn decode<T: DeserializeOwned>(
    method: &reqwest::Method,
    path: &str,
    resp: reqwest::Response,
) -> Result<T, ApiError> {
    let transport = |source| ApiError::Transport {
        method: method.to_string(),
        path: path.to_owned(),
        source,
    };
    let status = resp.status();
    if status.is_success() {
        return resp.json::<T>().await.map_err(transport);
    }
    let text = resp.text().await.unwrap_or_default();
    let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => (body.error.code, body.error.message),
        Err(_) => ("http_error".to_owned(), text.chars().take(300).collect()),
    };
    Err(ApiError::Status {
        method: method.to_string(),
        path: path.to_owned(),
        status: status.as_u16(),
        code,
        message,
    })
}

/// A stored sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The API it is valid for.
    pub api_url: String,
    /// The signed-in address.
    pub address: Address,
    /// The bearer token.
    pub token: String,
    /// Expiry (RFC 3339).
    pub expires_at: String,
}

impl Session {
    /// The stored session, if any, valid for `api_url` and `address` for at least a minute.
    pub fn load_valid(home: &Home, api_url: &str, address: Address) -> Option<Self> {
        let text = std::fs::read_to_string(home.session_file()).ok()?;
        let s: Self = serde_json::from_str(&text).ok()?;
        let exp = chrono::DateTime::parse_from_rfc3339(&s.expires_at).ok()?;
        let fresh = exp.timestamp() > chrono::Utc::now().timestamp() + 60;
        (fresh && s.api_url == api_url && s.address == address).then_some(s)
    }

    /// Stores the session (mode 0600).
    pub fn save(&self, home: &Home) -> anyhow::Result<()> {
        write_private(
            &home.session_file(),
            serde_json::to_string_pretty(self)?.as_bytes(),
        )
    }
}

/// Signs in with `wallet` (EIP-4361 message prepared by the API, signed with EIP-191).
pub async fn login(api: &Api, wallet: &Wallet) -> anyhow::Result<Session> {
    let nonce: NonceResponse = api
        .post(
            "/v1/auth/nonce",
            &NonceRequest {
                address: Some(wallet.address().to_string()),
            },
        )
        .await
        .context("asking the API for a sign-in nonce")?;
    let message = nonce
        .message
        .context("the API did not prepare a sign-in message")?;
    // Check what we sign: it must name our address and be a well-formed EIP-4361 message.
    let parsed = tangible_crypto::siwe::SiweMessage::parse(&message)
        .context("the API's sign-in message is not a valid EIP-4361 message")?;
    anyhow::ensure!(
        parsed.address == wallet.address(),
        "the API's sign-in message names {} instead of the wallet {}",
        parsed.address,
        wallet.address()
    );
    let signature = wallet
        .sign_message(message.as_bytes())
        .context("signing in")?;
    let resp: LoginResponse = api
        .post(
            "/v1/auth/login",
            &LoginRequest {
                message,
                signature: format!("0x{}", hex::encode(signature.as_bytes())),
            },
        )
        .await
        .context("signing in")?;
    Ok(Session {
        api_url: api.base().to_owned(),
        address: wallet.address(),
        token: resp.token,
        expires_at: resp.expires_at,
    })
}

impl Api {
    /// A request builder for `path` with the bearer token (for streaming bodies).
    pub fn authed_request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, self.url(path));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }
}

#[cfg(test)]
mod tests {
    use tangible_api_types::catalogue::{FilmQuery, OfferQuery};

    /// The query string `reqwest` makes of `query` (what [`super::Api::get_with`] sends).
    fn query_string<Q: serde::Serialize>(query: &Q) -> Option<String> {
        let req = reqwest::Client::new()
            .get("http://127.0.0.1:8080/v1/films")
            .query(query)
            .build()
            .expect("a request");
        req.url().query().map(str::to_owned)
    }

    #[test]
    fn the_api_query_types_name_the_api_parameters_and_leave_out_none() {
        let films = FilmQuery {
            q: Some("Le film".to_owned()),
            studio_id: None,
            year: Some(2026),
            quality: Some("4k".to_owned()),
            max_price: Some(1000),
            limit: Some(10),
            cursor: None,
        };
        assert_eq!(
            query_string(&films).as_deref(),
            Some("q=Le+film&year=2026&quality=4k&max_price=1000&limit=10")
        );
        let offers = OfferQuery {
            film_id: None,
            status: None,
            min_price: None,
            max_price: None,
            limit: None,
            cursor: None,
        };
        assert_eq!(query_string(&offers), None);
    }
}
