//! Extractors of the HTTP layer: JSON and CSV bodies, query and path parameters, refused with JSON
//! errors that name what is wrong, and the deployment's public base URL.

use crate::error::AppError;
use crate::sources::body::{parse_json, require_json, require_media_type};
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// API request bodies above this size are refused with 413.
pub const MAX_API_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body, refused with a JSON error (415, 413, 400, 422) when it is not one.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        require_json(req.headers())?;
        let bytes = body_within(req, MAX_API_BODY_BYTES).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// CSV request bodies above this size are refused with 413. Lambda takes at most 6 MB in a
/// synchronous invocation (API Gateway's own 10 MB never comes into play), and the body
/// travels inside the event's JSON, so 5 MiB leaves room for the rest of the event.
pub const MAX_CSV_BODY_BYTES: usize = 5 * 1024 * 1024;

/// A `text/csv` request body, as bytes (415 for another content type, 413 above the limit).
pub struct CsvBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        require_media_type(req.headers(), &["text/csv"])?;
        body_within(req, MAX_CSV_BODY_BYTES).await.map(CsvBody)
    }
}

async fn body_within(req: Request, limit: usize) -> Result<Bytes, AppError> {
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| AppError::PayloadTooLarge { limit })
}

/// Query parameters, refused with a JSON 400 when they do not parse.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| QueryParams(v))
            .map_err(|e: QueryRejection| AppError::BadRequest(e.body_text()))
    }
}

/// A path parameter, refused with a JSON 400 when it does not parse.
pub struct PathParam<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParam<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| PathParam(v))
            .map_err(|e: PathRejection| AppError::BadRequest(e.body_text()))
    }
}

/// The public base URL of this deployment, taken from the request, so the URLs handed out are
/// absolute.
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Under Lambda the URI carries API Gateway's domain; a local server sees only Host.
        if let (Some(scheme), Some(authority)) = (parts.uri.scheme_str(), parts.uri.authority()) {
            return Ok(BaseUrl(format!("{scheme}://{authority}")));
        }
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let host = header("host")
            .ok_or_else(|| AppError::BadRequest("the request has no Host header".into()))?;
        let proto = header("x-forwarded-proto").unwrap_or("http");
        Ok(BaseUrl(format!("{proto}://{host}")))
    }
}
