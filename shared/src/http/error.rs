//! The one place where errors become HTTP answers: `{"error": {"code", "message"}}` (and
//! `field` for a refused field; `openapi::ErrorBody`, as documented) with a fitting status.
//! Transient failures are 503s, which senders retry.

use crate::error::AppError;
use crate::store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_)
            | Self::MalformedJson(_)
            | Self::MalformedBody(_)
            | Self::Store(StoreError::InvalidCursor) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_)
            | Self::MissingCredentials(_)
            | Self::StaleTimestamp
            | Self::MissingSignature
            | Self::InvalidSignature => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::UnknownProgram(_) | Self::UnknownCustomer(_) => {
                StatusCode::NOT_FOUND
            }
            Self::Conflict(_) | Self::InvalidTransition(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            // Never retryable: the same write would pass the item limit again.
            Self::PayloadTooLarge { .. } | Self::Store(StoreError::ItemTooLarge { .. }) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::InvalidField { .. } | Self::PayoutRefused { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            // Transient: a sender that retries will succeed once the backend is back.
            Self::Store(StoreError::VersionConflict { .. } | StoreError::Unavailable(_))
            | Self::Queue(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::MalformedJson(_) => "malformed_json",
            Self::MalformedBody(_) => "malformed_body",
            Self::Unauthorized(_) => "unauthorized",
            Self::MissingCredentials(_) => "missing_credentials",
            Self::StaleTimestamp => "stale_timestamp",
            Self::MissingSignature => "missing_signature",
            Self::InvalidSignature => "invalid_signature",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::UnknownProgram(_) => "unknown_program",
            Self::UnknownCustomer(_) => "unknown_customer",
            Self::Conflict(_) => "conflict",
            Self::InvalidTransition(_) => "invalid_transition",
            Self::PayoutRefused { code, .. } => code,
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Throttled { .. } => "throttled",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::InvalidField { .. } => "invalid_field",
            Self::Store(StoreError::VersionConflict { .. }) => "busy",
            Self::Store(StoreError::Unavailable(_)) => "storage_unavailable",
            Self::Store(StoreError::InvalidCursor) => "invalid_cursor",
            Self::Store(StoreError::ItemTooLarge { .. }) => "record_too_large",
            Self::Store(_) | Self::Internal(_) => "internal",
            Self::Queue(_) => "queue_unavailable",
        }
    }

    /// What the client is told; backend details stay in the logs.
    pub fn public_message(&self) -> String {
        match self {
            Self::Store(StoreError::VersionConflict { .. }) => {
                "the record changed concurrently; retry the request".into()
            }
            Self::Store(StoreError::Unavailable(_)) => {
                "storage is busy or unavailable for now; retry the request".into()
            }
            Self::Store(StoreError::InvalidCursor) => {
                "cursor: give a next_cursor this listing returned, unchanged".into()
            }
            Self::Store(StoreError::ItemTooLarge { .. }) => {
                "the change would make a stored record larger than 400 KB; send less".into()
            }
            Self::Store(_) => "internal storage error; retry later".into(),
            Self::Internal(_) => "internal error; retry later".into(),
            Self::Queue(_) => "could not queue background work; retry the request".into(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, code = self.code(), "request failed");
        }
        let field = match &self {
            Self::InvalidField { field, .. } => Some(field.clone()),
            _ => None,
        };
        let retry_after = match &self {
            Self::Throttled {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().into(),
                message: self.public_message(),
                field,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Every error answer: `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `invalid_field`, `not_found`, `conflict`, `busy`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// The refused field (`invalid_field` only), e.g. `amount` or `commission.levels[0]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_past_the_item_limit_is_a_final_413() {
        let error = AppError::Store(StoreError::ItemTooLarge {
            pk: "acme#HOOK".into(),
            sk: "HOOK".into(),
            size: 500_000,
        });
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(error.code(), "record_too_large");
        assert!(!error.public_message().contains("acme"), "no keys shown");
    }
}
