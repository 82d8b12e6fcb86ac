//! The request extractors and request parsers of the handlers: the bearer token ([`AuthUser`]),
//! JSON bodies, query strings and raw bodies whose rejections become [`ApiError`]s with stable
//! codes ([`ApiJson`], [`ApiQuery`], [`ApiPath`], [`RawBody`]), and the edition id in URLs
//! ([`EditionRef`]).

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use tangible_crypto::EditionId;
use tangible_domain::Quality;

use crate::auth::Claims;
use crate::error::{ApiError, ApiResult, codes};
use crate::state::AppState;

/// An authenticated wallet (extractor: `Authorization: Bearer <token>`).
#[derive(Debug, Clone)]
pub struct AuthUser(pub Claims);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        state
            .tokens()
            .verify_request(&parts.headers)
            .map(AuthUser)
            .map_err(ApiError::unauthorized)
    }
}

/// An edition id in URLs: `<film_id>-<quality>` (`42-4k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditionRef {
    /// Film.
    pub film_id: u64,
    /// Quality.
    pub quality: Quality,
}

impl EditionRef {
    /// Parses `<film_id>-<quality>`.
    pub fn parse(s: &str) -> ApiResult<Self> {
        let bad =
            || ApiError::not_found(format!("no edition {s:?} (expected <film_id>-<sd|hd|4k>)"));
        let (film, quality) = s.split_once('-').ok_or_else(bad)?;
        let film_id: u64 = film.parse().map_err(|_| bad())?;
        let quality: Quality = quality.parse().map_err(|_| bad())?;
        if film_id == 0 {
            return Err(bad());
        }
        Ok(Self { film_id, quality })
    }

    /// The crypto crate's edition id.
    pub const fn id(self) -> EditionId {
        EditionId::new(self.film_id, self.quality.code())
    }
}

impl std::fmt::Display for EditionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.film_id, self.quality.as_str())
    }
}

/// A JSON body whose rejections (syntax, shape, size, content type) become [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(ApiError::from_rejection(
                rejection.status(),
                rejection.body_text(),
            )),
        }
    }
}

/// The raw request body (for signature checks), with size rejections as [`ApiError`]s.
#[derive(Debug, Clone)]
pub struct RawBody(pub bytes::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match bytes::Bytes::from_request(req, state).await {
            Ok(b) => Ok(Self(b)),
            Err(rejection) => {
                let r: BytesRejection = rejection;
                Err(ApiError::from_rejection(r.status(), r.body_text()))
            }
        }
    }
}

/// Query-string parameters whose rejections become [`ApiError`]s (`invalid_query`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    axum::extract::Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(r) => Err(ApiError::bad_request(codes::INVALID_QUERY, r.body_text())),
        }
    }
}

/// Path parameters whose rejections become [`ApiError`]s: a segment that does not decode
/// (`/v1/purchases/%FF`) names no resource, `not_found`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    axum::extract::Path<T>: FromRequestParts<S, Rejection = PathRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(r) if r.status().is_client_error() => Err(ApiError::not_found(format!(
                "no such resource: {}",
                r.body_text()
            ))),
            // A route whose template does not match its handler: a bug.
            Err(r) => Err(ApiError::Internal(anyhow::anyhow!(
                "path parameters: {}",
                r.body_text()
            ))),
        }
    }
}
